//! Rolling update with Kubernetes RollingUpdate semantics, exactly: the new
//! ReplicaSet grows up to replicas + maxSurge by spec count, the old one shrinks
//! only as far as keeps replicas − maxUnavailable *available*. Rollback is the
//! same update run back towards the old version (`kubectl rollout undo`).

use super::{
    Action, AnalysisRun, Counts, Environment, Observation, Strategy, StrategyConfig, Version, View,
};
use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;
use std::sync::Arc;

/// A count or a percentage of the desired replicas (Kubernetes IntOrString).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum IntOrPercent {
    Count(u32),
    Percent(f64),
}

impl IntOrPercent {
    /// Kubernetes GetScaledValueFromIntOrPercent: a percentage of `total`,
    /// rounded up or down as asked.
    pub fn scaled(self, total: u32, round_up: bool) -> u32 {
        match self {
            IntOrPercent::Count(n) => n,
            IntOrPercent::Percent(p) => {
                let exact = p * total as f64 / 100.0;
                // Percentages like 25% of 10 are exact in decimal but not in
                // binary; snap to the nearest integer first so 2.5000000001
                // never rounds up to 3 by accident.
                let snapped = if (exact - exact.round()).abs() < 1e-9 {
                    exact.round()
                } else {
                    exact
                };
                (if round_up {
                    snapped.ceil()
                } else {
                    snapped.floor()
                }) as u32
            }
        }
    }

    fn parse(keys: &mut KeyReader, key: &str, default: IntOrPercent) -> Result<IntOrPercent> {
        match keys.take(key) {
            None => Ok(default),
            Some(toml::Value::Integer(n)) if (0..=100_000).contains(&n) => {
                Ok(IntOrPercent::Count(n as u32))
            }
            Some(toml::Value::Integer(n)) => {
                Err(keys.error(key, format!("a count cannot be negative, got {n}")))
            }
            Some(toml::Value::String(s)) => {
                let pct = s
                    .trim()
                    .strip_suffix('%')
                    .and_then(|p| p.trim().parse::<f64>().ok());
                match pct {
                    Some(p) if p.is_finite() && (0.0..=100.0).contains(&p) => {
                        Ok(IntOrPercent::Percent(p))
                    }
                    _ => Err(keys.error(
                        key,
                        format!(
                            "expected a count or a percentage from \"0%\" to \"100%\", got \"{s}\""
                        ),
                    )),
                }
            }
            Some(other) => Err(keys.error(
                key,
                format!(
                    "expected a count or a percentage like \"25%\", got {}",
                    other.type_str()
                ),
            )),
        }
    }
}

/// Kubernetes ResolveFenceposts (pkg/controller/deployment/util): surge rounds
/// up, unavailable rounds down, and if both come to zero unavailable is 1 so
/// the rollout can make progress.
pub fn resolve_fenceposts(
    max_surge: IntOrPercent,
    max_unavailable: IntOrPercent,
    replicas: u32,
) -> (u32, u32) {
    let surge = max_surge.scaled(replicas, true);
    let unavailable = max_unavailable.scaled(replicas, false);
    if surge == 0 && unavailable == 0 {
        (0, 1)
    } else {
        (surge, unavailable)
    }
}

#[derive(Debug, Clone)]
pub struct RollingConfig {
    pub max_surge: IntOrPercent,
    pub max_unavailable: IntOrPercent,
    pub min_ready: SimTime,
}

pub fn parse(keys: &mut KeyReader, _replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    // Kubernetes defaults: maxSurge 25%, maxUnavailable 25%, minReadySeconds 0.
    let max_surge = IntOrPercent::parse(keys, "max_surge", IntOrPercent::Percent(25.0))?;
    let max_unavailable =
        IntOrPercent::parse(keys, "max_unavailable", IntOrPercent::Percent(25.0))?;
    let min_ready = keys.duration_s("min_ready_s", 0.0)?;
    keys.finish("rolling", &["max_surge", "max_unavailable", "min_ready_s"])?;
    Ok(Arc::new(RollingConfig {
        max_surge,
        max_unavailable,
        min_ready,
    }))
}

impl StrategyConfig for RollingConfig {
    fn kind(&self) -> &'static str {
        "rolling"
    }
    fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
        let (surge, unavailable) =
            resolve_fenceposts(self.max_surge, self.max_unavailable, replicas);
        Box::new(Rolling {
            replicas,
            surge,
            unavailable,
            target: Version::New,
            done: false,
        })
    }
    fn environment(&self) -> Environment {
        Environment {
            min_ready: self.min_ready,
            extra_capacity: "surge capacity",
            ..Environment::default()
        }
    }
}

/// One scaling decision of a deployment sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Scale the ReplicaSet being rolled out to this many replicas.
    Target(u32),
    /// Scale the ReplicaSet being replaced to this many replicas.
    Source(u32),
}

/// One sync of the Kubernetes deployment controller's rolloutRolling: scale the
/// new ReplicaSet up if it can (and stop there), otherwise scale old ones down
/// (reconcileNewReplicaSet, then reconcileOldReplicaSets with its clean-up of
/// unhealthy replicas first). None when nothing can change until an instance
/// becomes available.
pub fn sync(
    replicas: u32,
    surge: u32,
    unavailable: u32,
    target: Counts,
    source: Counts,
) -> Option<Step> {
    let (r, surge, unavailable) = (replicas as i64, surge as i64, unavailable as i64);
    let (t_spec, t_avail) = (target.spec as i64, target.available as i64);
    let (s_spec, s_avail) = (source.spec as i64, source.available.min(source.spec) as i64);
    // reconcileNewReplicaSet (NewRSNewReplicas)
    if t_spec < r {
        let max_total = r + surge;
        let current = t_spec + s_spec;
        if current < max_total {
            let up = (max_total - current).min(r - t_spec);
            return Some(Step::Target((t_spec + up) as u32));
        }
    }
    // reconcileOldReplicaSets
    if s_spec == 0 {
        return None;
    }
    let min_available = r - unavailable;
    let new_unavailable = t_spec - t_avail;
    let max_scaled_down = t_spec + s_spec - min_available - new_unavailable;
    if max_scaled_down <= 0 {
        return None;
    }
    // cleanupUnhealthyReplicas: old replicas that are not available go first.
    let cleanup = (s_spec - s_avail).min(max_scaled_down);
    let spec_after_cleanup = s_spec - cleanup;
    // scaleDownOldReplicaSetsForRollingUpdate: keep min_available available.
    let available = t_avail + s_avail;
    let down = if available > min_available {
        (available - min_available).min(spec_after_cleanup)
    } else {
        0
    };
    let new_spec = spec_after_cleanup - down;
    (new_spec != s_spec).then_some(Step::Source(new_spec as u32))
}

pub struct Rolling {
    replicas: u32,
    surge: u32,
    unavailable: u32,
    /// The version being rolled out: New, then Old during a rollback.
    target: Version,
    done: bool,
}

impl Rolling {
    /// Runs syncs until nothing changes, as the controller does when each
    /// ReplicaSet update triggers the next sync; emits the final spec counts.
    fn reconcile(&mut self, view: &View) -> Vec<Action> {
        let mut target = view.counts(self.target);
        let mut source = view.counts(self.target.other());
        let (start_target, start_source) = (target.spec, source.spec);
        while let Some(step) = sync(self.replicas, self.surge, self.unavailable, target, source) {
            match step {
                Step::Target(n) => target.spec = n,
                Step::Source(n) => {
                    // The fleet removes unavailable instances before available ones.
                    let removed = source.spec - n;
                    let unavailable = source.spec - source.available.min(source.spec);
                    source.available =
                        source.available.min(source.spec) - removed.saturating_sub(unavailable);
                    source.ready = source.ready.min(n);
                    source.spec = n;
                }
            }
        }
        let mut actions = Vec::new();
        if target.spec != start_target {
            actions.push(Action::Scale {
                version: self.target,
                replicas: target.spec,
            });
        }
        if source.spec != start_source {
            actions.push(Action::Scale {
                version: self.target.other(),
                replicas: source.spec,
            });
        }
        if !self.done && source.spec == 0 && target.available >= self.replicas {
            self.done = true;
            actions.push(match self.target {
                Version::New => Action::Promoted,
                Version::Old => Action::RolledBack,
            });
        }
        actions
    }
}

impl Strategy for Rolling {
    fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
        match observation {
            Observation::RollbackDecided => {
                self.target = Version::Old;
                self.done = false;
                self.reconcile(view)
            }
            // Kubernetes has no analysis: the team's alert watches from the start.
            Observation::Start => {
                let mut actions = vec![Action::StartAnalysis(AnalysisRun::ON_USERS)];
                actions.extend(self.reconcile(view));
                actions
            }
            Observation::Ready(_) | Observation::Available(_) if !self.done => self.reconcile(view),
            _ => vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(p: f64) -> IntOrPercent {
        IntOrPercent::Percent(p)
    }

    #[test]
    fn fenceposts_round_surge_up_and_unavailable_down() {
        assert_eq!(resolve_fenceposts(pct(25.0), pct(25.0), 10), (3, 2));
        assert_eq!(resolve_fenceposts(pct(25.0), pct(25.0), 3), (1, 0));
        assert_eq!(resolve_fenceposts(pct(0.0), pct(0.0), 10), (0, 1));
        assert_eq!(
            resolve_fenceposts(IntOrPercent::Count(0), IntOrPercent::Count(0), 5),
            (0, 1)
        );
        assert_eq!(resolve_fenceposts(pct(10.0), pct(10.0), 4), (1, 0));
    }

    /// Drives `sync` as the controller does: run syncs until stable, then
    /// make every pending instance ready and available at once.
    fn run(replicas: u32, surge: u32, unavailable: u32) -> Vec<(u32, u32)> {
        let mut new = Counts::default();
        let mut old = Counts {
            spec: replicas,
            ready: replicas,
            available: replicas,
        };
        let mut states = vec![];
        for _ in 0..50 {
            while let Some(step) = sync(replicas, surge, unavailable, new, old) {
                match step {
                    Step::Target(n) => new.spec = n,
                    Step::Source(n) => {
                        old.spec = n;
                        old.available = old.available.min(n);
                        old.ready = old.ready.min(n);
                    }
                }
                states.push((new.spec, old.spec));
            }
            if new.available == replicas && old.spec == 0 {
                break;
            }
            new.ready = new.spec;
            new.available = new.spec;
        }
        states
    }

    #[test]
    fn kubernetes_sequence_for_ten_replicas_25_25() {
        // R = 10, maxSurge 25% → 3, maxUnavailable 25% → 2. Each sync either
        // scales up or down; (new, old) spec counts after each sync:
        //  start: new 3 (13 = R + surge); old 10 → 8 (keep 8 available);
        //    new 5 (11 by spec leaves room for 2 more by spec count).
        //  5 new available: maxScaledDown = 13 − 8 − 0 = 5, 13 available − 8 → old 3;
        //    then new 10 (13 total).
        //  10 new available: old 0.
        let states = run(10, 3, 2);
        assert_eq!(
            states,
            vec![(3, 10), (3, 8), (5, 8), (5, 3), (10, 3), (10, 0)]
        );
    }

    #[test]
    fn kubernetes_sequence_for_three_replicas_surge_1_unavailable_0() {
        // Never fewer than 3 available: one new, then one old goes, and so on.
        let states = run(3, 1, 0);
        assert_eq!(states, vec![(1, 3), (1, 2), (2, 2), (2, 1), (3, 1), (3, 0)]);
    }

    #[test]
    fn never_exceeds_surge_nor_drops_below_min_available() {
        for replicas in 1..=20u32 {
            for (s, u) in [
                (pct(25.0), pct(25.0)),
                (IntOrPercent::Count(1), IntOrPercent::Count(0)),
                (pct(0.0), pct(50.0)),
                (pct(100.0), pct(0.0)),
            ] {
                let (surge, unavailable) = resolve_fenceposts(s, u, replicas);
                let mut new = Counts::default();
                let mut old = Counts {
                    spec: replicas,
                    ready: replicas,
                    available: replicas,
                };
                for _ in 0..100 {
                    while let Some(step) = sync(replicas, surge, unavailable, new, old) {
                        match step {
                            Step::Target(n) => new.spec = n,
                            Step::Source(n) => {
                                old.spec = n;
                                old.available = old.available.min(n);
                            }
                        }
                        assert!(new.spec + old.spec <= replicas + surge);
                        assert!(
                            new.available + old.available
                                >= replicas.saturating_sub(unavailable).min(replicas)
                        );
                    }
                    new.available = new.spec;
                }
                assert_eq!(
                    (new.spec, old.spec),
                    (replicas, 0),
                    "R={replicas} surge={surge} unavailable={unavailable}"
                );
            }
        }
    }

    #[test]
    fn controller_rolls_back_towards_old() {
        let mut s = RollingConfig {
            max_surge: pct(25.0),
            max_unavailable: pct(25.0),
            min_ready: SimTime::ZERO,
        }
        .controller(10);
        let view = View {
            replicas: 10,
            old: Counts {
                spec: 8,
                ready: 8,
                available: 8,
            },
            new: Counts {
                spec: 3,
                ready: 3,
                available: 3,
            },
            ..View::default()
        };
        let actions = s.on(&Observation::RollbackDecided, &view);
        // Old is the target now: it grows to 10 within 13 total; new shrinks.
        assert!(actions.contains(&Action::Scale {
            version: Version::Old,
            replicas: 10
        }));
        assert!(actions.iter().any(
            |a| matches!(a, Action::Scale { version: Version::New, replicas } if *replicas < 3)
        ));
    }
}
