//! An experiment: every strategy of a scenario over many replications, in
//! parallel with rayon. Replication r of every strategy faces the same release
//! and the same random streams (common random numbers). Outcomes are collected
//! by replication index, so the result does not depend on the thread count.

use crate::error::{Error, Result};
use crate::outcome::{Metric, Outcome};
use crate::release::Release;
use crate::scenario::Scenario;
use crate::simulation::simulate;
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
    pub outcomes: Vec<Vec<Outcome>>,
    pub settings: Settings,
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
            .collect::<Vec<_>>()
    });
    Ok(Results {
        strategy_names: scenario.strategies.iter().map(|s| s.name.clone()).collect(),
        outcomes,
        settings,
    })
}

/// One replication: one release, every strategy.
pub fn replicate(scenario: &Scenario, seed: u64, replication: u64) -> Vec<Outcome> {
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
