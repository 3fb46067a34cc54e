//! How removed instances leave, against figures worked out by hand.
//!
//! * A load balancer completes a target's deregistration at once when it has
//!   no in-flight requests and no active connections (AWS ELB docs,
//!   "Deregistration delay"): blue is paid for its drain of in-flight
//!   requests, not the 300 s delay, and long-lived connections hold it until
//!   they have closed or the delay cuts them.
//! * Kubernetes removes a terminating pod from its Service's endpoints while
//!   it already has SIGTERM (Kubernetes docs, "Termination of Pods"): the
//!   requests clients still send it during the endpoint propagation fail,
//!   unless a preStop sleep covers the propagation. Those requests are
//!   Poisson, so their mean is checked with a 99% confidence interval from
//!   the replications (mean ± t(0.995, n−1)·s/√n), as in tests/closed_form.rs.

mod common;

use common::{index, run_scenario};
use cutover::outcome::{Kind, Metric};
use cutover::scenario::Scenario;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

/// Ten instances of 200 rps for 1,000 rps, start-up exactly 30 s, no defect
/// and no healthy failures, no judge; `infra` and `strategies` complete it.
fn scenario(traffic: &str, infra: &str, strategies: &str) -> Scenario {
    let text = format!(
        r#"
name = "teardown"

[service]
instances = 10
capacity_rps_per_instance = 200

[traffic]
rate_rps = 1000
users = 100000
{traffic}

[release]
change_failure_rate = 0.0
baseline_error_rate = 0.0

[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2

[infra]
startup_s = 30
price_usd_per_hour = 0.096
{infra}

[monitoring]
enabled = false
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.01, consecutive = 2 }}
watch_after_promotion_s = 0
progress_deadline_s = 600

{strategies}
"#
    );
    Scenario::parse(&text, Path::new("teardown.toml")).expect("the test scenario is valid")
}

/// Instance-hours as the simulation sums them: whole milliseconds / 3.6e6.
fn hours(ms: u64) -> Option<f64> {
    Some(ms as f64 / 3_600_000.0)
}

const BLUE_GREEN_ALB: &str = r#"
[[strategies]]
name = "blue-green"
kind = "blue-green"
scale_down_delay_s = 30
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 300

[[strategies]]
name = "blue-green-short-delay"
kind = "blue-green"
scale_down_delay_s = 30
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 10
"#;

/// Green starts at 0 s and is ready at 30 s; the listener change reaches
/// every load balancer node at 35 s (the switch settles); blue is kept for
/// the 30 s scale-down delay, to 65 s, and deregistered. With no in-flight
/// request left after its 30 s drain and no connection, each blue target's
/// deregistration completes at 95 s, not at 65 + 300 = 365 s: blue is paid
/// 10 × 95 s, of which 10 × 30 s draining; green 10 × 95 s (the window ends
/// when blue is gone). A 10 s delay cuts the drain short: blue gone at 75 s.
#[test]
fn blue_is_paid_for_its_drain_of_in_flight_requests_not_the_deregistration_delay() {
    let results = run_scenario(&scenario("", "drain_s = 30", BLUE_GREEN_ALB), 20, 11);
    for (name, blue_s) in [("blue-green", 95), ("blue-green-short-delay", 75)] {
        let i = index(&results, name);
        for (r, row) in results.outcomes.iter().enumerate() {
            let o = &row[i];
            assert_eq!(o.kind, Kind::Promoted, "{name} replication {r}");
            assert_eq!(
                o.get(Metric::OldVersionHours),
                hours(10 * blue_s * 1000),
                "{name} replication {r}: blue's hours"
            );
            assert_eq!(
                o.get(Metric::DrainingHours),
                hours(10 * (blue_s - 65) * 1000),
                "{name} replication {r}: blue drains from 65 s until it is gone"
            );
            assert_eq!(
                o.get(Metric::InstanceHours),
                hours(2 * 10 * blue_s * 1000),
                "{name} replication {r}: blue and green for the window"
            );
            assert_eq!(o.get(Metric::ConnectionsCut), Some(0.0));
        }
    }
}

/// 1,000 long-lived connections carrying half the requests. They stay on
/// blue until 35 s (the switch), then close at rate 1/lifetime and reopen on
/// green; at the scale-down (65 s) blue holds 1000·e^(−30/lifetime) of them,
/// a tenth on each target, and none reopen there. The target is empty once
/// under half a connection is expected on it: lifetime · ln(2n).
/// * Lifetime 30 s: n = 100·e^(−1) = 36.79, closed after
///   30 · ln(200·e^(−1)) = 30 · (ln 200 − 1) = 128.950 s (before the 300 s
///   delay): blue gone at 193.950 s, nothing cut.
/// * Lifetime 30 min: closed only after 1800 · ln(200·e^(−1/60)) ≈ 9,507 s,
///   so the 300 s delay cuts them: blue gone at 365 s.
#[test]
fn connections_hold_a_target_until_they_close_or_the_delay_cuts_them() {
    let closed_ms = (30.0 * (200f64.ln() - 1.0) * 1000.0).round() as u64;
    assert_eq!(closed_ms, 128_950);
    for (lifetime_s, blue_ms, cut) in [(30.0, 65_000 + closed_ms, false), (1800.0, 365_000, true)] {
        let traffic = format!(
            "long_lived_share = 0.5\nlong_lived_connections = 1000\nconnection_lifetime_s = {lifetime_s:?}"
        );
        let strategies = r#"
[[strategies]]
name = "blue-green"
kind = "blue-green"
scale_down_delay_s = 30
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 300
"#;
        let results = run_scenario(&scenario(&traffic, "drain_s = 30", strategies), 10, 11);
        for (r, row) in results.outcomes.iter().enumerate() {
            let o = &row[0];
            assert_eq!(
                o.get(Metric::OldVersionHours),
                hours(10 * blue_ms),
                "lifetime {lifetime_s} s, replication {r}: blue's hours"
            );
            assert_eq!(
                o.get(Metric::DrainingHours),
                hours(10 * (blue_ms - 65_000)),
                "lifetime {lifetime_s} s, replication {r}: blue drains from 65 s"
            );
            let connections_cut = o.get(Metric::ConnectionsCut).unwrap();
            assert_eq!(
                connections_cut > 0.0,
                cut,
                "lifetime {lifetime_s} s, replication {r}: {connections_cut} connections cut"
            );
        }
    }
}

/// Rolling with maxSurge 0 and maxUnavailable 1 on n = 10 pods: each step
/// removes one old pod, then waits 30 s for its replacement, so k = 10 pods
/// are terminated at 0, 30, ..., 270 s. At each termination the Service
/// still lists the removed pod beside 9 ready ones for the propagation
/// p = 2 s, and spreads requests evenly over those 10 endpoints. Without a
/// preStop sleep the pod had SIGTERM at once and refuses its share:
/// dropped = k × (r / n) × p = 10 × (1000 / 10) × 2 = 2,000 a release
/// (Poisson). A 5 s sleep keeps it accepting until every client has dropped
/// it: exactly none. The sleep is paid for: old pod j lives 30·j s, plus 5.
#[test]
fn requests_sent_to_a_terminating_pod_fail_unless_a_prestop_sleep_covers_the_propagation() {
    let strategies = r#"
[[strategies]]
name = "rolling"
kind = "rolling"
max_surge = 0
max_unavailable = 1

[[strategies]]
name = "rolling-prestop"
kind = "rolling"
max_surge = 0
max_unavailable = 1
prestop_sleep_s = 5
"#;
    let infra = "drain_s = 0\nendpoint_propagation_s = 2";
    let results = run_scenario(&scenario("", infra, strategies), 400, 11);
    let expected = 10.0 * (1000.0 / 10.0) * 2.0;
    let dropped = results.values(index(&results, "rolling"), Metric::DroppedRequests);
    let (mean, low, high) = mean_ci99(&dropped);
    eprintln!("dropped: expected {expected}, mean {mean:.1}, 99% CI [{low:.1}, {high:.1}]");
    assert!(
        low <= expected && expected <= high,
        "expected {expected} dropped requests, 99% CI of the mean is {low:.1}–{high:.1}"
    );
    let covered = index(&results, "rolling-prestop");
    assert!(
        results
            .values(covered, Metric::DroppedRequests)
            .iter()
            .all(|&d| d == 0.0),
        "a 5 s preStop sleep covers a 2 s propagation"
    );
    // Old pods: Σ 30·j s for j = 0..9 = 1,350 s, and 5 s more each with the sleep.
    for (strategy, old_ms) in [
        (index(&results, "rolling"), 1_350_000),
        (covered, 1_400_000),
    ] {
        for row in &results.outcomes {
            assert_eq!(row[strategy].kind, Kind::Promoted);
            assert_eq!(row[strategy].get(Metric::OldVersionHours), hours(old_ms));
        }
    }
}

/// Sample mean and its 99% confidence interval (Student t).
fn mean_ci99(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.995);
    let half = t * var.sqrt() / n.sqrt();
    (mean, mean - half, mean + half)
}
