//! The Flagger controller with hand-made observations: R = 10 instances,
//! so the primary's rolling update has surge 3 and unavailable 2.

use super::*;

const R: u32 = 10;

fn canary(weights: Vec<u32>) -> Box<dyn Strategy> {
    FlaggerConfig {
        analysis: Analysis::Canary { weights },
        provider: Provider::Router,
        switch: SwitchKeys::instant(),
    }
    .controller(R)
}

fn blue_green(provider: Provider) -> Box<dyn Strategy> {
    FlaggerConfig {
        analysis: Analysis::BlueGreen {
            iterations: 2,
            load_test_rps: 20.0,
        },
        provider,
        switch: SwitchKeys::instant(),
    }
    .controller(R)
}

fn counts(spec: u32, ready: u32) -> Counts {
    Counts {
        spec,
        ready,
        available: ready,
    }
}

/// The controller's view at `now_s` with (spec, ready) per version.
fn view(now_s: u64, old: (u32, u32), new: (u32, u32), failed_checks: u32) -> View {
    View {
        now: SimTime::from_secs(now_s),
        replicas: R,
        old: counts(old.0, old.1),
        new: counts(new.0, new.1),
        failed_checks,
    }
}

/// The primary at full size on the old version, the canary at full size and ready.
fn both_full(now_s: u64, failed_checks: u32) -> View {
    view(now_s, (R, R), (R, R), failed_checks)
}

fn timer(after_s: u64, tag: u32) -> Action {
    Action::Timer {
        after: SimTime::from_secs(after_s),
        tag,
    }
}

fn scale(version: Version, replicas: u32) -> Action {
    Action::Scale { version, replicas }
}

fn weight(share: f64) -> Action {
    Action::Route(Route::Weight(share))
}

/// Starts the release and makes the whole canary ready at t = 0.
fn ready_canary(f: &mut Box<dyn Strategy>) -> Vec<Action> {
    f.on(&Observation::Start, &view(0, (R, R), (0, 0), 0));
    f.on(&Observation::Ready(Version::New), &both_full(0, 0))
}

#[test]
fn step_weights_follow_run_canary() {
    assert_eq!(stepped_weights(10, 50), [10, 20, 30, 40, 50]);
    // The last step may pass maxWeight: Flagger adds the step while below it.
    assert_eq!(stepped_weights(20, 50), [20, 40, 60]);
    // Capped at the total weight.
    assert_eq!(stepped_weights(30, 100), [30, 60, 90, 100]);
    assert_eq!(stepped_weights(100, 100), [100]);
}

#[test]
fn the_canary_is_scaled_to_full_size_and_analysed_once_all_of_it_is_ready() {
    let mut f = canary(vec![10, 20]);
    assert_eq!(
        f.on(&Observation::Start, &view(0, (R, R), (0, 0), 0)),
        [scale(Version::New, R)]
    );
    assert!(
        f.on(
            &Observation::Ready(Version::New),
            &view(28, (R, R), (R, R - 1), 0)
        )
        .is_empty(),
        "nine of ten canary instances ready: no traffic, no analysis yet"
    );
    assert_eq!(
        f.on(&Observation::Ready(Version::New), &both_full(30, 0)),
        [weight(0.1), Action::StartAnalysis(AnalysisRun::ON_USERS)]
    );
}

#[test]
fn a_passing_check_advances_a_failed_one_holds_and_no_data_holds() {
    let mut f = canary(vec![10, 20, 30]);
    ready_canary(&mut f);
    let check = |f: &mut Box<dyn Strategy>, v: Verdict, at: u64, failed: u32| {
        f.on(&Observation::Verdict(v), &both_full(at, failed))
    };
    assert_eq!(check(&mut f, Verdict::Healthy, 60, 0), [weight(0.2)]);
    assert!(
        check(&mut f, Verdict::Healthy, 120, 1).is_empty(),
        "Healthy below the threshold, but failedChecks rose: halt advancement"
    );
    assert!(
        check(&mut f, Verdict::Inconclusive, 180, 1).is_empty(),
        "no data: neither advances nor fails"
    );
    assert_eq!(
        check(&mut f, Verdict::Healthy, 240, 1),
        [weight(0.3)],
        "the count stays at 1: this check passed"
    );
}

#[test]
fn the_threshold_rolls_back_to_the_primary_then_scales_the_canary_to_zero() {
    let mut f = canary(vec![10, 20, 30]);
    ready_canary(&mut f);
    assert!(
        f.on(&Observation::Verdict(Verdict::Healthy), &both_full(60, 1))
            .is_empty()
    );
    assert!(
        f.on(&Observation::Verdict(Verdict::Failed), &both_full(120, 0))
            .is_empty(),
        "the monitor decides the rollback"
    );
    // Flagger routes back and scales the canary to zero in one reconcile.
    assert_eq!(
        f.on(&Observation::RollbackDecided, &both_full(120, 0)),
        [weight(0.0), scale(Version::New, 0)]
    );
    assert_eq!(
        f.on(&Observation::RouteSettled, &view(122, (R, R), (0, 0), 0)),
        [Action::RolledBack]
    );
    assert!(
        f.on(&Observation::RollbackDecided, &both_full(130, 0))
            .is_empty()
    );
}

#[test]
fn a_canary_that_never_gets_ready_is_scaled_down_at_once() {
    let mut f = canary(vec![10]);
    f.on(&Observation::Start, &view(0, (R, R), (0, 0), 0));
    // The progress deadline decides (progress_deadline_abort).
    assert_eq!(
        f.on(&Observation::RollbackDecided, &view(600, (R, R), (R, 0), 0)),
        [scale(Version::New, 0), Action::RolledBack]
    );
}

/// Instance counts the test applies actions to, one at a time as the
/// simulation does, making every instance ready when asked.
struct Fleet {
    old: Counts,
    new: Counts,
    /// The most instances alive at once, after any single action.
    peak: u32,
}

impl Fleet {
    fn apply(&mut self, actions: &[Action]) {
        for a in actions {
            if let Action::Scale { version, replicas } = *a {
                let c = match version {
                    Version::Old => &mut self.old,
                    Version::New => &mut self.new,
                };
                c.spec = replicas;
                c.ready = c.ready.min(replicas);
                c.available = c.ready;
                self.peak = self.peak.max(self.old.spec + self.new.spec);
            }
        }
    }

    fn all_ready(&mut self) {
        self.old = counts(self.old.spec, self.old.spec);
        self.new = counts(self.new.spec, self.new.spec);
    }

    fn view(&self, now_s: u64) -> View {
        View {
            now: SimTime::from_secs(now_s),
            replicas: R,
            old: self.old,
            new: self.new,
            failed_checks: 0,
        }
    }
}

fn routes(actions: &[Action]) -> Vec<f64> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Route(Route::Weight(w)) => Some(*w),
            _ => None,
        })
        .collect()
}

#[test]
fn promotion_rolls_the_primary_under_the_last_weights_then_finalises_on_ticks() {
    let mut f = canary(vec![10, 30]);
    ready_canary(&mut f);
    f.on(&Observation::Verdict(Verdict::Healthy), &both_full(60, 0));
    // The check at the max weight passes: the primary's rolling update starts
    // (Kubernetes, R = 10 at 25%/25%: new 3, old 8, new 5, here as its end
    // state, the old pods' change first) beside the full-size canary, and the
    // loop looks again one interval later.
    let promote = f.on(&Observation::Verdict(Verdict::Healthy), &both_full(120, 0));
    assert_eq!(
        promote,
        [
            Action::StopAnalysis,
            scale(Version::Old, 8),
            scale(Version::New, R + 5),
            timer(60, 1),
        ]
    );
    let mut fleet = Fleet {
        old: counts(R, R),
        new: counts(R, R),
        peak: 2 * R,
    };
    fleet.apply(&promote);
    let mut shares = vec![0.3];
    for _ in 0..10 {
        if fleet.old.spec == 0 {
            break;
        }
        fleet.all_ready();
        let actions = f.on(&Observation::Available(Version::New), &fleet.view(150));
        fleet.apply(&actions);
        assert!(fleet.new.spec >= R, "the canary stays at full size");
        shares.extend(routes(&actions));
    }
    assert_eq!(fleet.old.spec, 0, "the primary runs the new version");
    assert_eq!(
        fleet.peak,
        R + R + 3,
        "canary and primary at full size plus the primary's surge"
    );
    assert!(
        shares.windows(2).all(|w| w[0] <= w[1]),
        "the share on the new version only rises: {shares:?}"
    );
    // The canary keeps its 30%; the primary's 70% moves as its pods roll:
    // with its first five new pods ready, old is down to 3 ready of its 8.
    assert_eq!(shares[1], 0.3 + 0.7 * (5.0 / 8.0), "{shares:?}");
    assert_eq!(*shares.last().unwrap(), 1.0);
    fleet.all_ready();
    // The tick after the rollout: all traffic to the primary (Finalising);
    // the next one scales the canary to zero.
    assert_eq!(
        f.on(&Observation::Timer(1), &fleet.view(180)),
        [timer(60, 2)]
    );
    assert_eq!(
        f.on(&Observation::Timer(2), &fleet.view(240)),
        [scale(Version::New, R), Action::Promoted]
    );
}

#[test]
fn the_promotion_waits_a_tick_while_the_primary_still_rolls() {
    let mut f = canary(vec![10]);
    ready_canary(&mut f);
    f.on(&Observation::Verdict(Verdict::Healthy), &both_full(60, 0));
    let rolling = view(120, (8, 8), (R + 5, R), 0);
    assert_eq!(f.on(&Observation::Timer(1), &rolling), [timer(60, 2)]);
}

#[test]
fn the_loop_ticks_at_the_interval_the_first_check_shows() {
    let mut f = canary(vec![10]);
    ready_canary(&mut f);
    let promote = f.on(&Observation::Verdict(Verdict::Healthy), &both_full(30, 0));
    assert_eq!(promote.last(), Some(&timer(30, 1)));
}

#[test]
fn without_checks_every_tick_passes_at_flaggers_default_interval() {
    let mut f = canary(vec![10, 20, 30]);
    ready_canary(&mut f);
    // Monitoring off: the analysis "succeeds" at once and sends no checks.
    assert_eq!(
        f.on(&Observation::AnalysisSucceeded, &both_full(0, 0)),
        [timer(60, 1)]
    );
    assert_eq!(
        f.on(&Observation::Timer(1), &both_full(60, 0)),
        [weight(0.2), timer(60, 2)]
    );
    assert!(f.on(&Observation::Timer(1), &both_full(61, 0)).is_empty());
}

#[test]
fn a_rollback_after_promotion_redeploys_the_old_version_first() {
    let mut f = canary(vec![100]);
    ready_canary(&mut f);
    f.on(&Observation::Verdict(Verdict::Healthy), &both_full(60, 0));
    let done = view(120, (0, 0), (R + R, R + R), 0);
    f.on(&Observation::Timer(1), &done);
    f.on(&Observation::Timer(2), &done);
    let promoted = view(200, (0, 0), (R, R), 0);
    assert_eq!(
        f.on(&Observation::RollbackDecided, &promoted),
        [scale(Version::Old, R)]
    );
    assert!(
        f.on(
            &Observation::Ready(Version::Old),
            &view(220, (R, R - 1), (R, R), 0)
        )
        .is_empty()
    );
    assert_eq!(
        f.on(
            &Observation::Ready(Version::Old),
            &view(230, (R, R), (R, R), 0)
        ),
        [weight(0.0)]
    );
    assert_eq!(
        f.on(&Observation::RouteSettled, &view(232, (R, R), (R, R), 0)),
        [scale(Version::New, 0), Action::RolledBack]
    );
}

#[test]
fn blue_green_checks_load_test_traffic_then_users_then_promotes() {
    let mut f = blue_green(Provider::Router);
    assert_eq!(
        ready_canary(&mut f),
        [Action::StartAnalysis(AnalysisRun {
            initial_delay: SimTime::ZERO,
            synthetic_rps: Some(20.0),
        })],
        "the canary takes no user traffic: the load test drives the checks"
    );
    let check = |f: &mut Box<dyn Strategy>, at: u64, failed: u32| {
        f.on(
            &Observation::Verdict(Verdict::Healthy),
            &both_full(at, failed),
        )
    };
    assert!(check(&mut f, 60, 0).is_empty(), "iteration 1 of 2");
    assert_eq!(
        check(&mut f, 120, 0),
        [
            Action::Route(Route::All(Version::New)),
            Action::StartAnalysis(AnalysisRun::ON_USERS)
        ],
        "after the iterations, all traffic to the canary and one round on users"
    );
    assert!(
        check(&mut f, 180, 1).is_empty(),
        "a failed check on users holds"
    );
    let promote = check(&mut f, 240, 1);
    assert_eq!(
        promote,
        [
            Action::StopAnalysis,
            scale(Version::Old, 8),
            scale(Version::New, R + 5),
            timer(60, 2),
        ],
        "the primary rolls while every request stays on the canary"
    );
}

#[test]
fn blue_green_rolls_back_without_routing_while_the_canary_has_no_users() {
    let mut f = blue_green(Provider::Router);
    ready_canary(&mut f);
    assert_eq!(
        f.on(&Observation::RollbackDecided, &both_full(60, 0)),
        [scale(Version::New, 0), Action::RolledBack]
    );
}

#[test]
fn blue_green_with_the_kubernetes_provider_moves_users_only_with_the_primary() {
    let mut f = blue_green(Provider::Kubernetes);
    ready_canary(&mut f);
    let check = |f: &mut Box<dyn Strategy>, at: u64| {
        f.on(&Observation::Verdict(Verdict::Healthy), &both_full(at, 0))
    };
    assert!(check(&mut f, 60).is_empty());
    assert!(check(&mut f, 120).is_empty(), "no route to the canary");
    let promote = check(&mut f, 180);
    assert!(routes(&promote).is_empty(), "{promote:?}");
    // The first new primary pod ready takes its share of the primary's traffic.
    let actions = f.on(
        &Observation::Available(Version::New),
        &view(200, (8, 8), (R + 5, R + 1), 0),
    );
    assert_eq!(routes(&actions), [1.0 / 8.0]);
}
