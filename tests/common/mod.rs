//! Helpers shared by the integration tests. Each test file compiles this
//! module on its own and uses only some of it, hence the dead-code allowance.
#![allow(dead_code)]

use cutover::experiment::{self, Results, Settings};
use cutover::scenario::Scenario;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;
use std::process::Command;

/// Runs a scenario file from the repository with seed 42 on every core.
pub fn run(file: &str, replications: u64) -> Results {
    let scenario = Scenario::load(Some(Path::new(file))).expect("scenario loads");
    run_scenario(&scenario, replications, 42)
}

/// Runs a parsed scenario on every core.
pub fn run_scenario(scenario: &Scenario, replications: u64, seed: u64) -> Results {
    experiment::run(
        scenario,
        Settings {
            replications,
            seed,
            threads: 0,
        },
    )
    .expect("the experiment runs")
}

/// Column of the strategy named `name` in the results.
pub fn index(results: &Results, name: &str) -> usize {
    results
        .strategy_names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no strategy {name}"))
}

/// `cutover compare --replications 200 --out <out> <extra>` on the default
/// scenario; panics with stderr unless it succeeds.
pub fn compare_cli(out: &Path, extra: &[&str]) {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["compare", "--replications", "200", "--out"])
        .arg(out)
        .args(extra)
        .output()
        .expect("cannot run cutover");
    assert!(
        output.status.success(),
        "cutover compare failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// stdout of a successful `cutover ARGS` run; panics with stderr otherwise.
pub fn cutover_stdout(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .expect("cannot run cutover");
    assert!(
        output.status.success(),
        "cutover {} failed ({}):\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// Sample mean and its 99% confidence interval (Student t).
pub fn mean_ci99(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.995);
    let half = t * sample_variance(values).sqrt() / n.sqrt();
    (mean, mean - half, mean + half)
}

pub fn sample_variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// Asserts that `expected` lies in the 99% interval `(estimate, lo, hi)`.
pub fn assert_in(what: &str, expected: f64, (estimate, lo, hi): (f64, f64, f64)) {
    eprintln!("{what}: expected {expected}, estimate {estimate:.3}, 99% CI [{lo:.3}, {hi:.3}]");
    assert!(
        lo <= expected && expected <= hi,
        "{what}: expected {expected} outside the 99% CI [{lo}, {hi}] (estimate {estimate})"
    );
}
