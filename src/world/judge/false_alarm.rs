//! Exact false-alarm machinery: the probability that a judge fails a
//! healthy release, from Poisson request counts and binomial errors.

use super::*;

/// Relative cut-off for Poisson tails (relative to the mode's mass).
pub(super) const TAIL: f64 = 1e-18;
/// Largest Poisson table built (entries); beyond that we return None rather
/// than allocate hundreds of MB. 4e6 entries covers means up to ~5e10.
pub(super) const MAX_TABLE: usize = 4_000_000;
/// (x1, x2) pairs less likely than this are skipped by the z-test
/// enumeration: at most ~1e5 such pairs, so < 1e-15 of mass in total.
pub(super) const PAIR_TAIL: f64 = 1e-20;
/// Largest z-test enumeration attempted (z evaluations, roughly).
pub(super) const MAX_WORK: f64 = 2e9;

/// Poisson(mean) pmf and CDF on [lo, lo + len), tails below TAIL dropped and
/// the rest renormalised.
pub(super) struct PoissonTable {
    lo: u64,
    pmf: Vec<f64>,
    cdf: Vec<f64>,
}

impl PoissonTable {
    fn new(mean: f64) -> Option<Self> {
        if !finite_non_negative(mean) {
            return None;
        }
        if mean == 0.0 {
            return Some(PoissonTable {
                lo: 0,
                pmf: vec![1.0],
                cdf: vec![1.0],
            });
        }
        // Start at the mode with weight 1 and walk outwards with the exact
        // ratio pmf(k+1)/pmf(k) = mean/(k+1); normalising at the end avoids
        // the cancellation in k ln(mean) - mean - ln k! for large means.
        let mode = mean.floor();
        if mode > 1e15 {
            return None;
        }
        let mode = mode as u64;
        let mut down = Vec::new();
        let mut w = 1.0;
        let mut k = mode;
        while k > 0 {
            w *= k as f64 / mean;
            k -= 1;
            if w < TAIL {
                break;
            }
            down.push(w);
            if down.len() > MAX_TABLE {
                return None;
            }
        }
        let mut up = Vec::new();
        let mut w = 1.0;
        let mut k = mode;
        loop {
            w *= mean / (k + 1) as f64;
            k += 1;
            if w < TAIL {
                break;
            }
            up.push(w);
            if up.len() + down.len() > MAX_TABLE {
                return None;
            }
        }
        let lo = mode - down.len() as u64;
        let mut pmf: Vec<f64> = down.into_iter().rev().collect();
        pmf.push(1.0);
        pmf.extend(up);
        let total: f64 = pmf.iter().sum();
        let mut acc = 0.0;
        let mut cdf = Vec::with_capacity(pmf.len());
        for v in pmf.iter_mut() {
            *v /= total;
            acc += *v;
            cdf.push(acc);
        }
        Some(PoissonTable { lo, pmf, cdf })
    }

    fn hi(&self) -> u64 {
        self.lo + self.pmf.len() as u64 - 1
    }

    fn iter(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        self.pmf
            .iter()
            .enumerate()
            .map(move |(i, &p)| (self.lo + i as u64, p))
    }

    /// P(X <= t)
    fn cdf_le(&self, t: u64) -> f64 {
        if t < self.lo {
            0.0
        } else {
            let i = ((t - self.lo) as usize).min(self.cdf.len() - 1);
            self.cdf[i]
        }
    }

    /// P(a <= X <= b)
    fn prob_range(&self, a: u64, b: u64) -> f64 {
        if b < a {
            return 0.0;
        }
        let below = if a == 0 { 0.0 } else { self.cdf_le(a - 1) };
        (self.cdf_le(b) - below).max(0.0)
    }
}

/// Largest `s` in [lo, hi] with `pred(s)`, given `pred(lo)` is true and
/// `pred` is true-then-false on [lo, hi]. `hint` (a previous answer) makes
/// neighbouring searches cost a couple of evaluations (galloping search).
pub(super) fn largest_true(lo: u64, hi: u64, hint: Option<u64>, pred: impl Fn(u64) -> bool) -> u64 {
    let mut good = lo; // pred(good) is true
    let mut bad = hi + 1; // first known false (or past the end)
    if let Some(h) = hint {
        let h = h.clamp(lo, hi);
        if pred(h) {
            good = h;
            let mut step = 1u64;
            while good + step <= hi {
                if pred(good + step) {
                    good += step;
                    step = step.saturating_mul(2);
                } else {
                    bad = good + step;
                    break;
                }
            }
        } else {
            bad = h;
            let mut step = 1u64;
            while bad - good > step {
                if pred(bad - step) {
                    good = bad - step;
                    break;
                }
                bad -= step;
                step = step.saturating_mul(2);
            }
        }
    }
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if pred(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    good
}

/// Exact P(an interval's measurement fails) for the threshold judges:
/// P(N >= 1 and X/N > max) with N ~ Poisson(lambda), X | N ~ Bin(N, p).
/// By thinning X ~ Poi(lambda p) and S = N - X ~ Poi(lambda (1 - p)) are
/// independent, and for fixed x the rate x/(x+s) falls as s grows, so the
/// failing s form an interval [0, s*(x)].
pub(super) fn threshold_fail_prob(lambda: f64, p: f64, max_error_rate: f64) -> Option<f64> {
    let xt = PoissonTable::new(lambda * p)?;
    let st = PoissonTable::new(lambda * (1.0 - p))?;
    let mut q = 0.0;
    let mut hint = None;
    for (x, px) in xt.iter() {
        if x == 0 {
            continue; // zero errors never exceed a rate >= 0
        }
        let pred = |s: u64| rate_exceeds(x, x + s, max_error_rate) == Some(true);
        if !pred(st.lo) {
            continue;
        }
        let top = largest_true(st.lo, st.hi(), hint, pred);
        hint = Some(top);
        q += px * st.cdf_le(top);
    }
    Some(q.clamp(0.0, 1.0))
}

/// Exact size of one z-test (`z_rejects`) on counts with canary requests ~
/// Poisson(lc), baseline requests ~ Poisson(lb), common error probability p.
///
/// Enumerates canary errors x1, baseline errors x2 and baseline successes s2
/// (independent Poissons by thinning); for each, the rejecting canary
/// successes s1 form an interval. Why: with a = x1, b = x2, m = n2,
/// z(n1) = (a m - b n1) sqrt((n1 + m) / (n1 m T (n1 + m - T))); where z > 0
/// the first factor falls with n1 and d/dn1 ln[(n1+m)/(n1 (n1+m-T))] =
/// 1/(n1+m) - 1/n1 - 1/(n1+m-T) < 0, so z falls with n1; where z <= 0 it
/// cannot exceed z_crit > 0 (confidence > 0.5 is validated). Hence
/// {s1 : reject} = [max(0, min_n - x1), s_hi].
pub(super) fn z_test_size(lc: f64, lb: f64, p: f64, min_requests: u64, z_crit: f64) -> Option<f64> {
    if z_crit.is_nan() || z_crit <= 0.0 {
        return None;
    }
    let x1t = PoissonTable::new(lc * p)?;
    let s1t = PoissonTable::new(lc * (1.0 - p))?;
    let x2t = PoissonTable::new(lb * p)?;
    let s2t = PoissonTable::new(lb * (1.0 - p))?;
    let work = x1t.pmf.len() as f64 * x2t.pmf.len() as f64 * s2t.pmf.len() as f64;
    if work > MAX_WORK {
        return None;
    }
    let min_n = min_requests.max(1);
    let mut total = 0.0;
    for (x1, px1) in x1t.iter() {
        if x1 == 0 {
            continue; // z <= 0
        }
        let s_lo = min_n.saturating_sub(x1);
        let a = s_lo.max(s1t.lo);
        if a > s1t.hi() {
            continue;
        }
        for (x2, px2) in x2t.iter() {
            let w = px1 * px2;
            if w < PAIR_TAIL {
                continue; // corner of the (x1, x2) rectangle: negligible
            }
            let mut hint = None;
            let mut acc = 0.0;
            for (s2, ps2) in s2t.iter() {
                let n2 = x2 + s2;
                let pred =
                    |s1: u64| z_rejects(x1, x1 + s1, x2, n2, min_requests, z_crit) == Some(true);
                if !pred(a) {
                    continue;
                }
                let top = largest_true(a, s1t.hi(), hint, pred);
                hint = Some(top);
                acc += ps2 * s1t.prob_range(s_lo, top);
            }
            total += w * acc;
        }
    }
    Some(total.clamp(0.0, 1.0))
}

/// 1 - (1 - a)^k without cancellation for small a.
pub(super) fn at_least_once(a: f64, k: u64) -> f64 {
    if a >= 1.0 {
        return 1.0;
    }
    (-(k as f64 * (-a).ln_1p()).exp_m1()).clamp(0.0, 1.0)
}

/// P(Bin(k, q) >= r), summed directly (accurate for tiny results).
pub(super) fn binomial_tail_ge(k: u64, q: f64, r: u64) -> f64 {
    if r == 0 {
        return 1.0;
    }
    if r > k || q <= 0.0 {
        return 0.0;
    }
    if q >= 1.0 {
        return 1.0;
    }
    if r == 1 {
        return at_least_once(q, k);
    }
    let ln_q = q.ln();
    let ln_1q = (-q).ln_1p();
    let kf = k as f64;
    let ln_k_fact = statrs::function::gamma::ln_gamma(kf + 1.0);
    let mut sum = 0.0;
    for j in r..=k {
        let jf = j as f64;
        let ln_c = ln_k_fact
            - statrs::function::gamma::ln_gamma(jf + 1.0)
            - statrs::function::gamma::ln_gamma(kf - jf + 1.0);
        sum += (ln_c + jf * ln_q + (kf - jf) * ln_1q).exp();
    }
    sum.clamp(0.0, 1.0)
}

/// P(a run of `c` consecutive failures occurs within `k` independent
/// intervals), each failing with probability q (any other outcome, no-traffic
/// included, resets the run). Dynamic programme over the current run length.
pub(super) fn run_probability(k: u64, q: f64, c: u64) -> Option<f64> {
    if c == 0 {
        return Some(if k > 0 { 1.0 } else { 0.0 });
    }
    if c > k {
        return Some(0.0);
    }
    if (k as f64) * (c as f64) > 1e9 {
        return None;
    }
    let c = c as usize;
    // state[r] = P(no alarm yet, current run = r), r < c
    let mut state = vec![0.0; c];
    state[0] = 1.0;
    let mut alarmed = 0.0;
    let mut next = vec![0.0; c];
    for _ in 0..k {
        next.iter_mut().for_each(|v| *v = 0.0);
        for (r, &pr) in state.iter().enumerate() {
            next[0] += pr * (1.0 - q);
            if r + 1 == c {
                alarmed += pr * q;
            } else {
                next[r + 1] += pr * q;
            }
        }
        std::mem::swap(&mut state, &mut next);
    }
    Some(alarmed.clamp(0.0, 1.0))
}
