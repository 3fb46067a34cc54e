//! The routing layer: DNS defaults reproduce the measured propagation, a DNS
//! rollback is an order of magnitude slower than a load balancer's, long-lived
//! connections and in-memory sessions differ by strategy, and a mesh shifts
//! blue-green gradually.

mod common;

use common::{index, run, run_scenario};
use cutover::engine::SimTime;
use cutover::experiment::Results;
use cutover::outcome::Metric;
use cutover::scenario::Scenario;
use cutover::stats::quantile;
use cutover::strategies::{Counts, Route, Version};
use cutover::world::dns::DnsParams;
use cutover::world::router::{Router, Switch};
use std::path::Path;

/// Flavel, Mani, Maltz (IEEE LANMAN 2014), TTL 20 s: about 90% of requests
/// reach the new answer within 60 s, about 2% are still on the old one after
/// 15 minutes. The simulator's router, with the default DNS client mix, must
/// reproduce both within 2 percentage points.
#[test]
fn default_dns_parameters_reproduce_the_measured_propagation() {
    let dns = DnsParams {
        ttl_s: 20.0,
        ..DnsParams::default()
    };
    let ready = Counts {
        spec: 10,
        ready: 10,
        available: 10,
    };
    let mut router = Router::new(Route::All(Version::Old), Switch::Dns(dns));
    router.set(Route::All(Version::New), SimTime::ZERO, ready, ready);
    let moved_at_60s = router.routed_share(SimTime::from_secs(60), ready, ready);
    let stale_at_15min = 1.0 - router.routed_share(SimTime::from_secs(900), ready, ready);
    assert!(
        (moved_at_60s - 0.90).abs() <= 0.02,
        "moved within 60 s: {moved_at_60s}"
    );
    assert!(
        (stale_at_15min - 0.02).abs() <= 0.02,
        "stale after 15 min: {stale_at_15min}"
    );
    assert!(
        stale_at_15min > 0.0,
        "violators must still hold the old answer"
    );
}

#[test]
fn dns_legacy_rollback_is_ten_times_slower_than_a_load_balancer_rollback() {
    let r = run("scenarios/dns-legacy.toml", 2000);
    let (dns, lb) = (index(&r, "blue-green-dns"), index(&r, "blue-green-lb"));
    let rolled_back = r.values(dns, Metric::RollbackTime).len();
    assert!(
        rolled_back > 1000,
        "most of 2000 releases must roll back, got {rolled_back}"
    );
    let p50 = |i| {
        let mut v = r.values(i, Metric::RollbackTime);
        v.sort_by(f64::total_cmp);
        quantile(&v, 0.5)
    };
    let (p50_dns, p50_lb) = (p50(dns), p50(lb));
    assert!(
        p50_dns >= 10.0 * p50_lb,
        "p50 rollback via DNS {p50_dns} s, via load balancer {p50_lb} s"
    );
    // The load balancer's switch back takes its propagation delay exactly.
    assert_eq!(p50_lb, 5.0);
    // Once blue is torn down, clients still holding its address fail.
    let dropped = |i| r.summary(i, Metric::DroppedRequests).unwrap();
    assert!(
        dropped(dns).ci95_low > 0.0,
        "DNS stragglers reach a torn-down blue"
    );
    assert_eq!(
        dropped(lb).max,
        0.0,
        "a load balancer sends nobody to a torn-down blue"
    );
}

#[test]
fn websockets_cut_connections_and_lose_sessions_differently_by_strategy() {
    // Expected order, most first, for both metrics:
    // - rolling cuts each old instance's connections as it goes, and clients
    //   that reconnect to another old instance are cut again; each removed
    //   instance loses its users' sessions, and moved users move again;
    // - blue-green moves everyone once: the connections still on blue when
    //   the 300 s deregistration delay ends are cut, every session moves;
    // - the sticky canary keeps stable at full size for its 30-minute
    //   rollout, so many connections close on their own first, and only its
    //   weight's worth of users moves at each step.
    let r = run("scenarios/websockets.toml", 1000);
    let expected = ["rolling", "blue-green", "canary"];
    for metric in [Metric::ConnectionsCut, Metric::SessionsLost] {
        let ci: Vec<(f64, f64)> = expected
            .iter()
            .map(|name| {
                let s = r.summary(index(&r, name), metric).unwrap();
                (s.ci95_low, s.ci95_high)
            })
            .collect();
        for (i, pair) in ci.windows(2).enumerate() {
            assert!(
                pair[0].0 > pair[1].1,
                "{}: expected {} [{:.0}, {:.0}] above {} [{:.0}, {:.0}]",
                metric.name(),
                expected[i],
                pair[0].0,
                pair[0].1,
                expected[i + 1],
                pair[1].0,
                pair[1].1
            );
        }
    }
}

#[test]
fn a_shared_session_store_loses_no_session() {
    let text = std::fs::read_to_string("scenarios/websockets.toml").unwrap();
    let shared = text.replace(
        "sessions_in_shared_store = false",
        "sessions_in_shared_store = true",
    );
    assert_ne!(shared, text);
    let scenario = Scenario::parse(&shared, Path::new("websockets-shared.toml")).unwrap();
    let r = run_scenario(&scenario, 200, 1);
    for i in 0..r.strategy_names.len() {
        assert!(r.values(i, Metric::SessionsLost).iter().all(|&v| v == 0.0));
    }
}

/// Blue-green through a mesh in steps of 10%, 50%, 100%: a defect the judge
/// catches during the first pause never reaches more than 10% of requests.
#[test]
fn a_mesh_shifts_blue_green_gradually() {
    let text = r#"
name = "mesh-blue-green"
[service]
instances = 4
capacity_rps_per_instance = 1000
[traffic]
rate_rps = 100
users = 10000
[release]
change_failure_rate = 1.0
baseline_error_rate = 0.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.5
[infra]
startup_s = 30
price_usd_per_hour = 0.1
[monitoring]
enabled = true
interval_s = 60
judge = { kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }
watch_after_promotion_s = 600
progress_deadline_s = 600
[[strategies]]
name = "blue-green-mesh"
kind = "blue-green"
switch = "mesh"
propagation_s = 0
steps = [ { weight = 10, pause_s = 600 }, { weight = 50, pause_s = 600 }, { weight = 100, pause_s = 0 } ]
scale_down_delay_s = 600
# The analysis starts with green's first share of traffic, at the 10% step.
post_promotion_analysis = true
"#;
    let scenario = Scenario::parse(text, Path::new("mesh.toml")).unwrap();
    let r = run_scenario(&scenario, 100, 5);
    for row in &r.outcomes {
        let o = &row[0];
        assert_eq!(
            o.get(Metric::PeakExposure),
            Some(0.1),
            "caught at the 10% step"
        );
        assert_eq!(o.get(Metric::Detected), Some(1.0));
    }
}

/// The same canary with and without sticky routing: the same failed requests
/// (the routing of requests is identical), but with stickiness they land on
/// the 5% of users hashed to the canary, so far fewer users are hit.
#[test]
fn a_sticky_canary_hurts_fewer_users_for_the_same_requests() {
    let scenario_text = |sticky: bool| {
        format!(
            r#"
name = "sticky"
[service]
instances = 10
capacity_rps_per_instance = 1000
[traffic]
rate_rps = 200
users = 20000
[release]
change_failure_rate = 1.0
baseline_error_rate = 0.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.2
[infra]
startup_s = 30
price_usd_per_hour = 0.1
[monitoring]
enabled = false
judge = {{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }}
interval_s = 60
watch_after_promotion_s = 0
progress_deadline_s = 600
# People notice during the 5% step (at 30 + 1,200 s), before promotion.
unwatched_detection_s = 1200
[[strategies]]
name = "canary"
kind = "canary"
router = "mesh"
sticky = {sticky}
steps = [ {{ weight = 5, pause_s = 1800 }}, {{ weight = 100, pause_s = 0 }} ]
"#
        )
    };
    let results = |sticky| {
        let s = Scenario::parse(&scenario_text(sticky), Path::new("sticky.toml")).unwrap();
        run_scenario(&s, 300, 9)
    };
    let (sticky, sprayed) = (results(true), results(false));
    assert_eq!(
        sticky.values(0, Metric::FailedRequests),
        sprayed.values(0, Metric::FailedRequests),
        "stickiness moves users, not requests"
    );
    let users = |r: &Results| r.summary(0, Metric::UsersAffected).unwrap();
    let (u_sticky, u_sprayed) = (users(&sticky), users(&sprayed));
    assert!(
        u_sticky.ci95_high < u_sprayed.ci95_low,
        "sticky {:.0} users should be far below sprayed {:.0}",
        u_sticky.mean,
        u_sprayed.mean
    );
}

/// A TTL violator holds the old answer at least the TTL plus its extra hold,
/// so the stragglers scale with the TTL: the time until 99% of requests reach
/// the new version rises with it, from 20 s to an hour.
#[test]
fn dns_time_to_switch_rises_strictly_with_the_ttl() {
    let scenario_text = |ttl_s: u32| {
        format!(
            r#"
name = "dns-ttl-{ttl_s}"
[service]
instances = 4
capacity_rps_per_instance = 1000
[traffic]
rate_rps = 100
users = 10000
[release]
change_failure_rate = 0.0
baseline_error_rate = 0.0
[[release.defects]]
class = "traffic-only"
share = 1.0
error_rate = 0.5
[infra]
startup_s = 30
price_usd_per_hour = 0.1
[monitoring]
enabled = false
judge = {{ kind = "consecutive", max_error_rate = 0.05, consecutive = 1 }}
interval_s = 60
watch_after_promotion_s = 0
progress_deadline_s = 600
[[strategies]]
name = "blue-green-dns"
kind = "blue-green"
switch = "dns"
dns = {{ ttl_s = {ttl_s} }}
dns_max_wait_s = 86400
"#
        )
    };
    let time_to_switch = |ttl_s: u32| {
        let text = scenario_text(ttl_s);
        let scenario = Scenario::parse(&text, Path::new("dns-ttl.toml")).unwrap();
        let r = run_scenario(&scenario, 20, 3);
        let times = r.values(0, Metric::TimeToSwitch);
        assert_eq!(times.len(), 20, "every release switches at TTL {ttl_s} s");
        quantile(&times, 0.5)
    };
    let ttls = [20, 60, 300, 3600];
    let times: Vec<f64> = ttls.iter().map(|&ttl| time_to_switch(ttl)).collect();
    for (pair, ttl) in times.windows(2).zip(ttls.windows(2)) {
        assert!(
            pair[0] < pair[1],
            "time_to_switch at TTL {} s: {} s, at {} s: {} s",
            ttl[0],
            pair[0],
            ttl[1],
            pair[1]
        );
    }
    assert!(times[3] > 3600.0, "{times:?}");
}
