//! The command line: clap derive, one subcommand per job.

use crate::input::{limits, thousands};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "cutover",
    version,
    about = "Compare release strategies: blast radius, rollback time and cost of a bad release"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate many releases under every strategy of a scenario and compare them.
    Compare(CompareArgs),
    /// Narrate one simulated release under one strategy, event by event.
    Trace(TraceArgs),
    /// How many requests, and how long, a canary needs to detect a worse error rate.
    CanarySize(CanarySizeArgs),
    /// Recommend the strategy with the lowest expected total monthly cost
    /// (infrastructure plus incidents), with the ranking and why.
    Recommend(RecommendArgs),
}

/// What every experiment takes: the scenario, how many releases, the seed, the threads.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML); the embedded default scenario when omitted.
    pub scenario: Option<PathBuf>,
    /// Releases to simulate per strategy (1 to 1,000,000).
    #[arg(long, default_value_t = 2000, value_parser = replications)]
    pub replications: u64,
    /// Seed of every random stream (and of the monthly resampling); the same
    /// seed gives the same output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (0: one per core; at most 4 per core). Output does not depend on it.
    #[arg(long, default_value_t = 0, value_parser = threads)]
    pub threads: usize,
}

/// `--replications`: every outcome is held in memory until the run ends.
fn replications(text: &str) -> Result<u64, String> {
    let n: u64 = text.parse().map_err(|e| format!("{e}"))?;
    if (1..=limits::MAX_REPLICATIONS).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "must be from 1 to {}: the results hold about 0.66 KB per release and strategy, \
             so a million releases of four strategies need about 2.6 GB of memory",
            thousands(limits::MAX_REPLICATIONS as f64)
        ))
    }
}

/// `--threads`: more workers than cores only wait their turn, and
/// thousands of them take longer to start than the run itself.
fn threads(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|e| format!("{e}"))?;
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let max = limits::MAX_THREADS_PER_CORE * cores;
    if n <= max {
        Ok(n)
    } else {
        Err(format!(
            "must be at most {max} (4 per core; this machine has {cores}), or 0 for one per core: \
             more threads only wait their turn"
        ))
    }
}

#[derive(Debug, Args)]
pub struct RecommendArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct CanarySizeArgs {
    /// Error rate of the healthy (baseline) version, e.g. 0.01.
    #[arg(long)]
    pub baseline_error: f64,
    /// Error rate of a bad canary that must be detected, e.g. 0.02.
    #[arg(long)]
    pub detect_error: f64,
    /// Total requests per second, split between canary and baseline.
    #[arg(long)]
    pub rps: f64,
    /// Percentage of requests on the canary, in (0, 100): 5 is a 5% canary,
    /// as a canary step's `weight` in a scenario.
    #[arg(long)]
    pub weight: f64,
    /// Confidence of the two-sided test (1 − alpha).
    #[arg(long, default_value_t = 0.95)]
    pub confidence: f64,
    /// Probability of detecting the worse canary.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Folder for summary.csv, replications.csv, monthly.csv, the plots and report.html.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Write only the CSV files: no plots and no report.html.
    #[arg(long)]
    pub no_plots: bool,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Scenario file (TOML); the embedded default scenario when omitted.
    pub scenario: Option<PathBuf>,
    /// Name of the strategy to trace, as in the scenario's [[strategies]].
    #[arg(long)]
    pub strategy: String,
    /// Seed of every random stream (the same as `compare --seed`).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Replication to trace (with --defect or --healthy: the first such at or after it).
    #[arg(long, default_value_t = 0)]
    pub replication: u64,
    /// Trace the first replication whose release is defective.
    #[arg(long, conflicts_with = "healthy")]
    pub defect: bool,
    /// Trace the first replication whose release is healthy.
    #[arg(long)]
    pub healthy: bool,
    /// Print CSV rows (time_s,event,old_ready,new_ready,share_new) instead of the narration.
    #[arg(long)]
    pub csv: bool,
}
