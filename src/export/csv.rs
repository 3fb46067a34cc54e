//! Tidy CSV: summary.csv (one row per strategy and metric),
//! replications.csv (one row per replication and strategy, metrics as columns)
//! monthly.csv (one row per strategy: the monthly view) and breakeven.csv
//! (where each money input would change the recommendation).
//! Units are in the column names; a metric that does not apply is an empty cell.

use super::{Exporter, OutputFile, Report};
use crate::error::{Error, Result};
use crate::experiment::Results;
use crate::format::exact_number;
use crate::monthly::MonthlyRow;
use crate::recommend::Decision;

/// summary.csv: one row per strategy and metric.
pub struct SummaryCsv;

/// replications.csv: one row per replication and strategy.
pub struct ReplicationsCsv;

/// monthly.csv (one row per strategy) and breakeven.csv (what would change
/// the recommendation).
pub struct MonthlyCsv;

impl Exporter for SummaryCsv {
    fn export(&self, report: &Report) -> Result<Vec<OutputFile>> {
        one_file("summary.csv", summary(&report.results)?)
    }
}

impl Exporter for ReplicationsCsv {
    fn export(&self, report: &Report) -> Result<Vec<OutputFile>> {
        one_file("replications.csv", replications(&report.results)?)
    }
}

impl Exporter for MonthlyCsv {
    fn export(&self, report: &Report) -> Result<Vec<OutputFile>> {
        Ok(vec![
            OutputFile {
                name: "monthly.csv".into(),
                bytes: monthly(&report.monthly, &report.decision)?,
            },
            OutputFile {
                name: "breakeven.csv".into(),
                bytes: breakeven(&report.decision)?,
            },
        ])
    }
}

fn one_file(name: &str, bytes: Vec<u8>) -> Result<Vec<OutputFile>> {
    Ok(vec![OutputFile {
        name: name.to_string(),
        bytes,
    }])
}

pub const SUMMARY_HEADER: [&str; 12] = [
    "strategy",
    "metric",
    "n",
    "mean",
    "std",
    "p50",
    "p95",
    "p99",
    "min",
    "max",
    "ci95_low",
    "ci95_high",
];

fn csv_error(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("csv: {e}"))
}

pub fn summary(results: &Results) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(SUMMARY_HEADER).map_err(csv_error)?;
    for (i, name) in results.strategy_names.iter().enumerate() {
        for &m in &results.metrics {
            let row = match results.summary(i, m) {
                Some(s) => {
                    let nums = [
                        s.mean,
                        s.std,
                        s.p50,
                        s.p95,
                        s.p99,
                        s.min,
                        s.max,
                        s.ci95_low,
                        s.ci95_high,
                    ];
                    let mut row = vec![name.clone(), m.name().to_string(), s.n.to_string()];
                    row.extend(nums.iter().map(|&v| exact_number(v)));
                    row
                }
                None => {
                    let mut row = vec![name.clone(), m.name().to_string(), "0".to_string()];
                    row.extend(std::iter::repeat_n(String::new(), 9));
                    row
                }
            };
            w.write_record(&row).map_err(csv_error)?;
        }
    }
    w.into_inner().map_err(csv_error)
}

pub fn replications(results: &Results) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header = vec!["replication", "strategy", "outcome", "defective"];
    header.extend(results.metrics.iter().map(|m| m.name()));
    w.write_record(&header).map_err(csv_error)?;
    for (r, row) in results.outcomes.iter().enumerate() {
        for (i, o) in row.iter().enumerate() {
            let mut rec = vec![
                r.to_string(),
                results.strategy_names[i].clone(),
                o.kind.to_string(),
                o.defective.to_string(),
            ];
            rec.extend(
                results
                    .metrics
                    .iter()
                    .map(|&m| o.get(m).map(exact_number).unwrap_or_default()),
            );
            w.write_record(&rec).map_err(csv_error)?;
        }
    }
    w.into_inner().map_err(csv_error)
}

/// Header of monthly.csv: one row per strategy, units in the names.
pub const MONTHLY_HEADER: [&str; 15] = [
    "strategy",
    "monthly_infra_usd",
    "monthly_incident_cost_usd",
    "monthly_false_rollback_usd",
    "monthly_delay_usd",
    "monthly_operations_usd",
    "monthly_schema_work_usd",
    "expected_total_monthly_usd",
    "monthly_incident_cost_p95_usd",
    "monthly_failed_requests",
    "monthly_downtime_s",
    "deploys_per_month",
    "lead_time_s_mean",
    "healthy_promoted_share",
    "ships",
];

/// monthly.csv: the monthly view of every strategy (see `crate::monthly`);
/// `ships` is 1 unless the strategy promotes fewer healthy releases than
/// `cost.min_healthy_promoted_share`.
pub fn monthly(rows: &[MonthlyRow], decision: &Decision) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(MONTHLY_HEADER).map_err(csv_error)?;
    for r in rows {
        let nums = [
            r.monthly_infra_usd,
            r.monthly_incident_cost_usd,
            r.monthly_false_rollback_usd,
            r.monthly_delay_usd,
            r.monthly_operations_usd,
            r.monthly_schema_work_usd,
            r.expected_total_monthly_usd,
            r.monthly_incident_cost_p95_usd,
            r.monthly_failed_requests,
            r.monthly_downtime_s,
            r.deploys_per_month,
            r.lead_time_s_mean,
        ];
        let mut rec = vec![r.strategy.clone()];
        rec.extend(nums.iter().map(|&v| exact_number(v)));
        rec.push(r.healthy_promoted_share.map_or(String::new(), exact_number));
        let ships = !decision
            .excluded
            .iter()
            .any(|(x, _)| x.strategy == r.strategy);
        rec.push(if ships { "1" } else { "0" }.into());
        w.write_record(&rec).map_err(csv_error)?;
    }
    w.into_inner().map_err(csv_error)
}

/// A number written so it reads back as the same f64 (the shortest text
/// that round-trips), so a break-even substituted into a scenario is the
/// break-even itself.
fn full_precision(v: f64) -> String {
    format!("{v}")
}

/// Header of breakeven.csv: one row per input and direction.
pub const BREAKEVEN_HEADER: [&str; 7] = [
    "input",
    "unit",
    "current_value",
    "winner",
    "direction",
    "breakeven_value",
    "winner_beyond",
];

/// breakeven.csv: for each money input (and the change failure rate), going
/// below and above the scenario's value, where the cheapest strategy changes
/// and to which; empty cells where it does not change in that direction.
pub fn breakeven(decision: &Decision) -> Result<Vec<u8>> {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(BREAKEVEN_HEADER).map_err(csv_error)?;
    let names = &decision.names;
    for b in &decision.break_evens {
        for (direction, crossing) in [("below", &b.below), ("above", &b.above)] {
            let (value, next) = crossing
                .as_ref()
                .map_or((String::new(), String::new()), |c| {
                    (full_precision(c.value), names[c.next].clone())
                });
            w.write_record([
                b.input.key(names),
                b.input.unit().to_string(),
                full_precision(b.current),
                names[b.winner].clone(),
                direction.to_string(),
                value,
                next,
            ])
            .map_err(csv_error)?;
        }
    }
    w.into_inner().map_err(csv_error)
}
