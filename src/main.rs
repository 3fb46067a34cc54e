//! Thin: parse the command line, call the library, map errors to exit codes
//! (0 success, 2 bad input, 1 internal failure).

use clap::Parser;
use cutover::cli::{Cli, Command};
use cutover::commands;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Compare(args) => commands::compare(args),
        Command::Trace(args) => commands::trace(args),
        Command::Recommend(args) => commands::recommend(args),
        Command::CanarySize(a) => cutover::sizing_check::report(
            a.baseline_error,
            a.detect_error,
            a.rps,
            a.weight,
            a.confidence,
            a.power,
        ),
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
