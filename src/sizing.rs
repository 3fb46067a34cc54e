//! Canary sizing: how many requests each arm needs before a comparison of
//! error rates can tell a regression from noise.
//!
//! Two-sided test of two proportions at level alpha = 1 - confidence with
//! power 1 - beta against baseline error p1 and regressed canary error p2.
//!
//! Equal arms (Fleiss, Levin & Paik, *Statistical Methods for Rates and
//! Proportions*, 3rd ed., ch. 4, formula without continuity correction):
//!
//! ```text
//! n = ( z_{1-a/2} sqrt(2 pbar (1 - pbar)) + z_{1-b} sqrt(p1 (1-p1) + p2 (1-p2)) )^2 / (p2 - p1)^2
//! pbar = (p1 + p2) / 2
//! ```
//!
//! Unequal arms. The canary gets a fraction w of the traffic (its weight, a
//! percentage, over 100) and the baseline
//! 1 - w *over the same time*, so the baseline sees k = (1 - w) / w times as
//! many requests: n_b = k n_c. The variance of the difference of observed
//! rates is
//!
//! * under H0 (pooled): pbar (1 - pbar) (1/n_c + 1/n_b) = pbar (1 - pbar) (1 + 1/k) / n_c,
//!   with the allocation-weighted pooled rate pbar = (p_c + k p_b) / (1 + k);
//! * under H1: p_c (1 - p_c) / n_c + p_b (1 - p_b) / n_b = (p_c (1 - p_c) + p_b (1 - p_b) / k) / n_c.
//!
//! Requiring the critical value under H0 to sit z_{1-b} standard deviations
//! (H1's) below the true difference gives
//!
//! ```text
//! n_c = ( z_{1-a/2} sqrt(pbar (1 - pbar) (1 + 1/k)) + z_{1-b} sqrt(p_c (1-p_c) + p_b (1-p_b) / k) )^2 / (p_c - p_b)^2
//! ```
//!
//! which is Fleiss, Levin & Paik's unequal-allocation formula (n2 = r n1)
//! divided through by r. At w = 0.5 (k = 1) it is term for term the
//! equal-arm formula. Like the formula, we ignore the (tiny) probability of
//! rejecting in the wrong direction.
//!
//! Worked figure: 1 % -> 2 %, confidence 0.95 two-sided, power 0.8, equal
//! arms: z = 1.959964, 0.841621; pbar = 0.015;
//! (1.959964 * 0.171901 + 0.841621 * 0.171756)^2 / 0.01^2 = 2318.2, so
//! 2,319 requests per arm.

use statrs::distribution::{ContinuousCDF, Normal};

/// Requests needed per arm, and the traffic split they assume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizingResult {
    /// Canary requests needed (rounded up).
    pub canary_requests: u64,
    /// Baseline requests seen over the same time: (1 - w) / w times the
    /// canary's (rounded up).
    pub baseline_requests: u64,
    /// Fraction of traffic sent to the canary (the weight / 100).
    pub canary_share: f64,
    /// The formula's unrounded canary figure.
    pub exact_canary_requests: f64,
}

impl SizingResult {
    /// Shortest canary duration in seconds at `rps` total requests per
    /// second: the canary sees rps * w of them. Infinite when `rps` is not a
    /// positive number.
    pub fn duration_s(&self, rps: f64) -> f64 {
        let canary_rps = rps * self.canary_share;
        if canary_rps > 0.0 && canary_rps.is_finite() {
            self.canary_requests as f64 / canary_rps
        } else if canary_rps == f64::INFINITY {
            0.0
        } else {
            f64::INFINITY
        }
    }
}

fn open_unit(flag: &str, v: f64) -> Result<(), String> {
    if v > 0.0 && v < 1.0 {
        Ok(())
    } else {
        Err(format!("{flag} must be in (0, 1), got {v}"))
    }
}

/// A canary weight is a whole-traffic percentage, as in a canary step's
/// `weight` (Argo Rollouts' setWeight): strictly between 0 and 100, since a
/// canary with no traffic, or with all of it, has nothing to compare with.
fn open_percentage(flag: &str, v: f64) -> Result<(), String> {
    if v > 0.0 && v < 100.0 {
        Ok(())
    } else {
        Err(format!(
            "{flag} must be a percentage in (0, 100) (5 = 5% of requests on the canary), got {v}"
        ))
    }
}

/// Rounds up, but treats values within 1e-9 (relative) of an integer as
/// that integer, so floating noise such as 0.9 / 0.1 = 9.000000000000002
/// does not add a request.
fn ceil_tolerant(x: f64) -> f64 {
    let r = x.round();
    if (x - r).abs() <= 1e-9 * x.abs().max(1.0) {
        r
    } else {
        x.ceil()
    }
}

/// Requests per arm for a two-sided two-proportion test (see module docs).
///
/// * `baseline_error`: current error rate p_b, in (0, 1)
/// * `detect_error`: regressed canary error rate p_c to detect, in (0, 1), > p_b
/// * `confidence`: 1 - alpha, two-sided, in (0, 1)
/// * `power`: 1 - beta, in (0, 1)
/// * `canary_weight_percent`: percentage of traffic on the canary, in (0, 100);
///   the formulas use the fraction w = weight / 100
///
/// Errors name the CLI flag, e.g. "--power must be in (0, 1), got 1.5".
pub fn requests_per_arm(
    baseline_error: f64,
    detect_error: f64,
    confidence: f64,
    power: f64,
    canary_weight_percent: f64,
) -> Result<SizingResult, String> {
    open_unit("--baseline-error", baseline_error)?;
    open_unit("--detect-error", detect_error)?;
    if detect_error <= baseline_error {
        return Err(format!(
            "--detect-error must be greater than --baseline-error, got {detect_error} <= {baseline_error}"
        ));
    }
    open_unit("--confidence", confidence)?;
    open_unit("--power", power)?;
    open_percentage("--weight", canary_weight_percent)?;

    let std_normal = Normal::standard();
    // Arguments are strictly inside (0, 1) here, so inverse_cdf cannot panic.
    let z_alpha = std_normal.inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let z_beta = std_normal.inverse_cdf(power);

    let (pb, pc) = (baseline_error, detect_error);
    let w = canary_weight_percent / 100.0;
    let k = (1.0 - w) / w; // baseline requests per canary request
    let pbar = (pc + k * pb) / (1.0 + k);
    let h0 = (pbar * (1.0 - pbar) * (1.0 + 1.0 / k)).sqrt();
    let h1 = (pc * (1.0 - pc) + pb * (1.0 - pb) / k).sqrt();
    // With power < 1/2, z_beta < 0 and the bracket can go negative: then any
    // sample already has the requested power, and one request is enough.
    let bracket = (z_alpha * h0 + z_beta * h1).max(0.0);
    let n = bracket * bracket / ((pc - pb) * (pc - pb));
    if !n.is_finite() {
        return Err(format!(
            "required sample size is not representable (baseline {pb}, detect {pc}, weight {canary_weight_percent}%)"
        ));
    }
    let canary = ceil_tolerant(n).max(1.0);
    let baseline = ceil_tolerant(canary * k).max(1.0);
    // u64::MAX as f64 rounds up to 2^64, so compare with >=.
    if canary >= u64::MAX as f64 || baseline >= u64::MAX as f64 {
        return Err(format!(
            "required sample size overflows (canary {canary:e}, baseline {baseline:e} requests)"
        ));
    }
    Ok(SizingResult {
        canary_requests: canary as u64,
        baseline_requests: baseline as u64,
        canary_share: w,
        exact_canary_requests: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_to_two_percent_needs_2319_per_arm() {
        let r = requests_per_arm(0.01, 0.02, 0.95, 0.8, 50.0).unwrap();
        assert_eq!(r.canary_requests, 2319);
        assert_eq!(r.baseline_requests, 2319);
        assert!((r.exact_canary_requests - 2318.2).abs() < 0.1);
    }

    #[test]
    fn tenth_to_two_tenths_percent_needs_23511_per_arm() {
        let r = requests_per_arm(0.001, 0.002, 0.95, 0.8, 50.0).unwrap();
        assert_eq!(r.canary_requests, 23_511);
        assert_eq!(r.baseline_requests, 23_511);
    }

    #[test]
    fn one_to_one_and_a_half_percent_needs_7750_per_arm() {
        let r = requests_per_arm(0.01, 0.015, 0.95, 0.8, 50.0).unwrap();
        assert_eq!(r.canary_requests, 7_750);
        assert_eq!(r.baseline_requests, 7_750);
    }

    #[test]
    fn unequal_arms() {
        // 10 % canary (w = 0.1): k = 9, pbar = (0.02 + 9 * 0.01) / 10 = 0.011
        // H0 sd factor sqrt(0.011 * 0.989 * 10/9) = 0.109944
        // H1 sd factor sqrt(0.0196 + 0.0099 / 9)   = 0.143875
        // n_c = (1.959964 * 0.109944 + 0.841621 * 0.143875)^2 / 1e-4 = 1132.8
        let r = requests_per_arm(0.01, 0.02, 0.95, 0.8, 10.0).unwrap();
        assert!(
            (r.exact_canary_requests - 1132.83).abs() < 0.01,
            "{}",
            r.exact_canary_requests
        );
        assert_eq!(r.canary_requests, 1133);
        assert_eq!(r.baseline_requests, 9 * 1133); // no float-noise extra request
        // A small canary needs fewer canary requests than equal arms (the big
        // baseline is nearly noise-free) but more time: 1133 canary requests
        // at 10 % of 100 rps take 113.3 s, vs 2319 at 50 % -> 46.38 s.
        assert!((r.duration_s(100.0) - 113.3).abs() < 1e-9);
        let eq = requests_per_arm(0.01, 0.02, 0.95, 0.8, 50.0).unwrap();
        assert!((eq.duration_s(100.0) - 46.38).abs() < 1e-9);
        // 90 % canary: k = 1/9, n_c = 12626 (12625.97 rounded up) and the
        // baseline sees a ninth of that, rounded up: 1403.
        let r9 = requests_per_arm(0.01, 0.02, 0.95, 0.8, 90.0).unwrap();
        assert_eq!(r9.canary_requests, 12_626);
        assert_eq!(r9.baseline_requests, 1_403);
    }

    #[test]
    fn weight_half_equals_equal_arm_formula() {
        for &(p1, p2, conf, pow) in &[(0.01, 0.02, 0.95, 0.8), (0.05, 0.07, 0.99, 0.9)] {
            let za = Normal::standard().inverse_cdf(1.0 - (1.0 - conf) / 2.0);
            let zb = Normal::standard().inverse_cdf(pow);
            let pbar: f64 = (p1 + p2) / 2.0;
            let n = (za * (2.0 * pbar * (1.0 - pbar)).sqrt()
                + zb * (p1 * (1.0 - p1) + p2 * (1.0 - p2)).sqrt())
            .powi(2)
                / (p2 - p1).powi(2);
            let r = requests_per_arm(p1, p2, conf, pow, 50.0).unwrap();
            assert!((r.exact_canary_requests - n).abs() < 1e-9 * n);
        }
    }

    #[test]
    fn validation_names_the_flag() {
        let e = requests_per_arm(0.01, 0.02, 0.95, 0.8, 150.0).unwrap_err();
        assert_eq!(
            e,
            "--weight must be a percentage in (0, 100) (5 = 5% of requests on the canary), got 150"
        );
        for w in [0.0, 100.0, -5.0, f64::NAN] {
            let e = requests_per_arm(0.01, 0.02, 0.95, 0.8, w).unwrap_err();
            assert!(e.starts_with("--weight"), "{w}: {e}");
        }
        // A weight is a percentage: 0.5 is a half-percent canary, not half the traffic.
        let half_percent = requests_per_arm(0.01, 0.02, 0.95, 0.8, 0.5).unwrap();
        assert_eq!(half_percent.canary_share, 0.005);
        let e = requests_per_arm(0.0, 0.02, 0.95, 0.8, 50.0).unwrap_err();
        assert!(e.starts_with("--baseline-error"), "{e}");
        let e = requests_per_arm(0.01, 1.0, 0.95, 0.8, 50.0).unwrap_err();
        assert!(e.starts_with("--detect-error"), "{e}");
        let e = requests_per_arm(0.02, 0.02, 0.95, 0.8, 50.0).unwrap_err();
        assert!(e.contains("greater than --baseline-error"), "{e}");
        let e = requests_per_arm(0.01, 0.02, 1.0, 0.8, 50.0).unwrap_err();
        assert!(e.starts_with("--confidence"), "{e}");
        let e = requests_per_arm(0.01, 0.02, 0.95, f64::NAN, 50.0).unwrap_err();
        assert!(e.starts_with("--power"), "{e}");
    }

    #[test]
    fn no_panics_on_extreme_input() {
        let xs = [
            f64::MIN_POSITIVE,
            1e-300,
            1e-12,
            0.5,
            1.0 - 1e-16,
            f64::NAN,
            -1.0,
            f64::INFINITY,
        ];
        let weights = [
            f64::MIN_POSITIVE,
            1e-300,
            1e-12,
            50.0,
            100.0 - 1e-13,
            f64::NAN,
            -1.0,
            f64::INFINITY,
        ];
        for &a in &xs {
            for &b in &xs {
                for &w in &weights {
                    if let Ok(r) = requests_per_arm(a, b, 0.95, 0.8, w) {
                        let _ = r.duration_s(100.0);
                    }
                    let _ = requests_per_arm(0.01, 0.02, a, b, w);
                }
            }
        }
        let r = requests_per_arm(0.01, 0.02, 0.95, 0.8, 50.0).unwrap();
        assert_eq!(r.duration_s(0.0), f64::INFINITY);
        assert_eq!(r.duration_s(f64::NAN), f64::INFINITY);
        assert_eq!(r.duration_s(-3.0), f64::INFINITY);
        // Tiny power: one request suffices, not a negative bracket squared.
        // (confidence 0.5, power 0.001: 0.674 * 0.616 - 3.09 * 0.510 < 0)
        let r = requests_per_arm(0.01, 0.5, 0.5, 0.001, 50.0).unwrap();
        assert_eq!(r.canary_requests, 1);
    }
}
