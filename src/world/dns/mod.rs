//! Share of requests still reaching the OLD answer t seconds after a DNS
//! switch, and the share still on the NEW answer after the switch is reversed.
//!
//! The request population is a mixture of client kinds. Each kind renews its
//! cache on a cycle c and acts on a change an extra hold X after noticing it
//! (`hold`): after a switch it moves at U + X, U uniform on [0, c] by the
//! renewal argument (the switch lands at a random point of each cache's
//! cycle). The stale share is the mixture of P(U + X > t).
//!
//! | kind                      | cycle c          | extra hold X                    |
//! |---------------------------|------------------|---------------------------------|
//! | TTL-respecting            | ttl              | 0                               |
//! | JVM address cache         | max(hold, ttl)   | 0                               |
//! | Chromium / libcurl cache  | max(hold, ttl)   | 0                               |
//! | TTL violators             | ttl              | log-normal, by median and p95   |
//!
//! A violator holds the old answer until its TTL renewal plus its extra hold,
//! so its stragglers scale with the TTL: the time until 99% have switched
//! rises with it.
//!
//! Defaults are fitted to Flavel, Mani, Maltz, "Re-evaluating the
//! responsiveness of DNS-based network control", IEEE LANMAN 2014: with a
//! 20 s TTL, 90% of requests had switched within 60 s and 2% were still stale
//! after 15 min. The fit is on `violator_extra_hold_median_s`.
//!
//! Rollback by DNS is not the switch's curve with the roles swapped. A client
//! that re-resolved just before the rollback holds the new answer a full
//! cycle more, and one that had not yet moved does not move
//! ([`DnsParams::reversal`]). A client keeps its own extra hold both ways, so
//! the violators that had moved by the rollback, those with short extra
//! holds, come back as quickly: after a rollback decided less than a cycle
//! into the switch, every kind is back within one cycle.

mod hold;

use hold::{Extra, Hold};
use serde::Deserialize;

/// `first_time_at_or_below` gives up past this horizon (about 32 years) and
/// returns infinity.
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
    /// Share of requests held past the TTL. These are resolvers that extend
    /// TTLs arbitrarily (8.74% of 8,524 resolvers: Bhowmick et al., "TTL Violation
    /// of DNS Resolvers in the Wild", PAM 2023). They also include pooled
    /// connections that never re-resolve (HikariCP `maxLifetime` defaults to 30 min).
    /// Default 0.12: the 8.74% plus about 3 points of pooled connections.
    pub violator_share: f64,
    /// Median of the violators' extra hold X, s: how long past its TTL
    /// renewal a violator keeps the answer. A violator moves at U + X, U
    /// uniform on [0, ttl]. Default 211 s, fitted to Flavel et al. with
    /// `violator_share` 0.12 and `violator_extra_hold_p95_s`.
    ///
    /// The fit. At ttl 20 s every other kind has moved by 60 s, so
    /// stale(t) = 0.12 S(t) for t >= 60, with S(t) = P(U + X > t), the mean of
    /// S_X over [t - 20, t]. The two measurements ask S(60) = 0.10 / 0.12 = 5/6
    /// and S(900) = 0.02 / 0.12 = 1/6. Over 20 s S_X is nearly straight, so
    /// S(t) ≈ S_X(t - 10): S_X(50) = 5/6 and S_X(890) = 1/6 put 50 s and 890 s
    /// at z = ∓0.967, hence median ≈ sqrt(50 × 890) = 211 s and
    /// sigma ≈ ln(890 / 50) / (2 × 0.967) = 1.488. Solving the two exact
    /// equations (Newton's method on the closed form) gives median 210.7 s,
    /// p95 2,440.8 s (sigma 1.489). The rounded 211 s / 2,440 s give 10.005%
    /// stale at 60 s and 2.001% at 900 s.
    pub violator_extra_hold_median_s: f64,
    /// 95th percentile of the violators' extra hold, s. Default 2,440 s, from
    /// the same fit. The tail passes HikariCP's 30 min, which suits resolvers
    /// that stretch TTLs to hours.
    pub violator_extra_hold_p95_s: f64,
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
            violator_extra_hold_median_s: 211.0,
            violator_extra_hold_p95_s: 2440.0,
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
            (
                "violator_extra_hold_median_s",
                self.violator_extra_hold_median_s,
            ),
            ("violator_extra_hold_p95_s", self.violator_extra_hold_p95_s),
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
        let (median, p95) = (
            self.violator_extra_hold_median_s,
            self.violator_extra_hold_p95_s,
        );
        if p95 < median {
            return err(
                "violator_extra_hold_p95_s",
                format!("{p95} < median {median}"),
            );
        }
        if median == 0.0 && p95 > 0.0 {
            return err(
                "violator_extra_hold_median_s",
                "must be > 0 if the p95 is".into(),
            );
        }
        Ok(())
    }

    /// The mixture as (share of requests, hold law) pairs.
    ///
    /// Application caches renew every max(hold, ttl). A JVM or Chromium cache
    /// re-resolves every `hold` seconds. While the TTL-respecting resolver behind
    /// it still caches the old answer, each re-resolution gets that answer back.
    /// So the client stays stale for about the longer of the two lifetimes. This is
    /// exact when one lifetime dominates the other. Otherwise it slightly
    /// understates the stale time, because it ignores the wait for the next
    /// re-resolution after the resolver's copy expires.
    fn components(&self) -> [(f64, Hold); 4] {
        let others = self.jvm_cache_share + self.http_client_cache_share + self.violator_share;
        let ttl = self.ttl_s.max(0.0);
        let keeps_ttl = |cycle_s: f64| Hold {
            cycle_s,
            extra: Extra::Fixed(0.0),
        };
        let violators = Hold {
            cycle_s: ttl,
            extra: Extra::from_median_p95(
                self.violator_extra_hold_median_s,
                self.violator_extra_hold_p95_s,
            ),
        };
        [
            ((1.0 - others).max(0.0), keeps_ttl(ttl)),
            (
                self.jvm_cache_share,
                keeps_ttl(self.jvm_cache_hold_s.max(ttl)),
            ),
            (
                self.http_client_cache_share,
                keeps_ttl(self.http_client_cache_hold_s.max(ttl)),
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
        let parts = self.components().map(|(w, h)| w * h.mean_survival(a, b));
        parts.iter().sum()
    }

    /// The switch began, and `moved_for_s` seconds later it was reversed (the
    /// record points at the old answer again): the share of requests that had
    /// moved to the new answer by then and still reach it, t after the reversal.
    ///
    /// Each kind's clients that moved notice the reversal at their next cache
    /// renewal and move back an extra hold after it, so one that moved at
    /// s < r holds the new answer at least until s + its cycle; clients that
    /// had not moved when the reversal came stay on the old answer (`hold`).
    pub fn reversal(&self, moved_for_s: f64) -> Reversal {
        Reversal {
            parts: self.components().map(|(w, h)| (w, h.reversal(moved_for_s))),
        }
    }

    /// First t >= 0 (s) with `stale_share(t) <= target_stale`, to a relative 1e-9.
    /// A target of 0.01 gives the time until 99% of requests reach the new answer.
    /// It returns `f64::INFINITY` if the target is not reached within `HORIZON_S`,
    /// e.g. a target of 0 with log-normal violators. A NaN target gives NaN.
    pub fn time_to_share(&self, target_stale: f64) -> f64 {
        first_time_at_or_below(|t| self.stale_share(t), target_stale)
    }
}

/// The share still on the new answer after a reversal (`DnsParams::reversal`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reversal {
    parts: [(f64, hold::Reversal); 4],
}

impl Reversal {
    /// Share of requests still reaching the new answer `t_s` after the
    /// reversal. It starts at `1 - stale_share(moved_for_s)` and does not
    /// increase with t.
    pub fn held(&self, t_s: f64) -> f64 {
        self.parts.iter().map(|(w, r)| w * r.held(t_s)).sum()
    }

    /// Exact average of `held` over [t0_s, t1_s]; the order of the bounds
    /// does not matter, and a zero-length span gives the point value.
    pub fn mean_held(&self, t0_s: f64, t1_s: f64) -> f64 {
        let (a, b) = (t0_s.min(t1_s), t0_s.max(t1_s));
        if b <= a {
            return self.held(a);
        }
        self.parts.iter().map(|(w, r)| w * r.mean_held(a, b)).sum()
    }
}

/// First t >= 0 (s) with `f(t) <= target`, for a non-increasing `f`, to a
/// relative 1e-9. Infinite if not reached within `HORIZON_S`; NaN for a NaN target.
pub fn first_time_at_or_below(f: impl Fn(f64) -> f64, target: f64) -> f64 {
    if target.is_nan() {
        return f64::NAN;
    }
    if f(0.0) <= target {
        return 0.0;
    }
    // Search upward by doubling, then bisect. The curve only goes down,
    // so f(lo) > target >= f(hi) holds throughout.
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while f(hi) > target {
        if hi > HORIZON_S {
            return f64::INFINITY;
        }
        (lo, hi) = (hi, 2.0 * hi);
    }
    while hi - lo > 1e-9 * hi {
        let mid = 0.5 * (lo + hi);
        if f(mid) <= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests;
