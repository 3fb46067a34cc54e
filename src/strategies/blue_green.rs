//! Blue-green in the manner of Argo Rollouts (docs/features/bluegreen.md): a
//! full green environment is provisioned beside blue (the preview); once
//! every green instance is ready, smoke tests and the pre-promotion analysis
//! run against it, the release pauses for approval if promotion is not
//! automatic, and traffic switches. The post-promotion analysis then runs on
//! users' traffic while blue is kept: a failure switches back to blue.
//! Blue is scaled down after `scale_down_delay_s` (Argo's
//! scaleDownDelaySeconds, default 30 s); with a post-promotion analysis and
//! no delay set, only once the analysis has completed (at least 30 s), and
//! with a delay set, Argo cancels the analysis at the delay. A rollback
//! after blue is gone is a redeploy of blue.
//!
//! The switch is only as good as the routing layer (`switch`): a load balancer
//! moves new requests after its change propagates and lets open connections
//! drain for its deregistration delay; DNS moves clients as their caches let
//! go, so blue must keep serving the stale share until it is small; a
//! Kubernetes Service selector flip moves new connections once endpoints
//! propagate; a mesh can shift gradually in weighted steps, with the analysis
//! running at each (the blue-green and canary combination).

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

/// argo-rollouts utils/defaults: DefaultScaleDownDelaySeconds = 30, also
/// the least time blue is kept while a post-promotion analysis runs.
const ARGO_SCALE_DOWN_DELAY: SimTime = SimTime(30_000);

/// When the switch happens once green is ready and analysed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Promotion {
    /// At once (Argo autoPromotionEnabled, the default).
    Automatic,
    /// After a person approves (autoPromotionEnabled: false).
    Approved,
    /// After a pause of this long (autoPromotionSeconds).
    After(SimTime),
}

#[derive(Debug, Clone)]
pub struct BlueGreenConfig {
    /// scaleDownDelaySeconds; None when not set (see the module comment).
    pub scale_down_delay: Option<SimTime>,
    /// Smoke tests against idle green before the switch.
    pub smoke: SmokeTests,
    /// prePromotionAnalysis against the preview, on this synthetic load (rps).
    pub pre_promotion_rps: Option<f64>,
    pub promotion: Promotion,
    /// postPromotionAnalysis on users' traffic after the switch.
    pub post_promotion_analysis: bool,
    pub switch: SwitchKeys,
    /// The shift to green: one step to 100%, or weighted steps through a mesh.
    pub steps: Vec<TrafficStep>,
    /// progressDeadlineAbort.
    pub progress_deadline_abort: bool,
}

/// The keys a blue-green strategy reads.
const KEYS: &[&str] = &[
    "scale_down_delay_s",
    smoke::KEYS[0],
    smoke::KEYS[1],
    "pre_promotion_analysis",
    "preview_rps",
    "auto_promotion_enabled",
    "auto_promotion_s",
    "post_promotion_analysis",
    "progress_deadline_abort",
    "switch",
    "propagation_s",
    "deregistration_delay_s",
    "dns",
    "dns_teardown_below",
    "dns_max_wait_s",
    "steps",
];

pub fn parse(keys: &mut KeyReader, _replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    let scale_down_delay = keys.optional_duration_s("scale_down_delay_s")?;
    let smoke = SmokeTests::parse(keys)?;
    let pre = keys.bool("pre_promotion_analysis")?.unwrap_or(false);
    let preview_rps = keys.f64("preview_rps")?;
    let pre_promotion_rps = match (pre, preview_rps) {
        (true, Some(rps)) => Some(keys.validator().positive(
            &keys.path("preview_rps"),
            rps,
            crate::input::limits::RATE_RPS,
        )?),
        (true, None) => {
            return Err(keys.error(
                "preview_rps",
                "missing: the pre-promotion analysis measures the preview service, which takes \
                 no user traffic; give the synthetic load it drives (requests per second)",
            ));
        }
        (false, Some(_)) => {
            return Err(keys.error(
                "preview_rps",
                "only applies with `pre_promotion_analysis = true`",
            ));
        }
        (false, None) => None,
    };
    let auto = keys.bool("auto_promotion_enabled")?.unwrap_or(true);
    let promotion = match (auto, keys.optional_duration_s("auto_promotion_s")?) {
        (true, None) => Promotion::Automatic,
        (false, None) => Promotion::Approved,
        (true, Some(pause)) => Promotion::After(pause),
        (false, Some(_)) => {
            return Err(keys.error(
                "auto_promotion_s",
                "promotes after a pause only when `auto_promotion_enabled` is true",
            ));
        }
    };
    let post_promotion_analysis = keys.bool("post_promotion_analysis")?.unwrap_or(false);
    let progress_deadline_abort = keys.bool("progress_deadline_abort")?.unwrap_or(false);
    let switch_name = keys
        .string("switch")?
        .unwrap_or_else(|| "load-balancer".into());
    let switch = routing_keys::switch(keys, "switch", &switch_name)?;
    let steps =
        match routing_keys::steps(keys, "steps", false)? {
            Some(steps) if switch_name == "mesh" => steps,
            Some(_) => return Err(keys.error(
                "steps",
                "weighted steps need `switch = \"mesh\"`; other switches move everything at once",
            )),
            None => vec![TrafficStep::timed(100, 0)],
        };
    keys.finish("blue-green", KEYS)?;
    Ok(Arc::new(BlueGreenConfig {
        scale_down_delay,
        smoke,
        pre_promotion_rps,
        promotion,
        post_promotion_analysis,
        switch,
        steps,
        progress_deadline_abort,
    }))
}

impl StrategyConfig for BlueGreenConfig {
    fn kind(&self) -> &'static str {
        "blue-green"
    }
    fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
        Box::new(BlueGreen {
            replicas,
            config: self.clone(),
            phase: Phase::Provisioning,
            step: 0,
            timer: Timer::default(),
            resume: Timer::second(),
            analysis_started: false,
            analysing: false,
            kept_long_enough: false,
        })
    }
    fn environment(&self) -> Environment {
        Environment {
            initial_route: Route::All(Version::Old),
            routing: self.switch.clone(),
            duplicate_environment: true,
            extra_capacity: "duplicate capacity",
            progress_deadline_abort: self.progress_deadline_abort,
            operations_usd_per_month: operations::CONTROLLER_USD_PER_MONTH,
            ..Environment::default()
        }
    }
    fn blocking_analysis(&self) -> Option<&'static str> {
        if self.pre_promotion_rps.is_some() {
            Some("pre_promotion_analysis")
        } else if self.post_promotion_analysis && self.scale_down_delay.is_none() {
            Some("post_promotion_analysis")
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Green is starting; blue serves everything.
    Provisioning,
    /// Smoke tests run against idle green.
    SmokeTesting,
    /// The pre-promotion analysis runs against idle green.
    PreAnalysis,
    /// The pre-promotion analysis went Inconclusive: waiting for a person.
    PreAnalysisPaused,
    /// Waiting for approval or for the auto-promotion pause.
    AwaitingPromotion,
    /// Traffic is moving to green (step `step`).
    Switching,
    /// Pausing at a weighted step while the analysis runs.
    Pausing,
    /// Green serves; blue is kept (scale-down delay, post-promotion analysis).
    BlueKept,
    /// Blue is gone; the release is done.
    Promoted,
    /// Switching back to a blue that is still there.
    SwitchingBack,
    /// Blue is being provisioned again for a rollback after the delay.
    Reprovisioning,
    /// Traffic is moving back to the re-provisioned blue.
    SwitchingToNewBlue,
    RolledBack,
}

pub struct BlueGreen {
    replicas: u32,
    config: BlueGreenConfig,
    phase: Phase,
    step: usize,
    /// The pause or scale-down delay running; a rollback cancels it.
    timer: Timer,
    /// A person resuming an Inconclusive post-promotion analysis, beside
    /// the scale-down delay.
    resume: Timer,
    /// The post-promotion analysis has started.
    analysis_started: bool,
    /// The post-promotion analysis has not completed yet.
    analysing: bool,
    /// Blue has been kept for the scale-down delay (or Argo's 30 s minimum).
    kept_long_enough: bool,
}

impl BlueGreen {
    fn shift(&mut self) -> Vec<Action> {
        self.phase = Phase::Switching;
        let weight = self.config.steps[self.step].weight_pct;
        let route = if weight == 100 {
            Route::All(Version::New)
        } else {
            Route::Weight(weight as f64 / 100.0)
        };
        vec![Action::Route(route)]
    }

    /// Green is ready: smoke tests, then the pre-promotion analysis, then promotion.
    fn green_ready(&mut self) -> Vec<Action> {
        if self.config.smoke.enabled() {
            self.phase = Phase::SmokeTesting;
            vec![self.config.smoke.action()]
        } else {
            self.smoke_tested()
        }
    }

    fn smoke_tested(&mut self) -> Vec<Action> {
        match self.config.pre_promotion_rps {
            Some(rps) => {
                self.phase = Phase::PreAnalysis;
                vec![Action::StartAnalysis(AnalysisRun {
                    initial_delay: SimTime::ZERO,
                    synthetic_rps: Some(rps),
                })]
            }
            None => self.analysed(),
        }
    }

    fn analysed(&mut self) -> Vec<Action> {
        match self.config.promotion {
            Promotion::Automatic => self.start_switch(),
            Promotion::Approved => {
                self.phase = Phase::AwaitingPromotion;
                vec![self.timer.person()]
            }
            Promotion::After(pause) => {
                self.phase = Phase::AwaitingPromotion;
                vec![self.timer.start(pause)]
            }
        }
    }

    fn start_switch(&mut self) -> Vec<Action> {
        self.step = 0;
        self.shift()
    }

    /// Every request is on green: the post-promotion analysis starts and blue waits.
    fn switched(&mut self) -> Vec<Action> {
        self.phase = Phase::BlueKept;
        let mut actions = self.start_post_promotion_analysis();
        let delay = self
            .config
            .scale_down_delay
            .unwrap_or(ARGO_SCALE_DOWN_DELAY);
        actions.push(self.timer.start(delay));
        actions
    }

    /// Starts the post-promotion analysis once green takes users' traffic:
    /// at the switch, or at the first weighted step through a mesh, running
    /// through the steps.
    fn start_post_promotion_analysis(&mut self) -> Vec<Action> {
        if !self.config.post_promotion_analysis || self.analysis_started {
            return vec![];
        }
        self.analysis_started = true;
        self.analysing = true;
        vec![Action::StartAnalysis(AnalysisRun::ON_USERS)]
    }

    /// Scales blue down once the delay is over and, without a delay set, the
    /// post-promotion analysis has completed.
    fn maybe_scale_down(&mut self) -> Vec<Action> {
        let cancels = self.config.scale_down_delay.is_some();
        if !self.kept_long_enough || (self.analysing && !cancels) {
            return vec![];
        }
        self.phase = Phase::Promoted;
        let mut actions = Vec::new();
        if self.analysing {
            self.analysing = false;
            actions.push(Action::StopAnalysis);
        }
        actions.extend([
            Action::Scale {
                version: Version::Old,
                replicas: 0,
            },
            Action::Promoted,
        ]);
        actions
    }
}

impl Strategy for BlueGreen {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
        use Observation as O;
        use Phase as P;
        match (self.phase, observation) {
            (P::Provisioning, O::Start) => vec![Action::Scale {
                version: Version::New,
                replicas: self.replicas,
            }],
            (P::Provisioning, O::Ready(Version::New)) if view.new.ready >= self.replicas => {
                self.green_ready()
            }
            (P::SmokeTesting, O::SmokeTestsPassed) => self.smoke_tested(),
            (P::PreAnalysis, O::AnalysisSucceeded) => self.analysed(),
            // Argo pauses an Inconclusive analysis until a person resumes it.
            (P::PreAnalysis, O::AnalysisInconclusive) => {
                self.phase = P::PreAnalysisPaused;
                vec![self.timer.person()]
            }
            (P::PreAnalysisPaused, O::Timer(tag)) if self.timer.fired(*tag) => self.analysed(),
            (P::BlueKept, O::AnalysisInconclusive) => vec![self.resume.person()],
            (P::BlueKept, O::Timer(tag)) if self.resume.fired(*tag) => {
                self.analysing = false;
                self.maybe_scale_down()
            }
            (P::AwaitingPromotion, O::Timer(tag)) if self.timer.fired(*tag) => self.start_switch(),
            (P::Switching, O::RouteSettled) if self.step + 1 < self.config.steps.len() => {
                self.phase = P::Pausing;
                let mut actions = self.start_post_promotion_analysis();
                actions.push(self.config.steps[self.step].wait(&mut self.timer));
                actions
            }
            (P::Switching, O::RouteSettled) => self.switched(),
            (P::Pausing, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.step += 1;
                self.shift()
            }
            (P::BlueKept, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.kept_long_enough = true;
                self.maybe_scale_down()
            }
            (P::BlueKept, O::AnalysisSucceeded) => {
                self.analysing = false;
                self.maybe_scale_down()
            }
            // Green never took traffic: tearing it down is the whole rollback.
            (
                P::Provisioning
                | P::SmokeTesting
                | P::PreAnalysis
                | P::PreAnalysisPaused
                | P::AwaitingPromotion,
                O::RollbackDecided,
            ) => {
                self.phase = P::RolledBack;
                self.timer.cancel();
                vec![
                    Action::Scale {
                        version: Version::New,
                        replicas: 0,
                    },
                    Action::RolledBack,
                ]
            }
            (P::Switching | P::Pausing | P::BlueKept, O::RollbackDecided) => {
                self.phase = P::SwitchingBack;
                self.timer.cancel();
                self.resume.cancel();
                vec![Action::Route(Route::All(Version::Old))]
            }
            (P::Promoted, O::RollbackDecided) => {
                self.phase = P::Reprovisioning;
                vec![Action::Scale {
                    version: Version::Old,
                    replicas: self.replicas,
                }]
            }
            (P::Reprovisioning, O::Ready(Version::Old)) if view.old.ready >= self.replicas => {
                self.phase = P::SwitchingToNewBlue;
                vec![Action::Route(Route::All(Version::Old))]
            }
            (P::SwitchingBack | P::SwitchingToNewBlue, O::RouteSettled) => {
                self.phase = P::RolledBack;
                vec![
                    Action::Scale {
                        version: Version::New,
                        replicas: 0,
                    },
                    Action::RolledBack,
                ]
            }
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies::Counts;

    fn controller() -> Box<dyn Strategy> {
        BlueGreenConfig {
            scale_down_delay: Some(SimTime::from_secs(30)),
            pre_promotion_rps: None,
            promotion: Promotion::Automatic,
            post_promotion_analysis: false,
            progress_deadline_abort: false,
            smoke: SmokeTests::NONE,
            switch: SwitchKeys::instant(),
            steps: vec![TrafficStep::timed(100, 0)],
        }
        .controller(2)
    }

    fn ready(old: u32, new: u32) -> View {
        View {
            replicas: 2,
            old: Counts {
                spec: old,
                ready: old,
                available: old,
            },
            new: Counts {
                spec: new,
                ready: new,
                available: new,
            },
            ..View::default()
        }
    }

    #[test]
    fn switches_once_green_is_ready_and_drops_blue_after_the_delay() {
        let mut s = controller();
        assert_eq!(
            s.on(&Observation::Start, &ready(2, 0)),
            vec![Action::Scale {
                version: Version::New,
                replicas: 2
            }]
        );
        assert!(
            s.on(&Observation::Ready(Version::New), &ready(2, 1))
                .is_empty()
        );
        assert_eq!(
            s.on(&Observation::Ready(Version::New), &ready(2, 2)),
            vec![Action::Route(Route::All(Version::New))]
        );
        assert_eq!(
            s.on(&Observation::RouteSettled, &ready(2, 2)),
            vec![Action::Timer {
                after: SimTime::from_secs(30),
                tag: 1
            }]
        );
        assert_eq!(
            s.on(&Observation::Timer(1), &ready(2, 2)),
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
    fn smoke_tests_run_before_the_switch_and_a_failure_tears_green_down() {
        let mut s = BlueGreenConfig {
            scale_down_delay: Some(SimTime::from_secs(30)),
            pre_promotion_rps: None,
            promotion: Promotion::Automatic,
            post_promotion_analysis: false,
            progress_deadline_abort: false,
            smoke: SmokeTests {
                duration: SimTime::from_secs(120),
                coverage: 0.9,
            },
            switch: SwitchKeys::instant(),
            steps: vec![TrafficStep::timed(100, 0)],
        }
        .controller(2);
        s.on(&Observation::Start, &ready(2, 0));
        assert_eq!(
            s.on(&Observation::Ready(Version::New), &ready(2, 2)),
            vec![Action::SmokeTests {
                duration: SimTime::from_secs(120),
                coverage: 0.9
            }]
        );
        assert_eq!(
            s.on(&Observation::RollbackDecided, &ready(2, 2)),
            vec![
                Action::Scale {
                    version: Version::New,
                    replicas: 0
                },
                Action::RolledBack
            ]
        );
    }

    #[test]
    fn rollback_inside_the_window_is_a_switch_back() {
        let mut s = controller();
        s.on(&Observation::Start, &ready(2, 0));
        s.on(&Observation::Ready(Version::New), &ready(2, 2));
        s.on(&Observation::RouteSettled, &ready(2, 2));
        assert_eq!(
            s.on(&Observation::RollbackDecided, &ready(2, 2)),
            vec![Action::Route(Route::All(Version::Old))]
        );
        assert_eq!(
            s.on(&Observation::RouteSettled, &ready(2, 2)),
            vec![
                Action::Scale {
                    version: Version::New,
                    replicas: 0
                },
                Action::RolledBack
            ]
        );
    }

    #[test]
    fn rollback_after_the_window_redeploys_blue_first() {
        let mut s = controller();
        s.on(&Observation::Start, &ready(2, 0));
        s.on(&Observation::Ready(Version::New), &ready(2, 2));
        s.on(&Observation::RouteSettled, &ready(2, 2));
        s.on(&Observation::Timer(1), &ready(2, 2));
        assert_eq!(
            s.on(&Observation::RollbackDecided, &ready(0, 2)),
            vec![Action::Scale {
                version: Version::Old,
                replicas: 2
            }]
        );
        assert!(
            s.on(&Observation::Ready(Version::Old), &ready(1, 2))
                .is_empty()
        );
        assert_eq!(
            s.on(&Observation::Ready(Version::Old), &ready(2, 2)),
            vec![Action::Route(Route::All(Version::Old))]
        );
    }
}
