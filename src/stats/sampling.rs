//! Drawing random quantities: Poisson and binomial counts (rand_distr, with
//! the degenerate cases handled so a draw never fails) and the log-normal
//! [`Spread`] that start-up times, error rates and response times follow.

use rand::Rng;
use rand_distr::{Binomial, Distribution, Poisson, StandardNormal};

/// A Poisson count with the given mean; 0 for a mean that is not positive.
pub fn poisson<R: Rng + ?Sized>(rng: &mut R, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(p) => {
            let x: f64 = p.sample(rng);
            x as u64
        }
        Err(_) => mean.round() as u64,
    }
}

/// A binomial count of `n` trials at `p`; 0 or `n` at the ends.
pub fn binomial<R: Rng + ?Sized>(rng: &mut R, n: u64, p: f64) -> u64 {
    if n == 0 || p.is_nan() || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    match Binomial::new(n, p) {
        Ok(b) => b.sample(rng),
        Err(_) => (n as f64 * p).round() as u64,
    }
}

/// A positive quantity: fixed, or log-normal with the given median and 95th
/// percentile (start-up times and error rates are right-skewed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub p95: f64,
}

impl Spread {
    pub fn fixed(value: f64) -> Spread {
        Spread {
            median: value,
            p95: value,
        }
    }

    pub fn is_fixed(&self) -> bool {
        self.p95 == self.median
    }

    /// The log-normal's sigma: ln(p95 / median) / z(0.95).
    pub fn sigma(&self) -> f64 {
        if self.is_fixed() || self.median <= 0.0 {
            0.0
        } else {
            (self.p95 / self.median).ln() / 1.644_853_626_951_472_2
        }
    }

    pub fn mean(&self) -> f64 {
        let s = self.sigma();
        self.median * (s * s / 2.0).exp()
    }

    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        // One normal draw per sample even when fixed, so a stream's position
        // does not depend on whether a spread happens to be fixed.
        let z: f64 = StandardNormal.sample(rng);
        if self.is_fixed() {
            self.median
        } else {
            self.median * (self.sigma() * z).exp()
        }
    }
}
