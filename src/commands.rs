//! What each subcommand does, from parsed flags to printed and written results.

use crate::cli::CompareArgs;
use crate::error::Result;
use crate::experiment::{self, Settings};
use crate::export;
use crate::scenario::Scenario;

pub fn compare(args: &CompareArgs) -> Result<String> {
    let scenario = Scenario::load(args.scenario.as_deref())?;
    let settings = Settings {
        replications: args.replications,
        seed: args.seed,
        threads: args.threads,
    };
    let results = experiment::run(&scenario, settings)?;
    let summary = export::csv::summary(&results)?;
    let replications = export::csv::replications(&results)?;
    export::write_file(&args.out.join("summary.csv"), &summary)?;
    export::write_file(&args.out.join("replications.csv"), &replications)?;
    let defective = results
        .outcomes
        .iter()
        .filter(|row| row.first().is_some_and(|o| o.defective))
        .count();
    Ok(format!(
        "scenario: {} — {} releases per strategy ({} defective), seed {}\n\n{}\nwrote {} and {}\n",
        scenario.name,
        args.replications,
        defective,
        args.seed,
        export::table::render(&results),
        args.out.join("summary.csv").display(),
        args.out.join("replications.csv").display(),
    ))
}
