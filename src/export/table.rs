//! The comparison table printed in the terminal: one row per strategy, means
//! with their 95% confidence interval, and the tails that matter.

use crate::experiment::Results;
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
        "failed req (95% CI)",
        "mean failed_requests per release (healthy releases count 0), with its 95% confidence interval",
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
    (
        "cost $ (95% CI)",
        "mean infra_cost_usd of the deployment window, with its 95% confidence interval",
    ),
];

fn mean(s: &Option<Summary>) -> String {
    s.as_ref()
        .map(|s| human(s.mean))
        .unwrap_or_else(|| "-".into())
}

fn with_ci(s: &Option<Summary>) -> String {
    match s {
        Some(s) => format!(
            "{} ({}–{})",
            human(s.mean),
            human(s.ci95_low.max(0.0)),
            human(s.ci95_high)
        ),
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
                with_ci(&s(Metric::FailedRequests)),
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
                with_ci(&s(Metric::InfraCost)),
            ]
        })
        .collect()
}

/// Renders the table with aligned columns.
pub fn render(results: &Results) -> String {
    let header: Vec<String> = COLUMNS.iter().map(|(h, _)| h.to_string()).collect();
    let body = rows(results);
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
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
    let mut out = line(&header);
    out.push('\n');
    out.push_str(
        &widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  "),
    );
    out.push('\n');
    for row in &body {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}
