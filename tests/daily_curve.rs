//! Traffic follows a daily curve, so the hour a deployment starts matters:
//! in-place's start-up gap drops every request that arrives while nothing is
//! ready, and that is three times as many at the peak as at the trough.

mod common;

use common::run_scenario;
use cutover::outcome::Metric;
use cutover::scenario::Scenario;
use cutover::stats::{Summary, t_quantile};
use std::f64::consts::TAU;
use std::path::Path;

const RATE_RPS: f64 = 1000.0;
const AMPLITUDE: f64 = 0.5;
const PEAK_HOUR: f64 = 14.0;
const STARTUP_S: f64 = 30.0;

fn in_place_starting_at(hour: f64) -> Scenario {
    let text = format!(
        r#"
name = "daily-curve"
[service]
instances = 4
capacity_rps_per_instance = 10000
[traffic]
rate_rps = {RATE_RPS:?}
users = 10000
daily_amplitude = {AMPLITUDE:?}
peak_hour = {PEAK_HOUR:?}
start_hour = {hour:?}
[release]
change_failure_rate = 0.0
baseline_error_rate = 0.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.1
[infra]
startup_s = {STARTUP_S:?}
price_usd_per_hour = 0.1
[monitoring]
enabled = false
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }}
watch_after_promotion_s = 0
progress_deadline_s = 600
[[strategies]]
name = "in-place"
kind = "in-place"
"#
    );
    Scenario::parse(&text, Path::new("daily-curve.toml")).unwrap()
}

/// Requests arriving in the first `STARTUP_S` seconds after `hour`:
/// ∫ rate (1 + a cos(2π (h·3600 + t − peak·3600) / 86400)) dt, in closed form.
fn requests_in_gap(hour: f64) -> f64 {
    let w = TAU / 86_400.0;
    let phase = (hour - PEAK_HOUR) * 3600.0;
    RATE_RPS * (STARTUP_S + AMPLITUDE * ((w * (STARTUP_S + phase)).sin() - (w * phase).sin()) / w)
}

fn dropped(hour: f64) -> Summary {
    let results = run_scenario(&in_place_starting_at(hour), 400, 4);
    Summary::of(&results.values(0, Metric::DroppedRequests)).unwrap()
}

#[test]
fn the_start_up_gap_drops_the_requests_of_that_hour() {
    for hour in [PEAK_HOUR, 2.0, 10.0] {
        let s = dropped(hour);
        let expected = requests_in_gap(hour);
        let half = t_quantile(0.995, s.n - 1) * s.std / (s.n as f64).sqrt();
        assert!(
            (s.mean - expected).abs() <= half,
            "start at {hour}:00: mean dropped {} ± {half}, expected {expected}",
            s.mean
        );
    }
    // At the peak the rate is 1.5× the mean, at 02:00 (the trough) 0.5×.
    assert!(requests_in_gap(PEAK_HOUR) > 2.9 * requests_in_gap(2.0));
}
