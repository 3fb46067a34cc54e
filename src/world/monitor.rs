//! The monitor: every interval it sees counts of requests and errors per
//! version (drawn by the traffic model, never the true rate) and asks a judge
//! whether the release is bad.

use crate::world::traffic::VersionSpan;

/// Counts observed in one monitoring interval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntervalCounts {
    pub canary_requests: u64,
    pub canary_errors: u64,
    pub baseline_requests: u64,
    pub baseline_errors: u64,
}

impl IntervalCounts {
    pub fn add(&mut self, old: &VersionSpan, new: &VersionSpan) {
        self.canary_requests += new.requests();
        self.canary_errors += new.errors();
        self.baseline_requests += old.requests();
        self.baseline_errors += old.errors();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    Inconclusive,
    Failed,
}

/// Error rate of the new version above a limit for N consecutive intervals.
#[derive(Debug, Clone)]
pub struct Threshold {
    pub max_error_rate: f64,
    pub consecutive: u32,
    run: u32,
}

impl Threshold {
    pub fn new(max_error_rate: f64, consecutive: u32) -> Threshold {
        Threshold {
            max_error_rate,
            consecutive,
            run: 0,
        }
    }

    pub fn observe(&mut self, c: &IntervalCounts) -> Verdict {
        if c.canary_requests == 0 {
            return Verdict::Inconclusive;
        }
        let rate = c.canary_errors as f64 / c.canary_requests as f64;
        if rate > self.max_error_rate {
            self.run += 1;
            if self.run >= self.consecutive {
                return Verdict::Failed;
            }
        } else {
            self.run = 0;
        }
        Verdict::Healthy
    }
}
