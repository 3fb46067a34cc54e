//! The comparison table printed in the terminal: one row per strategy, means
//! with their 95% confidence interval, and the tails that matter.

use crate::experiment::Results;
use crate::monthly::MonthlyRow;
use crate::outcome::Metric;
use crate::stats::Summary;

/// Column headings and what each means (printed under the table by `--explain`
/// and in the README).
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
        Some(s) => format!("{} ±{}", human(s.mean), human(s.ci95_high - s.mean)),
        None => "-".into(),
    }
}

/// A number people read at a glance: 3 significant digits, thousands separated.
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 1000.0 {
        let rounded = v.round() as i64;
        let digits = rounded.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if rounded < 0 { format!("-{out}") } else { out }
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else if a == 0.0 {
        "0".into()
    } else {
        format!("{v:.3}")
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
                    .map(|s| human(s.p95))
                    .unwrap_or("-".into()),
                mean(&s(Metric::UsersAffected)),
                mean(&s(Metric::TimeToDetect)),
                mean(&s(Metric::RollbackTime)),
                s(Metric::RollbackTime)
                    .map(|s| human(s.p95))
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
                dollars(r.monthly_infra_usd),
                dollars(r.monthly_incident_cost_usd),
                dollars(r.monthly_incident_cost_p95_usd),
                dollars(r.expected_total_monthly_usd),
                r.rollback_time_s_mean.map_or("-".into(), human),
                count(r.monthly_failed_requests),
            ]
        })
        .collect()
}

/// Money in a table: dollars and cents with thousands separators, so the
/// few cents a strategy adds to a month's infrastructure still show.
pub fn dollars(usd: f64) -> String {
    if !usd.is_finite() {
        return "-".into();
    }
    let cents = (usd.abs() * 100.0).round() as u64;
    let digits = (cents / 100).to_string();
    let mut whole = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            whole.push(',');
        }
        whole.push(c);
    }
    let sign = if usd < 0.0 && cents > 0 { "-" } else { "" };
    format!("{sign}{whole}.{:02}", cents % 100)
}

/// A mean count (requests a month): whole numbers from 10 up, with thousands
/// separators; one decimal below, where the fraction still says something.
pub fn count(v: f64) -> String {
    if v.abs() >= 1000.0 {
        human(v)
    } else if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{v:.1}")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollars_keep_cents_and_group_thousands() {
        assert_eq!(dollars(700.977), "700.98");
        assert_eq!(dollars(1234567.891), "1,234,567.89");
        assert_eq!(dollars(0.004), "0.00");
        assert_eq!(dollars(-12.5), "-12.50");
    }

    #[test]
    fn counts_are_whole_from_ten_up() {
        assert_eq!(count(80.0), "80");
        assert_eq!(count(12_345.6), "12,346");
        assert_eq!(count(2.54), "2.5");
        assert_eq!(count(0.0), "0");
    }
}
