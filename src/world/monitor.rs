//! The monitor: every interval it sees counts of requests and errors per
//! version (drawn by the traffic model, never the true rate) and hands them to
//! the strategy's judge (`world::judge`).

use crate::world::judge::IntervalCounts;
use crate::world::traffic::VersionSpan;

/// Adds one span's traffic to the interval's counts: the new version is the
/// judge's canary arm, the old version its baseline.
pub fn add_span(counts: &mut IntervalCounts, old: &VersionSpan, new: &VersionSpan) {
    counts.canary_requests += new.requests();
    counts.canary_errors += new.errors();
    counts.baseline_requests += old.requests();
    counts.baseline_errors += old.errors();
}
