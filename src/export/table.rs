//! The comparison table printed in the terminal: one row per strategy, means
//! with their 95% confidence interval, and the tails that matter.

use crate::experiment::Results;
use crate::format::{count, dollars_and_cents, percent, rounded_number};
use crate::monthly::MonthlyRow;
use crate::outcome::Metric;
use crate::stats::Summary;

/// Column headings and what each means: report.html prints the meanings as
/// notes under its copy of the table, and the README's column table says the same.
pub const COLUMNS: &[(&str, &str)] = &[
    ("strategy", "the strategy's name in the scenario"),
    (
        "deploy s",
        "mean deploy_duration_s: start to promotion or rollback complete",
    ),
    (
        "failed req",
        "mean failed_requests per release (healthy releases count 0)",
    ),
    (
        "failed p95",
        "95th percentile of failed_requests over all releases",
    ),
    ("users hit", "mean users_affected per release"),
    (
        "detect s",
        "mean time_to_detect_s over defective releases that were exposed and caught",
    ),
    (
        "rollback s",
        "mean rollback_time_s over releases that were rolled back",
    ),
    ("rollback p95", "95th percentile of rollback_time_s"),
    ("inst-h", "mean instance_hours of the deployment window"),
    ("cost $", "mean infra_cost_usd of the deployment window"),
];

/// What the table says under itself about its ± figures.
pub const CI_NOTE: &str =
    "means ± the half-width of their 95% confidence interval (Student t over the replications)";

/// A mean with the half-width of its 95% confidence interval: "3,142 ±652".
fn mean(s: &Option<Summary>) -> String {
    match s {
        Some(s) => format!(
            "{} ±{}",
            rounded_number(s.mean),
            rounded_number(s.ci95_high - s.mean)
        ),
        None => "-".into(),
    }
}

pub fn rows(results: &Results) -> Vec<Vec<String>> {
    results
        .strategy_names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let s = |m| results.summary(i, m);
            vec![
                name.clone(),
                mean(&s(Metric::DeployDuration)),
                mean(&s(Metric::FailedRequests)),
                s(Metric::FailedRequests)
                    .map(|s| rounded_number(s.p95))
                    .unwrap_or("-".into()),
                mean(&s(Metric::UsersAffected)),
                mean(&s(Metric::TimeToDetect)),
                mean(&s(Metric::RollbackTime)),
                s(Metric::RollbackTime)
                    .map(|s| rounded_number(s.p95))
                    .unwrap_or("-".into()),
                mean(&s(Metric::InstanceHours)),
                mean(&s(Metric::InfraCost)),
            ]
        })
        .collect()
}

/// Renders the table with aligned columns.
pub fn render(results: &Results) -> String {
    let header: Vec<String> = COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    format!("{}{CI_NOTE}\n", aligned(&header, &rows(results)))
}

/// Columns of the monthly table (`cutover recommend`, and `compare` under its
/// main table), with what each means. The money columns before the total add
/// up to it.
pub const MONTHLY_COLUMNS: &[(&str, &str)] = &[
    ("strategy", "the strategy's name in the scenario"),
    (
        "infra $/mo",
        "monthly_infra_usd: every instance all month, plus deploys × the expected extra_instance_hours × infra.price_usd_per_hour (or a standing second environment)",
    ),
    (
        "incidents $/mo",
        "monthly_incident_cost_usd: deploys × the expected incident_cost_usd (downtime by the minute, other failures by the request)",
    ),
    (
        "false rollbacks $/mo",
        "monthly_false_rollback_usd: deploys × the share of releases that were healthy and rolled back × cost.false_rollback_usd",
    ),
    (
        "lead time $/mo",
        "monthly_delay_usd: deploys × the expected lead_time_s in hours × cost.delay_usd_per_hour",
    ),
    (
        "operations $/mo",
        "monthly_operations_usd: the strategy's operations_usd_per_month (its kind's default unless it sets one)",
    ),
    (
        "schema work $/mo",
        "monthly_schema_work_usd: expand/contract schema changes a month × cost.expand_contract_usd_per_change",
    ),
    (
        "total $/mo",
        "expected_total_monthly_usd: the sum of the six money columns before it",
    ),
    (
        "incidents p95 $/mo",
        "monthly_incident_cost_p95_usd: a bad month, the 95th percentile of resampled months",
    ),
    (
        "healthy promoted",
        "healthy_promoted_share: share of healthy releases promoted (below cost.min_healthy_promoted_share the strategy does not ship)",
    ),
    (
        "rollback s mean",
        "mean rollback_time_s over releases that were rolled back",
    ),
    (
        "failed req/mo",
        "monthly_failed_requests: deploys × the expected failed_requests",
    ),
];

/// The monthly view, one row per strategy in the order given.
pub fn monthly(rows: &[MonthlyRow]) -> String {
    let header: Vec<String> = monthly_columns(rows)
        .iter()
        .map(|(h, _)| h.to_string())
        .collect();
    aligned(&header, &monthly_rows(rows))
}

/// Index of the schema-work column, shown only where some strategy pays it.
const SCHEMA_WORK_COLUMN: usize = 6;

fn shows_schema_work(rows: &[MonthlyRow]) -> bool {
    rows.iter().any(|r| r.monthly_schema_work_usd != 0.0)
}

/// The monthly columns these rows show, with their meanings.
pub fn monthly_columns(rows: &[MonthlyRow]) -> Vec<(&'static str, &'static str)> {
    let schema = shows_schema_work(rows);
    MONTHLY_COLUMNS
        .iter()
        .enumerate()
        .filter(|(k, _)| schema || *k != SCHEMA_WORK_COLUMN)
        .map(|(_, c)| *c)
        .collect()
}

/// The monthly view's cells, one row per strategy.
pub fn monthly_rows(rows: &[MonthlyRow]) -> Vec<Vec<String>> {
    let schema = shows_schema_work(rows);
    rows.iter()
        .map(|r| {
            let mut cells = vec![
                r.strategy.clone(),
                dollars_and_cents(r.monthly_infra_usd),
                dollars_and_cents(r.monthly_incident_cost_usd),
                dollars_and_cents(r.monthly_false_rollback_usd),
                dollars_and_cents(r.monthly_delay_usd),
                dollars_and_cents(r.monthly_operations_usd),
                dollars_and_cents(r.monthly_schema_work_usd),
                dollars_and_cents(r.expected_total_monthly_usd),
                dollars_and_cents(r.monthly_incident_cost_p95_usd),
                r.healthy_promoted_share.map_or("-".into(), percent),
                r.rollback_time_s_mean.map_or("-".into(), rounded_number),
                count(r.monthly_failed_requests),
            ];
            if !schema {
                cells.remove(SCHEMA_WORK_COLUMN);
            }
            cells
        })
        .collect()
}

/// Aligns a header and rows into columns: the first left-aligned, numbers right-aligned.
fn aligned(header: &[String], body: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                let pad = w - c.chars().count();
                if i == 0 {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut out = line(header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for row in body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}
