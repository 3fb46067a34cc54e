//! Exporters: one module per format, all fed by the same [`Results`].

pub mod csv;
pub mod plots;
pub mod report;
pub mod table;

use crate::error::{Error, Result};
use crate::experiment::Results;
use crate::outcome::{Kind, Metric, Outcome};
use crate::release::Release;
use crate::scenario::Scenario;
use crate::simulation::Simulation;
use plots::{PlotError, PlotFormat, PlotInput, StrategySeries};
use report::ReportTable;
use std::path::{Path, PathBuf};

/// A fresh folder name under the system temp dir for one unit test.
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("cutover-{tag}-{}-{nanos}", std::process::id()))
}

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Output {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| Error::Output {
        path: path.to_path_buf(),
        source,
    })
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

/// What the plots need, from the results (and, for the timelines, one
/// replication re-run with a trace under every strategy).
pub fn plot_input(scenario: &Scenario, results: &Results) -> PlotInput {
    let column = |i: usize, m: Metric| -> Vec<Option<f64>> {
        results.outcomes.iter().map(|row| row[i].get(m)).collect()
    };
    // The blast radius of a bad release: healthy releases (0 by definition)
    // would flatten every box to zero, so they are left out of those plots.
    let blast = |i: usize, m: Metric| -> Vec<Option<f64>> {
        results
            .outcomes
            .iter()
            .map(|row| row[i].get(m).filter(|_| row[i].defective))
            .collect()
    };
    let series = results
        .strategy_names
        .iter()
        .enumerate()
        .map(|(i, name)| StrategySeries {
            name: name.clone(),
            failed_requests: blast(i, Metric::FailedRequests),
            users_affected: blast(i, Metric::UsersAffected),
            rollback_time_s: column(i, Metric::RollbackTime),
            infra_cost_usd_mean: results
                .summary(i, Metric::InfraCost)
                .map_or(f64::NAN, |s| s.mean),
            failed_requests_p95: results
                .summary(i, Metric::FailedRequests)
                .map_or(f64::NAN, |s| s.p95),
        })
        .collect();
    let seed = results.settings.seed;
    let timelines = timeline_replication(results)
        .map(|r| {
            let release = Release::draw(scenario, seed, r);
            scenario
                .strategies
                .iter()
                .map(|spec| {
                    let mut sim = Simulation::new(scenario, spec, &release, seed, r).with_trace();
                    sim.run();
                    crate::trace::timeline(&spec.name, sim.trace())
                })
                .collect()
        })
        .unwrap_or_default();
    PlotInput {
        scenario_name: scenario.name.clone(),
        series,
        timelines,
    }
}

/// The comparison table as the report shows it: the terminal table's rows
/// with every column's note.
pub fn report_table(results: &Results) -> ReportTable {
    ReportTable {
        columns: table::COLUMNS.iter().map(|(h, _)| h.to_string()).collect(),
        rows: table::rows(results),
        notes: table::COLUMNS
            .iter()
            .map(|(_, n)| {
                if n.starts_with("mean") {
                    format!("{n}; ± the half-width of its 95% confidence interval")
                } else {
                    n.to_string()
                }
            })
            .collect(),
    }
}

/// The monthly view for the report, with a note per column.
pub fn monthly_report_table(rows: &[crate::monthly::MonthlyRow]) -> ReportTable {
    ReportTable {
        columns: table::MONTHLY_COLUMNS
            .iter()
            .map(|(h, _)| h.to_string())
            .collect(),
        rows: table::monthly_rows(rows),
        notes: table::MONTHLY_COLUMNS
            .iter()
            .map(|(_, n)| n.to_string())
            .collect(),
    }
}

fn plot_error(dir: &Path, e: PlotError) -> Error {
    match e {
        PlotError::Io(message) => Error::Output {
            path: dir.to_path_buf(),
            source: std::io::Error::other(message),
        },
        other => Error::Internal(other.to_string()),
    }
}

/// Writes the four plots (PNG and SVG) into `dir` and `dir/report.html`;
/// returns every written path, the report last.
pub fn write_plots_and_report(
    dir: &Path,
    scenario: &Scenario,
    results: &Results,
    monthly: &[crate::monthly::MonthlyRow],
) -> Result<Vec<PathBuf>> {
    let input = plot_input(scenario, results);
    let mut written = plots::write_plots(dir, &input, &[PlotFormat::Png, PlotFormat::Svg])
        .map_err(|e| plot_error(dir, e))?;
    let pngs: Vec<PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .cloned()
        .collect();
    let title = format!(
        "cutover: {} — {} releases per strategy, seed {}",
        scenario.name, results.settings.replications, results.settings.seed
    );
    let path = dir.join("report.html");
    let monthly = monthly_report_table(monthly);
    report::write_report(
        &path,
        &title,
        &[("Summary", &report_table(results)), ("Per month", &monthly)],
        &pngs,
        &scenario.source_toml,
    )
    .map_err(|source| Error::Output {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::Settings;

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
            outcomes,
            settings: Settings {
                replications: rows.len() as u64,
                seed: 1,
                threads: 1,
            },
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
}
