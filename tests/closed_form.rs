//! The simulator against closed forms derived by hand from the model.
//!
//! Traffic between two events is drawn as Poisson requests thinned by the
//! defect's error rate, so over a deterministic exposure (fixed start-up,
//! fixed error rate, no monitor) the failed requests of one release are
//! Poisson with mean rps · error_rate · (Σ share × seconds): mean and variance
//! are both that number. Each check is a 99% confidence interval computed from
//! the replications (mean ± t(0.995, n−1)·s/√n; for the variance the
//! chi-square interval (n−1)s²/χ²(0.995 | 0.005, n−1)), never a hand-set tolerance.

mod common;

use common::{assert_in, mean_ci99, run_scenario, sample_variance};
use cutover::outcome::{Kind, Metric};
use cutover::scenario::Scenario;
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::path::Path;

const RPS: f64 = 1000.0;
const INSTANCES: u32 = 10;
const STARTUP_S: f64 = 30.0;
const ERROR_RATE: f64 = 0.2;
/// Fixed time from a defect's first request to people noticing it.
const NOTICE_S: f64 = 600.0;

/// A complete scenario: 10 instances of 200 rps each (capacity 2,000 rps for
/// 1,000 rps, so nothing is dropped once instances are ready), a fixed
/// start-up time, a fixed defect error rate, the given monitoring switch and
/// watch, and the given strategy tables.
fn scenario(
    change_failure_rate: f64,
    monitoring: bool,
    watch_s: f64,
    strategies: &str,
) -> Scenario {
    let text = format!(
        r#"
name = "closed-form"

[service]
instances = {INSTANCES}
capacity_rps_per_instance = 200

[traffic]
rate_rps = {RPS}
users = 100000

[release]
change_failure_rate = {change_failure_rate:?}
baseline_error_rate = 0.001

[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = {ERROR_RATE:?}

[infra]
startup_s = {STARTUP_S:?}
price_usd_per_hour = 0.096
# Removed instances vanish at once, so the hand-computed windows below hold.
drain_s = 0

[monitoring]
enabled = {monitoring}
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.01, consecutive = 2 }}
watch_after_promotion_s = {watch_s:?}
progress_deadline_s = 600
# People notice a defect no judge caught this long after its first request.
unwatched_detection_s = {NOTICE_S:?}

{strategies}
"#
    );
    Scenario::parse(&text, Path::new("closed-form.toml")).expect("the test scenario is valid")
}

/// Sample variance and the 99% confidence interval of the true variance:
/// (n−1)s²/σ² is χ²(n−1) for normal data (Poisson means here are ≥ 10⁴, so
/// the normal approximation of the counts is excellent).
fn variance_ci99(values: &[f64]) -> (f64, f64, f64) {
    let dof = values.len() as f64 - 1.0;
    let s2 = sample_variance(values);
    let chi = ChiSquared::new(dof).unwrap();
    (
        s2,
        dof * s2 / chi.inverse_cdf(0.995),
        dof * s2 / chi.inverse_cdf(0.005),
    )
}

/// In-place with a certain defect, no monitor:
/// t = 0: old scaled to 0 (gone at once), 10 new instances asked for. No
///   instance is ready, so the router charges every request to the new target
///   group (its spec count) where it is dropped for lack of capacity: dropped,
///   not failed (the defect is not crash-on-start). [0, 30 s): share 1,
///   capacity 0 → Poisson(1000 · 30) dropped.
/// t = 30 s: all ten new instances pass readiness together; promotion; no
///   watch, but the defect serves, so observation goes on.
/// [30 s, 630 s): share 1, capacity 2,000 rps → every request served, each
///   fails from the defect with p = 0.2.
/// t = 630 s: people notice (NOTICE_S after the first defective request) and
///   roll back: the new instances go at once, the old start again, and
///   [630 s, 660 s) drops every request once more: Poisson(1000 · 30).
/// failed_requests ~ Poisson(1000 · 0.2 · 600) = Poisson(120,000);
/// dropped_requests ~ Poisson(1000 · 60).
#[test]
fn in_place_certain_defect_fails_rps_times_error_rate_times_exposed_seconds() {
    let s = scenario(
        1.0,
        false,
        0.0,
        "[[strategies]]\nname = \"in-place\"\nkind = \"in-place\"\n",
    );
    let results = run_scenario(&s, 2000, 11);
    for row in &results.outcomes {
        let o = &row[0];
        assert!(
            o.defective,
            "change_failure_rate = 1 makes every release defective"
        );
        assert_eq!(o.kind, Kind::RolledBack, "people notice and roll back");
        assert_eq!(o.get(Metric::TimeToDetect), Some(NOTICE_S));
        assert_eq!(
            o.get(Metric::DeployDuration),
            Some(2.0 * STARTUP_S + NOTICE_S)
        );
        assert_eq!(o.get(Metric::PeakExposure), Some(1.0));
    }

    let expected = RPS * ERROR_RATE * NOTICE_S;
    let failed = results.values(0, Metric::FailedRequests);
    assert_eq!(failed.len(), 2000);
    assert_in(
        "in-place failed_requests mean",
        expected,
        mean_ci99(&failed),
    );
    assert_in(
        "in-place failed_requests variance (Poisson: = mean)",
        expected,
        variance_ci99(&failed),
    );

    let expected_dropped = RPS * 2.0 * STARTUP_S;
    let dropped = results.values(0, Metric::DroppedRequests);
    assert_in(
        "in-place dropped_requests mean",
        expected_dropped,
        mean_ci99(&dropped),
    );
    assert_in(
        "in-place dropped_requests variance",
        expected_dropped,
        variance_ci99(&dropped),
    );
}

/// Canary with a mesh router held at 5% for T seconds, then 100%, no monitor,
/// watch_after_promotion_s = 0, a rollback window of 1. From
/// src/strategies/canary.rs and src/simulation/mod.rs:
/// t = 0: step 0 (5%): the canary is scaled to ceil(10 · 5 / 100) = 1; the
///   route starts at Weight(0), so the new version takes nothing.
/// t = S (30 s): the canary is ready → Route(Weight(0.05)), settled at once
///   (RouteSettled at the same instant) → pause timer T.
/// [S, S + T): share 0.05 → 50 rps offered to a canary that serves 200 rps.
/// t = S + T: step 1 (100%): the canary is scaled to 10; the 9 new instances
///   are ready at 2S + T. Until then the weight stays 0.05:
/// [S + T, 2S + T): share 0.05 again.
/// t = 2S + T: all 10 ready → Route(Weight(1.0)), settled at once → the old
///   version is kept for scale_down_delay_s = D, then scaled to 0: promoted.
/// t = S + N (N = NOTICE_S): people notice the defect; with the rollback
///   window the old version is started again at once (S) and takes every
///   request: share 1 on the new version until 2S + N.
/// failed_requests ~ Poisson(rps · err · (0.05 · (T + S) + (N − T))).
#[test]
fn canary_held_at_5_percent_fails_in_proportion_to_its_exposure() {
    let pause_s = 300.0;
    let delay_s = 45.0;
    let strategy = format!(
        "[[strategies]]\nname = \"canary\"\nkind = \"canary\"\nrouter = \"mesh\"\npropagation_s = 0\n\
         steps = [ {{ weight = 5, pause_s = {pause_s:?} }}, {{ weight = 100, pause_s = 0 }} ]\n\
         scale_down_delay_s = {delay_s:?}\nabort_scale_down_delay_s = 30\nrollback_window = 1\n"
    );
    let s = scenario(1.0, false, 0.0, &strategy);
    let results = run_scenario(&s, 2000, 12);
    assert!(
        2.0 * STARTUP_S + pause_s + delay_s < STARTUP_S + NOTICE_S,
        "noticed after promotion"
    );
    for row in &results.outcomes {
        let o = &row[0];
        assert!(o.defective);
        assert_eq!(o.kind, Kind::RolledBack);
        assert_eq!(
            o.get(Metric::DeployDuration),
            Some(2.0 * STARTUP_S + NOTICE_S),
            "the exposure windows above end when the old version is back"
        );
        assert_eq!(o.get(Metric::DroppedRequests), Some(0.0));
        assert_eq!(o.get(Metric::PeakExposure), Some(1.0));
    }

    let share_seconds = 0.05 * (pause_s + STARTUP_S) + (NOTICE_S - pause_s);
    let expected = RPS * ERROR_RATE * share_seconds;
    let failed = results.values(0, Metric::FailedRequests);
    assert_eq!(failed.len(), 2000);
    assert_in("canary failed_requests mean", expected, mean_ci99(&failed));
    assert_in(
        "canary failed_requests variance (Poisson: = mean)",
        expected,
        variance_ci99(&failed),
    );
}

/// Healthy blue-green, fixed start-up S = 30 s, scale_down_delay_s = 30, R = 10:
/// green (10) is asked for at t = 0 and ready at 30 s; the switch settles at
/// once; blue (10, alive since 0) is kept until 30 + 30 = 60 s, then removed
/// with no drain, and the release is promoted at 60 s. The deployment window
/// ends at 60 s: blue 10 × 60 s + green 10 × 60 s = 1,200 instance-seconds,
/// exactly 1,200 / 3,600 instance-hours in every replication.
#[test]
fn healthy_blue_green_instance_hours_are_exact() {
    let s = scenario(
        0.0,
        true,
        3600.0,
        "[[strategies]]\nname = \"blue-green\"\nkind = \"blue-green\"\nscale_down_delay_s = 30\nswitch = \"instant\"\n",
    );
    let results = run_scenario(&s, 500, 13);
    let expected_hours = (10.0 * 60.0 + 10.0 * 60.0) / 3600.0;
    for (r, row) in results.outcomes.iter().enumerate() {
        let o = &row[0];
        assert!(
            !o.defective,
            "change_failure_rate = 0 makes every release healthy"
        );
        assert_eq!(o.kind, Kind::Promoted, "replication {r}");
        assert_eq!(o.get(Metric::DeployDuration), Some(60.0), "replication {r}");
        assert_eq!(
            o.get(Metric::InstanceHours),
            Some(expected_hours),
            "replication {r}: instance_hours"
        );
        assert_eq!(
            o.get(Metric::InfraCost),
            Some(expected_hours * 0.096),
            "replication {r}: infra_cost_usd"
        );
        assert_eq!(o.get(Metric::PeakInstances), Some(20.0), "replication {r}");
        assert_eq!(o.get(Metric::FailedRequests), Some(0.0), "replication {r}");
    }
}
