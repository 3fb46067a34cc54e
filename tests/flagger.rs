//! The Flagger strategy in whole simulations: a worked example of halting
//! and rollback checked against its closed form with a 99% confidence
//! interval computed from the replications, a healthy promotion through the
//! primary's rolling update, the lesson of scenarios/flagger.toml, and keys
//! refused by name.

mod common;

use common::{index, run, run_scenario};
use cutover::outcome::{Kind, Metric};
use cutover::scenario::Scenario;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::Path;

const RPS: f64 = 1000.0;
const INSTANCES: u32 = 10;
const STARTUP_S: f64 = 30.0;
const INTERVAL_S: f64 = 60.0;

/// 10 instances of 200 rps at 1,000 rps, a fixed start-up, removed
/// instances gone at once, the flagger judge at 1% with `threshold`, a
/// measurement over exactly the last interval (no metrics lag), nobody
/// noticing the defect without the judge within the day, and no watch
/// after promotion.
fn scenario(change_failure_rate: f64, error_rate: f64, threshold: u32, strategy: &str) -> Scenario {
    let text = format!(
        r#"
name = "flagger-worked-example"

[service]
instances = {INSTANCES}
capacity_rps_per_instance = 200

[traffic]
rate_rps = {RPS:?}
users = 100000

[release]
change_failure_rate = {change_failure_rate:?}
baseline_error_rate = 0.001

[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = {error_rate:?}

[infra]
startup_s = {STARTUP_S:?}
price_usd_per_hour = 0.096
drain_s = 0

[monitoring]
enabled = true
interval_s = {INTERVAL_S:?}
metrics_lag_s = 0
judge = {{ kind = "flagger", max_error_rate = 0.01, threshold = {threshold} }}
watch_after_promotion_s = 0
unwatched_detection_s = 86400
progress_deadline_s = 600

[[strategies]]
name = "flagger"
kind = "flagger"
switch = "mesh"
propagation_s = 0
{strategy}
"#
    );
    Scenario::parse(&text, Path::new("flagger-worked-example.toml"))
        .expect("the test scenario is valid")
}

/// Sample mean and its 99% confidence interval (Student t).
fn mean_ci99(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.995);
    let half = t * variance.sqrt() / n.sqrt();
    (mean, mean - half, mean + half)
}

/// A certain defect failing 20% of requests, far above the judge's 1%, with
/// threshold 2 and a 10% step:
/// t = 0: the canary is scaled to the primary's 10 instances.
/// t = 30 s: all ten ready: weight 10% (no propagation), analysis starts.
/// t = 90 s: check 1 over [30 s, 90 s]: 20% errors: failed (1 < 2), so the
///   weight holds at 10% instead of rising to 20%.
/// t = 150 s: check 2 fails: the threshold is reached, rollback decided;
///   the route goes back to 0% at once, the canary is scaled to zero.
/// The new version served 10% of 1,000 rps for 120 s, so the failed
/// requests are Poisson with mean rps · step · error rate · 120 s = 2,400.
#[test]
fn a_failed_check_halts_the_canary_at_its_first_step_until_the_threshold() {
    let error_rate = 0.2;
    let s = scenario(1.0, error_rate, 2, "step_weight = 10\nmax_weight = 50");
    let n = 2000;
    let results = run_scenario(&s, n, 5);
    for (r, row) in results.outcomes.iter().enumerate() {
        let o = &row[0];
        assert_eq!(o.kind, Kind::RolledBack, "replication {r}");
        assert_eq!(
            o.get(Metric::TimeToDetect),
            Some(2.0 * INTERVAL_S),
            "replication {r}: rolled back at the second check"
        );
        assert_eq!(
            o.get(Metric::PeakExposure),
            Some(0.1),
            "replication {r}: the weight never rose past the first step"
        );
        assert_eq!(
            o.get(Metric::PeakInstances),
            Some(2.0 * INSTANCES as f64),
            "replication {r}: the canary runs at the primary's full size"
        );
    }
    let expected = RPS * 0.1 * error_rate * 2.0 * INTERVAL_S;
    let (mean, lo, hi) = mean_ci99(&results.values(0, Metric::FailedRequests));
    eprintln!("failed requests: expected {expected}, mean {mean:.1}, 99% CI [{lo:.1}, {hi:.1}]");
    assert!(
        lo <= expected && expected <= hi,
        "expected {expected} outside the 99% CI [{lo}, {hi}]"
    );
}

/// A healthy release, step 50 = max 50 with 20 s start-ups:
/// t = 20 s: canary ready, weight 50%. t = 80 s: the check passes at the
///   max weight: promotion. The primary's rolling update (25%/25% of 10:
///   new 3, old 8, new 5) runs beside the full-size canary, 23 instances at
///   its peak, and needs start-up rounds of 20 s.
/// The loop looks at the primary on its ticks: at 140 s the rollout is
/// done (Finalising), at 200 s the canary is scaled to zero: promoted.
#[test]
fn a_healthy_release_is_promoted_through_the_primarys_rolling_update_on_ticks() {
    let mut s = scenario(0.0, 0.2, 1, "step_weight = 50\nmax_weight = 50");
    s.infra.startup_s = cutover::scenario::Spread::fixed(20.0);
    let results = run_scenario(&s, 50, 9);
    for (r, row) in results.outcomes.iter().enumerate() {
        let o = &row[0];
        assert_eq!(o.kind, Kind::Promoted, "replication {r}");
        assert_eq!(
            o.get(Metric::DeployDuration),
            Some(200.0),
            "replication {r}"
        );
        assert_eq!(
            o.get(Metric::PeakInstances),
            Some((2 * INSTANCES + 3) as f64),
            "replication {r}: canary and primary at full size plus the surge"
        );
    }
}

/// The lesson of scenarios/flagger.toml: the same releases, the same
/// weights and the same judge; the Flagger canary, which holds its weight on
/// a failed check, lets a defective release reach a smaller share of traffic
/// than the Argo canary, whose pause timers keep advancing.
#[test]
fn flaggers_halting_canary_exposes_defects_to_a_smaller_share_than_argos() {
    let r = run("scenarios/flagger.toml", 2000);
    let summary = |name: &str| r.summary(index(&r, name), Metric::PeakExposure).unwrap();
    let (argo, flagger) = (summary("argo-canary"), summary("flagger-canary"));
    assert!(
        argo.ci95_low > flagger.ci95_high,
        "peak exposure: argo {:.3} [{:.3}, {:.3}], flagger {:.3} [{:.3}, {:.3}]",
        argo.mean,
        argo.ci95_low,
        argo.ci95_high,
        flagger.mean,
        flagger.ci95_low,
        flagger.ci95_high
    );
    assert_eq!(
        flagger.p50, 0.1,
        "Flagger's median defect stays at its first step"
    );
}

/// The error message of a scenario whose flagger strategy has `keys`.
fn refused(keys: &str) -> String {
    let text = std::fs::read_to_string("scenarios/flagger.toml").unwrap();
    let head = &text[..text.find("[[strategies]]").unwrap()];
    let with = format!("{head}[[strategies]]\nname = \"f\"\nkind = \"flagger\"\n{keys}\n");
    Scenario::parse(&with, Path::new("f.toml"))
        .expect_err("the keys are refused")
        .to_string()
}

#[test]
fn bad_flagger_keys_are_refused_by_name() {
    let cases = [
        ("", "strategies[0].step_weight", "no default step"),
        (
            "step_weight = 10\nstep_weights = [5, 10]",
            "strategies[0].step_weights",
            "not both",
        ),
        (
            "step_weights = [5, 50]\nmax_weight = 50",
            "strategies[0].max_weight",
            "last weight is the maximum",
        ),
        (
            "step_weights = [10, 5]",
            "strategies[0].step_weights[1]",
            "must rise",
        ),
        (
            "step_weight = 0",
            "strategies[0].step_weight",
            "from 1 to 100",
        ),
        (
            "step_weight = 10.5",
            "strategies[0].step_weight",
            "whole number",
        ),
        (
            "iterations = 10\nstep_weight = 10",
            "strategies[0].iterations",
            "replaces step_weight",
        ),
        (
            "iterations = 10\nmax_weight = 50",
            "strategies[0].max_weight",
            "no user traffic",
        ),
        (
            "step_weight = 10\nload_test_rps = 20",
            "strategies[0].load_test_rps",
            "only applies to blue/green",
        ),
        (
            "iterations = 10\nload_test_rps = 0",
            "strategies[0].load_test_rps",
            "greater than 0",
        ),
        (
            "step_weight = 10\nswitch = \"selector\"",
            "strategies[0].switch",
            "cannot split traffic by weight",
        ),
        (
            "iterations = 10\nswitch = \"dns\"",
            "strategies[0].switch",
            "unknown switch `dns`",
        ),
        (
            "step_weight = 10\nsteps = 3",
            "strategies[0].steps",
            "unknown key for a flagger strategy",
        ),
    ];
    for (keys, key, says) in cases {
        let message = refused(keys);
        assert!(
            message.contains(&format!("key `{key}`")) && message.contains(says),
            "{keys:?}: {message}"
        );
    }
}

#[test]
fn blue_green_and_kubernetes_blue_green_parse() {
    let text = std::fs::read_to_string("scenarios/flagger.toml").unwrap();
    let head = &text[..text.find("[[strategies]]").unwrap()];
    for keys in [
        "iterations = 10",
        "iterations = 10\nload_test_rps = 50\nswitch = \"selector\"",
        "step_weights = [1, 5, 10, 50]",
    ] {
        let with = format!("{head}[[strategies]]\nname = \"f\"\nkind = \"flagger\"\n{keys}\n");
        Scenario::parse(&with, Path::new("f.toml")).unwrap_or_else(|e| panic!("{keys:?}: {e}"));
    }
}
