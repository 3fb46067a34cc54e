//! Blue-green: a full green environment is provisioned beside blue; once every
//! green instance is ready (and smoke tests pass), traffic switches. Blue is
//! kept for scale_down_delay_s (Argo Rollouts scaleDownDelaySeconds, default
//! 30 s): a rollback inside that window is a switch back; after it, a
//! redeploy of blue.
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
use super::{Action, Environment, Observation, Route, Strategy, StrategyConfig, Version, View};
use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct BlueGreenConfig {
    pub scale_down_delay: SimTime,
    /// Smoke tests against idle green before the switch.
    pub smoke: SmokeTests,
    pub switch: SwitchKeys,
    /// The shift to green: one step to 100%, or weighted steps through a mesh.
    pub steps: Vec<TrafficStep>,
}

pub fn parse(keys: &mut KeyReader, _replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    // argo-rollouts utils/defaults: DefaultScaleDownDelaySeconds = 30.
    let scale_down_delay = keys.duration_s("scale_down_delay_s", 30.0)?;
    let smoke = SmokeTests::parse(keys)?;
    let switch_name = keys
        .string("switch")?
        .unwrap_or_else(|| "load-balancer".into());
    let switch = routing_keys::switch(keys, "switch", &switch_name)?;
    let steps =
        match routing_keys::steps(keys, "steps")? {
            Some(steps) if switch_name == "mesh" => steps,
            Some(_) => return Err(keys.error(
                "steps",
                "weighted steps need `switch = \"mesh\"`; other switches move everything at once",
            )),
            None => vec![TrafficStep {
                weight_pct: 100,
                pause: SimTime::ZERO,
            }],
        };
    keys.finish(
        "blue-green",
        &[
            "scale_down_delay_s",
            smoke::KEYS[0],
            smoke::KEYS[1],
            "switch",
            "propagation_s",
            "deregistration_delay_s",
            "dns",
            "dns_teardown_below",
            "dns_max_wait_s",
            "steps",
        ],
    )?;
    Ok(Arc::new(BlueGreenConfig {
        scale_down_delay,
        smoke,
        switch,
        steps,
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
        })
    }
    fn environment(&self) -> Environment {
        Environment {
            initial_route: Route::All(Version::Old),
            routing: self.switch.clone(),
            duplicate_environment: true,
            extra_capacity: "duplicate capacity",
            ..Environment::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Green is starting; blue serves everything.
    Provisioning,
    /// Smoke tests run against idle green.
    SmokeTesting,
    /// Traffic is moving to green (step `step`).
    Switching,
    /// Pausing at a weighted step while the analysis runs.
    Pausing,
    /// Green serves; blue waits out the scale-down delay.
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

    fn start_switch(&mut self) -> Vec<Action> {
        self.step = 0;
        self.shift()
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
                if self.config.smoke.enabled() {
                    self.phase = P::SmokeTesting;
                    vec![self.config.smoke.action()]
                } else {
                    self.start_switch()
                }
            }
            (P::SmokeTesting, O::SmokeTestsPassed) => self.start_switch(),
            (P::Switching, O::RouteSettled) if self.step + 1 < self.config.steps.len() => {
                self.phase = P::Pausing;
                let pause = self.config.steps[self.step].pause;
                vec![self.timer.start(pause)]
            }
            (P::Switching, O::RouteSettled) => {
                self.phase = P::BlueKept;
                vec![self.timer.start(self.config.scale_down_delay)]
            }
            (P::Pausing, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.step += 1;
                self.shift()
            }
            (P::BlueKept, O::Timer(tag)) if self.timer.fired(*tag) => {
                self.phase = P::Promoted;
                vec![
                    Action::Scale {
                        version: Version::Old,
                        replicas: 0,
                    },
                    Action::Promoted,
                ]
            }
            // Green never took traffic: tearing it down is the whole rollback.
            (P::Provisioning | P::SmokeTesting, O::RollbackDecided) => {
                self.phase = P::RolledBack;
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
            scale_down_delay: SimTime::from_secs(30),
            smoke: SmokeTests::NONE,
            switch: SwitchKeys::instant(),
            steps: vec![TrafficStep {
                weight_pct: 100,
                pause: SimTime::ZERO,
            }],
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
            scale_down_delay: SimTime::from_secs(30),
            smoke: SmokeTests {
                duration: SimTime::from_secs(120),
                coverage: 0.9,
            },
            switch: SwitchKeys::instant(),
            steps: vec![TrafficStep {
                weight_pct: 100,
                pause: SimTime::ZERO,
            }],
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
