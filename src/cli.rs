//! The command line: clap derive, one subcommand per job.

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
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Scenario file (TOML); the embedded default scenario when omitted.
    pub scenario: Option<PathBuf>,
    /// Releases to simulate per strategy.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub replications: u64,
    /// Seed of every random stream; the same seed gives the same output.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Worker threads (0: one per core). Output does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Folder for summary.csv and replications.csv.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
}
