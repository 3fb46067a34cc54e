//! The judge at run time: counts in, verdict out.

use super::*;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Inner {
    /// argo / flagger / consecutive
    Threshold {
        /// failed measurements / checks so far (cumulative)
        failed: u32,
        /// measurements taken (Argo `Count`: inconclusive ones included)
        measurements: u32,
        /// current run of consecutive failed intervals
        run: u32,
        /// metric queries that errored in a row (Argo ConsecutiveError)
        errors_in_a_row: u32,
        /// inconclusive measurements so far (Argo `Inconclusive`)
        inconclusive: u32,
    },
    Compare {
        canary_requests: u64,
        canary_errors: u64,
        baseline_requests: u64,
        baseline_errors: u64,
        intervals: u32,
        /// fixed-horizon: verdict reached at the horizon
        settled: Option<Verdict>,
    },
    MannWhitney {
        canary: Vec<f64>,
        baseline: Vec<f64>,
    },
}

/// Runtime state of a judge for one analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeState {
    spec: JudgeSpec,
    z_crit: f64,
    inner: Inner,
    failed: bool,
    intervals: u32,
}

impl JudgeState {
    /// Starts a fresh analysis of a spec that passed [`JudgeSpec::validate`]
    /// (the scenario's validator checks every judge; [`JudgeSpec::start`]
    /// validates first).
    pub fn new(spec: JudgeSpec) -> Self {
        let z_crit = match spec {
            JudgeSpec::Compare { confidence, .. } => normal_quantile(confidence),
            // unused by the other judges; not NaN so that PartialEq works
            _ => f64::INFINITY,
        };
        JudgeState {
            spec,
            z_crit,
            inner: Self::fresh_inner(&spec),
            failed: false,
            intervals: 0,
        }
    }

    fn fresh_inner(spec: &JudgeSpec) -> Inner {
        match spec {
            JudgeSpec::Argo { .. } | JudgeSpec::Flagger { .. } | JudgeSpec::Consecutive { .. } => {
                Inner::Threshold {
                    failed: 0,
                    measurements: 0,
                    run: 0,
                    errors_in_a_row: 0,
                    inconclusive: 0,
                }
            }
            JudgeSpec::Compare { .. } => Inner::Compare {
                canary_requests: 0,
                canary_errors: 0,
                baseline_requests: 0,
                baseline_errors: 0,
                intervals: 0,
                settled: None,
            },
            JudgeSpec::MannWhitney { .. } => Inner::MannWhitney {
                canary: Vec::new(),
                baseline: Vec::new(),
            },
        }
    }

    /// Starts a new analysis with the same spec (Argo: a new AnalysisRun;
    /// Flagger: a new revision resets `failedChecks`).
    pub fn reset(&mut self) {
        self.inner = Self::fresh_inner(&self.spec);
        self.failed = false;
        self.intervals = 0;
    }

    pub fn spec(&self) -> &JudgeSpec {
        &self.spec
    }

    /// Intervals observed since the start (or last reset).
    pub fn intervals_observed(&self) -> u32 {
        self.intervals
    }

    /// Whether the analysis has failed (the latched `Failed`).
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// The analysis ended successfully and takes no more measurements:
    /// an Argo metric that reached its `count`, a fixed-horizon comparison
    /// that settled healthy. Other judges run until they are stopped.
    pub fn is_complete(&self) -> bool {
        if self.failed {
            return false;
        }
        match (&self.spec, &self.inner) {
            (JudgeSpec::Argo { count, .. }, Inner::Threshold { measurements, .. }) => {
                count.is_some_and(|n| *measurements >= n)
            }
            (JudgeSpec::Compare { .. }, Inner::Compare { settled, .. }) => {
                *settled == Some(Verdict::Healthy)
            }
            _ => false,
        }
    }

    /// The analysis is Inconclusive: more inconclusive measurements than an
    /// Argo judge's `inconclusive_limit` (Argo pauses the rollout).
    pub fn is_inconclusive(&self) -> bool {
        match (&self.spec, &self.inner) {
            (
                JudgeSpec::Argo {
                    inconclusive_limit: Some(limit),
                    ..
                },
                Inner::Threshold { inconclusive, .. },
            ) => !self.failed && inconclusive > limit,
            _ => false,
        }
    }

    /// Failed measurements/checks so far for the threshold judges, 0 for the
    /// others.
    pub fn failed_measurements(&self) -> u32 {
        match self.inner {
            Inner::Threshold { failed, .. } => failed,
            _ => 0,
        }
    }

    /// Same as [`JudgeSpec::nominal_false_alarm_rate`].
    pub fn nominal_false_alarm_rate(
        &self,
        intervals: u32,
        baseline_error_rate: f64,
        requests_per_interval: f64,
    ) -> Option<f64> {
        self.spec
            .nominal_false_alarm_rate(intervals, baseline_error_rate, requests_per_interval)
    }

    /// The interval's metric query failed (the monitoring backend did not
    /// answer), so there is no measurement. Argo counts it towards
    /// consecutiveErrorLimit and errors the analysis past it, which aborts the
    /// rollout; Flagger counts a failed query as a failed check; the other
    /// judges have nothing to judge.
    pub fn observe_query_error(&mut self) -> Verdict {
        self.intervals = self.intervals.saturating_add(1);
        if self.failed {
            return Verdict::Failed;
        }
        let verdict = match (&self.spec, &mut self.inner) {
            (
                JudgeSpec::Argo {
                    consecutive_error_limit,
                    ..
                },
                Inner::Threshold {
                    errors_in_a_row, ..
                },
            ) => {
                *errors_in_a_row = errors_in_a_row.saturating_add(1);
                if *errors_in_a_row > *consecutive_error_limit {
                    Verdict::Failed
                } else {
                    Verdict::Inconclusive
                }
            }
            (JudgeSpec::Flagger { threshold, .. }, Inner::Threshold { failed, .. }) => {
                *failed = failed.saturating_add(1);
                if *failed >= (*threshold).max(1) {
                    Verdict::Failed
                } else {
                    Verdict::Healthy
                }
            }
            (JudgeSpec::Consecutive { .. }, Inner::Threshold { run, .. }) => {
                *run = 0;
                Verdict::Inconclusive
            }
            _ => Verdict::Inconclusive,
        };
        if verdict == Verdict::Failed {
            self.failed = true;
        }
        verdict
    }

    /// Feeds one interval's counts and returns the verdict after it.
    /// Errors above requests are clamped to requests (a simulator bug should
    /// not turn into NaN); counts saturate instead of overflowing.
    pub fn observe(&mut self, c: &IntervalCounts) -> Verdict {
        self.intervals = self.intervals.saturating_add(1);
        if self.failed {
            return Verdict::Failed;
        }
        let ce = c.canary_errors.min(c.canary_requests);
        let cn = c.canary_requests;
        let be = c.baseline_errors.min(c.baseline_requests);
        let bn = c.baseline_requests;
        let verdict = match (&self.spec, &mut self.inner) {
            (
                JudgeSpec::Argo {
                    max_error_rate,
                    failure_limit,
                    count,
                    ..
                },
                Inner::Threshold {
                    failed,
                    measurements,
                    errors_in_a_row,
                    inconclusive,
                    ..
                },
            ) => {
                // A measurement that returns a value ends a run of query errors.
                *errors_in_a_row = 0;
                if count.is_some_and(|n| *measurements >= n) {
                    // Argo: Count reached -> metric Successful, no more
                    // measurements.
                    Verdict::Healthy
                } else {
                    *measurements += 1;
                    match rate_exceeds(ce, cn, *max_error_rate) {
                        None => {
                            *inconclusive = inconclusive.saturating_add(1);
                            Verdict::Inconclusive
                        }
                        Some(bad) => {
                            if bad {
                                *failed = failed.saturating_add(1);
                            }
                            if *failed > *failure_limit {
                                Verdict::Failed
                            } else {
                                Verdict::Healthy
                            }
                        }
                    }
                }
            }
            (
                JudgeSpec::Flagger {
                    max_error_rate,
                    threshold,
                    no_data_fails,
                },
                Inner::Threshold { failed, .. },
            ) => {
                let check = match rate_exceeds(ce, cn, *max_error_rate) {
                    None if *no_data_fails => Some(true),
                    other => other,
                };
                match check {
                    None => Verdict::Inconclusive,
                    Some(bad) => {
                        if bad {
                            *failed = failed.saturating_add(1);
                        }
                        if *failed >= (*threshold).max(1) {
                            Verdict::Failed
                        } else {
                            Verdict::Healthy
                        }
                    }
                }
            }
            (
                JudgeSpec::Consecutive {
                    max_error_rate,
                    consecutive,
                },
                Inner::Threshold { failed, run, .. },
            ) => match rate_exceeds(ce, cn, *max_error_rate) {
                None => {
                    *run = 0;
                    Verdict::Inconclusive
                }
                Some(false) => {
                    *run = 0;
                    Verdict::Healthy
                }
                Some(true) => {
                    *failed = failed.saturating_add(1);
                    *run = run.saturating_add(1);
                    if *run >= *consecutive {
                        Verdict::Failed
                    } else {
                        Verdict::Healthy
                    }
                }
            },
            (
                JudgeSpec::Compare {
                    min_requests,
                    mode,
                    horizon,
                    ..
                },
                Inner::Compare {
                    canary_requests,
                    canary_errors,
                    baseline_requests,
                    baseline_errors,
                    intervals,
                    settled,
                },
            ) => {
                let z_crit = self.z_crit;
                match mode {
                    CompareMode::PerInterval => z_verdict(ce, cn, be, bn, *min_requests, z_crit),
                    CompareMode::Cumulative | CompareMode::FixedHorizon => {
                        if let Some(v) = settled {
                            *v
                        } else {
                            *canary_requests = canary_requests.saturating_add(cn);
                            *canary_errors = canary_errors.saturating_add(ce);
                            *baseline_requests = baseline_requests.saturating_add(bn);
                            *baseline_errors = baseline_errors.saturating_add(be);
                            *intervals = intervals.saturating_add(1);
                            let test = || {
                                z_verdict(
                                    *canary_errors,
                                    *canary_requests,
                                    *baseline_errors,
                                    *baseline_requests,
                                    *min_requests,
                                    z_crit,
                                )
                            };
                            if *mode == CompareMode::Cumulative {
                                test()
                            } else if Some(*intervals) >= *horizon {
                                let v = test();
                                *settled = Some(v);
                                v
                            } else {
                                Verdict::Inconclusive
                            }
                        }
                    }
                }
            }
            (
                JudgeSpec::MannWhitney {
                    confidence,
                    min_intervals,
                },
                Inner::MannWhitney { canary, baseline },
            ) => {
                if cn > 0 {
                    canary.push(ce as f64 / cn as f64);
                }
                if bn > 0 {
                    baseline.push(be as f64 / bn as f64);
                }
                let need = *min_intervals as usize;
                if canary.len() < need || baseline.len() < need {
                    Verdict::Inconclusive
                } else if mann_whitney_u_p_value(canary, baseline) < 1.0 - *confidence {
                    Verdict::Failed
                } else {
                    Verdict::Healthy
                }
            }
            // The inner state is always built from the spec; this arm is
            // unreachable but answering "no decision" beats panicking.
            _ => Verdict::Inconclusive,
        };
        if verdict == Verdict::Failed {
            self.failed = true;
        }
        verdict
    }
}

/// The one place where "this interval's error rate is too high" is decided,
/// shared by the judges and the exact false-alarm computation so that both
/// round identically. `None` when there were no requests.
pub(super) fn rate_exceeds(errors: u64, requests: u64, max_error_rate: f64) -> Option<bool> {
    if requests == 0 {
        None
    } else {
        Some(errors as f64 / requests as f64 > max_error_rate)
    }
}

/// The one place where the z-test decides, shared with `z_test_size`.
pub(super) fn z_rejects(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    min_requests: u64,
    z_crit: f64,
) -> Option<bool> {
    let min_n = min_requests.max(1);
    if n1 < min_n || n2 < min_n {
        None
    } else {
        Some(two_proportion_z(x1, n1, x2, n2) > z_crit)
    }
}

pub(super) fn z_verdict(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    min_requests: u64,
    z_crit: f64,
) -> Verdict {
    match z_rejects(x1, n1, x2, n2, min_requests, z_crit) {
        None => Verdict::Inconclusive,
        Some(true) => Verdict::Failed,
        Some(false) => Verdict::Healthy,
    }
}
