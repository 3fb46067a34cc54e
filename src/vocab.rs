//! The shared vocabulary of the world and the strategies: the two versions
//! of a release, the instance counts a controller sees, where the router
//! sends requests, the analysis a strategy asks the monitor for, and the
//! defect a release may carry. It sits below both
//! `world` and `strategies`, so neither needs the other for these words.

use crate::engine::SimTime;

/// The version running before the release (`Old`, also "stable" or "blue")
/// and the release itself (`New`, also "canary" or "green").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    Old,
    New,
}

impl Version {
    pub fn other(self) -> Version {
        match self {
            Version::Old => Version::New,
            Version::New => Version::Old,
        }
    }
}

/// Instance counts of one version as a controller sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Instances asked for and not being torn down (a ReplicaSet's spec).
    pub spec: u32,
    /// Passing readiness.
    pub ready: u32,
    /// Ready for at least min_ready_s (Kubernetes' "available").
    pub available: u32,
}

/// Where the router sends requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Route {
    /// Spread over every ready instance of either version (a Kubernetes
    /// Service, a load balancer target group): the share follows replica counts.
    ByReadyInstances,
    /// An exact share of requests to the new version (service mesh, weighted
    /// ingress, Argo Rollouts with a traffic router), in [0, 1].
    Weight(f64),
    /// Every request to one environment (blue-green switch).
    All(Version),
}

/// An analysis run as a strategy asks for it: when it measures, and on
/// what traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnalysisRun {
    /// Wait before the measurements start (Argo `initialDelay`).
    pub initial_delay: SimTime,
    /// Requests per second of synthetic load the analysis drives against the
    /// new version, which takes no user traffic yet (Argo blue-green's
    /// pre-promotion analysis against the preview service); None measures
    /// the users' traffic.
    pub synthetic_rps: Option<f64>,
}

impl AnalysisRun {
    /// A run on users' traffic from now.
    pub const ON_USERS: AnalysisRun = AnalysisRun {
        initial_delay: SimTime::ZERO,
        synthetic_rps: None,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefectKind {
    /// New instances fail readiness: they never take traffic behind a health check.
    CrashOnStart,
    /// Smoke tests against an idle environment can find it.
    SmokeDetectable,
    /// Only real traffic shows it.
    TrafficOnly,
    /// Starts after a delay (a leak, an expiring cache).
    Latent,
}

impl DefectKind {
    pub const ALL: [(&'static str, DefectKind); 4] = [
        ("crash-on-start", DefectKind::CrashOnStart),
        ("smoke-detectable", DefectKind::SmokeDetectable),
        ("traffic-only", DefectKind::TrafficOnly),
        ("latent", DefectKind::Latent),
    ];

    pub fn name(self) -> &'static str {
        DefectKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("unknown")
    }
}

/// The defect a drawn release carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Defect {
    pub kind: DefectKind,
    /// Extra failure probability on every request the new version serves.
    pub error_rate: f64,
    /// For a latent defect: delay from the new version's first request to its onset.
    pub onset: Option<SimTime>,
}
