//! Detection: a healthy release is rolled back exactly as often as the judge's
//! nominal false-alarm rate says, and perfect smoke tests keep a
//! smoke-detectable defect away from every user, and a paged person decides
//! exactly their response time after the alert.

mod common;

use common::run_scenario;
use cutover::outcome::Metric;
use cutover::scenario::Scenario;
use std::path::Path;

/// A blue-green release whose green starts instantly, so the judge sees
/// exactly `intervals` full intervals of new-version traffic.
fn scenario(
    judge: &str,
    defects: &str,
    change_failure_rate: f64,
    extra_strategy_keys: &str,
) -> Scenario {
    let text = format!(
        r#"
name = "detection-test"
[service]
instances = 4
capacity_rps_per_instance = 1000
[traffic]
rate_rps = 10
users = 1000
[release]
change_failure_rate = {change_failure_rate}
baseline_error_rate = 0.01
p_drift = 0.0
{defects}
[infra]
startup_s = 0
price_usd_per_hour = 0.1
[monitoring]
enabled = true
interval_s = 60
judge = {judge}
# Promotion at 30 s (the scale-down delay), where the watch starts; the
# observation ends at 630 s, so the measurements at 90, 150, ..., 570 s are
# judged (the one at 630 s comes after the end): 9 intervals of 60 s each.
watch_after_promotion_s = 600
# People would notice a defect only long after (the judge is under test).
unwatched_detection_s = 36000
progress_deadline_s = 600
[[strategies]]
name = "blue-green"
kind = "blue-green"
switch = "instant"
scale_down_delay_s = 30
{extra_strategy_keys}
"#
    );
    Scenario::parse(&text, Path::new("detection-test.toml")).expect("test scenario is valid")
}

const TRAFFIC_ONLY: &str =
    "[[release.defects]]\nclass = \"traffic-only\"\nshare = 1.0\nerror_rate = 0.1\n";

#[test]
fn false_rollback_rate_matches_the_judges_nominal_rate() {
    let judge = r#"{ kind = "argo", max_error_rate = 0.015, failure_limit = 0 }"#;
    let s = scenario(judge, TRAFFIC_ONLY, 0.0, "");
    let spec = s.monitoring.judge;
    // 9 intervals of Poisson(10 rps × 60 s) requests at a 1% error rate.
    let nominal = spec
        .nominal_false_alarm_rate(9, 0.01, 600.0)
        .expect("argo has an exact rate");
    let n = 4000;
    let results = run_scenario(&s, n, 11);
    let flags = results.values(0, Metric::FalseRollback);
    assert_eq!(
        flags.len() as u64,
        n,
        "every release is healthy, so every one has a false_rollback value"
    );
    let rate = flags.iter().sum::<f64>() / n as f64;
    // 99% interval of a binomial proportion around the nominal rate.
    let half = 2.575_829 * (nominal * (1.0 - nominal) / n as f64).sqrt();
    assert!(
        (rate - nominal).abs() <= half,
        "false rollback rate {rate:.4} outside {nominal:.4} ± {half:.4}"
    );
    assert!(
        nominal > 0.2 && nominal < 0.8,
        "the test must exercise a rate far from 0 and 1, got {nominal}"
    );
}

#[test]
fn perfect_smoke_tests_without_drift_keep_smoke_detectable_defects_from_users() {
    let defects = "[[release.defects]]\nclass = \"smoke-detectable\"\nshare = 1.0\nerror_rate = { median = 0.2, p95 = 0.9 }\n";
    let judge = r#"{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }"#;
    let s = scenario(
        judge,
        defects,
        1.0,
        "smoke_test_s = 120\nsmoke_coverage = 1.0",
    );
    let results = run_scenario(&s, 500, 3);
    for (r, row) in results.outcomes.iter().enumerate() {
        let o = &row[0];
        assert!(o.defective);
        assert_eq!(
            o.get(Metric::FailedRequests),
            Some(0.0),
            "replication {r} let a user meet the defect"
        );
        assert_eq!(
            o.get(Metric::CaughtBeforeUsers),
            Some(1.0),
            "replication {r}"
        );
        assert_eq!(o.get(Metric::PeakExposure), Some(0.0));
    }
}

#[test]
fn without_smoke_tests_the_same_defects_reach_users() {
    let defects = "[[release.defects]]\nclass = \"smoke-detectable\"\nshare = 1.0\nerror_rate = { median = 0.2, p95 = 0.9 }\n";
    let judge = r#"{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }"#;
    let s = scenario(judge, defects, 1.0, "");
    let results = run_scenario(&s, 200, 3);
    let caught: f64 = results.values(0, Metric::CaughtBeforeUsers).iter().sum();
    assert_eq!(
        caught, 0.0,
        "no smoke test, so users always meet the defect first"
    );
}

/// With manual rollback the judge's alert pages a person, and the rollback
/// decision comes their response time later: with a fixed 600 s response,
/// every release's time to detect is exactly 600 s longer than with automatic
/// rollback (the same release and traffic up to the alert).
#[test]
fn a_paged_human_decides_exactly_their_response_time_later() {
    use cutover::scenario::{RollbackBy, Spread};
    let judge = r#"{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }"#;
    let automatic = scenario(judge, TRAFFIC_ONLY, 1.0, "");
    let mut manual = automatic.clone();
    manual.monitoring.rollback = RollbackBy::Manual;
    manual.monitoring.human_response_s = Spread::fixed(600.0);
    let auto = run_scenario(&automatic, 300, 21);
    let paged = run_scenario(&manual, 300, 21);
    let (a, m) = (
        auto.values(0, Metric::TimeToDetect),
        paged.values(0, Metric::TimeToDetect),
    );
    assert_eq!(a.len(), 300, "every defect is detected");
    assert_eq!(m.len(), 300);
    for (r, (a, m)) in a.iter().zip(&m).enumerate() {
        assert!(
            (m - a - 600.0).abs() < 1e-9,
            "replication {r}: automatic {a} s, manual {m} s"
        );
    }
}

/// A canary with a preview step smoke-tests the ready canary before the
/// router sends it any request, so it catches smoke-detectable defects
/// before users as blue-green does; without the preview it cannot.
#[test]
fn a_canary_preview_step_catches_defects_before_users() {
    let text = std::fs::read_to_string("scenarios/regulated.toml").unwrap();
    let preview = text.replacen(
        "router = \"mesh\"",
        "router = \"mesh\"\nsmoke_test_s = 300\nsmoke_coverage = 0.95",
        1,
    );
    assert_ne!(preview, text);
    let rate = |t: &str| {
        let s = Scenario::parse(t, Path::new("regulated.toml")).unwrap();
        let r = run_scenario(&s, 2000, 42);
        let canary = r.strategy_names.iter().position(|n| n == "canary").unwrap();
        r.summary(canary, Metric::CaughtBeforeUsers).unwrap()
    };
    let (without, with) = (rate(&text), rate(&preview));
    assert!(
        with.ci95_low > without.ci95_high,
        "caught before users: {:.3} with a preview, {:.3} without",
        with.mean,
        without.mean
    );
}
