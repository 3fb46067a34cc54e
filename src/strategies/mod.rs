//! Release strategies as controllers, the way Kubernetes controllers and
//! DSLab's schedulers work: a strategy observes (an instance became ready, a
//! timer fired, the monitor decided to roll back) and answers with actions
//! (scale a version, route traffic, start a timer, declare the release done).
//! It holds no clock, no random generator and no fleet, so each one is a small
//! state machine tested with hand-made observations.
//!
//! A new strategy is one new file plus one line in [`KINDS`].

pub mod blue_green;
pub mod canary;
pub mod flagger;
pub mod in_place;
pub mod rolling;
pub mod routing_keys;
pub mod smoke;
pub mod timer;

use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;
pub use crate::vocab::{AnalysisRun, Counts, Route, Version};
use crate::world::judge::Verdict;
use routing_keys::SwitchKeys;
use std::fmt;
use std::sync::Arc;

/// What a controller can see when it decides.
#[derive(Debug, Clone, Copy, Default)]
pub struct View {
    pub now: SimTime,
    /// The service's desired instance count (spec.replicas).
    pub replicas: u32,
    pub old: Counts,
    pub new: Counts,
    /// Failed checks of the running analysis so far (Flagger's
    /// `status.failedChecks`; the failed measurements of the argo and
    /// consecutive judges; 0 for the comparing judges and when no analysis
    /// runs). A verdict alone says Healthy while failed checks are below the
    /// threshold; a controller that halts on a failed check (Flagger) sees
    /// this count rise.
    pub failed_checks: u32,
}

impl View {
    pub fn counts(&self, v: Version) -> Counts {
        match v {
            Version::Old => self.old,
            Version::New => self.new,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// The deployment starts.
    Start,
    /// One more instance of this version passed readiness.
    Ready(Version),
    /// One more instance of this version has been ready for min_ready_s.
    Available(Version),
    /// An instance of this version finished draining and is gone.
    Gone(Version),
    /// A timer the strategy asked for fired.
    Timer(u32),
    /// A route change has reached every client.
    RouteSettled,
    /// The monitor's verdict on the interval that just ended (the analysis
    /// can hold or advance a release on it, not only abort it).
    Verdict(Verdict),
    /// The monitor (or the progress deadline) decided to roll back.
    RollbackDecided,
    /// Smoke tests against the idle new environment passed (a failure
    /// arrives as RollbackDecided instead).
    SmokeTestsPassed,
    /// The analysis run the strategy started took its `count` measurements
    /// without failing (Argo: the AnalysisRun is Successful).
    AnalysisSucceeded,
    /// The analysis run went Inconclusive (Argo `inconclusiveLimit`): the
    /// release pauses until a person resumes it.
    AnalysisInconclusive,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Scale {
        version: Version,
        replicas: u32,
    },
    Route(Route),
    Timer {
        after: SimTime,
        tag: u32,
    },
    /// Run smoke tests against the new environment, which takes no user traffic yet.
    SmokeTests {
        duration: SimTime,
        coverage: f64,
    },
    /// Start an analysis run: the monitor measures every interval, after
    /// the run's initial delay, until the run completes, fails or is stopped.
    /// Starting a run replaces the one running.
    StartAnalysis(AnalysisRun),
    /// Cancel the analysis run (Argo cancels a post-promotion analysis at the
    /// scale-down delay; a promotion ends a background analysis).
    StopAnalysis,
    /// Wait for a person (a pause without a duration, a promotion that is
    /// not automatic): `Timer(tag)` fires after their response time, drawn
    /// from `monitoring.human_response_s`.
    AwaitPerson {
        tag: u32,
    },
    /// The new version now serves everything and the old is gone (or going).
    Promoted,
    /// The old version serves everything again.
    RolledBack,
}

/// A controller for one simulated release.
pub trait Strategy: Send {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action>;
}

/// What a strategy needs of the world it runs in, in one description.
#[derive(Debug, Clone)]
pub struct Environment {
    /// How traffic is routed when the deployment starts.
    pub initial_route: Route,
    /// Readiness must hold this long before an instance counts as available.
    pub min_ready: SimTime,
    /// How a route change reaches clients, with the mechanism's drain and
    /// settle rules.
    pub routing: SwitchKeys,
    /// The strategy runs a full second environment (paid all month under
    /// `duplicate_mode = "permanent"`).
    pub duplicate_environment: bool,
    /// A user stays on one version while traffic is split.
    pub sticky: bool,
    /// What the strategy's extra instances are, in operators' words.
    pub extra_capacity: &'static str,
    /// Exceeding the progress deadline aborts the release (Argo Rollouts
    /// `progressDeadlineAbort`); otherwise it is only reported, as a
    /// Kubernetes Deployment does, and a person rolls back after their
    /// response time.
    pub progress_deadline_abort: bool,
    /// What running this way of releasing costs the team a month (tooling
    /// and engineer-hours); each kind's default, see [`operations`].
    pub operations_usd_per_month: f64,
}

/// Each kind's default `operations_usd_per_month`: the tooling a team runs
/// for it, in engineer-hours a month at $100 an hour (the loaded rate of
/// `cost.false_rollback_usd`). Rough figures for a team that runs the tool
/// for one service (R); `operations_usd_per_month` on a strategy overrides them.
pub mod operations {
    /// A Deployment (Recreate or RollingUpdate): nothing beyond what
    /// Kubernetes already runs.
    pub const KUBERNETES_USD_PER_MONTH: f64 = 0.0;
    /// A progressive-delivery controller (Argo Rollouts or Flagger): its
    /// upgrades, its alerts, the Rollout or Canary objects and their
    /// analysis templates, and the preview or second environment they keep:
    /// 4 hours a month (R).
    pub const CONTROLLER_USD_PER_MONTH: f64 = 400.0;
    /// Weighted routing on top (a service mesh's control plane and sidecars,
    /// or load-balancer weights kept in step): 4 hours a month more (R).
    pub const TRAFFIC_ROUTER_USD_PER_MONTH: f64 = 400.0;
}

impl Default for Environment {
    fn default() -> Environment {
        Environment {
            initial_route: Route::ByReadyInstances,
            min_ready: SimTime::ZERO,
            routing: SwitchKeys::instant(),
            duplicate_environment: false,
            sticky: false,
            extra_capacity: "capacity",
            progress_deadline_abort: false,
            operations_usd_per_month: operations::KUBERNETES_USD_PER_MONTH,
        }
    }
}

/// A validated strategy from the scenario: builds a fresh controller per run.
pub trait StrategyConfig: fmt::Debug + Send + Sync {
    fn kind(&self) -> &'static str;
    fn controller(&self, replicas: u32) -> Box<dyn Strategy>;
    fn environment(&self) -> Environment;
    /// The key of an analysis the release waits on to complete (a
    /// pre-promotion analysis, a post-promotion analysis that keeps the old
    /// version until it ends): its judge must end by itself.
    fn blocking_analysis(&self) -> Option<&'static str> {
        None
    }
}

pub type ParseFn = fn(&mut KeyReader, u32) -> Result<Arc<dyn StrategyConfig>>;

/// Every strategy kind the scenario may name, with the function that reads its keys.
pub const KINDS: &[(&str, ParseFn)] = &[
    ("in-place", in_place::parse),
    ("rolling", rolling::parse),
    ("blue-green", blue_green::parse),
    ("canary", canary::parse),
    ("flagger", flagger::parse),
];

/// The function that reads the keys of strategy kind `kind`, if there is one.
pub fn parser(kind: &str) -> Option<ParseFn> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

/// Every kind's name, for messages.
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|(k, _)| *k).collect()
}
