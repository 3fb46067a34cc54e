//! Canary in the manner of Argo Rollouts: a list of steps (set weight, pause),
//! the monitor's analysis running throughout, abort sending every request
//! back to stable. With a traffic router (service mesh, weighted ingress) the
//! weight is exact and stable stays at full size; without one the weight comes
//! from replica counts, rounded as Argo does (utils/replicaset/canary.go).

use super::routing_keys::{self, SwitchKeys, TrafficStep};
use super::smoke::{self, SmokeTests};
use super::timer::Timer;
use super::{
    Action, AnalysisRun, Environment, Observation, Route, Strategy, StrategyConfig, Version, View,
    operations,
};
use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanaryRouter {
    /// Exact weights from a traffic router; stable stays at full size.
    Mesh,
    /// No traffic router: the weight is the canary's share of ready replicas.
    Replicas,
}

/// Argo's background analysis (`strategy.canary.analysis`): it starts when
/// the release reaches `starting_step` and runs until the release completes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Background {
    /// Index into `steps` (Argo `startingStep`; our steps pair a weight with
    /// its pause, so the index counts those pairs).
    pub starting_step: usize,
    /// Argo `initialDelay`.
    pub initial_delay: SimTime,
}

#[derive(Debug, Clone)]
pub struct CanaryConfig {
    pub steps: Vec<TrafficStep>,
    pub router: CanaryRouter,
    /// Basic canary surge (Argo default maxSurge 25%), for replica rounding.
    pub max_surge: u32,
    pub scale_down_delay: SimTime,
    pub abort_scale_down_delay: SimTime,
    /// How weight changes reach clients (for a weighted router).
    pub switch: SwitchKeys,
    /// Sticky routing keeps each user on one version (consistent hashing on a
    /// user key); without it a user's requests are sprayed across both.
    pub sticky: bool,
    /// A preview step: smoke tests against the ready canary while the router
    /// still sends it no traffic.
    pub smoke: SmokeTests,
    /// The background analysis; None with inline analysis steps, or none at all.
    pub background: Option<Background>,
    /// Argo `rollbackWindow`: a rollback after promotion goes straight back
    /// to the previous revision; without it, the old version is rolled out
    /// again through the steps, pauses included.
    pub fast_track_rollback: bool,
    /// Argo `progressDeadlineAbort`.
    pub progress_deadline_abort: bool,
}

/// The keys a canary reads.
const KEYS: &[&str] = &[
    "steps",
    "router",
    "scale_down_delay_s",
    "abort_scale_down_delay_s",
    "sticky",
    smoke::KEYS[0],
    smoke::KEYS[1],
    "propagation_s",
    "deregistration_delay_s",
    "background_analysis",
    "analysis_starting_step",
    "analysis_initial_delay_s",
    "rollback_window",
    "progress_deadline_abort",
];

pub fn parse(keys: &mut KeyReader, replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    let steps = routing_keys::steps(keys, "steps", true)?.ok_or_else(|| {
        keys.error(
            "steps",
            "missing: a canary needs steps, e.g. [{ weight = 5, pause_s = 600 }, { weight = 100, pause_s = 0 }]",
        )
    })?;
    let router_name = keys.string("router")?.unwrap_or_else(|| "mesh".into());
    let (router, switch) = match router_name.as_str() {
        // Without a router, the Service's endpoints decide: a pod leaving them
        // stops taking requests once the change reaches kube-proxy.
        "replicas" => (
            CanaryRouter::Replicas,
            routing_keys::switch(keys, "router", "selector")?,
        ),
        "mesh" | "load-balancer" => (
            CanaryRouter::Mesh,
            routing_keys::switch(keys, "router", &router_name)?,
        ),
        other => {
            return Err(keys.error(
                "router",
                format!("unknown router `{other}`; expected mesh, load-balancer or replicas"),
            ));
        }
    };
    let sticky = keys.bool("sticky")?.unwrap_or(false);
    let smoke = SmokeTests::parse(keys)?;
    if smoke.enabled() && router == CanaryRouter::Replicas {
        return Err(keys.error(
            "smoke_test_s",
            "a preview step needs a traffic router: without one a ready canary takes traffic at once",
        ));
    }
    // argo-rollouts defaults: scaleDownDelaySeconds 30, abortScaleDownDelaySeconds 30.
    let scale_down_delay = keys.duration_s("scale_down_delay_s", 30.0)?;
    let abort_scale_down_delay = keys.duration_s("abort_scale_down_delay_s", 30.0)?;
    let inline = steps.iter().any(|s| s.analysis);
    let background = match keys.bool("background_analysis")? {
        Some(true) if inline => {
            return Err(keys.error(
                "background_analysis",
                "a canary here runs one analysis at a time: inline analysis steps or a \
                 background analysis, not both",
            ));
        }
        // Without inline steps, the analysis runs in the background by default.
        Some(on) => on,
        None => !inline,
    };
    let starting_step = match keys.f64("analysis_starting_step")? {
        None => 0,
        Some(n) if n.fract() == 0.0 && n >= 0.0 && (n as usize) < steps.len() => n as usize,
        Some(n) => {
            return Err(keys.error(
                "analysis_starting_step",
                format!(
                    "must be a step index from 0 to {}, got {n}",
                    steps.len().saturating_sub(1)
                ),
            ));
        }
    };
    let initial_delay = keys.duration_s("analysis_initial_delay_s", 0.0)?;
    let background = background.then_some(Background {
        starting_step,
        initial_delay,
    });
    // Argo rollbackWindow.revisions: how many recent revisions a rollback
    // fast-tracks to; 0 (unset) re-runs the steps.
    let window = keys.f64("rollback_window")?.unwrap_or(0.0);
    if !(window.fract() == 0.0 && (0.0..=100.0).contains(&window)) {
        return Err(keys.error(
            "rollback_window",
            format!("must be a whole number of revisions from 0 to 100, got {window}"),
        ));
    }
    let progress_deadline_abort = keys.bool("progress_deadline_abort")?.unwrap_or(false);
    keys.finish("canary", KEYS)?;
    Ok(Arc::new(CanaryConfig {
        steps,
        router,
        // Argo's canary maxSurge default is 25%, rounded up like Kubernetes.
        max_surge: (replicas as f64 * 0.25).ceil() as u32,
        scale_down_delay,
        abort_scale_down_delay,
        switch,
        sticky,
        smoke,
        background,
        fast_track_rollback: window >= 1.0,
        progress_deadline_abort,
    }))
}

/// Argo Rollouts approximateWeightedCanaryStableReplicaCounts: the canary and
/// stable counts, summing to `replicas` or (with surge) `replicas + 1`, whose
/// canary share is closest to the weight; 1–99% never rounds either side to 0.
pub fn basic_canary_counts(replicas: u32, weight_pct: u32, max_surge: u32) -> (u32, u32) {
    if replicas == 0 {
        return (0, 0);
    }
    let (r, w) = (replicas as i64, weight_pct as i64);
    let ceil = (r * w + 99) / 100;
    let floor = (r * w) / 100;
    let tied = |total: i64| (total * w) % 100 == 50;
    let zero_allowed = w == 100 || w == 0 || (r == 1 && max_surge == 0);
    let mut options: Vec<(i64, i64)> = Vec::new();
    if ceil < r || zero_allowed {
        options.push((ceil, r));
    }
    if !tied(r) && (floor != 0 || zero_allowed) {
        options.push((floor, r));
    }
    if max_surge > 0 {
        options.push((ceil, r + 1));
        if !tied(r + 1) && (floor != 0 || zero_allowed) {
            options.push((floor, r + 1));
        }
    }
    let delta = |(c, t): (i64, i64)| ((c * 100) as f64 / t as f64 - w as f64).abs();
    let Some(&first) = options.first() else {
        return (0, replicas);
    };
    // Strictly smaller delta wins, so the first-listed option wins ties (as in Argo).
    let best = options.iter().skip(1).fold(
        first,
        |best, &o| if delta(o) < delta(best) { o } else { best },
    );
    (best.0 as u32, (best.1 - best.0) as u32)
}

/// Argo trafficWeightToReplicas: with a router the canary gets ceil(R·w/100).
pub fn routed_canary_count(replicas: u32, weight_pct: u32) -> u32 {
    ((replicas as u64 * weight_pct as u64).div_ceil(100)) as u32
}

impl StrategyConfig for CanaryConfig {
    fn kind(&self) -> &'static str {
        "canary"
    }
    fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
        Box::new(Canary {
            config: self.clone(),
            replicas,
            step: 0,
            phase: Phase::Scaling,
            timer: Timer::default(),
            previewed: false,
            canary: Version::New,
        })
    }
    fn environment(&self) -> Environment {
        let initial_route = match self.router {
            CanaryRouter::Mesh => Route::Weight(0.0),
            CanaryRouter::Replicas => Route::ByReadyInstances,
        };
        let router_usd = match self.router {
            CanaryRouter::Mesh => operations::TRAFFIC_ROUTER_USD_PER_MONTH,
            CanaryRouter::Replicas => 0.0,
        };
        Environment {
            initial_route,
            routing: self.switch.clone(),
            sticky: self.sticky,
            extra_capacity: "canary capacity",
            progress_deadline_abort: self.progress_deadline_abort,
            operations_usd_per_month: operations::CONTROLLER_USD_PER_MONTH + router_usd,
            ..Environment::default()
        }
    }
    fn blocking_analysis(&self) -> Option<&'static str> {
        self.steps.iter().any(|s| s.analysis).then_some("steps")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the canary (and, without a router, stable) to reach the step's counts.
    Scaling,
    /// Preview: smoke tests against the ready canary, which takes no traffic yet.
    SmokeTesting,
    /// Waiting for the router to apply the step's weight.
    Shifting,
    /// An inline analysis step runs; the release waits for it.
    Analysing,
    /// Pausing at the step's weight (for a duration or for a person).
    Pausing,
    /// Every request is on the new version; the old waits out its scale-down delay.
    OldKept,
    Promoted,
    /// Abort: traffic is going back to stable.
    Aborting,
    /// Rollback after promotion with a rollback window: the old version is
    /// provisioned again, then takes every request at once.
    Reprovisioning,
    RolledBack,
}

pub struct Canary {
    config: CanaryConfig,
    replicas: u32,
    step: usize,
    phase: Phase,
    /// The pause or scale-down delay running; an abort cancels it.
    timer: Timer,
    /// The preview's smoke tests have run.
    previewed: bool,
    /// The version the steps move traffic to: the new one, or the old one
    /// when a rollback after promotion re-runs the steps.
    canary: Version,
}

impl Canary {
    fn weight(&self) -> u32 {
        self.config.steps[self.step].weight_pct
    }

    fn stable(&self) -> Version {
        self.canary.other()
    }

    /// Re-running the steps to roll back after promotion.
    fn reversing(&self) -> bool {
        self.canary == Version::Old
    }

    /// (canary, stable) instance counts for the current step.
    fn counts(&self) -> (u32, u32) {
        match self.config.router {
            CanaryRouter::Mesh if self.weight() == 100 => (self.replicas, self.replicas),
            CanaryRouter::Mesh => (
                routed_canary_count(self.replicas, self.weight()),
                self.replicas,
            ),
            CanaryRouter::Replicas => {
                basic_canary_counts(self.replicas, self.weight(), self.config.max_surge)
            }
        }
    }

    fn enter_step(&mut self, view: &View) -> Vec<Action> {
        self.phase = Phase::Scaling;
        let (canary, _) = self.counts();
        let mut actions = Vec::new();
        if let Some(bg) = self.config.background
            && bg.starting_step == self.step
            && !self.reversing()
        {
            actions.push(Action::StartAnalysis(AnalysisRun {
                initial_delay: bg.initial_delay,
                synthetic_rps: None,
            }));
        }
        actions.push(Action::Scale {
            version: self.canary,
            replicas: canary,
        });
        let ready = view.counts(self.canary).ready;
        actions.extend(self.check_scaled(ready, canary));
        actions
    }

    /// Once the canary is ready: without a router, shrink stable; with one, set the weight.
    fn check_scaled(&mut self, ready: u32, canary_spec: u32) -> Vec<Action> {
        let (canary, stable) = self.counts();
        if self.phase != Phase::Scaling || ready.min(canary_spec) < canary {
            return vec![];
        }
        match self.config.router {
            CanaryRouter::Mesh
                if self.config.smoke.enabled() && !self.previewed && !self.reversing() =>
            {
                self.phase = Phase::SmokeTesting;
                self.previewed = true;
                vec![self.config.smoke.action()]
            }
            CanaryRouter::Mesh => self.shift(),
            CanaryRouter::Replicas => {
                self.phase = Phase::Pausing;
                let mut actions = vec![Action::Scale {
                    version: self.stable(),
                    replicas: stable,
                }];
                actions.extend(self.after_shift());
                actions
            }
        }
    }

    fn shift(&mut self) -> Vec<Action> {
        self.phase = Phase::Shifting;
        let w = self.weight() as f64 / 100.0;
        let share_new = if self.reversing() { 1.0 - w } else { w };
        vec![Action::Route(Route::Weight(share_new))]
    }

    fn after_shift(&mut self) -> Vec<Action> {
        let step = self.config.steps[self.step];
        if self.weight() == 100 && self.reversing() {
            return self.rolled_back();
        }
        if self.weight() == 100 {
            self.phase = Phase::OldKept;
            let delay = match self.config.router {
                CanaryRouter::Mesh => self.config.scale_down_delay,
                CanaryRouter::Replicas => SimTime::ZERO,
            };
            vec![self.timer.start(delay)]
        } else if step.analysis && !self.reversing() {
            self.phase = Phase::Analysing;
            vec![Action::StartAnalysis(AnalysisRun::ON_USERS)]
        } else {
            self.phase = Phase::Pausing;
            vec![step.wait(&mut self.timer)]
        }
    }

    fn abort(&mut self, view: &View) -> Vec<Action> {
        match self.phase {
            Phase::Promoted if self.config.fast_track_rollback => {
                self.phase = Phase::Reprovisioning;
                let mut actions = vec![Action::Scale {
                    version: Version::Old,
                    replicas: self.replicas,
                }];
                if view.old.ready >= self.replicas {
                    actions.extend(self.back_to_stable());
                }
                actions
            }
            // Argo without a rollback window: rolling back is a new rollout
            // of the old revision, through the same steps.
            Phase::Promoted => {
                self.canary = Version::Old;
                self.step = 0;
                self.enter_step(view)
            }
            _ => self.back_to_stable(),
        }
    }

    fn back_to_stable(&mut self) -> Vec<Action> {
        self.phase = Phase::Aborting;
        self.timer.cancel();
        // The rollback decision has stopped any analysis.
        vec![
            Action::Scale {
                version: Version::Old,
                replicas: self.replicas,
            },
            Action::Route(match self.config.router {
                CanaryRouter::Mesh => Route::Weight(0.0),
                CanaryRouter::Replicas => Route::All(Version::Old),
            }),
        ]
    }

    /// The old version serves everything again.
    fn rolled_back(&mut self) -> Vec<Action> {
        self.phase = Phase::RolledBack;
        vec![
            self.timer.start(self.config.abort_scale_down_delay),
            Action::RolledBack,
        ]
    }
}

impl Strategy for Canary {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
        use Observation as O;
        match (self.phase, observation) {
            (Phase::Scaling, O::Start) => self.enter_step(view),
            (Phase::Scaling, O::Ready(v)) if *v == self.canary => {
                let c = view.counts(self.canary);
                self.check_scaled(c.ready, c.spec)
            }
            (Phase::SmokeTesting, O::SmokeTestsPassed) => self.shift(),
            (Phase::Shifting, O::RouteSettled) => self.after_shift(),
            (Phase::Analysing, O::AnalysisSucceeded) => {
                self.phase = Phase::Pausing;
                vec![self.config.steps[self.step].wait(&mut self.timer)]
            }
            // Argo pauses the rollout on an Inconclusive analysis until a
            // person resumes it: an inline step then takes its pause, a
            // pause in progress ends only when the person answers. (A
            // background run that goes Inconclusive while the canary scales
            // or shifts ends without pausing: a simplification.)
            (Phase::Analysing, O::AnalysisInconclusive) => {
                self.phase = Phase::Pausing;
                vec![self.timer.person()]
            }
            (Phase::Pausing, O::AnalysisInconclusive) => vec![self.timer.person()],
            (Phase::Pausing, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.step += 1;
                self.enter_step(view)
            }
            (Phase::OldKept, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.phase = Phase::Promoted;
                vec![
                    Action::Scale {
                        version: Version::Old,
                        replicas: 0,
                    },
                    Action::Promoted,
                ]
            }
            (Phase::Aborting | Phase::RolledBack | Phase::Reprovisioning, O::RollbackDecided) => {
                vec![]
            }
            (_, O::RollbackDecided) if self.reversing() => vec![],
            (_, O::RollbackDecided) => self.abort(view),
            (Phase::Reprovisioning, O::Ready(Version::Old)) if view.old.ready >= self.replicas => {
                self.back_to_stable()
            }
            (Phase::Aborting, O::RouteSettled) => self.rolled_back(),
            (Phase::RolledBack, O::Timer(tag)) if self.timer.fired(*tag) => {
                vec![Action::Scale {
                    version: Version::New,
                    replicas: 0,
                }]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::Counts;

    #[test]
    fn argo_basic_canary_rounding() {
        // Worked examples from argo-rollouts' canary_test.go style cases.
        assert_eq!(basic_canary_counts(10, 10, 3), (1, 9));
        assert_eq!(basic_canary_counts(10, 5, 3), (1, 10)); // 1 of 11 (9.1%) beats 1 of 10 (10%)
        assert_eq!(basic_canary_counts(4, 50, 0), (2, 2));
        assert_eq!(basic_canary_counts(3, 50, 0), (2, 1)); // tie between 1 and 2: the larger
        assert_eq!(basic_canary_counts(2, 1, 0), (1, 1)); // 1–99% never rounds the canary to 0
        assert_eq!(basic_canary_counts(5, 100, 2), (5, 0));
        assert_eq!(basic_canary_counts(10, 25, 0), (3, 7)); // 2.5 replicas: tied, so the larger count
    }

    #[test]
    fn routed_count_rounds_up() {
        assert_eq!(routed_canary_count(10, 5), 1);
        assert_eq!(routed_canary_count(10, 25), 3);
        assert_eq!(routed_canary_count(10, 100), 10);
    }

    fn config() -> CanaryConfig {
        CanaryConfig {
            steps: vec![TrafficStep::timed(5, 600), TrafficStep::timed(100, 0)],
            router: CanaryRouter::Mesh,
            max_surge: 3,
            scale_down_delay: SimTime::from_secs(30),
            abort_scale_down_delay: SimTime::from_secs(30),
            switch: SwitchKeys::instant(),
            sticky: false,
            smoke: SmokeTests::NONE,
            background: Some(Background {
                starting_step: 0,
                initial_delay: SimTime::ZERO,
            }),
            fast_track_rollback: true,
            progress_deadline_abort: false,
        }
    }

    fn view(new_ready: u32) -> View {
        View {
            replicas: 10,
            old: Counts {
                spec: 10,
                ready: 10,
                available: 10,
            },
            new: Counts {
                spec: new_ready,
                ready: new_ready,
                available: new_ready,
            },
            ..View::default()
        }
    }

    #[test]
    fn steps_then_promotion_with_a_router() {
        let mut c = config().controller(10);
        assert_eq!(
            c.on(&Observation::Start, &view(0)),
            vec![
                Action::StartAnalysis(AnalysisRun::ON_USERS),
                Action::Scale {
                    version: Version::New,
                    replicas: 1
                }
            ]
        );
        assert_eq!(
            c.on(&Observation::Ready(Version::New), &view(1)),
            vec![Action::Route(Route::Weight(0.05))]
        );
        assert_eq!(
            c.on(&Observation::RouteSettled, &view(1)),
            vec![Action::Timer {
                after: SimTime::from_secs(600),
                tag: 1
            }]
        );
        assert_eq!(
            c.on(&Observation::Timer(1), &view(1)),
            vec![Action::Scale {
                version: Version::New,
                replicas: 10
            }]
        );
        assert_eq!(
            c.on(&Observation::Ready(Version::New), &view(10)),
            vec![Action::Route(Route::Weight(1.0))]
        );
        assert_eq!(
            c.on(&Observation::RouteSettled, &view(10)),
            vec![Action::Timer {
                after: SimTime::from_secs(30),
                tag: 2
            }]
        );
        assert_eq!(
            c.on(&Observation::Timer(2), &view(10)),
            vec![
                Action::Scale {
                    version: Version::Old,
                    replicas: 0
                },
                Action::Promoted
            ]
        );
    }

    #[test]
    fn a_preview_step_smoke_tests_the_canary_before_any_traffic() {
        let mut cfg = config();
        cfg.smoke = SmokeTests {
            duration: SimTime::from_secs(120),
            coverage: 1.0,
        };
        let mut c = cfg.controller(10);
        c.on(&Observation::Start, &view(0));
        assert_eq!(
            c.on(&Observation::Ready(Version::New), &view(1)),
            vec![Action::SmokeTests {
                duration: SimTime::from_secs(120),
                coverage: 1.0
            }]
        );
        assert_eq!(
            c.on(&Observation::SmokeTestsPassed, &view(1)),
            vec![Action::Route(Route::Weight(0.05))]
        );
        // Failed smoke tests arrive as a rollback decision: back to stable.
        let mut failing = cfg.controller(10);
        failing.on(&Observation::Start, &view(0));
        failing.on(&Observation::Ready(Version::New), &view(1));
        assert!(
            failing
                .on(&Observation::RollbackDecided, &view(1))
                .contains(&Action::Route(Route::Weight(0.0)))
        );
    }

    #[test]
    fn abort_sends_traffic_back_and_ignores_the_stale_pause() {
        let mut c = config().controller(10);
        c.on(&Observation::Start, &view(0));
        c.on(&Observation::Ready(Version::New), &view(1));
        c.on(&Observation::RouteSettled, &view(1));
        let abort = c.on(&Observation::RollbackDecided, &view(1));
        assert!(abort.contains(&Action::Route(Route::Weight(0.0))));
        assert!(
            c.on(&Observation::Timer(1), &view(1)).is_empty(),
            "the old pause timer must not advance the steps"
        );
        let settled = c.on(&Observation::RouteSettled, &view(1));
        assert!(settled.contains(&Action::RolledBack));
    }

    fn promoted(c: &mut Box<dyn Strategy>) {
        c.on(&Observation::Start, &view(0));
        c.on(&Observation::Ready(Version::New), &view(1));
        c.on(&Observation::RouteSettled, &view(1));
        c.on(&Observation::Timer(1), &view(1));
        c.on(&Observation::Ready(Version::New), &view(10));
        c.on(&Observation::RouteSettled, &view(10));
        let done = c.on(&Observation::Timer(2), &view(10));
        assert!(done.contains(&Action::Promoted));
    }

    #[test]
    fn without_a_rollback_window_a_rollback_after_promotion_re_runs_the_steps() {
        let mut cfg = config();
        cfg.fast_track_rollback = false;
        let mut c = cfg.controller(10);
        promoted(&mut c);
        let gone = |old: u32| View {
            old: Counts {
                spec: old,
                ready: old,
                available: old,
            },
            ..view(10)
        };
        // The old version is the canary now: one instance, then 5% of traffic.
        assert_eq!(
            c.on(&Observation::RollbackDecided, &gone(0)),
            vec![Action::Scale {
                version: Version::Old,
                replicas: 1
            }]
        );
        assert_eq!(
            c.on(&Observation::Ready(Version::Old), &gone(1)),
            vec![Action::Route(Route::Weight(0.95))]
        );
        // ... and the step's 600 s pause, before the old version takes everything.
        assert_eq!(
            c.on(&Observation::RouteSettled, &gone(1)),
            vec![Action::Timer {
                after: SimTime::from_secs(600),
                tag: 3
            }]
        );
        c.on(&Observation::Timer(3), &gone(1));
        assert_eq!(
            c.on(&Observation::Ready(Version::Old), &gone(10)),
            vec![Action::Route(Route::Weight(0.0))]
        );
        assert!(
            c.on(&Observation::RouteSettled, &gone(10))
                .contains(&Action::RolledBack)
        );
    }

    #[test]
    fn with_a_rollback_window_the_old_version_takes_everything_at_once() {
        let mut c = config().controller(10);
        promoted(&mut c);
        let mut gone = view(10);
        gone.old = Counts::default();
        assert_eq!(
            c.on(&Observation::RollbackDecided, &gone),
            vec![Action::Scale {
                version: Version::Old,
                replicas: 10
            }]
        );
        // Every old instance ready: all traffic back at once, no steps.
        assert_eq!(
            c.on(&Observation::Ready(Version::Old), &view(10)),
            vec![
                Action::Scale {
                    version: Version::Old,
                    replicas: 10
                },
                Action::Route(Route::Weight(0.0))
            ]
        );
    }

    #[test]
    fn an_inline_analysis_step_blocks_and_a_pause_without_duration_waits_for_a_person() {
        let mut cfg = config();
        cfg.background = None;
        cfg.steps = vec![
            TrafficStep {
                weight_pct: 5,
                pause: Some(SimTime::ZERO),
                analysis: true,
            },
            TrafficStep {
                weight_pct: 50,
                pause: None,
                analysis: false,
            },
            TrafficStep::timed(100, 0),
        ];
        let mut c = cfg.controller(10);
        assert_eq!(
            c.on(&Observation::Start, &view(0)),
            vec![Action::Scale {
                version: Version::New,
                replicas: 1
            }],
            "no background analysis"
        );
        c.on(&Observation::Ready(Version::New), &view(1));
        assert_eq!(
            c.on(&Observation::RouteSettled, &view(1)),
            vec![Action::StartAnalysis(AnalysisRun::ON_USERS)]
        );
        assert!(c.on(&Observation::Timer(1), &view(1)).is_empty());
        assert_eq!(
            c.on(&Observation::AnalysisSucceeded, &view(1)),
            vec![Action::Timer {
                after: SimTime::ZERO,
                tag: 1
            }]
        );
        c.on(&Observation::Timer(1), &view(1));
        c.on(&Observation::Ready(Version::New), &view(5));
        assert_eq!(
            c.on(&Observation::RouteSettled, &view(5)),
            vec![Action::AwaitPerson { tag: 2 }]
        );
    }
}
