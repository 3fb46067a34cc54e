//! An experiment: every strategy of a scenario over many replications, in
//! parallel with rayon. Replication r of every strategy faces the same release
//! and the same random streams (common random numbers). Outcomes are collected
//! by replication index, so the result does not depend on the thread count.
//!
//! For the timeline plot, [`run_with_timeline`] also records one replication's
//! traces: the replication is run again with a trace under every strategy.
//! Its streams are keyed by (seed, replication, purpose), so the re-run is the
//! same release with the same draws as in the experiment.

use crate::error::{Error, Result};
use crate::outcome::{Kind, Metric, Outcome};
use crate::release::Release;
use crate::scenario::Scenario;
use crate::simulation::{Simulation, TraceEvent, simulate};
use crate::stats::Summary;
use rayon::prelude::*;

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub replications: u64,
    pub seed: u64,
    /// Worker threads; 0 lets rayon choose.
    pub threads: usize,
}

/// Every outcome: `outcomes[replication][strategy]`.
#[derive(Debug, Clone)]
pub struct Results {
    pub strategy_names: Vec<String>,
    /// The metrics this scenario reports, in CSV column order (the
    /// database's only with a `[database]` table).
    pub metrics: Vec<Metric>,
    pub outcomes: Vec<Vec<Outcome>>,
    pub settings: Settings,
    /// The timeline replication traced under every strategy; recorded only
    /// by [`run_with_timeline`], and None when no release was defective.
    pub timeline: Option<TimelineTraces>,
}

/// One replication's traces, one per strategy in the scenario's order.
#[derive(Debug, Clone)]
pub struct TimelineTraces {
    pub replication: u64,
    pub traces: Vec<Vec<TraceEvent>>,
}

pub fn run(scenario: &Scenario, settings: Settings) -> Result<Results> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the thread pool: {e}")))?;
    let outcomes = pool.install(|| {
        (0..settings.replications)
            .into_par_iter()
            .map(|r| replicate(scenario, settings.seed, r))
            .collect::<Result<Vec<_>>>()
    })?;
    Ok(Results {
        strategy_names: scenario.strategies.iter().map(|s| s.name.clone()).collect(),
        metrics: Metric::reported(scenario.database.is_some()),
        outcomes,
        settings,
        timeline: None,
    })
}

/// [`run`], then the [`timeline_replication`] run again with a trace under
/// every strategy (what the timeline plot shows; `compare --no-plots` and
/// `recommend` skip it).
pub fn run_with_timeline(scenario: &Scenario, settings: Settings) -> Result<Results> {
    let mut results = run(scenario, settings)?;
    results.timeline = timeline_replication(&results)
        .map(|r| trace_replication(scenario, settings.seed, r))
        .transpose()?;
    Ok(results)
}

/// The replication the timeline plot shows, the lowest index of the first
/// kind that exists: a defective release that hurt users under every strategy
/// and that every strategy rolled back (the most telling comparison); else a
/// defective release that at least one strategy rolled back; else any
/// defective release. None when no release was defective.
pub fn timeline_replication(results: &Results) -> Option<u64> {
    let rolled_back = |o: &Outcome| o.kind == Kind::RolledBack;
    let hurt = |o: &Outcome| o.get(Metric::FailedRequests).is_some_and(|f| f > 0.0);
    let defective = |row: &[Outcome]| row.first().is_some_and(|o| o.defective);
    type Tier<'a> = &'a dyn Fn(&[Outcome]) -> bool;
    let tiers: [Tier; 3] = [
        &|row| defective(row) && row.iter().all(|o| rolled_back(o) && hurt(o)),
        &|row| defective(row) && row.iter().any(rolled_back),
        &|row| defective(row),
    ];
    tiers
        .iter()
        .find_map(|tier| results.outcomes.iter().position(|row| tier(row)))
        .map(|r| r as u64)
}

/// One replication with a trace under every strategy: the same release and
/// streams as [`replicate`], so the same outcomes.
pub fn trace_replication(
    scenario: &Scenario,
    seed: u64,
    replication: u64,
) -> Result<TimelineTraces> {
    let release = Release::draw(scenario, seed, replication);
    let traces = scenario
        .strategies
        .iter()
        .map(|spec| {
            let mut sim = Simulation::new(scenario, spec, &release, seed, replication).with_trace();
            sim.run()?;
            Ok(sim.trace().to_vec())
        })
        .collect::<Result<_>>()?;
    Ok(TimelineTraces {
        replication,
        traces,
    })
}

/// One replication: one release, every strategy.
pub fn replicate(scenario: &Scenario, seed: u64, replication: u64) -> Result<Vec<Outcome>> {
    let release = Release::draw(scenario, seed, replication);
    scenario
        .strategies
        .iter()
        .map(|s| simulate(scenario, s, &release, seed, replication))
        .collect()
}

impl Results {
    /// The values of one metric for one strategy, in replication order (only where it applies).
    pub fn values(&self, strategy: usize, metric: Metric) -> Vec<f64> {
        self.outcomes
            .iter()
            .filter_map(|row| row[strategy].get(metric))
            .collect()
    }

    pub fn summary(&self, strategy: usize, metric: Metric) -> Option<Summary> {
        Summary::of(&self.values(strategy, metric))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(rows: &[&[(bool, Kind, f64)]]) -> Results {
        let outcomes = rows
            .iter()
            .map(|row| {
                row.iter()
                    .map(|&(defective, kind, failed)| {
                        let mut o = Outcome::new(kind, defective);
                        o.set(Metric::FailedRequests, Some(failed));
                        o
                    })
                    .collect()
            })
            .collect();
        Results {
            strategy_names: vec!["a".into(), "b".into()],
            metrics: Metric::ALL.to_vec(),
            outcomes,
            settings: Settings {
                replications: rows.len() as u64,
                seed: 1,
                threads: 1,
            },
            timeline: None,
        }
    }

    #[test]
    fn the_timeline_shows_the_most_telling_defective_release() {
        use Kind::*;
        let healthy: &[(bool, Kind, f64)] = &[(false, Promoted, 0.0), (false, Promoted, 0.0)];
        let unnoticed: &[_] = &[(true, Promoted, 5.0), (true, Promoted, 5.0)];
        let one_rollback: &[_] = &[(true, RolledBack, 0.0), (true, Promoted, 5.0)];
        let telling: &[_] = &[(true, RolledBack, 9.0), (true, RolledBack, 1.0)];
        assert_eq!(timeline_replication(&results(&[healthy, healthy])), None);
        assert_eq!(
            timeline_replication(&results(&[healthy, unnoticed, unnoticed])),
            Some(1)
        );
        assert_eq!(
            timeline_replication(&results(&[unnoticed, one_rollback, one_rollback])),
            Some(1)
        );
        assert_eq!(
            timeline_replication(&results(&[one_rollback, telling, telling])),
            Some(1)
        );
    }

    #[test]
    fn the_traced_replication_is_the_one_the_experiment_ran() {
        let scenario = Scenario::load(None).expect("the embedded scenario loads");
        let settings = Settings {
            replications: 40,
            seed: 7,
            threads: 1,
        };
        let results = run_with_timeline(&scenario, settings).unwrap();
        let traced = results
            .timeline
            .as_ref()
            .expect("a defective release in 40");
        assert_eq!(Some(traced.replication), timeline_replication(&results));
        assert_eq!(traced.traces.len(), scenario.strategies.len());
        let release = Release::draw(&scenario, 7, traced.replication);
        for (i, spec) in scenario.strategies.iter().enumerate() {
            let mut sim =
                Simulation::new(&scenario, spec, &release, 7, traced.replication).with_trace();
            assert_eq!(
                sim.run().unwrap(),
                results.outcomes[traced.replication as usize][i],
                "{}: a traced run differs from the experiment's",
                spec.name
            );
            assert_eq!(sim.trace(), traced.traces[i], "{}", spec.name);
            assert!(!traced.traces[i].is_empty(), "{}", spec.name);
        }
        assert!(run(&scenario, settings).unwrap().timeline.is_none());
    }
}
