//! The comparison table printed in the terminal: one row per strategy, means
//! with their 95% confidence interval, and the tails that matter.

use crate::experiment::Results;
use crate::format::{count, dollars_and_cents, rounded_number};
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
/// main table), with what each means.
pub const MONTHLY_COLUMNS: &[(&str, &str)] = &[
    ("strategy", "the strategy's name in the scenario"),
    (
        "infra $/month",
        "monthly_infra_usd: every instance all month, plus deploys × mean extra_cost_usd (or a standing second environment)",
    ),
    (
        "incident $/month (expected)",
        "monthly_incident_cost_usd: deploys × mean incident_cost_usd",
    ),
    (
        "incident p95 $/month",
        "monthly_incident_cost_p95_usd: a bad month, the 95th percentile of resampled months",
    ),
    (
        "total $/month",
        "expected_total_monthly_usd: infrastructure plus expected incident cost",
    ),
    (
        "rollback s mean",
        "mean rollback_time_s over releases that were rolled back",
    ),
    (
        "failed req/month",
        "monthly_failed_requests: deploys × mean failed_requests",
    ),
];

/// The monthly view, one row per strategy in the order given.
pub fn monthly(rows: &[MonthlyRow]) -> String {
    let header: Vec<String> = MONTHLY_COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    aligned(&header, &monthly_rows(rows))
}

/// The monthly view's cells, one row per strategy.
pub fn monthly_rows(rows: &[MonthlyRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            vec![
                r.strategy.clone(),
                dollars_and_cents(r.monthly_infra_usd),
                dollars_and_cents(r.monthly_incident_cost_usd),
                dollars_and_cents(r.monthly_incident_cost_p95_usd),
                dollars_and_cents(r.expected_total_monthly_usd),
                r.rollback_time_s_mean.map_or("-".into(), rounded_number),
                count(r.monthly_failed_requests),
            ]
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
