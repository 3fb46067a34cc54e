//! Checks a canary size by simulation: run the canary for the duration the
//! power formula gives, with Poisson traffic split by weight and binomial
//! errors (the simulator's own traffic model), apply the same two-sided
//! two-proportion z-test, and count how often the worse canary is detected.

use crate::engine::{Purpose, stream};
use crate::sizing::SizingResult;
use crate::world::judge::{normal_quantile, two_proportion_z};
use crate::world::traffic::{binomial, poisson};

/// Share of `trials` simulated canaries, each run for `duration_s` at `rps`
/// total, in which the z-test rejects equality at `confidence` (two-sided)
/// with the canary worse.
pub fn detection_rate(
    sizing: &SizingResult,
    baseline_error: f64,
    detect_error: f64,
    confidence: f64,
    rps: f64,
    duration_s: f64,
    trials: u64,
    seed: u64,
) -> f64 {
    let z_crit = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let w = sizing.canary_weight;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sizing::requests_per_arm;

    #[test]
    fn simulated_power_is_close_to_the_requested_power() {
        let sizing = requests_per_arm(0.01, 0.02, 0.95, 0.8, 0.05).unwrap();
        let duration = sizing.duration_s(1000.0);
        let trials = 4000;
        let rate = detection_rate(&sizing, 0.01, 0.02, 0.95, 1000.0, duration, trials, 1);
        // Within sampling error (99% interval of a proportion) of the power asked for.
        let half = 2.576 * (0.8f64 * 0.2 / trials as f64).sqrt();
        assert!((rate - 0.8).abs() < half, "simulated power {rate}");
    }
}
