//! Cost and capacity against numbers worked out by hand from the model.
//!
//! * Instance-hours: with fixed start-up and drain times and no defect, every
//!   strategy's deployment window is a fixed sequence of scale steps, so its
//!   instance-seconds are exact integers and `instance_hours` must equal them
//!   / 3600 exactly (f64 ==) in every replication.
//! * The monthly view: permanent against on-demand differs by exactly the
//!   standing second environment, for blue-green only.
//! * Capacity: nothing is dropped when capacity is ample; with a known dip the
//!   dropped requests are Poisson with mean (shortfall rps × seconds), checked
//!   with a 99% confidence interval computed from the replications
//!   (mean ± t(0.995, n−1)·s/√n), never a hand-set tolerance.

mod common;

use common::{index, run_scenario};
use cutover::experiment::Results;
use cutover::monthly::{self, HOURS_PER_MONTH, MonthlyRow};
use cutover::outcome::{Kind, Metric};
use cutover::scenario::Scenario;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::path::{Path, PathBuf};

const STRATEGIES: &str = r#"
[[strategies]]
name = "in-place"
kind = "in-place"

[[strategies]]
name = "rolling"
kind = "rolling"
max_surge = "25%"
max_unavailable = "25%"

[[strategies]]
name = "blue-green"
kind = "blue-green"
scale_down_delay_s = 30
switch = "instant"

[[strategies]]
name = "canary"
kind = "canary"
steps = [{ weight = 5, pause_s = 600 }, { weight = 100, pause_s = 0 }]
router = "mesh"
propagation_s = 0
scale_down_delay_s = 30
abort_scale_down_delay_s = 30

[[strategies]]
name = "blue-green-alb"
kind = "blue-green"
scale_down_delay_s = 30
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 300
"#;

/// Ten instances that start in exactly 30 s and drain for exactly 30 s; no
/// release is defective and healthy requests never fail (baseline 0), so the
/// judge watching every release can never roll one back. 2,000 rps of
/// capacity for 1,000 rps: even rolling's 8 ready instances serve everything.
/// The price, $0.125, is a power of two, so monthly dollars are exact too.
fn deterministic(duplicate_mode: &str) -> Scenario {
    let text = format!(
        r#"
name = "deterministic"

[service]
instances = 10
capacity_rps_per_instance = 200

[traffic]
rate_rps = 1000
users = 100000

[release]
change_failure_rate = 0.0
baseline_error_rate = 0.0

[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2

[infra]
startup_s = 30
price_usd_per_hour = 0.125
drain_s = 30
# Clients drop a removed instance at once (tests/teardown.rs covers the
# endpoint propagation and its refused requests).
endpoint_propagation_s = 0
duplicate_mode = "{duplicate_mode}"

[monitoring]
enabled = true
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.01, consecutive = 2 }}
watch_after_promotion_s = 3600
progress_deadline_s = 600

[cost]
deploys_per_month = 20

{STRATEGIES}
"#
    );
    Scenario::parse(&text, Path::new("deterministic.toml")).expect("the test scenario is valid")
}

/// Hand-computed instance-seconds of each strategy's window (startup 30 s,
/// drain 30 s, R = 10), traced through the controllers:
///
/// * in-place: old 10 drain 0–30 s; new 10 from 0 s, ready and promoted at
///   30 s; the window ends at 30 s: 10×30 + 10×30 = 600.
/// * rolling 25%/25% (surge 3, unavailable 2): at 0 s new 5, old 8 (2 drain
///   to 30 s); at 30 s each new instance that turns ready lets one old go, so
///   old 3 (5 drain to 60 s) and new 10 (5 created at 30 s); at 60 s old 0 (3
///   drain to 90 s), promoted; the window ends at 90 s. Old 2×30 + 5×60 +
///   3×90 = 630, new 5×90 + 5×60 = 750: 1,380.
/// * blue-green (instant switch): green 10 from 0 s, ready 30 s, switch;
///   blue kept to 60 s, drains to 90 s: 10×90 + 10×90 = 1,800.
/// * canary (mesh without propagation, 5% for 600 s, then 100%, delays 30 s):
///   1 canary from 0 s, ready 30 s, 5% until 630 s; 9 more from 630 s, ready
///   660 s, weight 100; old scaled down at 690 s, drains to 720 s. Old 10×720,
///   new 1×720 + 9×90: 8,730.
/// * blue-green behind a load balancer (the default switch): the switch
///   settles 5 s after green is ready (35 s), blue is kept to 65 s, then
///   drains its in-flight requests for 30 s; with no connection open the load
///   balancer completes the deregistration then, well inside the 300 s
///   delay, to 95 s: 10×95 + 10×95 = 1,900.
const WINDOW_INSTANCE_S: [(&str, f64); 5] = [
    ("in-place", 600.0),
    ("rolling", 1380.0),
    ("blue-green", 1800.0),
    ("canary", 8730.0),
    ("blue-green-alb", 1900.0),
];

#[test]
fn instance_hours_equal_the_hand_computed_windows_exactly() {
    let results = run_scenario(&deterministic("on-demand"), 50, 11);
    for (name, seconds) in WINDOW_INSTANCE_S {
        let i = index(&results, name);
        for (r, row) in results.outcomes.iter().enumerate() {
            let o = &row[i];
            assert_eq!(o.kind, Kind::Promoted, "{name} replication {r}");
            assert_eq!(
                o.get(Metric::InstanceHours),
                Some(seconds / 3600.0),
                "{name} replication {r}: instance_hours × 3600 should be {seconds}"
            );
        }
    }
}

#[test]
fn state_hours_add_up_to_the_hand_computed_windows() {
    let results = run_scenario(&deterministic("on-demand"), 20, 11);
    for (name, seconds) in WINDOW_INSTANCE_S {
        let i = index(&results, name);
        for (r, row) in results.outcomes.iter().enumerate() {
            let states = [
                Metric::ProvisioningHours,
                Metric::ServingHours,
                Metric::IdleHours,
                Metric::DrainingHours,
            ]
            .map(|m| row[i].get(m).expect("state hours always apply"));
            let sum: f64 = states.iter().sum();
            assert!(
                (sum - seconds / 3600.0).abs() < 1e-12,
                "{name} replication {r}: states {states:?} add to {sum} h, not {seconds} s / 3600",
            );
            let by_version = [Metric::OldVersionHours, Metric::NewVersionHours]
                .map(|m| row[i].get(m).expect("version hours always apply"));
            assert!(
                (by_version[0] + by_version[1] - seconds / 3600.0).abs() < 1e-12,
                "{name} replication {r}: versions {by_version:?} do not add to {seconds} s / 3600",
            );
        }
    }
    // Blue-green by hand: green boots 0–30 s; blue serves 0–30 s, idles
    // 30–60 s (the scale-down delay) and drains 60–90 s; green serves 30–90 s.
    let i = index(&results, "blue-green");
    let h = |s: f64| Some(s / 3600.0);
    for row in &results.outcomes {
        let o = &row[i];
        assert_eq!(o.get(Metric::ProvisioningHours), h(10.0 * 30.0));
        assert_eq!(o.get(Metric::ServingHours), h(10.0 * 30.0 + 10.0 * 60.0));
        assert_eq!(o.get(Metric::IdleHours), h(10.0 * 30.0));
        assert_eq!(o.get(Metric::DrainingHours), h(10.0 * 30.0));
        // Blue lives 0–90 s, green 0–90 s (the window ends when blue is gone).
        assert_eq!(o.get(Metric::OldVersionHours), h(10.0 * 90.0));
        assert_eq!(o.get(Metric::NewVersionHours), h(10.0 * 90.0));
    }
}

#[test]
fn blue_green_doubles_the_fleet() {
    let results = run_scenario(&deterministic("on-demand"), 20, 11);
    // Blue-green: 10 blue beside 10 green; in-place: 10 draining old beside
    // 10 booting new; canary: 10 stable beside 10 canary once the last step
    // scales it to full size.
    for name in ["blue-green", "blue-green-alb", "in-place", "canary"] {
        let i = index(&results, name);
        assert!(
            results
                .outcomes
                .iter()
                .all(|row| row[i].get(Metric::PeakInstances) == Some(20.0)),
            "{name} peaks at 20 instances"
        );
    }
}

fn monthly_row<'a>(rows: &'a [MonthlyRow], name: &str) -> &'a MonthlyRow {
    rows.iter()
        .find(|r| r.strategy == name)
        .unwrap_or_else(|| panic!("no monthly row {name}"))
}

#[test]
fn a_standing_second_environment_costs_exactly_the_base_minus_the_rented_green() {
    let on_demand = deterministic("on-demand");
    let permanent = deterministic("permanent");
    let cloud = monthly::rows(&on_demand, &run_scenario(&on_demand, 30, 11));
    let pre_cloud = monthly::rows(&permanent, &run_scenario(&permanent, 30, 11));
    // Base: 10 instances × 730 h × $0.125 = $912.50.
    let base_usd = 912.5;
    assert_eq!(monthly::base_monthly_usd(&on_demand), base_usd);
    assert_eq!(10.0 * HOURS_PER_MONTH * 0.125, base_usd);
    // On demand, blue-green adds per deploy (1,800 − 10 × 90) s = 0.25 h at
    // $0.125 = $0.03125; 20 deploys: $0.625.
    let rented = monthly_row(&cloud, "blue-green");
    assert_eq!(rented.monthly_infra_usd, base_usd + 0.625);
    // Permanent: a second environment all month, exactly twice the base.
    let standing = monthly_row(&pre_cloud, "blue-green");
    assert!(standing.standing_duplicate && !rented.standing_duplicate);
    assert_eq!(standing.monthly_infra_usd, 2.0 * base_usd);
    assert_eq!(
        standing.monthly_infra_usd - rented.monthly_infra_usd,
        911.875
    );
    assert_eq!(standing.on_demand_infra_usd, rented.monthly_infra_usd);
    // The totals differ by the infrastructure alone (the other terms are the
    // same sums, added in the same order, up to the last bit of their sum).
    assert!(
        (standing.expected_total_monthly_usd - rented.expected_total_monthly_usd - 911.875).abs()
            < 1e-9
    );
    // Strategies without a second environment pay the same either way.
    for name in ["in-place", "rolling", "canary"] {
        assert_eq!(monthly_row(&cloud, name), monthly_row(&pre_cloud, name));
    }
}

fn scenario_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

#[test]
fn pre_cloud_is_checkout_with_a_standing_second_environment() {
    let checkout = Scenario::load(Some(&scenario_file("checkout.toml"))).unwrap();
    let pre_cloud = Scenario::load(Some(&scenario_file("pre-cloud.toml"))).unwrap();
    let cloud_results = run_scenario(&checkout, 200, 11);
    let pre_cloud_results = run_scenario(&pre_cloud, 200, 11);
    // The same service: every simulated outcome is identical.
    assert_eq!(cloud_results.outcomes, pre_cloud_results.outcomes);
    let cloud = monthly::rows(&checkout, &cloud_results);
    let old = monthly::rows(&pre_cloud, &pre_cloud_results);
    let base_usd = monthly::base_monthly_usd(&checkout);
    for ((c, p), spec) in cloud.iter().zip(&old).zip(&checkout.strategies) {
        if spec.config.kind() == "blue-green" {
            assert_eq!(p.monthly_infra_usd, 2.0 * base_usd);
            assert_eq!(p.on_demand_infra_usd, c.monthly_infra_usd);
            assert_eq!(p.monthly_incident_cost_usd, c.monthly_incident_cost_usd);
        } else {
            assert_eq!(c, p, "{} is priced the same", c.strategy);
        }
    }
}

/// R = 4 instances of 100 rps for 350 rps, start-up exactly `startup_s`, no
/// judge (dropped requests count as errors and would roll the release back).
fn dip(startup_s: f64, strategies: &str) -> Scenario {
    let text = format!(
        r#"
name = "dip"

[service]
instances = 4
capacity_rps_per_instance = 100

[traffic]
rate_rps = 350
users = 10000

[release]
change_failure_rate = 0.0
baseline_error_rate = 0.0

[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2

[infra]
startup_s = {startup_s:?}
price_usd_per_hour = 0.096
drain_s = 30
# Clients drop a removed instance at once (tests/teardown.rs covers the
# endpoint propagation and its refused requests).
endpoint_propagation_s = 0

[monitoring]
enabled = false
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.01, consecutive = 2 }}
watch_after_promotion_s = 600
progress_deadline_s = 600

{strategies}
"#
    );
    Scenario::parse(&text, Path::new("dip.toml")).expect("the test scenario is valid")
}

/// The 99% confidence interval of the mean of `values`.
fn ci99(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .unwrap()
        .inverse_cdf(0.995);
    let half = t * var.sqrt() / n.sqrt();
    (mean - half, mean + half)
}

fn assert_mean_dropped(results: &Results, name: &str, expected: f64) {
    let values = results.values(index(results, name), Metric::DroppedRequests);
    let (low, high) = ci99(&values);
    assert!(
        low <= expected && expected <= high,
        "{name}: expected {expected} dropped requests, 99% CI of the mean is {low:.1}–{high:.1}"
    );
}

#[test]
fn nothing_is_dropped_when_capacity_is_ample() {
    let results = run_scenario(&deterministic("on-demand"), 200, 11);
    for name in ["rolling", "blue-green", "canary", "blue-green-alb"] {
        let values = results.values(index(&results, name), Metric::DroppedRequests);
        assert_eq!(values.len(), 200);
        assert!(
            values.iter().all(|&d| d == 0.0),
            "{name} dropped requests with 2,000 rps of capacity for 1,000 rps"
        );
    }
}

#[test]
fn dropped_requests_match_the_hand_computed_shortfall() {
    const STARTUP_S: f64 = 40.0;
    let strategies = r#"
[[strategies]]
name = "rolling"
kind = "rolling"
max_surge = 0
max_unavailable = 1

[[strategies]]
name = "in-place"
kind = "in-place"
"#;
    let results = run_scenario(&dip(STARTUP_S, strategies), 400, 11);
    // Rolling with no surge and one unavailable: each of the 4 steps takes
    // one old instance away (a draining instance takes no new requests) and
    // waits S seconds for its replacement, which lets the next old one go the
    // moment it is ready. So for 4·S seconds 3 instances serve 300 rps of the
    // 350 offered: 50 rps × 4·S dropped.
    assert_mean_dropped(&results, "rolling", 50.0 * 4.0 * STARTUP_S);
    // In-place: nothing is ready for S seconds, so every request is dropped.
    assert_mean_dropped(&results, "in-place", 350.0 * STARTUP_S);
    let i = index(&results, "rolling");
    assert!(
        results
            .outcomes
            .iter()
            .all(|row| row[i].get(Metric::PeakInstances) == Some(5.0)),
        "rolling without surge: 4 live instances plus the one draining"
    );
}

#[test]
fn compare_writes_the_monthly_view_as_tidy_csv() {
    let out = std::env::temp_dir().join(format!("cutover-monthly-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("compare")
        .arg(scenario_file("internal-tool.toml"))
        .args(["--replications", "100", "--no-plots", "--out"])
        .arg(&out)
        .output()
        .expect("the binary runs");
    assert_eq!(status.status.code(), Some(0));
    let text = std::fs::read_to_string(out.join("monthly.csv")).expect("monthly.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "strategy,monthly_infra_usd,monthly_incident_cost_usd,monthly_false_rollback_usd,\
             monthly_delay_usd,monthly_operations_usd,monthly_schema_work_usd,\
             expected_total_monthly_usd,monthly_incident_cost_p95_usd,monthly_failed_requests,\
             monthly_downtime_s,deploys_per_month,lead_time_s_mean,healthy_promoted_share,ships"
        )
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let names: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(names, ["in-place", "rolling", "blue-green", "canary"]);
    for r in &rows {
        let n = |i: usize| r[i].parse::<f64>().expect("a number");
        // The total is the sum of its six terms (up to the CSV's 6 decimals).
        let terms: f64 = (1..=6).map(n).sum();
        assert!((n(7) - terms).abs() < 6e-6, "{r:?}");
        assert!(n(8) >= 0.0);
        assert_eq!(r[11], "4", "internal-tool deploys 4 times a month");
    }
    std::fs::remove_dir_all(&out).ok();
}
