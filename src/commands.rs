//! What each subcommand does, from parsed flags to printed and written results.

use crate::cli::{CompareArgs, RecommendArgs, RunArgs, TraceArgs};
use crate::error::{Error, Result};
use crate::experiment::{self, Results, Settings};
use crate::export::csv::{MonthlyCsv, ReplicationsCsv, SummaryCsv};
use crate::export::html::HtmlReport;
use crate::export::plots::{PlotFormat, Plots};
use crate::export::{Exporter, Report, table};
use crate::format;
use crate::monthly;
use crate::outcome::Metric;
use crate::output::OutputSet;
use crate::recommend;
use crate::release::Release;
use crate::scenario::{DuplicateMode, Scenario};
use crate::simulation::Simulation;
use crate::trace;

/// Loads the scenario and runs the experiment the flags ask for; with
/// `timeline`, also records the traces the timeline plot draws.
fn run_experiment(run: &RunArgs, timeline: bool) -> Result<(Scenario, Results)> {
    let scenario = Scenario::load(run.scenario.as_deref())?;
    let settings = Settings {
        replications: run.replications,
        seed: run.seed,
        threads: run.threads,
    };
    let results = if timeline {
        experiment::run_with_timeline(&scenario, settings)?
    } else {
        experiment::run(&scenario, settings)?
    };
    Ok((scenario, results))
}

/// `cutover compare`: run the experiment, write every file of the report
/// into `--out`, and print the tables and what was written.
pub fn compare(args: &CompareArgs) -> Result<String> {
    // Checks --out before simulating; files are staged until all are written.
    let mut output = OutputSet::begin(&args.out)?;
    let plots = !args.no_plots;
    let (scenario, results) = run_experiment(&args.run, plots)?;
    let report = Report::new(&scenario, results);
    let mut exporters: Vec<&dyn Exporter> = vec![&SummaryCsv, &ReplicationsCsv, &MonthlyCsv];
    if plots {
        exporters.extend([
            &Plots(PlotFormat::Png) as &dyn Exporter,
            &Plots(PlotFormat::Svg),
            &HtmlReport,
        ]);
    }
    for exporter in exporters {
        for file in exporter.export(&report)? {
            output.add(&file.name, &file.bytes)?;
        }
    }
    let written = output.commit()?;
    Ok(compare_text(args, &scenario, &report, &written))
}

/// What `compare` prints: the heading, the comparison table, the monthly
/// view, the files written and which replication the timeline plot shows.
fn compare_text(
    args: &CompareArgs,
    scenario: &Scenario,
    report: &Report,
    written: &[std::path::PathBuf],
) -> String {
    let run = &args.run;
    let results = &report.results;
    let defective = results
        .outcomes
        .iter()
        .filter(|row| row.first().is_some_and(|o| o.defective))
        .count();
    let timeline = match &results.timeline {
        Some(t) => format!(
            "timeline.png shows replication {r}; narrate it with \
             `cutover trace {}--strategy NAME --seed {} --replication {r}`\n",
            run.scenario
                .as_ref()
                .map(|p| format!("{} ", p.display()))
                .unwrap_or_default(),
            run.seed,
            r = t.replication,
        ),
        None => String::new(),
    };
    let files = written
        .iter()
        .map(|p| format!("  {}\n", p.display()))
        .collect::<String>();
    format!(
        "scenario: {} — {} releases per strategy ({} defective), seed {}\n\n{}\n{}\n{}\nwrote\n{}{}",
        report.scenario_name,
        run.replications,
        defective,
        run.seed,
        table::render(results),
        month_heading(scenario),
        table::monthly(&report.monthly),
        files,
        timeline,
    )
}

/// The line above the monthly table: what a month holds and how a second
/// environment is paid for.
fn month_heading(scenario: &Scenario) -> String {
    let mode = match scenario.infra.duplicate_mode {
        DuplicateMode::OnDemand => "on-demand (a second environment is paid only while it exists)",
        DuplicateMode::Permanent => "permanent (a standing second environment is paid all month)",
    };
    format!(
        "per month: {} deploys; duplicate_mode {mode}",
        format::exact_number(scenario.cost.deploys_per_month)
    )
}

/// `cutover recommend`: run the experiment, leave out the strategies that do
/// not ship, rank the rest by expected total monthly cost, say why the first
/// one wins and what would change the answer.
pub fn recommend(args: &RecommendArgs) -> Result<String> {
    let (scenario, results) = run_experiment(&args.run, false)?;
    let decision = recommend::decide(&scenario, &monthly::rows(&scenario, &results));
    let heading = format!(
        "scenario: {} — {} releases per strategy, seed {}\n{}\n\n{}",
        scenario.name,
        args.run.replications,
        args.run.seed,
        month_heading(&scenario),
        table::monthly(&decision.ranked),
    );
    let indent = |lines: Vec<String>| lines.iter().map(|l| format!("  {l}\n")).collect::<String>();
    let excluded = indent(decision.not_recommended());
    let Some(winner) = decision.winner() else {
        return Ok(format!(
            "no recommendation: no strategy ships\n\n{heading}\nnot recommended:\n{excluded}"
        ));
    };
    let mut out = format!(
        "recommended: {}\n\n{heading}\nwhy:\n{}",
        winner.strategy,
        indent(recommend::rationale(&decision.ranked)),
    );
    if !excluded.is_empty() {
        out.push_str(&format!("\nnot recommended:\n{excluded}"));
    }
    let sentences = decision.break_even_sentences();
    if !sentences.is_empty() {
        out.push_str(&format!(
            "\nwhat would change the answer (each input alone; compare writes them to breakeven.csv):\n{}",
            indent(sentences)
        ));
    }
    Ok(out)
}

/// `cutover trace`: one replication of one strategy, narrated (or as CSV).
pub fn trace(args: &TraceArgs) -> Result<String> {
    let scenario = Scenario::load(args.scenario.as_deref())?;
    let spec = scenario.strategy(&args.strategy).ok_or_else(|| {
        let names: Vec<&str> = scenario
            .strategies
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        Error::Usage(format!(
            "unknown strategy `{}`; scenario `{}` has: {}",
            args.strategy,
            scenario.name,
            names.join(", ")
        ))
    })?;
    let (replication, release) = if args.defect || args.healthy {
        trace::find_release(&scenario, args.seed, args.replication, args.defect)?
    } else {
        let r = args.replication;
        (r, Release::draw(&scenario, args.seed, r))
    };
    let mut sim = Simulation::new(&scenario, spec, &release, args.seed, replication).with_trace();
    let outcome = sim.run()?;
    let events = sim.trace();
    if args.csv {
        return trace::csv(events);
    }
    let strategy = if spec.name == spec.config.kind() {
        spec.name.clone()
    } else {
        format!("{} (kind {})", spec.name, spec.config.kind())
    };
    let mut out = format!(
        "scenario: {} — strategy {}, seed {}, replication {}\n\
         release: {}\n\n",
        scenario.name,
        strategy,
        args.seed,
        replication,
        trace::describe_release(&release),
    );
    out.push_str(&trace::narrate(events));
    let metric = |m: Metric, unit: &str| match outcome.get(m) {
        Some(v) if unit == "$" => format!("${}", format::rounded_number(v)),
        Some(v) => format!("{}{unit}", format::rounded_number(v)),
        None => "-".into(),
    };
    out.push_str(&format!(
        "\noutcome: {} — failed requests {}, users affected {}, time to detect {}, \
         rollback time {}, infra cost {}\n",
        outcome.kind,
        metric(Metric::FailedRequests, ""),
        metric(Metric::UsersAffected, ""),
        metric(Metric::TimeToDetect, " s"),
        metric(Metric::RollbackTime, " s"),
        metric(Metric::InfraCost, "$"),
    ));
    Ok(out)
}
