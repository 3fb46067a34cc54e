//! Analysis as the controllers run it, each rule on a worked example whose
//! figures are derived by hand in the comment: Argo blue-green's
//! post-promotion analysis (which keeps blue) and its cancellation at a set
//! scale-down delay, the pre-promotion analysis on synthetic preview load,
//! approval before the switch, metrics that arrive a lag late, the progress
//! deadline a Deployment only reports, a defect people notice when no judge
//! did, and the canary's rollback after promotion with and without a
//! rollback window.

mod common;

use common::{assert_in, mean_ci99, run_scenario};
use cutover::outcome::Metric;
use cutover::scenario::Scenario;
use std::path::Path;

/// Two instances starting in exactly 30 s, 100 rps, a healthy baseline of 0
/// (every failure is the defect's), one strategy described by `strategy`.
fn scenario(defect: &str, monitoring: &str, strategy: &str) -> Scenario {
    let text = format!(
        r#"
name = "analysis-test"
[service]
instances = 2
capacity_rps_per_instance = 10000
[traffic]
rate_rps = 100
users = 1000
[release]
change_failure_rate = 1.0
baseline_error_rate = 0.0
p_drift = 0.0
{defect}
[infra]
startup_s = 30
price_usd_per_hour = 0.1
[monitoring]
enabled = true
interval_s = 60
judge = {{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }}
human_response_s = 300
progress_deadline_s = 600
{monitoring}
[[strategies]]
{strategy}
"#
    );
    Scenario::parse(&text, Path::new("analysis-test.toml")).expect("test scenario is valid")
}

fn defect(class: &str, error_rate: f64) -> String {
    format!("[[release.defects]]\nclass = \"{class}\"\nshare = 1.0\nerror_rate = {error_rate}\n")
}

/// Every replication's value of `metric`, which must be the same in all to
/// the engine's millisecond (the first defective request can land in the
/// millisecond a route change takes effect, or just after it).
fn exact(s: &Scenario, metric: Metric) -> f64 {
    let values = run_scenario(s, 50, 3).values(0, metric);
    assert_eq!(values.len(), 50, "{metric:?} applies to every replication");
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    assert!(hi - lo <= 0.001 + 1e-9, "{metric:?} varies: {values:?}");
    (hi * 1000.0).round() / 1000.0
}

const BLUE_GREEN_POST: &str = r#"
name = "blue-green"
kind = "blue-green"
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 0
post_promotion_analysis = true
judge = { kind = "argo", max_error_rate = 0.05, failure_limit = 0, count = 5 }
"#;

#[test]
fn a_post_promotion_analysis_keeps_blue_and_switches_back_on_its_first_measurement() {
    // Green is ready at 30 s; the switch reaches every load balancer node at
    // 35 s, when the post-promotion analysis starts. Its first measurement,
    // at 95 s, queries [35 s, 95 s]: green's 20% errors fail it (failure
    // limit 0). Blue was never scaled down (no scale_down_delay_s: Argo keeps
    // it until the analysis completes), so the rollback is a switch back,
    // reaching every node 5 s later. Users are exposed from 35 s to 100 s:
    // 65 s × 100 rps × 0.2 = 1,300 failed requests expected.
    let s = scenario(
        &defect("traffic-only", 0.2),
        "watch_after_promotion_s = 600\nunwatched_detection_s = 36000",
        BLUE_GREEN_POST,
    );
    assert_eq!(exact(&s, Metric::TimeToDetect), 60.0);
    assert_eq!(exact(&s, Metric::RollbackTime), 5.0);
    assert_eq!(exact(&s, Metric::Detected), 1.0);
    // Old instances never went: none were re-provisioned for the rollback.
    assert_eq!(exact(&s, Metric::PeakInstances), 4.0);
    let failed = run_scenario(&s, 400, 5).values(0, Metric::FailedRequests);
    assert_in("failed requests", 1300.0, mean_ci99(&failed));
}

#[test]
fn a_set_scale_down_delay_cancels_the_post_promotion_analysis_and_the_defect_is_missed() {
    // With scale_down_delay_s = 30, Argo cancels the analysis at 35 + 30 =
    // 65 s and scales blue down, before its first measurement at 95 s. With
    // no watch after promotion, only people notice the defect, 3,600 s
    // after its first failed request (at 35 s).
    let strategy = format!("{BLUE_GREEN_POST}scale_down_delay_s = 30\n");
    let s = scenario(
        &defect("traffic-only", 0.2),
        "watch_after_promotion_s = 0\nunwatched_detection_s = 3600",
        &strategy,
    );
    assert_eq!(exact(&s, Metric::Detected), 0.0);
    assert_eq!(exact(&s, Metric::MissedDefect), 1.0);
    assert_eq!(exact(&s, Metric::TimeToDetect), 3600.0);
    // Blue is gone, so the rollback provisions it again: 30 s of start-up,
    // then the 5 s switch.
    assert_eq!(exact(&s, Metric::RollbackTime), 35.0);
    // Exposed from 35 s until 3,635 + 35 s: 3,635 s × 100 rps × 0.2.
    let failed = run_scenario(&s, 200, 5).values(0, Metric::FailedRequests);
    assert_in("failed requests", 72_700.0, mean_ci99(&failed));
}

#[test]
fn a_pre_promotion_analysis_on_synthetic_load_stops_what_smoke_tests_could_find() {
    // Green is ready at 30 s and takes no user traffic; the analysis drives
    // 50 rps against the preview and measures at 90 s: a smoke-detectable
    // defect failing half the requests fails the measurement, green is torn
    // down and no user saw a failure.
    let strategy = format!("{BLUE_GREEN_POST}pre_promotion_analysis = true\npreview_rps = 50\n");
    let s = scenario(
        &defect("smoke-detectable", 0.5),
        "watch_after_promotion_s = 600\nunwatched_detection_s = 36000",
        &strategy,
    );
    assert_eq!(exact(&s, Metric::CaughtBeforeUsers), 1.0);
    assert_eq!(exact(&s, Metric::FailedRequests), 0.0);
    assert_eq!(exact(&s, Metric::DeployDuration), 90.0);
    // A traffic-only defect does not show on synthetic load: the
    // pre-promotion analysis takes its 5 measurements (90 to 330 s) and
    // succeeds, the switch settles at 335 s, and the post-promotion
    // analysis fails its first measurement, 60 s later.
    let s = scenario(
        &defect("traffic-only", 0.5),
        "watch_after_promotion_s = 600\nunwatched_detection_s = 36000",
        &strategy,
    );
    assert_eq!(exact(&s, Metric::CaughtBeforeUsers), 0.0);
    assert_eq!(exact(&s, Metric::TimeToDetect), 60.0);
}

#[test]
fn a_switch_that_needs_approval_waits_for_the_person() {
    // Green ready at 30 s, a person approves 300 s later, the switch settles
    // 5 s after, and blue is kept 30 s: promoted at 365 s. The release is
    // healthy (change failure rate 0 through an empty defect share).
    let strategy = r#"
name = "blue-green"
kind = "blue-green"
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 0
auto_promotion_enabled = false
"#;
    let text = scenario(
        &defect("traffic-only", 0.2),
        "watch_after_promotion_s = 0",
        strategy,
    );
    let mut s = text;
    s.release.change_failure_rate = 0.0;
    assert_eq!(exact(&s, Metric::DeployDuration), 365.0);
    // auto_promotion_s pauses for that long instead of for a person.
    let strategy = strategy.replace("auto_promotion_enabled = false", "auto_promotion_s = 120");
    let mut s = scenario(
        &defect("traffic-only", 0.2),
        "watch_after_promotion_s = 0",
        &strategy,
    );
    s.release.change_failure_rate = 0.0;
    assert_eq!(exact(&s, Metric::DeployDuration), 185.0);
}

#[test]
fn metrics_that_arrive_late_delay_detection_by_whole_measurements() {
    // Rolling (surge 1, none unavailable): the first new instance serves
    // from 30 s and fails every request. With no lag the measurement at 60 s
    // queries [0, 60 s] and fails: detected 30 s after the first failure.
    // With a 45 s lag it queries [-45 s, 15 s], where nothing new ran
    // (inconclusive), and the one at 120 s queries [15 s, 75 s] and fails:
    // detected 90 s after the first failure. (In-place would not do: its
    // start-up outage counts against the new version.)
    let strategy = "name = \"rolling\"\nkind = \"rolling\"\nmax_surge = 1\nmax_unavailable = 0\n";
    let monitoring = |lag: u32| {
        format!(
            "watch_after_promotion_s = 600\nunwatched_detection_s = 36000\nmetrics_lag_s = {lag}"
        )
    };
    let traffic_only = defect("traffic-only", 1.0);
    let s = scenario(&traffic_only, &monitoring(0), strategy);
    assert_eq!(exact(&s, Metric::TimeToDetect), 30.0);
    let s = scenario(&traffic_only, &monitoring(45), strategy);
    assert_eq!(exact(&s, Metric::TimeToDetect), 90.0);
}

#[test]
fn a_progress_deadline_is_only_reported_unless_the_rollout_aborts() {
    // A crash-on-start release: no new instance becomes ready. Rolling (a
    // Deployment) reports ProgressDeadlineExceeded at 600 s and a person
    // rolls back 300 s later; Argo with progress_deadline_abort aborts at
    // 600 s.
    let crash = "[[release.defects]]\nclass = \"crash-on-start\"\nshare = 1.0\n";
    let monitoring = "watch_after_promotion_s = 600\nunwatched_detection_s = 36000";
    let rolling = "name = \"rolling\"\nkind = \"rolling\"\n";
    let s = scenario(crash, monitoring, rolling);
    let deploy = exact(&s, Metric::DeployDuration);
    let canary = r#"
name = "canary"
kind = "canary"
steps = [{ weight = 50, pause_s = 60 }, { weight = 100, pause_s = 0 }]
progress_deadline_abort = true
"#;
    let s = scenario(crash, monitoring, canary);
    let aborted = exact(&s, Metric::DeployDuration);
    // Rolling asked for one surge instance at 0 s; the deadline passes at
    // 600 s, the person acts at 900 s, and rolling back is removing that
    // instance: done at once. The canary aborts at 600 s and its route back
    // to stable takes the mesh's 2 s.
    assert_eq!(deploy, 900.0, "rolling waits for a person");
    assert_eq!(aborted, 602.0, "the Argo canary aborts");
}

#[test]
fn a_defect_no_judge_catches_hurts_until_people_notice() {
    // A 2% defect under the judge's 5% threshold. Blue-green with an
    // instant switch and no analysis: green serves from 30 s, blue goes at
    // 60 s, nothing watches after promotion. People notice 1,800 s after the
    // first failed request and roll back: blue is provisioned again (30 s)
    // and takes everything at once. Exposed 1,830 s × 100 rps × 0.02 = 3,660
    // failed requests expected; no judge rolled back, so the defect counts
    // as missed.
    let s = scenario(
        &defect("traffic-only", 0.02),
        "watch_after_promotion_s = 0\nunwatched_detection_s = 1800",
        "name = \"blue-green\"\nkind = \"blue-green\"\nswitch = \"instant\"\n",
    );
    assert_eq!(exact(&s, Metric::TimeToDetect), 1800.0);
    assert_eq!(exact(&s, Metric::MissedDefect), 1.0);
    assert_eq!(exact(&s, Metric::Detected), 0.0);
    let failed = run_scenario(&s, 400, 5).values(0, Metric::FailedRequests);
    assert_in("failed requests", 3660.0, mean_ci99(&failed));
}

#[test]
fn a_canary_rollback_after_promotion_re_runs_the_steps_without_a_rollback_window() {
    // The canary reaches 100% and is promoted; a 2% defect the 5% judge
    // never fails is noticed 1,800 s after its first request. Without a
    // rollback window the old version is rolled out again through the
    // steps: 30 s start-up of 1 instance (50%), 2 s mesh propagation, the
    // 600 s pause, then 100%: 30 s to start the second, 2 s to shift. With
    // a rollback window, all of the old version starts at once (30 s) and
    // takes every request 2 s later.
    let steps = r#"
name = "canary"
kind = "canary"
router = "mesh"
propagation_s = 2
steps = [{ weight = 50, pause_s = 600 }, { weight = 100, pause_s = 0 }]
"#;
    let monitoring = "watch_after_promotion_s = 0\nunwatched_detection_s = 1800";
    let slow = scenario(&defect("traffic-only", 0.02), monitoring, steps);
    let with_window = format!("{steps}rollback_window = 1\n");
    let fast = scenario(&defect("traffic-only", 0.02), monitoring, &with_window);
    assert_eq!(exact(&fast, Metric::RollbackTime), 32.0);
    // The new version's share falls under 1% only at the last step.
    assert_eq!(
        exact(&slow, Metric::RollbackTime),
        30.0 + 2.0 + 600.0 + 30.0 + 2.0
    );
}

#[test]
fn an_inconclusive_analysis_pauses_the_release_for_a_person() {
    // A pre-promotion analysis whose synthetic load is too thin to send a
    // single request: every measurement is inconclusive (no data). Without
    // an inconclusive limit the run counts them and completes after its 5
    // measurements (90 to 330 s); the switch settles at 335 s and blue goes
    // 30 s later: promoted at 365 s. With Argo's inconclusiveLimit 0 the
    // first one (90 s) makes the analysis Inconclusive: the release pauses
    // until a person resumes it 300 s later, then switches: 390 + 5 + 30.
    let strategy = r#"
name = "blue-green"
kind = "blue-green"
switch = "load-balancer"
propagation_s = 5
deregistration_delay_s = 0
pre_promotion_analysis = true
preview_rps = 0.000001
"#;
    let judge = |limit: &str| {
        format!(
            "{strategy}judge = {{ kind = \"argo\", max_error_rate = 0.05, count = 5{limit} }}\n"
        )
    };
    let healthy = |text: &str| {
        let mut s = scenario(
            &defect("traffic-only", 0.2),
            "watch_after_promotion_s = 0",
            text,
        );
        s.release.change_failure_rate = 0.0;
        s
    };
    assert_eq!(exact(&healthy(&judge("")), Metric::DeployDuration), 365.0);
    assert_eq!(
        exact(
            &healthy(&judge(", inconclusive_limit = 0")),
            Metric::DeployDuration
        ),
        425.0
    );
}
