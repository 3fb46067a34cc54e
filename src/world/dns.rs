//! Share of requests still reaching the OLD answer t seconds after a DNS switch.
//!
//! Clients keep the old answer while some cache still holds it. The request
//! population is a mixture of client kinds, each with a law for the time R left
//! on its cache at the switch. The stale share is the mixture of P(R > t). A cache
//! with a fixed lifetime h has a residual uniform on [0, h], by the renewal
//! argument: the switch lands at a random point of each cache's lifetime.
//!
//! | kind                      | residual hold R                                   |
//! |---------------------------|---------------------------------------------------|
//! | TTL-respecting            | uniform on [0, ttl]                               |
//! | JVM address cache         | uniform on [0, max(hold, ttl)]                    |
//! | Chromium / libcurl cache  | uniform on [0, max(hold, ttl)]                    |
//! | TTL violators             | log-normal, set by a median and a 95th percentile |
//!
//! Defaults are fitted to Flavel, Mani, Maltz, "Re-evaluating the responsiveness
//! of DNS-based network control", IEEE LANMAN 2014. With a 20 s TTL, 90% of
//! requests had switched within 60 s, and 2% were still stale after 15 min. At
//! ttl_s = 20 every uniform kind has drained by 60 s, so only the violators' law
//! sets those two figures, and it fits them exactly. Rollback by DNS is the same
//! curve with the roles swapped.

use serde::Deserialize;
use statrs::function::erf::erfc;
use std::f64::consts::SQRT_2;

/// Standard normal quantile at 0.95: it turns the p95 into a log-normal sigma.
const Z95: f64 = 1.644_853_626_951_472_2;
/// Spans shorter than this (s) average the log-normal part with Simpson's rule (see `Hold::mean`).
const SHORT_SPAN_S: f64 = 1e-3;
/// `time_to_share` gives up past this horizon (about 32 years) and returns infinity.
const HORIZON_S: f64 = 1e9;

/// Parameters of the client mixture. Missing fields take their `Default` value.
/// The share of TTL-respecting clients is what is left: `1 - sum of the other shares`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsParams {
    /// TTL of the switched record, s. Default 20 s, the TTL in Flavel et al. 2014.
    pub ttl_s: f64,
    /// Share of requests from JVM clients, whose address cache ignores the TTL.
    /// Default 0.10: an assumption, not a measurement. It cannot move the
    /// calibration points at ttl_s = 20, because a 30 s cache has drained by 60 s.
    pub jvm_cache_share: f64,
    /// JVM positive-lookup cache lifetime, s. Default 30 s: OpenJDK
    /// `networkaddress.cache.ttl` (`java.security`, `sun.net.InetAddressCachePolicy`)
    /// without a security manager.
    pub jvm_cache_hold_s: f64,
    /// Share of requests from clients with a fixed host cache that ignores the TTL
    /// (Chromium, libcurl). Default 0.20: an assumption, with no effect at t >= 60 s.
    pub http_client_cache_share: f64,
    /// Their host-cache lifetime, s. Default 60 s. Chromium caches system-resolver
    /// results, which carry no TTL, for 60 s. libcurl's `CURLOPT_DNS_CACHE_TIMEOUT`
    /// is 60 s, and its documentation says the record TTL is not used.
    pub http_client_cache_hold_s: f64,
    /// Share of requests held far past the TTL. These are resolvers that extend
    /// TTLs arbitrarily (8.74% of 8,524 resolvers: Bhowmick et al., "TTL Violation
    /// of DNS Resolvers in the Wild", PAM 2023). They also include pooled
    /// connections that never re-resolve (HikariCP `maxLifetime` defaults to 30 min).
    /// Default 0.12: the 8.74% plus about 3 points of pooled connections.
    pub violator_share: f64,
    /// Median of the violators' log-normal residual hold, s. Default 232 s, from
    /// the fit to Flavel et al.: with share 0.12 it gives 10% stale at 60 s and 2%
    /// at 900 s. The median is sqrt(60 * 900).
    pub violator_hold_median_s: f64,
    /// 95th percentile of the violators' residual hold, s. Default 2320 s, from the
    /// same fit (sigma = 1.40). The tail passes HikariCP's 30 min, which suits
    /// resolvers that stretch TTLs to hours.
    pub violator_hold_p95_s: f64,
}

impl Default for DnsParams {
    fn default() -> Self {
        Self {
            ttl_s: 20.0,
            jvm_cache_share: 0.10,
            jvm_cache_hold_s: 30.0,
            http_client_cache_share: 0.20,
            http_client_cache_hold_s: 60.0,
            violator_share: 0.12,
            violator_hold_median_s: 232.0,
            violator_hold_p95_s: 2320.0,
        }
    }
}

/// Law of one client kind's residual hold R, with its survival S(t) = P(R > t).
/// S = 1 before the switch (t < 0), since everyone is on the old answer then.
enum Hold {
    /// Uniform on [0, h]: the renewal residual of a cache with a fixed lifetime h.
    Uniform(f64),
    /// Point mass at m. It covers a log-normal with p95 == median (sigma = 0),
    /// where the log-normal formulas would divide by zero.
    Step(f64),
    /// Log-normal: (mu, sigma) of ln R.
    LogNormal(f64, f64),
}

impl Hold {
    fn survival(&self, t: f64) -> f64 {
        match *self {
            _ if t < 0.0 => 1.0,
            Hold::Uniform(h) if t < h => 1.0 - t / h,
            Hold::Step(m) if t < m => 1.0,
            Hold::Uniform(_) | Hold::Step(_) => 0.0,
            Hold::LogNormal(mu, sigma) if t > 0.0 => 0.5 * erfc((t.ln() - mu) / (sigma * SQRT_2)),
            Hold::LogNormal(..) => 1.0,
        }
    }

    /// Mean of S over [a, b], where a < b.
    fn mean(&self, a: f64, b: f64) -> f64 {
        let before = (b.min(0.0) - a).max(0.0); // the part of the span before the switch
        match *self {
            Hold::Uniform(h) => {
                // Exact area of the clamped linear piece. It is not a difference
                // of primitives, so it stays accurate on tiny spans.
                let (lo, hi) = (a.max(0.0).min(h), b.max(0.0).min(h));
                let during = (hi - lo) * (1.0 - (lo + hi) / (2.0 * h.max(f64::MIN_POSITIVE)));
                (before + during) / (b - a)
            }
            Hold::Step(m) => (before + (b.min(m) - a.max(0.0)).max(0.0)) / (b - a),
            // A difference of the primitives below would cancel on a tiny span.
            // There S is smooth, so Simpson's rule is exact to rounding.
            Hold::LogNormal(..) if b - a < SHORT_SPAN_S => {
                (self.survival(a) + 4.0 * self.survival(0.5 * (a + b)) + self.survival(b)) / 6.0
            }
            Hold::LogNormal(mu, sigma) => {
                // Integration by parts gives the primitive, for x > 0:
                // int_0^x S = x S(x) + E[R; R <= x] = x S(x) + e^(mu + sigma^2/2) Phi((ln x - mu - sigma^2) / sigma).
                let primitive = |x: f64| {
                    if x <= 0.0 {
                        return x; // before the switch S = 1
                    }
                    let z = (x.ln() - mu - sigma * sigma) / sigma;
                    x * self.survival(x)
                        + (mu + 0.5 * sigma * sigma).exp() * 0.5 * erfc(-z / SQRT_2)
                };
                (primitive(b) - primitive(a)) / (b - a)
            }
        }
    }
}

impl DnsParams {
    /// Checks the parameters. On failure it returns `(field name, message)`.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |f: &str, m: String| Err((f.to_string(), m));
        let all = [
            ("ttl_s", self.ttl_s),
            ("jvm_cache_share", self.jvm_cache_share),
            ("jvm_cache_hold_s", self.jvm_cache_hold_s),
            ("http_client_cache_share", self.http_client_cache_share),
            ("http_client_cache_hold_s", self.http_client_cache_hold_s),
            ("violator_share", self.violator_share),
            ("violator_hold_median_s", self.violator_hold_median_s),
            ("violator_hold_p95_s", self.violator_hold_p95_s),
        ];
        for (name, v) in all {
            if !v.is_finite() || v < 0.0 {
                return err(name, format!("must be a finite number >= 0, got {v}"));
            }
            if name.ends_with("_share") && v > 1.0 {
                return err(name, format!("is a share and must be in [0, 1], got {v}"));
            }
        }
        let sum = self.jvm_cache_share + self.http_client_cache_share + self.violator_share;
        if sum > 1.0 + 1e-12 {
            let msg = format!("the jvm, http_client and violator shares sum to {sum}, more than 1");
            return err("violator_share", msg);
        }
        let (median, p95) = (self.violator_hold_median_s, self.violator_hold_p95_s);
        if p95 < median {
            return err("violator_hold_p95_s", format!("{p95} < median {median}"));
        }
        if median == 0.0 && p95 > 0.0 {
            return err("violator_hold_median_s", "must be > 0 if the p95 is".into());
        }
        Ok(())
    }

    /// The mixture as (share of requests, residual hold) pairs.
    ///
    /// Application caches hold for max(hold, ttl). A JVM or Chromium cache
    /// re-resolves every `hold` seconds. While the TTL-respecting resolver behind
    /// it still caches the old answer, each re-resolution gets that answer back.
    /// So the client stays stale for about the longer of the two lifetimes. This is
    /// exact when one lifetime dominates the other. Otherwise it slightly
    /// understates the stale time, because it ignores the wait for the next
    /// re-resolution after the resolver's copy expires.
    fn components(&self) -> [(f64, Hold); 4] {
        let others = self.jvm_cache_share + self.http_client_cache_share + self.violator_share;
        let (median, p95) = (self.violator_hold_median_s, self.violator_hold_p95_s);
        let violators = if median > 0.0 && p95 > median {
            Hold::LogNormal(median.ln(), (p95 / median).ln() / Z95)
        } else {
            Hold::Step(median.max(0.0))
        };
        let ttl = self.ttl_s.max(0.0);
        let app = |hold: f64| Hold::Uniform(hold.max(ttl));
        [
            ((1.0 - others).max(0.0), Hold::Uniform(ttl)),
            (self.jvm_cache_share, app(self.jvm_cache_hold_s)),
            (
                self.http_client_cache_share,
                app(self.http_client_cache_hold_s),
            ),
            (self.violator_share, violators),
        ]
    }

    /// Share of requests still reaching the OLD answer `t_s` seconds after the
    /// switch. It is 1 before the switch and does not increase with t. It tends to 0.
    pub fn stale_share(&self, t_s: f64) -> f64 {
        let parts = self.components().map(|(w, h)| w * h.survival(t_s));
        parts.iter().sum()
    }

    /// Exact average of `stale_share` over [t0_s, t1_s], in closed form. The
    /// order of the bounds does not matter. A zero-length span gives the point value.
    pub fn mean_stale_share(&self, t0_s: f64, t1_s: f64) -> f64 {
        let (a, b) = (t0_s.min(t1_s), t0_s.max(t1_s));
        if b <= a {
            return self.stale_share(a);
        }
        let parts = self.components().map(|(w, h)| w * h.mean(a, b));
        parts.iter().sum()
    }

    /// First t >= 0 (s) with `stale_share(t) <= target_stale`, to a relative 1e-9.
    /// A target of 0.01 gives the time until 99% of requests reach the new answer.
    /// It returns `f64::INFINITY` if the target is not reached within `HORIZON_S`,
    /// e.g. a target of 0 with log-normal violators. A NaN target gives NaN.
    pub fn time_to_share(&self, target_stale: f64) -> f64 {
        if target_stale.is_nan() {
            return f64::NAN;
        }
        if self.stale_share(0.0) <= target_stale {
            return 0.0;
        }
        // Search upward by doubling, then bisect. The curve only goes down,
        // so S(lo) > target >= S(hi) holds throughout.
        let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
        while self.stale_share(hi) > target_stale {
            if hi > HORIZON_S {
                return f64::INFINITY;
            }
            (lo, hi) = (hi, 2.0 * hi);
        }
        while hi - lo > 1e-9 * hi {
            let mid = 0.5 * (lo + hi);
            if self.stale_share(mid) <= target_stale {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
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
        // Acceptance is ±2 points. The default fit aims for ±0.5 points.
        assert!((s60 - 0.10).abs() <= 0.005, "stale_share(60) = {s60}");
        assert!((s900 - 0.02).abs() <= 0.005, "stale_share(900) = {s900}");
        let p = with_ttl(300.0); // a long TTL is slow
        assert!(p.time_to_share(0.01) > 300.0);
        assert!(p.stale_share(60.0) > 0.7, "{}", p.stale_share(60.0));
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
    }

    #[test]
    fn degenerate_but_valid_inputs_do_not_panic() {
        let point = edited(|p| p.violator_hold_p95_s = p.violator_hold_median_s);
        let zero = edited(|p| {
            (p.ttl_s, p.jvm_cache_hold_s, p.http_client_cache_hold_s) = (0.0, 0.0, 0.0);
            (p.violator_hold_median_s, p.violator_hold_p95_s) = (0.0, 0.0);
        });
        for p in [point, zero] {
            assert_eq!(p.validate(), Ok(()));
            assert!(p.mean_stale_share(0.0, 500.0).is_finite());
            assert!(p.time_to_share(0.01).is_finite());
        }
    }

    #[test]
    fn validate_rejects_bad_input() {
        assert_eq!(DnsParams::default().validate(), Ok(()));
        type Edit = fn(&mut DnsParams);
        let cases: [(Edit, &str); 6] = [
            (|p| p.ttl_s = -1.0, "ttl_s"),
            (|p| p.ttl_s = f64::NAN, "ttl_s"),
            (|p| p.jvm_cache_share = 1.5, "jvm_cache_share"),
            (|p| p.violator_share = 0.9, "violator_share"), // shares sum to 1.2
            (|p| p.jvm_cache_hold_s = -3.0, "jvm_cache_hold_s"),
            (|p| p.violator_hold_p95_s = 100.0, "violator_hold_p95_s"),
        ];
        for (edit, field) in cases {
            assert_eq!(
                edited(edit).validate().err().map(|e| e.0).as_deref(),
                Some(field)
            );
        }
    }
}
