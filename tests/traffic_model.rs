//! The aggregated traffic model (one Poisson draw of requests per span, then
//! binomial failures) against a per-request simulation written here: requests
//! arrive with exponential inter-arrival times, and each one fails from the
//! defect with probability d, otherwise at the healthy baseline b.
//!
//! Both must agree with each other and with theory. For a span of T seconds
//! at λ rps, defect failures are Poisson(λ·T·d) and baseline failures
//! Poisson(λ·T·(1−d)·b): with λ = 50, T = 20, d = 0.1, b = 0.01 the defect
//! failures have mean = variance = 100 and the baseline ones 9.
//!
//! Checks are 99% intervals from the samples: a Welch two-sample interval on
//! the difference of means, an F interval on the ratio of variances, and
//! one-sample t and chi-square intervals against the theoretical values.

use cutover::world::traffic::{Offer, VersionSpan, draw};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor, StudentsT};

const RATE: f64 = 50.0;
const DURATION_S: f64 = 20.0;
const DEFECT: f64 = 0.1;
const BASELINE: f64 = 0.01;
const DRAWS: usize = 4000;

const OFFER: Offer = Offer {
    rate_rps: RATE,
    // Ample: 1,000 times the offered rate, so nothing is dropped.
    capacity_rps: 1000.0 * RATE,
    refused_share: 0.0,
    schema_error_rate: 0.0,
    defect_error_rate: DEFECT,
    baseline_error_rate: BASELINE,
};

/// One span, one request at a time.
fn per_request(rng: &mut ChaCha8Rng) -> VersionSpan {
    let mut span = VersionSpan::default();
    let mut t = 0.0;
    loop {
        // Exponential inter-arrival by inversion; 1 − u is in (0, 1].
        let u: f64 = rng.random();
        t += -(1.0 - u).ln() / RATE;
        if t >= DURATION_S {
            return span;
        }
        span.served += 1;
        if rng.random::<f64>() < DEFECT {
            span.defect_errors += 1;
        } else if rng.random::<f64>() < BASELINE {
            span.baseline_errors += 1;
        }
    }
}

struct Sample {
    mean: f64,
    var: f64,
    n: f64,
}

fn sample(values: &[f64]) -> Sample {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Sample { mean, var, n }
}

fn t995(dof: f64) -> f64 {
    StudentsT::new(0.0, 1.0, dof).unwrap().inverse_cdf(0.995)
}

fn check(what: &str, value: f64, lo: f64, hi: f64) {
    eprintln!("{what}: {value} in 99% interval [{lo:.4}, {hi:.4}]?");
    assert!(
        lo <= value && value <= hi,
        "{what}: {value} outside the 99% interval [{lo}, {hi}]"
    );
}

/// Mean difference (Welch 99% interval must hold 0) and each mean against
/// theory (t interval must hold `theory`). With `variances`, also the variance
/// ratio (99% F interval must hold 1) and each variance against theory
/// (chi-square interval must hold `theory`, the Poisson variance). The F and
/// chi-square intervals assume near-normal counts, true for Poisson means of
/// 100 and more (excess kurtosis 1/λ ≤ 0.01), so they are only used there.
fn compare(what: &str, aggregated: &[f64], per_request: &[f64], theory: f64, variances: bool) {
    let (a, p) = (sample(aggregated), sample(per_request));

    let (va, vp) = (a.var / a.n, p.var / p.n);
    let se = (va + vp).sqrt();
    let welch_dof = (va + vp).powi(2) / (va * va / (a.n - 1.0) + vp * vp / (p.n - 1.0));
    let diff = a.mean - p.mean;
    let half = t995(welch_dof) * se;
    check(
        &format!("{what}: 0 vs difference of means {diff:.4}"),
        0.0,
        diff - half,
        diff + half,
    );

    for (name, s) in [("aggregated", &a), ("per-request", &p)] {
        let half = t995(s.n - 1.0) * (s.var / s.n).sqrt();
        check(
            &format!("{what}: theory vs {name} mean {:.4}", s.mean),
            theory,
            s.mean - half,
            s.mean + half,
        );
    }
    if !variances {
        return;
    }

    // var_a/var_p ÷ (σa²/σp²) is F(n_a − 1, n_p − 1); the 99% interval of σa²/σp².
    let f = FisherSnedecor::new(a.n - 1.0, p.n - 1.0).unwrap();
    let ratio = a.var / p.var;
    check(
        &format!("{what}: 1 vs ratio of variances {ratio:.4}"),
        1.0,
        ratio / f.inverse_cdf(0.995),
        ratio / f.inverse_cdf(0.005),
    );
    for (name, s) in [("aggregated", &a), ("per-request", &p)] {
        let chi = ChiSquared::new(s.n - 1.0).unwrap();
        let ss = (s.n - 1.0) * s.var;
        check(
            &format!("{what}: theory vs {name} variance {:.4}", s.var),
            theory,
            ss / chi.inverse_cdf(0.995),
            ss / chi.inverse_cdf(0.005),
        );
    }
}

fn spans() -> (Vec<VersionSpan>, Vec<VersionSpan>) {
    let mut rng_a = ChaCha8Rng::seed_from_u64(0xA66);
    let mut rng_p = ChaCha8Rng::seed_from_u64(0x9E9);
    let aggregated: Vec<VersionSpan> = (0..DRAWS)
        .map(|_| draw(&mut rng_a, OFFER, DURATION_S))
        .collect();
    let per_request: Vec<VersionSpan> = (0..DRAWS).map(|_| per_request(&mut rng_p)).collect();
    (aggregated, per_request)
}

#[test]
fn defect_failures_match_a_per_request_simulation() {
    let (aggregated, per_request) = spans();
    assert!(
        aggregated.iter().all(|s| s.dropped == 0),
        "ample capacity drops nothing"
    );
    let pick = |spans: &[VersionSpan]| -> Vec<f64> {
        spans.iter().map(|s| s.defect_errors as f64).collect()
    };
    compare(
        "defect failures",
        &pick(&aggregated),
        &pick(&per_request),
        RATE * DURATION_S * DEFECT,
        true,
    );
}

#[test]
fn baseline_failures_and_requests_match_a_per_request_simulation() {
    let (aggregated, per_request) = spans();
    let baseline = |spans: &[VersionSpan]| -> Vec<f64> {
        spans.iter().map(|s| s.baseline_errors as f64).collect()
    };
    compare(
        "baseline failures",
        &baseline(&aggregated),
        &baseline(&per_request),
        RATE * DURATION_S * (1.0 - DEFECT) * BASELINE,
        false,
    );
    let served =
        |spans: &[VersionSpan]| -> Vec<f64> { spans.iter().map(|s| s.served as f64).collect() };
    compare(
        "served requests",
        &served(&aggregated),
        &served(&per_request),
        RATE * DURATION_S,
        true,
    );
}
