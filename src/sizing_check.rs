//! Checks a canary size by simulation: run the canary for the duration the
//! power formula gives, with Poisson traffic split by the canary's share and binomial
//! errors (the simulator's own traffic model), apply the same two-sided
//! two-proportion z-test, and count how often the worse canary is detected.

use crate::engine::{Purpose, stream};
use crate::sizing::SizingResult;
use crate::stats::{binomial, poisson};
use crate::world::judge::{normal_quantile, two_proportion_z};

/// What to simulate: the canary's error rates, test confidence and traffic.
#[derive(Debug, Clone, Copy)]
pub struct Check {
    pub baseline_error: f64,
    pub detect_error: f64,
    pub confidence: f64,
    pub rps: f64,
    pub duration_s: f64,
    pub trials: u64,
    pub seed: u64,
}

/// Share of `trials` simulated canaries, each run for `duration_s` at `rps`
/// total, in which the z-test rejects equality at `confidence` (two-sided)
/// with the canary worse.
pub fn detection_rate(sizing: &SizingResult, check: Check) -> f64 {
    let Check {
        baseline_error,
        detect_error,
        confidence,
        rps,
        duration_s,
        trials,
        seed,
    } = check;
    let z_crit = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let w = sizing.canary_share;
    let mut detected = 0u64;
    for trial in 0..trials {
        let mut rng = stream(seed, trial, Purpose::Traffic);
        let n_canary = poisson(&mut rng, rps * w * duration_s);
        let n_base = poisson(&mut rng, rps * (1.0 - w) * duration_s);
        let x_canary = binomial(&mut rng, n_canary, detect_error);
        let x_base = binomial(&mut rng, n_base, baseline_error);
        if two_proportion_z(x_canary, n_canary, x_base, n_base) > z_crit {
            detected += 1;
        }
    }
    detected as f64 / trials.max(1) as f64
}

/// The text `cutover canary-size` prints: the requests and duration the power
/// formula asks for, then the detection rate a simulation reaches at that duration.
pub fn report(
    baseline_error: f64,
    detect_error: f64,
    rps: f64,
    weight_percent: f64,
    confidence: f64,
    power: f64,
) -> crate::Result<String> {
    if !(rps.is_finite() && rps > 0.0) {
        return Err(crate::Error::Usage(format!(
            "--rps must be greater than 0, got {rps}"
        )));
    }
    let sizing = crate::sizing::requests_per_arm(
        baseline_error,
        detect_error,
        confidence,
        power,
        weight_percent,
    )
    .map_err(crate::Error::Usage)?;
    let duration_s = sizing.duration_s(rps);
    let trials = 4000;
    let check = Check {
        baseline_error,
        detect_error,
        confidence,
        rps,
        duration_s,
        trials,
        seed: 1,
    };
    let rate = detection_rate(&sizing, check);
    Ok(format!(
        "to tell a {:.3}% error rate from {:.3}% (two-sided, confidence {confidence}, power {power}):\n\
         canary requests needed:   {}\n\
         baseline requests (same time, weight {weight_percent}%): {}\n\
         shortest canary at {rps} rps: {:.1} s ({:.1} min)\n\
         check by simulation ({trials} canaries of that length, Poisson traffic): detected {:.1}% (asked for {:.1}%)\n",
        baseline_error * 100.0,
        detect_error * 100.0,
        sizing.canary_requests,
        sizing.baseline_requests,
        duration_s,
        duration_s / 60.0,
        rate * 100.0,
        power * 100.0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::requests_per_arm;

    #[test]
    fn simulated_power_is_close_to_the_requested_power() {
        let sizing = requests_per_arm(0.01, 0.02, 0.95, 0.8, 5.0).unwrap();
        let duration = sizing.duration_s(1000.0);
        let trials = 4000;
        let check = Check {
            baseline_error: 0.01,
            detect_error: 0.02,
            confidence: 0.95,
            rps: 1000.0,
            duration_s: duration,
            trials,
            seed: 1,
        };
        let rate = detection_rate(&sizing, check);
        // Within sampling error (99% interval of a proportion) of the power asked for.
        let half = 2.576 * (0.8f64 * 0.2 / trials as f64).sqrt();
        assert!((rate - 0.8).abs() < half, "simulated power {rate}");
    }
}
