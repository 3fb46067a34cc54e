//! Hypothesis tests the judges use: the two-proportion z-test, the normal
//! tail and quantile, and the Mann-Whitney U test.

use statrs::distribution::{ContinuousCDF, Normal};

/// Pooled two-proportion z statistic, canary (`x1` of `n1`) minus baseline
/// (`x2` of `n2`):
///
/// z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)),  p = (x1 + x2) / (n1 + n2)
///
/// computed in the algebraically identical form
/// z = (x1 n2 - x2 n1) * sqrt(N / (n1 n2 T (N - T))), N = n1 + n2,
/// T = x1 + x2, which has one rounding-sensitive subtraction instead of three.
/// Returns 0 (no evidence) when an arm is empty or the pooled proportion is 0
/// or 1 (zero variance). Errors above requests are clamped.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 0.0;
    }
    let (a, n) = (x1.min(n1) as f64, n1 as f64);
    let (b, m) = (x2.min(n2) as f64, n2 as f64);
    let big_n = n + m;
    let t = a + b;
    if t == 0.0 || t >= big_n {
        return 0.0;
    }
    (a * m - b * n) * (big_n / (n * m * t * (big_n - t))).sqrt()
}

/// Standard normal survival function P(Z > z) (statrs; accurate in the far
/// tail since it goes through erfc). NaN gives NaN.
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    Normal::standard().sf(z)
}

/// Standard normal quantile Phi^{-1}(p); -inf/+inf at 0/1, NaN outside
/// [0, 1] (statrs panics there, we do not).
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    Normal::standard().inverse_cdf(p)
}

/// One-sided Mann-Whitney U test, alternative "canary values tend to be
/// greater than baseline values", normal approximation with tie correction
/// and a 0.5 continuity correction (the same as SciPy's
/// `mannwhitneyu(canary, baseline, alternative="greater", method="asymptotic")`):
///
/// U = R_canary - n1 (n1 + 1) / 2 (midranks for ties),
/// sigma^2 = n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))),
/// p = P(Z > (U - n1 n2 / 2 - 0.5) / sigma).
///
/// Non-finite values are dropped. Returns 1 (no evidence) when an arm is
/// empty or every value is tied.
pub fn mann_whitney_u_p_value(canary: &[f64], baseline: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = canary
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| (v, true))
        .chain(
            baseline
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| (v, false)),
        )
        .collect();
    let n1 = all.iter().filter(|e| e.1).count() as f64;
    let n2 = all.len() as f64 - n1;
    if n1 == 0.0 || n2 == 0.0 {
        return 1.0;
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let big_n = all.len();
    let mut rank_sum = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < big_n {
        let mut j = i;
        while j + 1 < big_n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Positions i..=j (0-based) share the midrank of ranks i+1..=j+1.
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum += midrank * all[i..=j].iter().filter(|e| e.1).count() as f64;
        i = j + 1;
    }
    let nf = big_n as f64;
    let u = rank_sum - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 || !var.is_finite() {
        return 1.0;
    }
    normal_sf((u - mean - 0.5) / var.sqrt())
}
