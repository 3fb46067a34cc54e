//! The whole simulation on random valid scenarios and on mutations of valid
//! ones: no panic, no hang (a time budget per case), and every outcome keeps
//! the invariants the public `Outcome` exposes (counts never negative, shares
//! in [0, 1], users_affected ≤ traffic.users, times ≥ 0, instance-hours at
//! least the fleet's own for the window, every figure finite; see
//! examples/fuzz/cases.rs, shared with the fuzz runner). A mutated input
//! that is refused must name the file and a line.
//!
//! Cases are drawn from a seed (a failure prints it); PROPTEST_CASES=N runs
//! more. `cargo run --release --example fuzz` runs the same inputs for longer.

#[path = "../examples/fuzz/cases.rs"]
mod cases;

use cutover::experiment::{self, Settings};
use cutover::scenario::Scenario;
use proptest::prelude::*;
use rand::SeedableRng;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

const FILE: &str = "fuzzed.toml";

/// Three replications on one thread, within `budget`; the outcomes' first
/// broken invariant, or why the run failed.
fn simulate_and_check(scenario: Scenario, seed: u64) -> Result<(), String> {
    let (send, receive) = mpsc::channel();
    let run = scenario.clone();
    std::thread::spawn(move || {
        let settings = Settings {
            replications: 3,
            seed,
            threads: 1,
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            experiment::run(&run, settings)
        }));
        let _ = send.send(result);
    });
    let results = match receive.recv_timeout(Duration::from_secs(20)) {
        Err(_) => return Err("the simulation took more than 20 s".into()),
        Ok(Err(_)) => return Err("the simulation panicked".into()),
        Ok(Ok(Err(e))) => return Err(format!("the simulation failed: {e}")),
        Ok(Ok(Ok(results))) => results,
    };
    if results.outcomes.len() != 3 {
        return Err(format!("{} replications, not 3", results.outcomes.len()));
    }
    for row in &results.outcomes {
        if row.len() != scenario.strategies.len() {
            return Err("an outcome per strategy is missing".into());
        }
        for outcome in row {
            cases::check(&scenario, outcome)?;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400),
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_valid_scenarios_simulate_within_every_invariant(seed in any::<u64>()) {
        let mut rng = cases::Rng::seed_from_u64(seed);
        let text = cases::generate(&mut rng);
        let scenario = Scenario::parse(&text, Path::new(FILE));
        prop_assert!(scenario.is_ok(), "a valid scenario was refused: {}\n{text}", scenario.unwrap_err());
        let checked = simulate_and_check(scenario.unwrap(), seed);
        prop_assert!(checked.is_ok(), "{}\n{text}", checked.unwrap_err());
    }

    #[test]
    fn mutated_scenarios_are_refused_with_a_line_or_simulate_within_every_invariant(seed in any::<u64>()) {
        let mut rng = cases::Rng::seed_from_u64(seed);
        let text = cases::input(&mut rng);
        let parsed = std::panic::catch_unwind(|| Scenario::parse(&text, Path::new(FILE)));
        prop_assert!(parsed.is_ok(), "Scenario::parse panicked on:\n{text}");
        match parsed.unwrap() {
            Err(e) => {
                let fault = cases::message_fault(&e, FILE);
                prop_assert!(fault.is_none(), "the message {}: {e}\n{text}", fault.unwrap());
            }
            Ok(scenario) => {
                let checked = simulate_and_check(scenario, seed);
                prop_assert!(checked.is_ok(), "{}\n{text}", checked.unwrap_err());
            }
        }
    }
}

/// The checker itself: an outcome that breaks an invariant is caught.
#[test]
fn the_invariants_catch_broken_outcomes() {
    use cutover::outcome::{Kind, Metric, Outcome};
    let scenario = Scenario::load(None).unwrap();
    let mut healthy = Outcome::new(Kind::Promoted, false);
    for &m in Metric::ALL {
        healthy.set(m, Some(0.0));
    }
    for m in [
        Metric::Detected,
        Metric::MissedDefect,
        Metric::CaughtBeforeUsers,
        Metric::PeakExposure,
        Metric::TimeToDetect,
    ] {
        healthy.set(m, None);
    }
    healthy.set(
        Metric::PeakInstances,
        Some(scenario.service.instances as f64),
    );
    assert_eq!(cases::check(&scenario, &healthy), Ok(()));
    let broken: [(Metric, f64); 7] = [
        (Metric::FailedRequests, -1.0),
        (Metric::StaleAfter5Min, 1.5),
        (Metric::UsersAffected, 1e12),
        (Metric::RollbackTime, -0.001),
        (Metric::DroppedRequests, f64::INFINITY),
        (Metric::ExtraCost, -5.0),
        (Metric::IncidentCost, 5.0),
    ];
    for (m, v) in broken {
        let mut o = healthy.clone();
        o.set(m, Some(v));
        assert!(
            cases::check(&scenario, &o).is_err(),
            "{} = {v} passed",
            m.name()
        );
    }
    let mut stuck = healthy.clone();
    stuck.kind = Kind::Stuck;
    assert!(
        cases::check(&scenario, &stuck).is_err(),
        "stuck with a deploy duration passed"
    );
}
