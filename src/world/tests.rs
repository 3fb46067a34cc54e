//! Unit tests of the world with hand-made inputs: scaling schedules the
//! fleet's events, readiness, crash-on-start and the progress deadline,
//! routing and its settling, mitigation, and the accounting of one span.

use super::*;
use crate::engine::{EventQueue, Purpose, stream};
use teardown::TeardownParams;

fn params(replicas: u32) -> WorldParams {
    WorldParams {
        replicas,
        capacity_rps_per_instance: 100.0,
        curve: DailyCurve {
            rate_rps: 500.0,
            amplitude: 0.0,
            peak_hour: 14.0,
            start_hour: 10.0,
        },
        users: 1000,
        baseline_error_rate: 0.0,
        startup_s: Spread::fixed(30.0),
        progress_deadline: SimTime::from_secs(600),
        teardown: TeardownParams {
            prestop: SimTime::ZERO,
            endpoint_propagation: SimTime::ZERO,
            drain: SimTime::from_secs(30),
            deregistration_delay: None,
        },
        min_ready: SimTime::ZERO,
        initial_route: Route::ByReadyInstances,
        switch: Switch::Immediate,
        sticky: false,
        settle_below: 0.0,
        settle_max_wait: None,
        long_lived_connections: 0.0,
        long_lived_share: 0.0,
        connection_lifetime_s: 1800.0,
        session_user_share: 0.0,
        sessions_in_shared_store: false,
        defect: None,
        database: None,
    }
}

fn world(p: WorldParams) -> World {
    World::new(
        p,
        stream(1, 0, Purpose::Startup),
        stream(1, 0, Purpose::Traffic),
    )
}

/// Moves the queue's clock to `at` (its earlier events are dropped unhandled).
fn advance_to(q: &mut EventQueue<WorldEvent>, at: SimTime) {
    q.schedule(at, WorldEvent::Recheck);
    while q.pop().is_some_and(|(t, _)| t < at) {}
}

fn drain(q: &mut EventQueue<WorldEvent>) -> Vec<(SimTime, WorldEvent)> {
    std::iter::from_fn(|| q.pop()).collect()
}

#[test]
fn scaling_up_schedules_each_startup_and_its_progress_deadline() {
    let mut w = world(params(5));
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    assert!(w.scale(Version::New, 2, &mut q));
    assert!(
        !w.scale(Version::New, 2, &mut q),
        "the same count changes nothing"
    );
    let events = drain(&mut q);
    let at = |s: u64| SimTime::from_secs(s);
    assert_eq!(
        events,
        vec![
            (at(30), WorldEvent::Fleet(FleetEvent::StartupDone(5))),
            (at(30), WorldEvent::Fleet(FleetEvent::StartupDone(6))),
            (at(600), WorldEvent::Fleet(FleetEvent::ProgressCheck(5))),
            (at(600), WorldEvent::Fleet(FleetEvent::ProgressCheck(6))),
        ]
    );
    assert_eq!(w.counts(Version::New).spec, 2);
    assert_eq!(w.counts(Version::New).ready, 0);
}

#[test]
fn a_ready_instance_takes_its_share_of_traffic_spread_over_instances() {
    let mut w = world(params(4));
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::New, 1, &mut q);
    let (t, e) = q.pop().unwrap();
    assert_eq!(
        w.handle(e, &mut q),
        Happened::Ready {
            id: 4,
            version: Version::New,
            ready: 1
        }
    );
    assert_eq!(w.share_new(t), 0.2, "1 new of 5 ready instances");
    assert_eq!(w.available(4), Happened::Available(Version::New));
    assert_eq!(w.available(4), Happened::Nothing, "available once");
    // Its progress deadline passes quietly: it is ready.
    let (_, e) = q.pop().unwrap();
    assert_eq!(w.handle(e, &mut q), Happened::Nothing);
}

#[test]
fn a_crash_on_start_defect_never_gets_ready_and_misses_the_deadline() {
    let mut p = params(2);
    p.defect = Some(Defect {
        kind: DefectKind::CrashOnStart,
        error_rate: 1.0,
        onset: None,
    });
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::New, 1, &mut q);
    let (_, startup) = q.pop().unwrap();
    assert_eq!(w.handle(startup, &mut q), Happened::Nothing);
    assert_eq!(w.counts(Version::New).ready, 0);
    let (at, deadline) = q.pop().unwrap();
    assert_eq!(at, SimTime::from_secs(600));
    assert_eq!(
        w.handle(deadline, &mut q),
        Happened::ProgressDeadlineExceeded
    );
}

#[test]
fn only_the_latest_route_change_settles() {
    let mut p = params(2);
    p.switch = Switch::Delay(SimTime::from_secs(5));
    p.initial_route = Route::All(Version::Old);
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    assert_eq!(w.route(Route::All(Version::New), &mut q), Some(1.0));
    assert_eq!(w.route(Route::Weight(0.25), &mut q), Some(0.25));
    let happened: Vec<Happened> = drain(&mut q)
        .into_iter()
        .map(|(_, e)| w.handle(e, &mut q))
        .collect();
    // The first change's settle event is stale; its re-check does nothing.
    assert_eq!(
        happened
            .iter()
            .filter(|h| **h == Happened::RouteSettled)
            .count(),
        1
    );
}

#[test]
fn mitigated_needs_the_new_version_out_and_the_old_able_to_serve() {
    let mut p = params(5);
    p.initial_route = Route::All(Version::New);
    let mut w = world(p.clone());
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    assert!(!w.new_version_is_out(SimTime::ZERO), "all traffic on new");
    w.route(Route::All(Version::Old), &mut q);
    // 5 old instances × 100 rps serve the 500 rps offered.
    assert!(w.new_version_is_out(SimTime::ZERO));
    // With the old version scaled away (an in-place redeploy), nothing serves.
    let mut gap = world(p);
    gap.route(Route::All(Version::Old), &mut q);
    gap.scale(Version::Old, 0, &mut q);
    assert!(!gap.new_version_is_out(SimTime::ZERO));
}

#[test]
fn a_span_offers_the_integrated_rate_and_counts_defect_failures() {
    let mut p = params(2);
    p.initial_route = Route::Weight(1.0);
    p.defect = Some(Defect {
        kind: DefectKind::TrafficOnly,
        error_rate: 1.0,
        onset: None,
    });
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::New, 2, &mut q);
    // Nothing new is ready: every request to the new version is dropped.
    advance_to(&mut q, SimTime::from_secs(10));
    let span = w.account(true, &mut q).expect("observed");
    assert_eq!(span.offered_requests, 500.0 * 10.0);
    assert_eq!(span.share_new, 1.0);
    assert_eq!(span.new.served, 0);
    assert!(span.new.dropped > 0);
    assert_eq!(
        span.defect_failures, None,
        "a traffic-only defect that served nothing"
    );
    // Not observing: nothing is drawn.
    q.schedule(SimTime::from_secs(20), WorldEvent::Recheck);
    q.pop();
    assert_eq!(w.account(false, &mut q), None);
}

#[test]
fn a_crash_on_start_defect_fails_every_request_routed_to_it() {
    let mut p = params(2);
    p.initial_route = Route::Weight(0.5);
    p.defect = Some(Defect {
        kind: DefectKind::CrashOnStart,
        error_rate: 1.0,
        onset: None,
    });
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::New, 1, &mut q);
    advance_to(&mut q, SimTime::from_secs(10));
    let span = w.account(true, &mut q).expect("observed");
    assert_eq!(span.defect_failures, Some(span.new.dropped));
    assert!(span.new.dropped > 0);
    assert!(w.draw_users_affected() > 0);
}

fn teardown(prestop_s: u64, propagation_s: u64, delay_s: Option<u64>) -> TeardownParams {
    TeardownParams {
        prestop: SimTime::from_secs(prestop_s),
        endpoint_propagation: SimTime::from_secs(propagation_s),
        drain: SimTime::from_secs(30),
        deregistration_delay: delay_s.map(SimTime::from_secs),
    }
}

#[test]
fn a_terminating_instance_keeps_its_share_until_its_endpoint_is_gone() {
    // 5 instances, one removed with a 2 s endpoint propagation and no preStop
    // sleep: for 2 s the Service still spreads requests over 5 endpoints, and
    // the removed one, which had SIGTERM at once, refuses its fifth.
    let mut p = params(5);
    p.teardown = teardown(0, 2, None);
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 4, &mut q);
    assert_eq!(w.serving(Version::Old, 1.0, 1.0), (400.0, 0.2));
    w.scale(Version::New, 1, &mut q);
    assert_eq!(
        drain(&mut q),
        vec![
            (
                SimTime::from_secs(2),
                WorldEvent::Fleet(FleetEvent::Delisted(4))
            ),
            (
                SimTime::from_secs(30),
                WorldEvent::Fleet(FleetEvent::Gone(4))
            ),
            (
                SimTime::from_secs(30),
                WorldEvent::Fleet(FleetEvent::StartupDone(5))
            ),
            (
                SimTime::from_secs(600),
                WorldEvent::Fleet(FleetEvent::ProgressCheck(5))
            ),
        ]
    );
    w.handle(WorldEvent::Fleet(FleetEvent::Delisted(4)), &mut q);
    assert_eq!(w.serving(Version::Old, 1.0, 1.0), (400.0, 0.0));
}

#[test]
fn a_prestop_sleep_as_long_as_the_propagation_keeps_the_instance_serving() {
    let mut p = params(5);
    p.teardown = teardown(2, 2, None);
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 4, &mut q);
    // Listed and accepting: it serves its fifth like a ready instance.
    assert_eq!(w.serving(Version::Old, 1.0, 1.0), (500.0, 0.0));
    // Gone after its 2 s sleep and 30 s drain; no SIGTERM while listed.
    assert_eq!(
        drain(&mut q),
        vec![
            (
                SimTime::from_secs(2),
                WorldEvent::Fleet(FleetEvent::Delisted(4))
            ),
            (
                SimTime::from_secs(32),
                WorldEvent::Fleet(FleetEvent::Gone(4))
            ),
        ]
    );
    // A 1 s sleep ends inside the 2 s propagation: it refuses for the last second.
    let mut p = params(5);
    p.teardown = teardown(1, 2, None);
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 4, &mut q);
    let (at, e) = q.pop().unwrap();
    assert_eq!(
        (at, e),
        (
            SimTime::from_secs(1),
            WorldEvent::Fleet(FleetEvent::StopsAccepting(4))
        )
    );
    w.handle(e, &mut q);
    assert_eq!(w.serving(Version::Old, 1.0, 1.0), (400.0, 0.2));
}

#[test]
fn a_version_the_router_sends_nothing_has_no_listed_instances() {
    // Blue after the switch: routing sends it nothing, so its endpoints do not matter.
    let mut p = params(5);
    p.teardown = teardown(0, 2, None);
    p.initial_route = Route::All(Version::New);
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 0, &mut q);
    assert_eq!(w.fleet().listed(Version::Old).total(), 0);
    assert_eq!(
        drain(&mut q),
        (0..5)
            .rev()
            .map(|id| (
                SimTime::from_secs(30),
                WorldEvent::Fleet(FleetEvent::Gone(id))
            ))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_load_balancer_target_leaves_when_its_requests_and_connections_are_done() {
    // Blue after the switch behind a load balancer: no connections, so each
    // target is gone after its 30 s drain of in-flight requests, not the 300 s delay.
    let mut p = params(10);
    p.teardown = teardown(0, 2, Some(300));
    p.initial_route = Route::All(Version::New);
    let mut w = world(p.clone());
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 0, &mut q);
    let events = drain(&mut q);
    assert_eq!(events.len(), 10);
    assert!(events.iter().all(|(at, e)| *at == SimTime::from_secs(30)
        && matches!(e, WorldEvent::Fleet(FleetEvent::Gone(_)))));
    // 1,000 connections, all on blue, 100 a target, mean lifetime 30 s: they
    // have closed after 30 · ln(200) = 158.950 s, and nothing is cut.
    p.long_lived_connections = 1000.0;
    p.connection_lifetime_s = 30.0;
    let mut w = world(p.clone());
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 0, &mut q);
    let events = drain(&mut q);
    assert!(events.iter().all(|(at, _)| *at == SimTime(158_950)));
    for (_, e) in events {
        assert!(matches!(
            w.handle(e, &mut q),
            Happened::Gone { version: Version::Old, cut } if cut == 0.0
        ));
    }
    assert_eq!(w.connections().cut, 0.0);
    // Mean lifetime 30 min: 1800 · ln(200) = 9,537 s, so the delay cuts them at 300 s.
    p.connection_lifetime_s = 1800.0;
    let mut w = world(p);
    let mut q: EventQueue<WorldEvent> = EventQueue::new();
    w.scale(Version::Old, 0, &mut q);
    let (at, e) = q.pop().unwrap();
    assert_eq!(at, SimTime::from_secs(300));
    assert!(matches!(
        w.handle(e, &mut q),
        Happened::Gone { version: Version::Old, cut } if cut == 100.0
    ));
}
