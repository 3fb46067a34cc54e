//! Traffic without one event per request. Between two events every rate and
//! share is constant, so the requests each version gets in the span are a
//! Poisson draw and the failures among them binomial draws: exact in
//! distribution, and hundreds of times cheaper than per-request events
//! (tests/traffic_model.rs checks it against a per-request simulation).

use crate::stats::{binomial, poisson};
use rand::{Rng, RngExt};
use rand_distr::{Distribution, StandardNormal};

/// The request rate over a day: rate_rps × (1 + amplitude·cos(2π(h − peak_hour)/24)),
/// with the deployment starting at `start_hour`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DailyCurve {
    /// Mean request rate over a day.
    pub rate_rps: f64,
    pub amplitude: f64,
    pub peak_hour: f64,
    pub start_hour: f64,
}

impl DailyCurve {
    /// Requests per second at `t_s` seconds after the deployment started.
    pub fn rate_at(&self, t_s: f64) -> f64 {
        let phase = std::f64::consts::TAU
            * (self.start_hour * 3600.0 + t_s - self.peak_hour * 3600.0)
            / 86_400.0;
        self.rate_rps * (1.0 + self.amplitude * phase.cos())
    }

    /// Mean request rate over [t0_s, t1_s], integrating the curve exactly.
    pub fn mean_rate(&self, t0_s: f64, t1_s: f64) -> f64 {
        if self.amplitude == 0.0 || t1_s <= t0_s {
            return self.rate_at(t0_s);
        }
        let w = std::f64::consts::TAU / 86_400.0;
        let offset = (self.start_hour - self.peak_hour) * 3600.0;
        let integral_cos = ((w * (t1_s + offset)).sin() - (w * (t0_s + offset)).sin()) / w;
        self.rate_rps * (1.0 + self.amplitude * integral_cos / (t1_s - t0_s))
    }
}

/// What one version saw during one span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionSpan {
    /// Requests the version's instances served.
    pub served: u64,
    /// Requests refused for lack of serving capacity (the client sees a 503).
    pub dropped: u64,
    /// Served requests that failed because the schema no longer fits the version.
    pub schema_errors: u64,
    /// Served requests that failed because of the defect.
    pub defect_errors: u64,
    /// Served requests that failed at the healthy baseline rate.
    pub baseline_errors: u64,
}

impl VersionSpan {
    /// Requests offered to this version.
    pub fn requests(&self) -> u64 {
        self.served + self.dropped
    }
    /// Requests a client saw fail, as a monitor counts them.
    pub fn errors(&self) -> u64 {
        self.schema_errors + self.defect_errors + self.baseline_errors + self.dropped
    }
}

/// The conditions of one span for one version.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// Requests per second routed to the version.
    pub rate_rps: f64,
    /// Requests per second its ready instances can serve.
    pub capacity_rps: f64,
    /// Share of its requests that reach an instance which refuses them (it
    /// has had SIGTERM but clients still list it); they are dropped.
    pub refused_share: f64,
    /// Failure probability of a request against a schema the version cannot
    /// serve (the touched share; 0 when the schema fits).
    pub schema_error_rate: f64,
    /// Extra failure probability the defect adds (0 when healthy).
    pub defect_error_rate: f64,
    /// Failure probability of a healthy request.
    pub baseline_error_rate: f64,
}

/// Draws one span of `duration_s` seconds for one version.
pub fn draw<R: Rng + ?Sized>(rng: &mut R, offer: Offer, duration_s: f64) -> VersionSpan {
    let refused_rate = offer.rate_rps * offer.refused_share;
    let accepted_rate = offer.rate_rps - refused_rate;
    let served_rate = accepted_rate.min(offer.capacity_rps).max(0.0);
    // Dropped for lack of capacity and refused are one Poisson stream.
    let dropped_rate = (accepted_rate - served_rate).max(0.0) + refused_rate;
    let served = poisson(rng, served_rate * duration_s);
    let dropped = poisson(rng, dropped_rate * duration_s);
    // A request the schema cannot serve fails first; the defect fails some
    // of the rest, then the baseline, so the total failure probability is
    // s + (1 − s)·(d + (1 − d)·b). Each rate of 0 draws nothing.
    let schema_errors = binomial(rng, served, offer.schema_error_rate);
    let defect_errors = binomial(rng, served - schema_errors, offer.defect_error_rate);
    let baseline_errors = binomial(
        rng,
        served - schema_errors - defect_errors,
        offer.baseline_error_rate,
    );
    VersionSpan {
        served,
        dropped,
        schema_errors,
        defect_errors,
        baseline_errors,
    }
}

/// Distinct users hit by failures. Each failure lands on a user chosen at
/// random from a pool, so the number of distinct users hit by F failures in a
/// pool of U is the classic occupancy count: at most min(F, U), with mean
/// U(1 − (1 − 1/U)^F). It is drawn exactly for a few failures and from a
/// normal with the occupancy count's exact mean and variance beyond that.
///
/// Without stickiness the pool is every user. With sticky canary routing a
/// user stays on one version: the canary's failures land only on the users
/// hashed to it, the first `share` of the population, tracked in 1% buckets.
#[derive(Debug, Clone, Default)]
pub struct UserExposure {
    users: u64,
    /// Failures spread over every user (routing ignores who the user is).
    failures_spread: f64,
    /// Failures per 1% bucket of users, for sticky routing.
    failures_by_bucket: Vec<f64>,
}

const BUCKETS: usize = 100;

impl UserExposure {
    pub fn new(users: u64) -> UserExposure {
        UserExposure {
            users,
            failures_spread: 0.0,
            failures_by_bucket: Vec::new(),
        }
    }

    pub fn add_failures(&mut self, failures: u64) {
        self.failures_spread += failures as f64;
    }

    /// Failures of a sticky canary holding the first `share` of users.
    pub fn add_sticky_failures(&mut self, failures: u64, share: f64) {
        if failures == 0 || share <= 0.0 {
            return;
        }
        if self.failures_by_bucket.is_empty() {
            self.failures_by_bucket = vec![0.0; BUCKETS];
        }
        let covered = (share.min(1.0) * BUCKETS as f64).max(1e-9);
        for (k, bucket) in self.failures_by_bucket.iter_mut().enumerate() {
            let part = (covered - k as f64).clamp(0.0, 1.0);
            *bucket += failures as f64 * part / covered;
        }
    }

    /// Failures on the stable side of a sticky canary that holds the first
    /// `canary_share` of users: they land on the others.
    pub fn add_failures_beside_sticky(&mut self, failures: u64, canary_share: f64) {
        if failures == 0 {
            return;
        }
        if canary_share <= 0.0 {
            self.add_failures(failures);
            return;
        }
        if self.failures_by_bucket.is_empty() {
            self.failures_by_bucket = vec![0.0; BUCKETS];
        }
        let covered = canary_share.min(1.0) * BUCKETS as f64;
        let outside = (BUCKETS as f64 - covered).max(1e-9);
        for (k, bucket) in self.failures_by_bucket.iter_mut().enumerate() {
            let part = 1.0 - (covered - k as f64).clamp(0.0, 1.0);
            *bucket += failures as f64 * part / outside;
        }
    }

    pub fn draw_affected<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        if self.users == 0 {
            return 0;
        }
        if self.failures_by_bucket.is_empty() {
            return distinct_users_hit(rng, self.users, self.failures_spread);
        }
        let per_bucket = self.users as f64 / BUCKETS as f64;
        self.failures_by_bucket
            .iter()
            .enumerate()
            .map(|(k, f)| {
                // Users of bucket k: split the population into 100 near-equal parts;
                // the bucket gets its sticky failures and its share of the spread ones.
                let size = ((k + 1) as f64 * per_bucket).round() as u64
                    - (k as f64 * per_bucket).round() as u64;
                let failures = f + self.failures_spread * size as f64 / self.users as f64;
                distinct_users_hit(rng, size, failures)
            })
            .sum()
    }
}

/// Failures drawn exactly, one user at a time, up to this many.
const EXACT_OCCUPANCY_UP_TO: f64 = 64.0;

/// Distinct users among `users` hit by `failures` failures, each landing on a
/// user chosen uniformly at random (the occupancy count).
pub fn distinct_users_hit<R: Rng + ?Sized>(rng: &mut R, users: u64, failures: f64) -> u64 {
    let f = failures.max(0.0).round();
    if users == 0 || f == 0.0 {
        return 0;
    }
    if f <= EXACT_OCCUPANCY_UP_TO {
        let mut hit: Vec<u64> = (0..f as u64).map(|_| rng.random_range(0..users)).collect();
        hit.sort_unstable();
        hit.dedup();
        return hit.len() as u64;
    }
    let u = users as f64;
    // (1 − 1/U)^F and (1 − 2/U)^F, through logarithms for large U and F.
    let q1 = (f * (-1.0 / u).ln_1p()).exp();
    let q2 = if users >= 2 {
        (f * (-2.0 / u).ln_1p()).exp()
    } else {
        0.0
    };
    let mean = u * (1.0 - q1);
    let variance = (u * (u - 1.0) * q2 + u * q1 - u * u * q1 * q1).max(0.0);
    let z: f64 = StandardNormal.sample(rng);
    let drawn = (mean + variance.sqrt() * z).round();
    drawn.clamp(1.0, f.min(u)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Purpose, stream};

    #[test]
    fn never_more_users_than_failures_and_the_occupancy_mean_holds() {
        let mut rng = stream(3, 0, Purpose::Traffic);
        for failures in [1.0, 9.0, 64.0, 65.0, 5000.0] {
            for _ in 0..200 {
                let hit = distinct_users_hit(&mut rng, 1000, failures);
                assert!(
                    hit >= 1 && hit as f64 <= failures.min(1000.0),
                    "{hit} users from {failures} failures"
                );
            }
        }
        // 100 failures over 100 users: mean 100(1 − 0.99^100) = 63.40. The
        // closed form lies in the 99% confidence interval of 2000 draws.
        let draws: Vec<f64> = (0..2000)
            .map(|_| distinct_users_hit(&mut rng, 100, 100.0) as f64)
            .collect();
        let s = crate::stats::Summary::of(&draws).unwrap();
        let half = 2.576 * s.std / (draws.len() as f64).sqrt();
        let expected = 100.0 * (1.0 - 0.99f64.powi(100));
        assert!(
            (s.mean - expected).abs() < half,
            "mean {} ± {half} against {expected}",
            s.mean
        );
    }

    #[test]
    fn a_sticky_canary_hits_only_its_users() {
        let mut rng = stream(1, 0, Purpose::Traffic);
        let mut sticky = UserExposure::new(100_000);
        // A million failures on a 5% canary: its 5,000 users are all hit, nobody else.
        sticky.add_sticky_failures(1_000_000, 0.05);
        assert_eq!(sticky.draw_affected(&mut rng), 5_000);
        let mut sprayed = UserExposure::new(100_000);
        sprayed.add_failures(1_000_000);
        assert!(sprayed.draw_affected(&mut rng) > 99_000);
    }

    #[test]
    fn capacity_caps_served_and_the_rest_is_dropped() {
        let mut rng = stream(7, 0, Purpose::Traffic);
        let span = draw(
            &mut rng,
            Offer {
                rate_rps: 1000.0,
                capacity_rps: 0.0,
                refused_share: 0.0,
                schema_error_rate: 0.0,
                defect_error_rate: 0.5,
                baseline_error_rate: 0.0,
            },
            10.0,
        );
        assert_eq!(span.served, 0);
        assert!(span.dropped > 9000 && span.dropped < 11000);
        assert_eq!(span.errors(), span.dropped);
    }
}
