//! The shared database against closed forms: a breaking schema change makes
//! the old version fail the touched share of its requests once the
//! migration is applied, a rollback returns traffic to that failing version
//! until the recovery completes, and expand/contract changes nothing. Each
//! mean is checked against its closed form within a 99% confidence interval
//! computed from the replications.

mod common;

use common::{index, run_scenario};
use cutover::experiment::Results;
use cutover::outcome::{Kind, Metric};
use cutover::scenario::Scenario;
use cutover::stats::Summary;
use std::path::Path;

const REPLICATIONS: u64 = 200;
/// Two-sided 99% normal quantile; with 200 replications Student's t differs
/// from it in the third digit.
const Z99: f64 = 2.576;

/// A flat 1000 rps service of 10 instances with fixed 30 s start-ups,
/// baseline 0, no monitoring unless `monitoring` says otherwise.
fn scenario(release: &str, monitoring: &str, database: &str, strategies: &str) -> Scenario {
    let text = scenario_text(release, monitoring, database, strategies);
    Scenario::parse(&text, Path::new("database-test.toml")).expect("the test scenario parses")
}

fn scenario_text(release: &str, monitoring: &str, database: &str, strategies: &str) -> String {
    format!(
        r#"
name = "database-test"
[service]
instances = 10
capacity_rps_per_instance = 1000
[traffic]
rate_rps = 1000
users = 100000
[release]
baseline_error_rate = 0.0
{release}
[infra]
startup_s = 30
price_usd_per_hour = 0.1
drain_s = 0
[monitoring]
interval_s = 60
watch_after_promotion_s = 0
progress_deadline_s = 600
{monitoring}
{database}
{strategies}
"#
    )
}

const HEALTHY: &str = r#"
change_failure_rate = 0.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2
"#;

const DEFECTIVE: &str = r#"
change_failure_rate = 1.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2
"#;

const UNWATCHED: &str = r#"
enabled = false
judge = { kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }
"#;

const WATCHED: &str = r#"
enabled = true
judge = { kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }
"#;

fn breaking(extra: &str) -> String {
    format!(
        r#"
[database]
schema_change_share = 1.0
practice = "breaking"
migration_timing = "pre-deploy"
migration_s = 0
touched_share = 0.3
write_share = 0.2
{extra}
"#
    )
}

const BLUE_GREEN: &str = r#"
[[strategies]]
name = "blue-green"
kind = "blue-green"
switch = "instant"
scale_down_delay_s = 3600
# Argo's post-promotion analysis: it measures from the switch at 30 s on.
post_promotion_analysis = true
"#;

fn summary(r: &Results, strategy: &str, metric: Metric) -> Summary {
    r.summary(index(r, strategy), metric)
        .unwrap_or_else(|| panic!("{strategy} has no {}", metric.name()))
}

/// The mean is within the 99% CI of `expected`.
fn assert_mean(s: &Summary, expected: f64, what: &str) {
    let half = Z99 * s.std / (s.n as f64).sqrt();
    assert!(
        (s.mean - expected).abs() <= half,
        "{what}: mean {} is not within ±{half:.1} (99% CI) of {expected}",
        s.mean
    );
}

/// Blue serves everything for green's 30 s start-up and fails the touched
/// 30% of it after a 0 s pre-deploy migration: 0.3 × 1000 rps × 30 s = 9,000.
#[test]
fn a_breaking_migration_fails_blues_touched_requests_until_the_switch() {
    let s = scenario(HEALTHY, UNWATCHED, &breaking(""), BLUE_GREEN);
    let r = run_scenario(&s, REPLICATIONS, 1);
    let failed = summary(&r, "blue-green", Metric::SchemaFailedRequests);
    assert_mean(&failed, 0.3 * 1000.0 * 30.0, "schema failures");
    // failed_requests counts them (a healthy release has no defect failure).
    assert_eq!(
        r.values(0, Metric::FailedRequests),
        r.values(0, Metric::SchemaFailedRequests)
    );
    assert!(
        r.outcomes.iter().all(|row| row[0].kind == Kind::Promoted),
        "a healthy release is promoted"
    );
}

/// Expand/contract keeps both versions working: nothing fails, and every
/// replication equals the one without a [database] table.
#[test]
fn expand_contract_changes_nothing() {
    let with = scenario(
        HEALTHY,
        UNWATCHED,
        &breaking("").replace("\"breaking\"", "\"expand-contract\""),
        BLUE_GREEN,
    );
    let without = scenario(HEALTHY, UNWATCHED, "", BLUE_GREEN);
    let (a, b) = (
        run_scenario(&with, REPLICATIONS, 1),
        run_scenario(&without, REPLICATIONS, 1),
    );
    assert!(
        a.values(0, Metric::SchemaFailedRequests)
            .iter()
            .all(|&v| v == 0.0)
    );
    for (ra, rb) in a.outcomes.iter().zip(&b.outcomes) {
        for &m in &b.metrics {
            assert_eq!(ra[0].get(m), rb[0].get(m), "{}", m.name());
        }
        assert_eq!(ra[0].kind, rb[0].kind);
    }
}

/// A canary of 10 instances behind an instant mesh, 5% for 600 s, then 100%.
/// The stable side fails the touched 30% of what it serves: 100% of traffic
/// for the canary's 30 s start-up (9,000), 95% for the 600 s step
/// (0.3 × 0.95 × 1000 × 600 = 171,000), and 95% again while the canary
/// scales to 10 for 30 s (8,550): 188,550 in all.
#[test]
fn a_canary_judge_never_sees_its_stable_side_fail() {
    let canary = r#"
[[strategies]]
name = "canary"
kind = "canary"
router = "mesh"
propagation_s = 0
scale_down_delay_s = 0
steps = [{ weight = 5, pause_s = 600 }, { weight = 100, pause_s = 0 }]
"#;
    let s = scenario(HEALTHY, WATCHED, &breaking(""), canary);
    let r = run_scenario(&s, REPLICATIONS, 1);
    let failed = summary(&r, "canary", Metric::SchemaFailedRequests);
    assert_mean(
        &failed,
        9_000.0 + 171_000.0 + 8_550.0,
        "stable-side failures",
    );
    // The judge watches the canary, which serves the new schema: no rollback.
    assert!(r.outcomes.iter().all(|row| row[0].kind == Kind::Promoted));
}

/// A certain 20% defect: blue fails its touched 30% for 30 s (9,000), green
/// takes traffic at 30 s, the post-promotion analysis fails it at its first
/// measurement, 90 s, and the switch back returns traffic to blue, which
/// fails 30% until the roll-forward completes 1,800 s later: 0.3 × 1000 ×
/// 1800 = 540,000 more.
#[test]
fn a_switch_back_after_a_breaking_migration_does_not_mitigate() {
    let s = scenario(
        DEFECTIVE,
        WATCHED,
        &breaking("recovery = \"roll-forward\"\nroll_forward_s = 1800"),
        BLUE_GREEN,
    );
    let r = run_scenario(&s, REPLICATIONS, 1);
    let failed = summary(&r, "blue-green", Metric::SchemaFailedRequests);
    assert_mean(&failed, 9_000.0 + 540_000.0, "schema failures");
    assert!(r.outcomes.iter().all(|row| row[0].kind == Kind::RolledBack));
    let all = |m: Metric, v: f64| r.values(0, m).iter().all(|&x| x == v);
    assert!(all(Metric::RollbackFailed, 1.0), "every rollback failed");
    assert!(all(Metric::TimeToRecover, 1800.0));
    // The switch back itself is instant; mitigation waits for the recovery:
    // first defective request at 30 s (or a millisecond or two later, when
    // the first spans happen to draw no request), recovered at 90 + 1800 s.
    assert!(all(Metric::RollbackTime, 0.0));
    let mitigate = r.values(0, Metric::TimeToMitigate);
    assert!(
        mitigate.iter().all(|&t| (1859.99..=1860.0).contains(&t)),
        "{mitigate:?}"
    );
    assert!(
        all(Metric::WritesLost, 0.0),
        "a roll-forward loses no write"
    );
}

/// A restore loses every write since the migration (at 0 s) until it
/// completes at 90 + 1800 s: write_share × rate × 1890 s = 0.2 × 1000 × 1890.
#[test]
fn a_restore_loses_every_write_since_the_migration() {
    let s = scenario(
        DEFECTIVE,
        WATCHED,
        &breaking("recovery = \"restore\"\nrestore_s = 1800"),
        BLUE_GREEN,
    );
    let r = run_scenario(&s, REPLICATIONS, 1);
    let lost = summary(&r, "blue-green", Metric::WritesLost);
    assert_mean(&lost, 0.2 * 1000.0 * 1890.0, "writes lost");
}

#[test]
fn a_schema_practice_needs_a_database_table() {
    let strategy = format!(
        "{}\nschema_practice = \"expand-contract\"\n",
        BLUE_GREEN.trim_end()
    );
    let text = scenario_text(HEALTHY, UNWATCHED, "", &strategy);
    let err = Scenario::parse(&text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("strategies[0].schema_practice"), "{err}");
    assert!(err.contains("[database]"), "{err}");
}

/// Expand/contract with the contract run too early: a latent defect
/// starting after promotion is caught in the watch, the rollback redeploys
/// the old version, which cannot read the contracted schema: the rollback
/// fails until the roll-forward completes.
#[test]
fn a_contract_before_the_last_possible_rollback_breaks_it() {
    let latent = r#"
change_failure_rate = 1.0
[[release.defects]]
class = "latent"
share = 1.0
error_rate = 0.5
onset_s = 300
"#;
    let monitoring = WATCHED;
    let text = |contract_after_s: u32| {
        breaking(&format!(
            "contract_after_s = {contract_after_s}\nrecovery = \"roll-forward\"\nroll_forward_s = 600"
        ))
        .replace("\"breaking\"", "\"expand-contract\"")
    };
    let rolling = r#"
[[strategies]]
name = "rolling"
kind = "rolling"
"#;
    let watched = |s: &str| {
        s.replace(
            "watch_after_promotion_s = 0",
            "watch_after_promotion_s = 3600",
        )
    };
    let early = Scenario::parse(
        &watched(&scenario_text(latent, monitoring, &text(60), rolling)),
        Path::new("early.toml"),
    )
    .unwrap();
    let late = Scenario::parse(
        &watched(&scenario_text(latent, monitoring, &text(7200), rolling)),
        Path::new("late.toml"),
    )
    .unwrap();
    let (e, l) = (run_scenario(&early, 50, 3), run_scenario(&late, 50, 3));
    let rolled_back = |r: &Results| {
        r.outcomes
            .iter()
            .filter(|row| row[0].kind == Kind::RolledBack)
            .count()
    };
    assert_eq!(
        rolled_back(&e),
        50,
        "the latent defect is caught in the watch"
    );
    assert!(
        e.values(0, Metric::RollbackFailed)
            .iter()
            .all(|&v| v == 1.0)
    );
    assert!(
        e.values(0, Metric::SchemaFailedRequests)
            .iter()
            .all(|&v| v > 0.0)
    );
    // Contracting after the watch leaves every rollback safe.
    assert_eq!(rolled_back(&l), 50);
    assert!(
        l.values(0, Metric::RollbackFailed)
            .iter()
            .all(|&v| v == 0.0)
    );
    assert!(
        l.values(0, Metric::SchemaFailedRequests)
            .iter()
            .all(|&v| v == 0.0)
    );
}

/// An on-start migration of 120 s starts when the first new instance is up
/// (at 30 s under blue-green's instant switch); until it completes, the new
/// version fails its touched requests: green serves everything from 30 s,
/// so 0.3 × 1000 × (150 − 30) = 36,000 failures, and blue none (it serves
/// nothing once the migration is applied).
#[test]
fn an_on_start_migration_fails_the_new_version_until_it_completes() {
    let db = breaking("")
        .replace("\"pre-deploy\"", "\"on-start\"")
        .replace("migration_s = 0", "migration_s = 120");
    let s = scenario(HEALTHY, UNWATCHED, &db, BLUE_GREEN);
    let r = run_scenario(&s, REPLICATIONS, 1);
    let failed = summary(&r, "blue-green", Metric::SchemaFailedRequests);
    assert_mean(&failed, 0.3 * 1000.0 * 120.0, "new-version schema failures");
}
