//! Helpers shared by the integration tests that run whole scenario files.

use cutover::experiment::{self, Results, Settings};
use cutover::scenario::Scenario;
use std::path::Path;

/// Runs a scenario file from the repository with seed 42 on every core.
pub fn run(file: &str, replications: u64) -> Results {
    let scenario = Scenario::load(Some(Path::new(file))).expect("scenario loads");
    experiment::run(
        &scenario,
        Settings {
            replications,
            seed: 42,
            threads: 0,
        },
    )
    .unwrap()
}

/// Column of the strategy named `name` in the results.
pub fn index(results: &Results, name: &str) -> usize {
    results
        .strategy_names
        .iter()
        .position(|n| n == name)
        .expect("strategy exists")
}
