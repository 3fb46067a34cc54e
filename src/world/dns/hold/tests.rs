use super::*;
use crate::stats::Spread;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The default violators' extra hold: median 211 s, p95 2,440 s.
fn violator_x() -> LogNormal {
    match Extra::from_median_p95(211.0, 2440.0) {
        Extra::LogNormal(x) => x,
        Extra::Fixed(_) => unreachable!(),
    }
}

fn hold(cycle_s: f64, extra: Extra) -> Hold {
    Hold { cycle_s, extra }
}

/// Mean of f over [a, b] by composite Simpson's rule on n panels: a
/// reference that shares no code with the closed forms.
fn simpson_mean(a: f64, b: f64, n: u32, f: impl Fn(f64) -> f64) -> f64 {
    let h = (b - a) / f64::from(n);
    let x = |i: u32| a + f64::from(i) * h;
    let inner: f64 = (1..n)
        .map(|i| if i % 2 == 1 { 4.0 } else { 2.0 } * f(x(i)))
        .sum();
    (f(a) + inner + f(b)) / (3.0 * f64::from(n))
}

/// S_X straight from its definition.
fn lognormal_survival(x: &LogNormal, s: f64) -> f64 {
    if s <= 0.0 {
        1.0
    } else {
        0.5 * erfc((s.ln() - x.mu) / (x.sigma * SQRT_2))
    }
}

#[test]
fn survival_is_the_uniform_convolved_with_the_extra_hold() {
    let x = violator_x();
    for c in [0.005, 1.0, 20.0, 300.0, 3600.0] {
        let h = hold(c, Extra::LogNormal(x));
        for t in [-3.0, 0.0, 0.5, 5.0, 30.0, 60.0, 300.0, 900.0, 5000.0, 1e5] {
            let reference = simpson_mean(t - c, t, 20_000, |s| lognormal_survival(&x, s));
            let got = h.survival(t);
            assert!(
                (got - reference).abs() < 1e-10,
                "c {c} t {t}: {got} vs {reference}"
            );
        }
    }
}

#[test]
fn span_means_are_accurate_to_1e_9_from_tiny_to_long_spans() {
    let x = violator_x();
    let narrow = LogNormal {
        mu: 4.0,
        sigma: 0.05,
    };
    // A fixed extra hold is exact area arithmetic (the worked examples).
    for extra in [Extra::LogNormal(x), Extra::LogNormal(narrow)] {
        for c in [0.0, 0.005, 0.5, 20.0, 300.0, 3600.0] {
            let h = hold(c, extra);
            for (a, w) in [
                (-10.0, 5.0),
                (-10.0, 40.0),
                (0.0, 1e-6),
                (12.0, 1e-3),
                (59.9, 0.2),
                (40.0, 1.0),
                (100.0, 60.0),
                (0.0, 1000.0),
                (870.0, 0.02),
                (3000.0, 5000.0),
                (2e4, 7.0),
            ] {
                let b = a + w;
                let reference = simpson_mean(a, b, 4_000, |t| h.survival(t));
                let got = h.mean_survival(a, b);
                assert!(
                    (got - reference).abs() < 1e-9,
                    "{extra:?} c {c} [{a}, {b}]: {got} vs {reference}"
                );
            }
        }
    }
}

#[test]
fn without_an_extra_hold_the_reversal_is_the_stationary_renewal_result() {
    for c in [5.0, 20.0, 300.0] {
        let h = hold(c, Extra::Fixed(0.0));
        for r in [0.0, 3.0, 10.0, 20.0, 33.0, 299.0, 300.0, 1234.5] {
            let reversal = h.reversal(r);
            for t in [0.0, 1.0, 7.0, 19.0, 150.0, 400.0] {
                let expected = h.survival(t) - h.survival(r + t);
                let got = reversal.held(t);
                assert!(
                    (got - expected).abs() < 1e-12,
                    "c {c} r {r} t {t}: {got} vs {expected}"
                );
            }
        }
    }
}

/// Worked example: cycle 20 s, every client adds 30 s. Moves at U + 30,
/// U uniform on [0, 20]. The record changes back at r = 40 s: the clients
/// with U <= 10 (half of them) have moved. Their renewals come at U, U + 20,
/// U + 40; the first after 40 s is U + 40, so they move back at U + 70. At
/// 40 + t a share P(U <= 10, U + 70 > 40 + t) is still on the new answer:
/// 1/2 up to t = 30, (40 - t) / 20 from 30 to 40, then 0. The curve with the
/// roles swapped would give 1/2 * S(t), already 1/4 at t = 40.
#[test]
fn worked_example_of_a_reversal_with_a_fixed_extra_hold() {
    let h = hold(20.0, Extra::Fixed(30.0));
    assert_eq!(h.survival(40.0), 0.5);
    for (t, expected) in [
        (0.0, 0.5),
        (10.0, 0.5),
        (30.0, 0.5),
        (32.0, 0.4),
        (35.0, 0.25),
        (40.0, 0.0),
        (60.0, 0.0),
    ] {
        let got = h.reversal(40.0).held(t);
        assert!((got - expected).abs() < 1e-12, "t {t}: {got}");
    }
    // Its mean over [20, 40]: 10 s at 1/2, then a triangle of area 2.5.
    let mean = h.reversal(40.0).mean_held(20.0, 40.0);
    assert!((mean - 7.5 / 20.0).abs() < 1e-12, "{mean}");
}

#[test]
fn reversal_starts_where_the_switch_stood_and_only_goes_down() {
    let x = violator_x();
    for c in [0.0, 20.0, 300.0] {
        let h = hold(c, Extra::LogNormal(x));
        for r in [0.0, 15.0, 100.0, 299.0, 650.0, 4000.0] {
            let reversal = h.reversal(r);
            let start = reversal.held(0.0);
            assert!((start - (1.0 - h.survival(r))).abs() < 1e-10, "c {c} r {r}");
            let mut prev = start;
            for i in 1..=4000 {
                let now = reversal.held(f64::from(i) * 2.5);
                assert!(
                    now <= prev + 1e-15 && now >= 0.0,
                    "c {c} r {r} #{i}: {prev} -> {now}"
                );
                prev = now;
            }
        }
    }
}

#[test]
fn reversal_span_means_match_a_fine_quadrature() {
    let x = violator_x();
    for c in [0.0, 20.0, 300.0] {
        let h = hold(c, Extra::LogNormal(x));
        for r in [10.0, 250.0, 900.0] {
            let reversal = h.reversal(r);
            for (a, b) in [(0.0, 60.0), (5.0, 5.01), (100.0, 700.0), (-5.0, 30.0)] {
                let reference = simpson_mean(a, b, 20_000, |t| reversal.held(t));
                let got = reversal.mean_held(a, b);
                assert!(
                    (got - reference).abs() < 1e-9,
                    "c {c} r {r} [{a}, {b}]: {got} vs {reference}"
                );
            }
        }
    }
}

/// One client, simulated step by step: renewals at U, U + c, U + 2c, ...;
/// it moves an extra hold after the first renewal that follows a change, if
/// the record still says so then.
fn on_new_after_reversal(u: f64, x: f64, c: f64, r: f64, t: f64) -> bool {
    let moved_at = u + x;
    if moved_at > r {
        return false;
    }
    let mut renewal = u;
    while renewal <= r {
        renewal += c;
    }
    renewal + x > r + t
}

/// 99% binomial interval of a share drawn `n` times, with its half-width
/// floored for a share of 0 or 1.
fn ci99(hits: u32, n: u32) -> (f64, f64) {
    let p = f64::from(hits) / f64::from(n);
    let half = 2.576 * (p * (1.0 - p) / f64::from(n)).sqrt() + 1.0 / f64::from(n);
    (p - half, p + half)
}

#[test]
fn per_client_draws_agree_with_the_closed_forms() {
    let spread = Spread {
        median: 211.0,
        p95: 2440.0,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let n = 200_000;
    for c in [20.0, 300.0] {
        let h = hold(c, Extra::LogNormal(violator_x()));
        let draws: Vec<(f64, f64)> = (0..n)
            .map(|_| (rng.random::<f64>() * c, spread.sample(&mut rng)))
            .collect();
        for t in [10.0, 60.0, 300.0, 900.0, 3000.0] {
            let hits = draws.iter().filter(|(u, x)| u + x > t).count() as u32;
            let (lo, hi) = ci99(hits, n);
            let s = h.survival(t);
            assert!(lo <= s && s <= hi, "c {c} t {t}: {s} outside [{lo}, {hi}]");
        }
        for (r, t) in [(120.0, 0.0), (120.0, 200.0), (700.0, 50.0), (700.0, 600.0)] {
            let got = h.reversal(r).held(t);
            let on_new = |&(u, x): &(f64, f64)| on_new_after_reversal(u, x, c, r, t);
            let hits = draws.iter().filter(|d| on_new(d)).count() as u32;
            let (lo, hi) = ci99(hits, n);
            assert!(
                lo <= got && got <= hi,
                "c {c} r {r} t {t}: {got} outside [{lo}, {hi}]"
            );
        }
    }
}
