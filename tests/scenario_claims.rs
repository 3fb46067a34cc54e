//! The lessons the scenario library teaches hold in the numbers: each claim is
//! checked with the 95% confidence intervals of the two strategies apart.

mod common;

use common::{index, run};
use cutover::experiment::Results;
use cutover::outcome::Metric;

/// The 95% CI of `a`'s mean lies entirely above `b`'s.
fn clearly_above(results: &Results, a: &str, b: &str, metric: Metric) -> (f64, f64) {
    let sa = results.summary(index(results, a), metric).unwrap();
    let sb = results.summary(index(results, b), metric).unwrap();
    assert!(
        sa.ci95_low > sb.ci95_high,
        "{a} {} [{:.3}, {:.3}] is not above {b} [{:.3}, {:.3}]",
        metric.name(),
        sa.ci95_low,
        sa.ci95_high,
        sb.ci95_low,
        sb.ci95_high
    );
    (sa.mean, sb.mean)
}

#[test]
fn regulated_blue_green_catches_more_defects_before_users_than_canary() {
    let r = run("scenarios/regulated.toml", 3000);
    clearly_above(&r, "blue-green", "canary", Metric::CaughtBeforeUsers);
}

#[test]
fn high_traffic_canary_hurts_fewer_users_than_blue_green() {
    // Users, not requests: the mean of failed requests is dominated by the
    // rare defect no judge catches, which fails requests for hours until
    // people notice, under either strategy; its 95% intervals overlap.
    let r = run("scenarios/high-traffic.toml", 3000);
    clearly_above(&r, "blue-green", "canary", Metric::UsersAffected);
}

#[test]
fn drift_erodes_blue_greens_advantage() {
    let regulated = run("scenarios/regulated.toml", 3000);
    let drift = run("scenarios/drift.toml", 3000);
    let bg = |r: &Results| {
        r.summary(index(r, "blue-green"), Metric::CaughtBeforeUsers)
            .unwrap()
    };
    let (low_drift, high_drift) = (bg(&regulated), bg(&drift));
    assert!(
        low_drift.ci95_low > high_drift.ci95_high,
        "caught_before_users with little drift {:.3} should exceed high drift {:.3}",
        low_drift.mean,
        high_drift.mean
    );
}
