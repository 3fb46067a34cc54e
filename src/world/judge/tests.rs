//! Unit tests of the judges, their statistics and their exact false-alarm rates.

use super::*;

fn counts(cn: u64, ce: u64, bn: u64, be: u64) -> IntervalCounts {
    IntervalCounts {
        canary_requests: cn,
        canary_errors: ce,
        baseline_requests: bn,
        baseline_errors: be,
    }
}
const GOOD: IntervalCounts = IntervalCounts {
    canary_requests: 1000,
    canary_errors: 5,
    baseline_requests: 1000,
    baseline_errors: 5,
};
const BAD: IntervalCounts = IntervalCounts {
    canary_requests: 1000,
    canary_errors: 80,
    baseline_requests: 1000,
    baseline_errors: 5,
};
const EMPTY: IntervalCounts = IntervalCounts {
    canary_requests: 0,
    canary_errors: 0,
    baseline_requests: 0,
    baseline_errors: 0,
};

fn argo(limit: u32) -> JudgeState {
    JudgeSpec::Argo {
        max_error_rate: 0.02,
        failure_limit: limit,
        count: None,
        consecutive_error_limit: 4,
        inconclusive_limit: None,
    }
    .start()
    .unwrap()
}

fn run(j: &mut JudgeState, seq: &[IntervalCounts]) -> Vec<Verdict> {
    seq.iter().map(|c| j.observe(c)).collect()
}

use Verdict::{Failed as F, Healthy as H, Inconclusive as I};

#[test]
fn argo_failure_limit_zero_fails_on_first_bad_measurement() {
    let mut j = argo(0);
    assert_eq!(run(&mut j, &[GOOD, GOOD, BAD, GOOD]), [H, H, F, F]);
    assert!(j.has_failed());
}

#[test]
fn argo_failure_limit_two_fails_on_third_bad_not_consecutive() {
    let mut j = argo(2);
    // failed counts 1, 1, 2, 2, 3: Argo fails when failed (3) > limit (2).
    assert_eq!(run(&mut j, &[BAD, GOOD, BAD, GOOD, BAD]), [H, H, H, H, F]);
    assert_eq!(j.failed_measurements(), 3);
}

#[test]
fn argo_rate_equal_to_max_is_not_a_failure() {
    // 20/1000 = 0.02 is not > 0.02
    let mut j = argo(0);
    assert_eq!(j.observe(&counts(1000, 20, 1000, 0)), H);
    assert_eq!(j.observe(&counts(1000, 21, 1000, 0)), F);
}

#[test]
fn argo_count_completes_analysis_and_inconclusive_counts_toward_it() {
    let mut j = JudgeSpec::Argo {
        max_error_rate: 0.02,
        failure_limit: 0,
        count: Some(3),
        consecutive_error_limit: 4,
        inconclusive_limit: None,
    }
    .start()
    .unwrap();
    // measurements 1 (inconclusive), 2, 3 -> count reached; later BAD ignored
    assert_eq!(run(&mut j, &[EMPTY, GOOD, GOOD, BAD, BAD]), [I, H, H, H, H]);
}

#[test]
fn no_traffic_is_inconclusive_for_every_judge() {
    let specs = [
        JudgeSpec::Argo {
            max_error_rate: 0.0,
            failure_limit: 0,
            count: None,
            consecutive_error_limit: 4,
            inconclusive_limit: None,
        },
        JudgeSpec::Flagger {
            max_error_rate: 0.0,
            threshold: 1,
            no_data_fails: false,
        },
        JudgeSpec::Consecutive {
            max_error_rate: 0.0,
            consecutive: 1,
        },
        JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 1,
            mode: CompareMode::Cumulative,
            horizon: None,
        },
        JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 1,
            mode: CompareMode::PerInterval,
            horizon: None,
        },
        JudgeSpec::MannWhitney {
            confidence: 0.98,
            min_intervals: 1,
        },
    ];
    for s in specs {
        let mut j = s.start().unwrap();
        for _ in 0..5 {
            assert_eq!(j.observe(&EMPTY), I, "{s:?}");
        }
        // blue-green after the switch: canary has traffic, baseline none
        if matches!(s, JudgeSpec::Compare { .. } | JudgeSpec::MannWhitney { .. }) {
            assert_eq!(j.observe(&counts(1000, 500, 0, 0)), I, "{s:?}");
        }
    }
}

#[test]
fn flagger_threshold_counts_cumulative_failed_checks() {
    let mut j = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 3,
        no_data_fails: false,
    }
    .start()
    .unwrap();
    assert_eq!(
        run(&mut j, &[BAD, GOOD, BAD, EMPTY, GOOD, BAD]),
        [H, H, H, I, H, F]
    );
}

#[test]
fn flagger_threshold_zero_behaves_as_one_and_no_data_can_fail() {
    let mut j = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 0,
        no_data_fails: false,
    }
    .start()
    .unwrap();
    assert_eq!(run(&mut j, &[GOOD, BAD]), [H, F]);
    let mut j = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 2,
        no_data_fails: true,
    }
    .start()
    .unwrap();
    assert_eq!(run(&mut j, &[EMPTY, GOOD, EMPTY]), [H, H, F]);
}

#[test]
fn consecutive_needs_an_unbroken_run() {
    let mut j = JudgeSpec::Consecutive {
        max_error_rate: 0.02,
        consecutive: 3,
    }
    .start()
    .unwrap();
    assert_eq!(
        run(&mut j, &[BAD, BAD, GOOD, BAD, BAD, EMPTY, BAD, BAD, BAD]),
        [H, H, H, H, H, I, H, H, F]
    );
}

#[test]
fn reset_starts_a_new_analysis() {
    let mut j = argo(0);
    assert_eq!(j.observe(&BAD), F);
    assert_eq!(j.observe(&GOOD), F);
    j.reset();
    assert_eq!(j.observe(&GOOD), H);
    assert_eq!(j.intervals_observed(), 1);
}

#[test]
fn z_statistic_textbook_example() {
    // Canary 40/1000 = 4 %, baseline 20/1000 = 2 %.
    // pooled p = 60/2000 = 0.03; SE = sqrt(0.03*0.97*(1/1000+1/1000))
    //          = sqrt(0.0291*0.002) = sqrt(5.82e-5) = 0.00762889
    // z = 0.02 / 0.00762889 = 2.621613; one-sided p = 1 - Phi(z) = 0.0043757
    let z = two_proportion_z(40, 1000, 20, 1000);
    assert!((z - 2.621_613).abs() < 1e-6, "{z}");
    assert!(
        (normal_sf(z) - 0.004_375_7).abs() < 1e-7,
        "{}",
        normal_sf(z)
    );
    // Same as the textbook form.
    let (p1, p2, pp) = (0.04, 0.02, 0.03);
    let textbook = (p1 - p2) / (pp * (1.0 - pp) * (2.0 / 1000.0f64)).sqrt();
    assert!((z - textbook).abs() < 1e-12);
    // Canary 30/1000 vs 20/1000: pooled 0.025, SE = sqrt(0.025*0.975*0.002)
    // = 0.00698212, z = 0.01/0.00698212 = 1.43223, p = 0.0761 (not significant)
    let z2 = two_proportion_z(30, 1000, 20, 1000);
    assert!((z2 - 1.432_23).abs() < 1e-5, "{z2}");
    // Antisymmetric and degenerate cases.
    assert_eq!(two_proportion_z(20, 1000, 40, 1000), -z);
    assert_eq!(two_proportion_z(0, 10, 0, 10), 0.0);
    assert_eq!(two_proportion_z(10, 10, 10, 10), 0.0);
    assert_eq!(two_proportion_z(1, 0, 1, 10), 0.0);
    assert!((normal_quantile(0.95) - 1.644_853_626_951).abs() < 1e-9);
}

fn compare(mode: CompareMode, min_requests: u64, horizon: Option<u32>) -> JudgeState {
    JudgeSpec::Compare {
        confidence: 0.95,
        min_requests,
        mode,
        horizon,
    }
    .start()
    .unwrap()
}

#[test]
fn compare_per_interval_uses_the_worked_example() {
    let mut j = compare(CompareMode::PerInterval, 100, None);
    assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), H); // z = 1.43 < 1.645
    assert_eq!(j.observe(&counts(1000, 40, 1000, 20)), F); // z = 2.62 > 1.645
}

#[test]
fn compare_min_sample_guard_holds_on_each_arm() {
    let mut j = compare(CompareMode::Cumulative, 500, None);
    // Overwhelming evidence, but canary has 200 < 500 requests.
    assert_eq!(j.observe(&counts(200, 100, 5000, 10)), I);
    assert_eq!(j.observe(&counts(200, 100, 5000, 10)), I);
    // Canary total 600 >= 500 -> tested -> fails.
    assert_eq!(j.observe(&counts(200, 100, 5000, 10)), F);
    // Baseline arm guarded too.
    let mut j = compare(CompareMode::PerInterval, 500, None);
    assert_eq!(j.observe(&counts(5000, 2500, 499, 0)), I);
}

#[test]
fn compare_cumulative_accumulates_evidence() {
    let mut j = compare(CompareMode::Cumulative, 100, None);
    // 30/1000 vs 20/1000 each interval: z = 1.43 after one interval,
    // z = 1.43 * sqrt(2) = 2.03 after two (same rates, double the data).
    assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), H);
    assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), F);
}

#[test]
fn compare_fixed_horizon_tests_once() {
    let mut j = compare(CompareMode::FixedHorizon, 100, Some(3));
    let c = counts(1000, 24, 1000, 20); // mild excess: z(3 intervals) = 1.06 < 1.645
    assert_eq!(run(&mut j, &[c, c, c, BAD, BAD]), [I, I, H, H, H]);
    let mut j = compare(CompareMode::FixedHorizon, 100, Some(2));
    assert_eq!(run(&mut j, &[BAD, GOOD, GOOD]), [I, F, F]);
}

#[test]
fn mann_whitney_hand_example() {
    // canary [3, 4, 5], baseline [1, 2, 3]
    // sorted: 1b 2b 3b 3c 4c 5c -> ranks 1 2 3.5 3.5 5 6
    // R_c = 3.5 + 5 + 6 = 14.5, U = 14.5 - 3*4/2 = 8.5, mean = 4.5
    // ties: one pair -> sum(t^3 - t) = 6
    // var = 9/12 * (7 - 6/30) = 0.75 * 6.8 = 5.1, sd = 2.258318
    // z = (8.5 - 4.5 - 0.5) / 2.258318 = 1.549826, p = 1 - Phi(z) = 0.0605916
    let p = mann_whitney_u_p_value(&[3.0, 4.0, 5.0], &[1.0, 2.0, 3.0]);
    assert!((p - 0.060_591_6).abs() < 1e-7, "{p}");
    // Reversed alternative gives the other tail (U = 0.5, z = -4.5/2.258).
    let p_rev = mann_whitney_u_p_value(&[1.0, 2.0, 3.0], &[3.0, 4.0, 5.0]);
    assert!((p_rev - normal_sf(-4.5 / 5.1f64.sqrt())).abs() < 1e-12);
    // Degenerate inputs: no evidence, no panic.
    assert_eq!(mann_whitney_u_p_value(&[], &[1.0]), 1.0);
    assert_eq!(mann_whitney_u_p_value(&[2.0, 2.0], &[2.0]), 1.0);
    assert_eq!(mann_whitney_u_p_value(&[f64::NAN], &[1.0]), 1.0);
}

#[test]
fn mann_whitney_judge_waits_for_min_intervals_then_fails() {
    let mut j = JudgeSpec::MannWhitney {
        confidence: 0.98,
        min_intervals: 5,
    }
    .start()
    .unwrap();
    let mut out = Vec::new();
    for i in 0..6u64 {
        out.push(j.observe(&counts(1000, 50 + i, 1000, 5 + i)));
    }
    // 5 vs 5 values, all canary > all baseline: U = 25, var = 25*11/12,
    // z = (25 - 12.5 - 0.5)/4.787 = 2.507, p = 0.0061 < 0.02.
    assert_eq!(out, [I, I, I, I, F, F]);
}

#[test]
fn validation_names_the_field() {
    let e = JudgeSpec::Argo {
        max_error_rate: 1.5,
        failure_limit: 0,
        count: None,
        consecutive_error_limit: 4,
        inconclusive_limit: None,
    }
    .validate()
    .unwrap_err();
    assert!(e.contains("max_error_rate") && e.contains("1.5"), "{e}");
    let e = JudgeSpec::Compare {
        confidence: 0.4,
        min_requests: 1,
        mode: CompareMode::Cumulative,
        horizon: None,
    }
    .validate()
    .unwrap_err();
    assert!(e.contains("confidence"), "{e}");
    assert!(
        JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 1,
            mode: CompareMode::FixedHorizon,
            horizon: None,
        }
        .validate()
        .is_err()
    );
    assert!(
        JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 1,
            mode: CompareMode::PerInterval,
            horizon: Some(3),
        }
        .validate()
        .is_err()
    );
    assert!(
        JudgeSpec::Consecutive {
            max_error_rate: f64::NAN,
            consecutive: 2
        }
        .validate()
        .is_err()
    );
}

// ---- exactness of the false-alarm machinery -----------------------------

fn ln_fact(n: u64) -> f64 {
    statrs::function::gamma::ln_gamma(n as f64 + 1.0)
}
fn pois(k: u64, l: f64) -> f64 {
    if l == 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    (k as f64 * l.ln() - l - ln_fact(k)).exp()
}
fn binom(x: u64, n: u64, p: f64) -> f64 {
    (ln_fact(n) - ln_fact(x) - ln_fact(n - x) + x as f64 * p.ln() + (n - x) as f64 * (1.0 - p).ln())
        .exp()
}

#[test]
fn threshold_fail_prob_matches_brute_force_sum_over_n() {
    for &(l, p, max) in &[(5.0, 0.1, 0.2), (30.0, 0.02, 0.05), (12.0, 0.3, 0.3)] {
        let mut brute = 0.0;
        for n in 1..200u64 {
            let pn = pois(n, l);
            for x in 0..=n {
                if rate_exceeds(x, n, max) == Some(true) {
                    brute += pn * binom(x, n, p);
                }
            }
        }
        let q = threshold_fail_prob(l, p, max).unwrap();
        assert!((q - brute).abs() < 1e-12, "{l} {p} {max}: {q} vs {brute}");
    }
}

#[test]
fn z_test_size_matches_brute_force_enumeration() {
    for &(lc, lb, p, min) in &[(15.0, 25.0, 0.2, 5u64), (20.0, 20.0, 0.1, 1)] {
        let z_crit = normal_quantile(0.95);
        let nmax = 90u64;
        let bin: Vec<Vec<f64>> = (0..nmax)
            .map(|n| (0..=n).map(|x| binom(x, n, p)).collect())
            .collect();
        let mut brute = 0.0;
        for n1 in 0..nmax {
            let p1 = pois(n1, lc);
            for n2 in 0..nmax {
                let w = p1 * pois(n2, lb);
                for x1 in 0..=n1 {
                    let w1 = w * bin[n1 as usize][x1 as usize];
                    for x2 in 0..=n2 {
                        if z_rejects(x1, n1, x2, n2, min, z_crit) == Some(true) {
                            brute += w1 * bin[n2 as usize][x2 as usize];
                        }
                    }
                }
            }
        }
        let a = z_test_size(lc, lb, p, min, z_crit).unwrap();
        assert!((a - brute).abs() < 1e-10, "{a} vs {brute}");
    }
}

#[test]
fn nominal_closed_forms() {
    let argo0 = JudgeSpec::Argo {
        max_error_rate: 0.02,
        failure_limit: 0,
        count: None,
        consecutive_error_limit: 4,
        inconclusive_limit: None,
    };
    let q = threshold_fail_prob(500.0, 0.01, 0.02).unwrap();
    let got = argo0.nominal_false_alarm_rate(10, 0.01, 500.0).unwrap();
    assert!((got - (1.0 - (1.0 - q).powi(10))).abs() < 1e-12);
    // count caps the number of measurements
    let argo_c = JudgeSpec::Argo {
        max_error_rate: 0.02,
        failure_limit: 0,
        count: Some(4),
        consecutive_error_limit: 4,
        inconclusive_limit: None,
    };
    let got = argo_c.nominal_false_alarm_rate(10, 0.01, 500.0).unwrap();
    assert!((got - (1.0 - (1.0 - q).powi(4))).abs() < 1e-12);
    // Flagger threshold 2 over 3 checks: 3 q^2 (1-q) + q^3
    let fl = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 2,
        no_data_fails: false,
    };
    let got = fl.nominal_false_alarm_rate(3, 0.01, 500.0).unwrap();
    assert!((got - (3.0 * q * q * (1.0 - q) + q.powi(3))).abs() < 1e-12);
    // Consecutive 2 over 3 intervals: FF? or ?FF = q^2 + (1-q) q^2
    let co = JudgeSpec::Consecutive {
        max_error_rate: 0.02,
        consecutive: 2,
    };
    let got = co.nominal_false_alarm_rate(3, 0.01, 500.0).unwrap();
    assert!((got - (q * q + (1.0 - q) * q * q)).abs() < 1e-12);
    // no traffic at all -> never fails; zero intervals -> 0
    assert_eq!(argo0.nominal_false_alarm_rate(10, 0.01, 0.0), Some(0.0));
    assert_eq!(argo0.nominal_false_alarm_rate(0, 0.01, 500.0), Some(0.0));
    // Flagger's real no-data behaviour: lambda = 0 -> first check fails
    let fl_nd = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 1,
        no_data_fails: true,
    };
    assert_eq!(fl_nd.nominal_false_alarm_rate(1, 0.01, 0.0), Some(1.0));
    // Cumulative compare: no closed form beyond one look
    let cu = JudgeSpec::Compare {
        confidence: 0.95,
        min_requests: 100,
        mode: CompareMode::Cumulative,
        horizon: None,
    };
    assert!(cu.nominal_false_alarm_rate(1, 0.01, 2000.0).is_some());
    assert_eq!(cu.nominal_false_alarm_rate(5, 0.01, 2000.0), None);
    let mw = JudgeSpec::MannWhitney {
        confidence: 0.98,
        min_intervals: 50,
    };
    assert_eq!(mw.nominal_false_alarm_rate(49, 0.01, 100.0), Some(0.0));
    assert_eq!(mw.nominal_false_alarm_rate(50, 0.01, 100.0), None);
    // invalid inputs
    assert_eq!(argo0.nominal_false_alarm_rate(3, 1.5, 100.0), None);
    assert_eq!(argo0.nominal_false_alarm_rate(3, 0.01, f64::NAN), None);
}

#[test]
fn z_test_size_is_near_alpha_for_large_counts() {
    // The exact size is not alpha, but with ~50 expected errors per arm
    // the normal approximation should be within about 20 % of it.
    let a = z_test_size(5000.0, 5000.0, 0.01, 100, normal_quantile(0.95)).unwrap();
    assert!((a - 0.05).abs() < 0.01, "{a}");
    // Large realistic case stays fast enough and sane.
    let a = z_test_size(600.0, 5400.0, 0.01, 100, normal_quantile(0.95)).unwrap();
    assert!(a > 0.02 && a < 0.08, "{a}");
}

// ---- Monte-Carlo check against the nominal figures ----------------------

/// splitmix64: tiny, deterministic, good enough for these tests.
struct Rng(u64);
impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Poisson by inversion (fine for the small means used here).
    fn poisson(&mut self, l: f64) -> u64 {
        let u = self.unif();
        let mut k = 0u64;
        let mut p = (-l).exp();
        let mut c = p;
        while u > c && k < 10_000 {
            k += 1;
            p *= l / k as f64;
            c += p;
        }
        k
    }
    /// The simulator's way: N ~ Poisson, then N Bernoulli trials.
    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        (0..n).filter(|_| self.unif() < p).count() as u64
    }
}

fn simulate(spec: JudgeSpec, k: u32, p: f64, lc: f64, lb: f64, reps: u32, seed: u64) -> f64 {
    let mut rng = Rng(seed);
    let mut alarms = 0u32;
    for _ in 0..reps {
        let mut j = spec.start().unwrap();
        for _ in 0..k {
            let cn = rng.poisson(lc);
            let ce = rng.binomial(cn, p);
            let bn = rng.poisson(lb);
            let be = rng.binomial(bn, p);
            if j.observe(&counts(cn, ce, bn, be)) == Verdict::Failed {
                alarms += 1;
                break;
            }
        }
    }
    f64::from(alarms) / f64::from(reps)
}

fn assert_within_ci(sim: f64, nominal: f64, reps: u32, what: &str) {
    // 4.5 sigma: deterministic seeds, so this is a tolerance on the
    // model, not a flaky bound.
    let sd = (nominal * (1.0 - nominal) / f64::from(reps)).sqrt();
    assert!(
        (sim - nominal).abs() <= 4.5 * sd + 1e-9,
        "{what}: simulated {sim} vs nominal {nominal} (sd {sd})"
    );
}

#[test]
fn monte_carlo_matches_nominal_false_alarm_rates() {
    let reps = 20_000;
    let cases: [(JudgeSpec, u32, f64, f64, f64); 6] = [
        (
            JudgeSpec::Argo {
                max_error_rate: 0.1,
                failure_limit: 1,
                count: None,
                consecutive_error_limit: 4,
                inconclusive_limit: None,
            },
            8,
            0.05,
            60.0,
            60.0,
        ),
        (
            JudgeSpec::Flagger {
                max_error_rate: 0.08,
                threshold: 2,
                no_data_fails: true,
            },
            6,
            0.05,
            40.0,
            40.0,
        ),
        (
            JudgeSpec::Consecutive {
                max_error_rate: 0.06,
                consecutive: 2,
            },
            10,
            0.05,
            80.0,
            80.0,
        ),
        (
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 20,
                mode: CompareMode::PerInterval,
                horizon: None,
            },
            5,
            0.05,
            60.0,
            140.0,
        ),
        (
            JudgeSpec::Compare {
                confidence: 0.9,
                min_requests: 20,
                mode: CompareMode::FixedHorizon,
                horizon: Some(3),
            },
            4,
            0.05,
            40.0,
            60.0,
        ),
        (
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 20,
                mode: CompareMode::Cumulative,
                horizon: None,
            },
            1,
            0.05,
            60.0,
            140.0,
        ),
    ];
    for (i, (spec, k, p, lc, lb)) in cases.into_iter().enumerate() {
        let nominal = spec
            .nominal_false_alarm_rate_two_arms(k, p, lc, lb)
            .unwrap();
        let sim = simulate(spec, k, p, lc, lb, reps, 0xC0FFEE + i as u64);
        eprintln!("{spec:?} k={k}: nominal {nominal:.5}, simulated {sim:.5}");
        assert_within_ci(sim, nominal, reps, &format!("{spec:?}"));
        assert!(nominal > 0.01, "{spec:?}: case too easy ({nominal})");
    }
}

#[test]
fn cumulative_peeking_inflates_alpha() {
    // Why the cumulative mode has no nominal figure: looking 10 times
    // rejects a healthy canary far more often than one look does.
    let spec = JudgeSpec::Compare {
        confidence: 0.95,
        min_requests: 20,
        mode: CompareMode::Cumulative,
        horizon: None,
    };
    let one = spec.nominal_false_alarm_rate(1, 0.05, 100.0).unwrap();
    let sim10 = simulate(spec, 10, 0.05, 100.0, 100.0, 5_000, 7);
    eprintln!("cumulative: one look {one:.4}, ten looks simulated {sim10:.4}");
    assert!(sim10 > 2.0 * one, "one look {one}, ten looks {sim10}");
}

#[test]
fn no_panics_on_hostile_input() {
    let hostile = [
        counts(u64::MAX, u64::MAX, u64::MAX, u64::MAX),
        counts(0, 5, 0, 7),
        counts(10, 50, 10, 50),
        counts(1, 1, u64::MAX, 0),
    ];
    let specs = [
        JudgeSpec::Argo {
            max_error_rate: 0.0,
            failure_limit: u32::MAX,
            count: Some(0),
            consecutive_error_limit: 4,
            inconclusive_limit: None,
        },
        JudgeSpec::Flagger {
            max_error_rate: 1.0,
            threshold: u32::MAX,
            no_data_fails: true,
        },
        JudgeSpec::Consecutive {
            max_error_rate: 0.5,
            consecutive: u32::MAX,
        },
        JudgeSpec::Compare {
            confidence: 0.999_999,
            min_requests: u64::MAX,
            mode: CompareMode::Cumulative,
            horizon: None,
        },
        JudgeSpec::Compare {
            confidence: 0.6,
            min_requests: 0,
            mode: CompareMode::FixedHorizon,
            horizon: Some(u32::MAX),
        },
        JudgeSpec::MannWhitney {
            confidence: 1e-9,
            min_intervals: 1,
        },
    ];
    for s in specs {
        let mut j = s.start().unwrap();
        for _ in 0..3 {
            for c in &hostile {
                let _ = j.observe(c);
            }
        }
        for &(k, p, l) in &[
            (u32::MAX, 0.5, 1e9),
            (3, 0.0, 10.0),
            (3, 1.0, 10.0),
            (3, 0.5, f64::INFINITY),
            (3, -0.1, 10.0),
            (3, 0.01, 1e30),
        ] {
            let _ = s.nominal_false_alarm_rate(k, p, l);
        }
    }
    assert!(normal_sf(f64::NAN).is_nan());
    assert!(normal_quantile(2.0).is_nan());
    let _ = two_proportion_z(u64::MAX, u64::MAX, 0, u64::MAX);
    let _ = mann_whitney_u_p_value(&[f64::INFINITY, 1.0], &[f64::NEG_INFINITY]);
}

#[test]
fn argo_errors_the_analysis_after_consecutive_error_limit_query_errors() {
    let mut j = JudgeSpec::Argo {
        max_error_rate: 0.02,
        failure_limit: 0,
        count: None,
        consecutive_error_limit: 2,
        inconclusive_limit: None,
    }
    .start()
    .unwrap();
    assert_eq!(j.observe_query_error(), Verdict::Inconclusive);
    assert_eq!(j.observe_query_error(), Verdict::Inconclusive);
    // A measurement in between resets the run of errors.
    assert_eq!(j.observe(&counts(1000, 1, 0, 0)), Verdict::Healthy);
    assert_eq!(j.observe_query_error(), Verdict::Inconclusive);
    assert_eq!(j.observe_query_error(), Verdict::Inconclusive);
    // The third error in a row exceeds the limit of 2.
    assert_eq!(j.observe_query_error(), Verdict::Failed);
}

#[test]
fn flagger_counts_a_failed_query_as_a_failed_check_and_others_ignore_it() {
    let mut f = JudgeSpec::Flagger {
        max_error_rate: 0.02,
        threshold: 2,
        no_data_fails: false,
    }
    .start()
    .unwrap();
    assert_eq!(f.observe_query_error(), Verdict::Healthy);
    assert_eq!(f.observe_query_error(), Verdict::Failed);
    let mut c = JudgeSpec::Consecutive {
        max_error_rate: 0.02,
        consecutive: 2,
    }
    .start()
    .unwrap();
    assert_eq!(c.observe(&counts(1000, 100, 0, 0)), Verdict::Healthy);
    assert_eq!(c.observe_query_error(), Verdict::Inconclusive);
    // The error broke the run: one more bad interval is not yet two in a row.
    assert_eq!(c.observe(&counts(1000, 100, 0, 0)), Verdict::Healthy);
}
