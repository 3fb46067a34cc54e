//! How long one kind of client keeps the DNS answer it has after the record
//! changes, as a law with closed forms for a switch and for its reversal.
//!
//! The mechanism. A client renews its cache every `cycle_s` seconds (its
//! resolver's TTL, or an application cache's own lifetime), at a phase that
//! has nothing to do with when the record changes. It notices a change at its
//! first renewal after it and acts on it an extra hold X later: X = 0 for a
//! client that keeps the TTL; for a TTL violator, X is how far its resolver
//! stretches the TTL or how long its pool keeps connections. X belongs to
//! the client: the same for every change. When it acts it reads the record
//! as it stands then.
//!
//! Switch. The record changes at 0. The client's first renewal is at U,
//! uniform on [0, c] with c = `cycle_s` (the renewal residual: the change
//! lands at a random point of the cycle), so it moves at R = U + X and
//!
//! ```text
//! S(t) = P(U + X > t) = (1/c) ∫_{t-c}^{t} S_X(s) ds
//!      = S_X(t) + E[X - (t - c); t - c < X <= t] / c,
//! ```
//!
//! the convolution of the uniform with X. For a log-normal X it is closed
//! form through the partial expectations
//! E[X^j; X <= x] = e^(jμ + j²σ²/2) Φ((ln x - μ - jσ²) / σ). Its mean over a
//! span integrates once more, and stays closed form
//! ([`LogNormal::span_mean_of_window_mean`]).
//!
//! Reversal. The record changes back at r. A client that had moved
//! (U + X <= r) notices at its first renewal after r, E_r, and moves back at
//! E_r + X. One that had not moved stays where it is: when it acts, it reads
//! the old answer again. A client that moved at s = U + X therefore holds the
//! new answer until E_r + X >= U + c + X = s + c: one that re-resolved just
//! before the rollback holds a full cycle. With k = floor(r / c) and
//! ρ = r - k c, E_r = U + (k + 1) c when U <= ρ and U + k c when U > ρ.
//! Splitting U over [0, ρ] and (ρ, c] makes each part a uniform plus X again:
//!
//! ```text
//! H(r, t) = P(U + X <= r, E_r + X > r + t)
//!         = (ρ / c)       P(t - (c - ρ) < U_ρ + X <= r)
//!         + ((c - ρ) / c) P(t < U_(c-ρ) + X <= r - ρ),
//! ```
//!
//! U_w uniform on [0, w]: differences of S for two other cycle lengths, so
//! the reversal and its span means are closed form too. With X = 0 it is
//! S(t) - S(r + t), the stationary renewal result; with X > 0 it is smaller,
//! because the clients that had noticed the switch but not yet moved never
//! move.

use statrs::function::erf::erfc;
use std::f64::consts::SQRT_2;

/// Standard normal quantile at 0.95: it turns a p95 into a log-normal sigma.
const Z95: f64 = 1.644_853_626_951_472_2;
/// Spans and cycles shorter than this (s) are averaged by Gauss-Legendre
/// quadrature: there the closed form divides small differences by a small
/// width, while the integrand barely bends over so short an interval.
const SHORT_S: f64 = 1e-2;
/// A window narrower than this fraction of sigma times its distance from 0
/// is integrated by quadrature too: the log-normal density is smooth there,
/// and the tail differences of the closed form would cancel.
const NARROW: f64 = 0.25;

/// The extra hold X a client adds after noticing a change.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Extra {
    /// The same for every client of the kind, s (0: it keeps the TTL).
    Fixed(f64),
    LogNormal(LogNormal),
}

impl Extra {
    /// X set by a median and a 95th percentile: log-normal when they differ,
    /// otherwise the median for everyone (sigma 0, where the log-normal
    /// formulas would divide by zero).
    pub fn from_median_p95(median_s: f64, p95_s: f64) -> Extra {
        if median_s > 0.0 && p95_s > median_s {
            Extra::LogNormal(LogNormal {
                mu: median_s.ln(),
                sigma: (p95_s / median_s).ln() / Z95,
            })
        } else {
            Extra::Fixed(median_s.max(0.0))
        }
    }
}

/// One kind's law: the renewal cycle and the extra hold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hold {
    /// Seconds between the cache's renewals; U is uniform on [0, cycle_s].
    pub cycle_s: f64,
    pub extra: Extra,
}

impl Hold {
    /// S(t) = P(U + X > t): the share of the kind still on the old answer t
    /// after a switch. It is 1 before the switch (t < 0).
    pub fn survival(&self, t: f64) -> f64 {
        let c = self.cycle_s;
        match self.extra {
            Extra::Fixed(m) => uniform_survival(c, t - m),
            Extra::LogNormal(x) if c > 0.0 => x.window_mean(t - c, t),
            Extra::LogNormal(x) => x.survival(t),
        }
    }

    /// Mean of S over [a, b], where a < b.
    pub fn mean_survival(&self, a: f64, b: f64) -> f64 {
        let c = self.cycle_s;
        match self.extra {
            Extra::Fixed(m) => uniform_mean(c, a - m, b - m),
            Extra::LogNormal(x) if c > 0.0 => x.span_mean_of_window_mean(a, b, c),
            Extra::LogNormal(x) => x.window_mean(a, b),
        }
    }

    /// The reversal of a switch `r` seconds after it began, prepared for
    /// evaluating H(r, t) at many t.
    pub fn reversal(&self, r: f64) -> Reversal {
        let (c, r) = (self.cycle_s, r.max(0.0));
        let rho = if c > 0.0 { r % c } else { 0.0 };
        let weight_low = if c > 0.0 { rho / c } else { 0.0 };
        let part = |weight: f64, cycle_s: f64, shift: f64, bound: f64| {
            let hold = Hold {
                cycle_s,
                extra: self.extra,
            };
            ReversalPart {
                weight,
                hold,
                shift,
                bound,
                floor: if weight > 0.0 {
                    hold.survival(bound)
                } else {
                    0.0
                },
            }
        };
        Reversal {
            parts: [
                part(weight_low, rho, rho - c, r),
                part(1.0 - weight_low, c - rho, 0.0, r - rho),
            ],
        }
    }
}

/// H(r, ·) for one r: the share of the kind that had moved to the new answer
/// within r of a switch and still holds it t after the switch was reversed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reversal {
    parts: [ReversalPart; 2],
}

impl Reversal {
    /// H(r, t).
    pub fn held(&self, t: f64) -> f64 {
        let part = |p: &ReversalPart| {
            if p.weight <= 0.0 {
                return 0.0;
            }
            p.weight * (p.hold.survival(t + p.shift) - p.floor).max(0.0)
        };
        self.parts.iter().map(part).sum()
    }

    /// Mean of H(r, ·) over [a, b], where a < b.
    pub fn mean_held(&self, a: f64, b: f64) -> f64 {
        let part = |p: &ReversalPart| {
            // The part is positive while t + shift < bound, and 0 after.
            let end = b.min(p.bound - p.shift);
            if p.weight <= 0.0 || end <= a {
                return 0.0;
            }
            let inside = p.hold.mean_survival(a + p.shift, end + p.shift) - p.floor;
            p.weight * (end - a) / (b - a) * inside.max(0.0)
        };
        self.parts.iter().map(part).sum()
    }
}

/// One term of H, weight · [S_part(t + shift) - S_part(bound)]+: the clients
/// whose first renewal fell in one part of the cycle, as a share of the kind,
/// with their own uniform-plus-X law. `floor` is S_part(bound).
#[derive(Debug, Clone, Copy, PartialEq)]
struct ReversalPart {
    weight: f64,
    hold: Hold,
    shift: f64,
    bound: f64,
    floor: f64,
}

/// Survival of a uniform on [0, c] at y (a step at 0 when c = 0).
fn uniform_survival(c: f64, y: f64) -> f64 {
    if y < 0.0 {
        1.0
    } else if y < c {
        1.0 - y / c
    } else {
        0.0
    }
}

/// Mean of `uniform_survival(c, ·)` over [a, b], a < b: the exact area of the
/// clamped linear piece. It is not a difference of primitives, so it stays
/// accurate on tiny spans.
fn uniform_mean(c: f64, a: f64, b: f64) -> f64 {
    let before = (b.min(0.0) - a).max(0.0); // the part of the span before 0
    let (lo, hi) = (a.max(0.0).min(c), b.max(0.0).min(c));
    let during = (hi - lo) * (1.0 - (lo + hi) / (2.0 * c.max(f64::MIN_POSITIVE)));
    (before + during) / (b - a)
}

/// A log-normal extra hold: mu and sigma > 0 of ln X.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    pub mu: f64,
    pub sigma: f64,
}

impl LogNormal {
    /// (ln x - mu - j sigma²) / sigma: where x sits in the j-th moment's tilt.
    fn z(&self, x: f64, j: f64) -> f64 {
        (x.ln() - self.mu - j * self.sigma * self.sigma) / self.sigma
    }

    /// E[X^j] = e^(j mu + j² sigma² / 2).
    fn moment(&self, j: f64) -> f64 {
        (j * self.mu + 0.5 * j * j * self.sigma * self.sigma).exp()
    }

    pub fn survival(&self, x: f64) -> f64 {
        if x <= 0.0 { 1.0 } else { upper(self.z(x, 0.0)) }
    }

    fn density(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let z = self.z(x, 0.0);
        (-0.5 * z * z).exp() / (x * self.sigma * (2.0 * std::f64::consts::PI).sqrt())
    }

    /// E[X^j; lo < X <= hi]. Each tail is taken from the side where it is
    /// small, so a narrow window is not the difference of two numbers near 1.
    fn window(&self, j: f64, lo: f64, hi: f64) -> f64 {
        if hi <= 0.0 || hi <= lo {
            return 0.0;
        }
        let zh = self.z(hi, j);
        let p = if lo <= 0.0 {
            lower(zh)
        } else {
            let zl = self.z(lo, j);
            if zh <= 0.0 {
                lower(zh) - lower(zl)
            } else if zl >= 0.0 {
                upper(zl) - upper(zh)
            } else {
                1.0 - lower(zl) - upper(zh)
            }
        };
        self.moment(j) * p.max(0.0)
    }

    /// Whether the window (lo, hi] of X is too narrow for the window
    /// formulas: narrower than a fraction of the scale on which the density
    /// bends (sigma times the distance from 0). A window from 0 never is, as
    /// its terms are then all of one sign.
    fn narrow(&self, lo: f64, hi: f64) -> bool {
        lo > 0.0 && hi - lo <= NARROW * self.sigma * lo
    }

    /// Mean of S_X over [c, t], c < t: the survival of U + X with U uniform
    /// on [0, t - c], at t.
    pub fn window_mean(&self, c: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        let (w, lo) = (t - c, c.max(0.0));
        if self.narrow(lo, t) {
            return gauss_mean(c, t, |s| self.survival(s));
        }
        let tail = self.window(1.0, lo, t) - c * self.window(0.0, lo, t);
        (self.survival(t) + tail / w).clamp(0.0, 1.0)
    }

    /// Q(x) = E[(X - x)²; x < X <= x + w].
    fn squared_window(&self, x: f64, w: f64) -> f64 {
        let (lo, hi) = (x.max(0.0), x + w);
        if hi <= 0.0 {
            return 0.0;
        }
        if self.narrow(lo, hi) {
            let f = |s: f64| (s - x) * (s - x) * self.density(s);
            return gauss_mean(lo, hi, f) * (hi - lo);
        }
        let q = self.window(2.0, lo, hi) - 2.0 * x * self.window(1.0, lo, hi)
            + x * x * self.window(0.0, lo, hi);
        q.max(0.0)
    }

    /// Mean over t in [a, b] of `window_mean(t - c, t)`, c > 0: the span mean
    /// of the survival of U + X, U uniform on [0, c].
    ///
    /// With w = b - a and L(x) = E[(X - x)+], whose derivative is -S_X, the
    /// integral is (1/c) ∫_a^b (L(t - c) - L(t)) dt, and
    /// ∫_x^{x+w} L = w L(x + w) + (w²/2) S_X(x + w) + Q(x) / 2. In the
    /// difference the L terms are c times a window mean, which leaves
    ///
    /// mean = window_mean(b - c, b) + (w / 2c) (S_X(b - c) - S_X(b)) + (Q(a - c) - Q(a)) / (2 c w),
    ///
    /// with no moment of X larger than the windows it is taken over.
    pub fn span_mean_of_window_mean(&self, a: f64, b: f64, c: f64) -> f64 {
        if b <= 0.0 {
            return 1.0;
        }
        let w = b - a;
        if w < SHORT_S {
            return gauss_mean(a, b, |t| self.window_mean(t - c, t));
        }
        if c < SHORT_S {
            return gauss_mean(0.0, c, |u| self.window_mean(a - u, b - u));
        }
        let q = self.squared_window(a - c, w) - self.squared_window(a, w);
        let mean = self.window_mean(b - c, b)
            + w / (2.0 * c) * (self.survival(b - c) - self.survival(b))
            + q / (2.0 * c * w);
        mean.clamp(0.0, 1.0)
    }
}

/// P(Z > z) for a standard normal Z, accurate in the upper tail.
fn upper(z: f64) -> f64 {
    0.5 * erfc(z / SQRT_2)
}

/// P(Z <= z), accurate in the lower tail.
fn lower(z: f64) -> f64 {
    0.5 * erfc(-z / SQRT_2)
}

/// Mean of f over [a, b] by 8-point Gauss-Legendre (exact for polynomials
/// of degree 15).
fn gauss_mean(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
    const NODES: [(f64, f64); 4] = [
        (0.183_434_642_495_649_8, 0.362_683_783_378_362),
        (0.525_532_409_916_329, 0.313_706_645_877_887_3),
        (0.796_666_477_413_626_7, 0.222_381_034_453_374_5),
        (0.960_289_856_497_536_3, 0.101_228_536_290_376_3),
    ];
    let (mid, half) = (0.5 * (a + b), 0.5 * (b - a));
    let sum: f64 = NODES
        .iter()
        .map(|&(x, w)| w * (f(mid - half * x) + f(mid + half * x)))
        .sum();
    0.5 * sum
}

#[cfg(test)]
mod tests;
