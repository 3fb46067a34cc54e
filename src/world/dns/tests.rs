use super::*;

fn edited(edit: impl Fn(&mut DnsParams)) -> DnsParams {
    let mut p = DnsParams::default();
    edit(&mut p);
    p
}

fn with_ttl(ttl_s: f64) -> DnsParams {
    edited(|p| p.ttl_s = ttl_s)
}

#[test]
fn calibration_and_long_ttl() {
    let p = with_ttl(20.0);
    let (s60, s900) = (p.stale_share(60.0), p.stale_share(900.0));
    // Flavel et al. 2014 at a 20 s TTL: 10% stale at 60 s, 2% at 900 s.
    // The fit is within 0.01 points; ±0.5 points is the acceptance.
    assert!((s60 - 0.10).abs() <= 0.0001, "stale_share(60) = {s60}");
    assert!((s900 - 0.02).abs() <= 0.0001, "stale_share(900) = {s900}");
    let p = with_ttl(300.0); // a long TTL is slow
    assert!(p.time_to_share(0.01) > 300.0);
    assert!(p.stale_share(60.0) > 0.7, "{}", p.stale_share(60.0));
}

#[test]
fn time_to_99_percent_switched_rises_strictly_with_the_ttl() {
    let times: Vec<f64> = [20.0, 60.0, 300.0, 3600.0]
        .iter()
        .map(|&ttl| with_ttl(ttl).time_to_share(0.01))
        .collect();
    for pair in times.windows(2) {
        assert!(pair[0] < pair[1], "{times:?}");
    }
    // Violators hold at least the TTL: at 3600 s they are the slowest kind,
    // and 99% takes longer than the TTL itself.
    assert!(times[3] > 3600.0, "{times:?}");
}

#[test]
fn monotone_and_starts_near_one() {
    for ttl in [0.0, 5.0, 20.0, 45.0, 300.0, 3600.0] {
        let p = with_ttl(ttl);
        assert!(ttl == 0.0 || (p.stale_share(0.0) - 1.0).abs() < 1e-12);
        let mut prev = p.stale_share(-1.0);
        for i in 0..=20_000 {
            let s = p.stale_share(f64::from(i) * 0.5);
            assert!(
                s <= prev + 1e-15 && (0.0..=1.0).contains(&s),
                "ttl {ttl} #{i}"
            );
            prev = s;
        }
    }
}

#[test]
fn mean_matches_riemann_sum_and_point_value() {
    let cases = [
        (20.0, 0.0, 1e3),
        (300.0, 10.0, 700.0),
        (20.0, -5.0, 45.0),
        (60.0, 59.9, 60.1),
    ];
    for (ttl, t0, t1) in cases {
        let (p, n) = (with_ttl(ttl), 1_000_000);
        let h = (t1 - t0) / f64::from(n);
        let mid = |i: u32| t0 + (f64::from(i) + 0.5) * h;
        let sum: f64 = (0..n).map(|i| p.stale_share(mid(i))).sum();
        let (exact, riemann) = (p.mean_stale_share(t0, t1), sum / f64::from(n));
        assert!(
            (exact - riemann).abs() < 1e-6,
            "[{t0}, {t1}]: {exact} vs {riemann}"
        );
        assert!((p.mean_stale_share(t1, t0) - exact).abs() < 1e-15);
    }
    let p = DnsParams::default(); // zero and tiny spans give the point value
    for t in [0.0, 7.3, 60.0, 250.0, 5000.0] {
        assert_eq!(p.mean_stale_share(t, t), p.stale_share(t));
        assert!((p.mean_stale_share(t, t + 1e-9) - p.stale_share(t)).abs() < 1e-6);
    }
}

#[test]
fn time_to_share_is_inverse() {
    for ttl in [0.0, 20.0, 300.0] {
        let p = with_ttl(ttl);
        for target in [0.5, 0.1, 0.05, 0.01, 0.001] {
            let t = p.time_to_share(target);
            assert!(
                t.is_finite() && p.stale_share(t) <= target,
                "{ttl} {target}"
            );
            assert!(t == 0.0 || p.stale_share(t - 1e-3) > target);
        }
    }
    let p = DnsParams::default();
    assert_eq!(p.time_to_share(1.0), 0.0);
    assert_eq!(p.time_to_share(0.0), f64::INFINITY); // the log-normal tail never ends
    assert_eq!(edited(|p| p.violator_share = 0.0).time_to_share(0.0), 60.0);
    assert!(p.time_to_share(f64::NAN).is_nan());
}

/// Rolling back 10 s into a switch at a 20 s TTL, with TTL-respecting
/// clients only. Half had moved, at U uniform on [0, 10]; each holds the new
/// answer a full TTL from its move, until U + 20. At 10 + t the share still
/// on it is 1/2 up to t = 10, then (20 - t) / 20. The curve with the roles
/// swapped, 1/2 (1 - t / 20), is too fast: 0.375 instead of 0.5 at t = 5.
#[test]
fn worked_example_of_a_rollback_by_dns() {
    let p = edited(|p| {
        (
            p.jvm_cache_share,
            p.http_client_cache_share,
            p.violator_share,
        ) = (0.0, 0.0, 0.0);
    });
    assert_eq!(p.stale_share(10.0), 0.5);
    let rollback = p.reversal(10.0);
    for (t, expected) in [
        (0.0, 0.5),
        (5.0, 0.5),
        (10.0, 0.5),
        (15.0, 0.25),
        (20.0, 0.0),
    ] {
        let got = rollback.held(t);
        assert!((got - expected).abs() < 1e-12, "t {t}: {got}");
    }
    // The mean over the first 20 s: 10 s at 1/2 and a triangle of area 2.5.
    let mean = rollback.mean_held(0.0, 20.0);
    assert!((mean - 7.5 / 20.0).abs() < 1e-12, "{mean}");
}

#[test]
fn a_later_rollback_keeps_the_violators_longer_than_the_ttl() {
    let p = with_ttl(300.0);
    for r in [60.0, 200.0, 900.0] {
        let rollback = p.reversal(r);
        let start = rollback.held(0.0);
        assert!((start - (1.0 - p.stale_share(r))).abs() < 1e-12, "r {r}");
        // Within a TTL of the rollback every TTL-respecting client that moved
        // before it may still hold the new answer; after TTL + extra hold
        // only violators can.
        assert!(rollback.held(300.0) <= p.violator_share + 1e-12);
        let riemann = {
            let n = 100_000;
            let h = 600.0 / f64::from(n);
            let sum: f64 = (0..n)
                .map(|i| rollback.held((f64::from(i) + 0.5) * h))
                .sum();
            sum / f64::from(n)
        };
        let exact = rollback.mean_held(0.0, 600.0);
        assert!(
            (exact - riemann).abs() < 1e-6,
            "r {r}: {exact} vs {riemann}"
        );
    }
}

#[test]
fn degenerate_but_valid_inputs_do_not_panic() {
    let point = edited(|p| p.violator_extra_hold_p95_s = p.violator_extra_hold_median_s);
    let zero = edited(|p| {
        (p.ttl_s, p.jvm_cache_hold_s, p.http_client_cache_hold_s) = (0.0, 0.0, 0.0);
        (p.violator_extra_hold_median_s, p.violator_extra_hold_p95_s) = (0.0, 0.0);
    });
    let tiny = edited(|p| {
        p.ttl_s = 0.001;
        (p.violator_extra_hold_median_s, p.violator_extra_hold_p95_s) = (0.001, 86_400.0);
    });
    for p in [point, zero, tiny] {
        assert_eq!(p.validate(), Ok(()));
        assert!(p.mean_stale_share(0.0, 500.0).is_finite());
        assert!(p.time_to_share(0.01).is_finite());
        for r in [0.0, 0.0005, 30.0] {
            let held = p.reversal(r).held(10.0);
            assert!((0.0..=1.0).contains(&held), "{held}");
            assert!(p.reversal(r).mean_held(0.0, 500.0).is_finite());
        }
    }
}

#[test]
fn validate_rejects_bad_input() {
    assert_eq!(DnsParams::default().validate(), Ok(()));
    type Edit = fn(&mut DnsParams);
    let cases: [(Edit, &str); 7] = [
        (|p| p.ttl_s = -1.0, "ttl_s"),
        (|p| p.ttl_s = f64::NAN, "ttl_s"),
        (|p| p.jvm_cache_share = 1.5, "jvm_cache_share"),
        (|p| p.violator_share = 0.9, "violator_share"), // shares sum to 1.2
        (|p| p.jvm_cache_hold_s = -3.0, "jvm_cache_hold_s"),
        (
            |p| p.violator_extra_hold_p95_s = 100.0,
            "violator_extra_hold_p95_s",
        ),
        (
            |p| (p.violator_extra_hold_median_s, p.violator_extra_hold_p95_s) = (0.0, 5.0),
            "violator_extra_hold_median_s",
        ),
    ];
    for (edit, field) in cases {
        assert_eq!(
            edited(edit).validate().err().map(|e| e.0).as_deref(),
            Some(field)
        );
    }
}

/// Per-client draws for the whole mixture: a kind by its share, then U
/// uniform on its cycle and the violators' extra hold X. The share of
/// clients with U + X > t must fall in the 99% binomial interval of the
/// draws around `stale_share(t)`; the same for those that had moved by a
/// rollback and have not moved back, simulated renewal by renewal.
#[test]
fn per_client_draws_agree_with_the_mixture() {
    use crate::stats::Spread;
    use rand::{RngExt, SeedableRng};
    let p = with_ttl(60.0);
    let extra = Spread {
        median: p.violator_extra_hold_median_s,
        p95: p.violator_extra_hold_p95_s,
    };
    let kinds = [
        (p.jvm_cache_share, p.jvm_cache_hold_s.max(p.ttl_s), false),
        (
            p.http_client_cache_share,
            p.http_client_cache_hold_s.max(p.ttl_s),
            false,
        ),
        (p.violator_share, p.ttl_s, true),
    ];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let n = 200_000_u32;
    let clients: Vec<(f64, f64, f64)> = (0..n)
        .map(|_| {
            let mut pick = rng.random::<f64>();
            let (mut cycle, mut violator) = (p.ttl_s, false);
            for &(share, c, v) in &kinds {
                if pick < share {
                    (cycle, violator) = (c, v);
                    break;
                }
                pick -= share;
            }
            let u = rng.random::<f64>() * cycle;
            let x = extra.sample(&mut rng); // drawn for every kind: one stream position per client
            (cycle, u, if violator { x } else { 0.0 })
        })
        .collect();
    let ci99 = |hits: usize| {
        let share = hits as f64 / f64::from(n);
        let half = 2.576 * (share * (1.0 - share) / f64::from(n)).sqrt() + 1.0 / f64::from(n);
        (share - half, share + half)
    };
    for t in [10.0, 45.0, 60.0, 300.0, 900.0] {
        let (lo, hi) = ci99(clients.iter().filter(|(_, u, x)| u + x > t).count());
        let s = p.stale_share(t);
        assert!(lo <= s && s <= hi, "t {t}: {s} outside [{lo}, {hi}]");
    }
    let on_new = |&(c, u, x): &(f64, f64, f64), r: f64, t: f64| {
        if u + x > r {
            return false;
        }
        let mut renewal = u;
        while renewal <= r {
            renewal += c;
        }
        renewal + x > r + t
    };
    for (r, t) in [(30.0, 0.0), (30.0, 40.0), (200.0, 30.0), (200.0, 400.0)] {
        let (lo, hi) = ci99(clients.iter().filter(|c| on_new(c, r, t)).count());
        let held = p.reversal(r).held(t);
        assert!(
            lo <= held && held <= hi,
            "r {r} t {t}: {held} outside [{lo}, {hi}]"
        );
    }
}
