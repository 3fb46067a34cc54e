//! How a monitor decides that a release is bad.
//!
//! Every monitoring interval the simulator hands the judge the request and
//! error counts it observed for the canary (new version) and the baseline
//! (old version, same interval). The judge answers with a [`Verdict`];
//! [`Verdict::Failed`] means "roll back now" and is latched: once a judge has
//! failed it keeps answering `Failed` until [`JudgeState::reset`].
//!
//! Five rules are offered, chosen per scenario with [`JudgeSpec`]:
//!
//! | `kind`         | models                                                    |
//! |----------------|-----------------------------------------------------------|
//! | `argo`         | Argo Rollouts AnalysisTemplate, `failureLimit` / `count`  |
//! | `flagger`      | Flagger canary analysis, `analysis.threshold`             |
//! | `consecutive`  | a plain alert: N consecutive bad intervals                |
//! | `compare`      | canary vs baseline, one-sided pooled two-proportion z-test|
//! | `mann-whitney` | Kayenta-style rank test over per-interval error rates     |
//!
//! # What Argo Rollouts actually does
//!
//! Read in argoproj/argo-rollouts: `analysis/analysis.go` (`runMeasurements`,
//! `assessMetricStatus`, `assessMetricFailureInconclusiveOrError`),
//! `utils/evaluate/evaluate.go` (`EvaluateResult`) and `utils/defaults`
//! (`DefaultConsecutiveErrorLimit`).
//!
//! * A metric is measured every `interval`; each measurement ends up
//!   `Successful`, `Failed`, `Inconclusive` or `Error`.
//! * `EvaluateResult`: with only a `successCondition`, a measurement that does
//!   not satisfy it is **Failed** (including a NaN error rate from 0/0, since
//!   every comparison with NaN is false). With both `successCondition` and
//!   `failureCondition`, a value matching neither (NaN again) is
//!   **Inconclusive**. A query or evaluation error (e.g. `result[0]` on an
//!   empty vector) is **Error**.
//! * `runMeasurements`: Successful, Failed and Inconclusive measurements each
//!   increment `Count` and reset `ConsecutiveError`; an Error measurement
//!   increments `Error` and `ConsecutiveError` but **not** `Count`.
//! * `assessMetricFailureInconclusiveOrError`: the metric is Failed when
//!   `Failed > failureLimit` (default 0, so the first failed measurement fails
//!   the analysis; `failureLimit: 2` fails on the third). `failureLimit` is
//!   **cumulative**, not consecutive. The metric is Inconclusive when
//!   `Inconclusive > inconclusiveLimit` (default 0), and Error when
//!   `ConsecutiveError > consecutiveErrorLimit` (default 4). The
//!   consecutive-error limit counts errors *querying/evaluating the metric*,
//!   never failed measurements.
//! * `assessMetricStatus`: once `Count >= count` without the above, the metric
//!   is Successful and no more measurements are taken. Without `count` it runs
//!   until the rollout stops it.
//! * A Failed (or Error) AnalysisRun aborts the rollout (traffic back to
//!   stable); an Inconclusive one pauses it for a human.
//!
//! Our `argo` judge models the common "error rate must stay <= max" template
//! with both conditions set, so an interval with no canary traffic is an
//! Inconclusive measurement: it counts toward `count` but is neither a failure
//! nor a success. We do **not** model `inconclusiveLimit` (which would pause
//! for a human, something a simulator cannot do); that is the same as an
//! unlimited `inconclusiveLimit`. We do not model query errors, so
//! `consecutiveErrorLimit` has nothing to count.
//!
//! # What Flagger actually does
//!
//! Read in fluxcd/flagger: `pkg/controller/scheduler.go` (`advanceCanary`),
//! `pkg/controller/scheduler_metrics.go` (`runBuiltinMetricChecks`,
//! `runMetricChecks`) and `pkg/apis/flagger/v1beta1/canary.go`
//! (`GetAnalysisThreshold`).
//!
//! * Every `analysis.interval` (default 60 s, minimum 10 s) all metric checks
//!   run; if any fails, `status.failedChecks` is incremented.
//! * A check fails when the value is above `thresholdRange.max` (or, for the
//!   built-in `request-success-rate`, below the success-percentage
//!   threshold: success% < t  <=>  error rate > 1 - t/100). When the query
//!   returns no values (no traffic) the check **also fails** ("Halt
//!   advancement no values found").
//! * `failedChecks` is cumulative over the analysis; it is reset only when a
//!   new revision restarts the analysis.
//! * Rollback happens when `failedChecks >= GetAnalysisThreshold()`, where the
//!   threshold is `analysis.threshold` if > 0 and **1 otherwise**.
//!   `advanceCanary` tests this at the *start* of a tick, before running the
//!   checks, so real Flagger rolls back one interval after the check that
//!   reached the threshold. Our judge reports `Failed` on the check itself;
//!   a simulator wanting that extra latency should add one interval.
//!
//! Our `flagger` judge treats a no-traffic interval as Inconclusive by default
//! (so that all judges agree on what "no data" means); set
//! `no_data_fails = true` for Flagger's real behaviour.
//!
//! # Kayenta
//!
//! spinnaker/kayenta `NetflixACAJudge.scala` classifies each metric with
//! `MannWhitneyClassifier(tolerance = 0.25, confLevel = 0.98)`: a metric is
//! "High" when the lower bound of the 98 % confidence interval of the
//! Hodges-Lehmann shift exceeds 0.25 x |estimate|. Our `mann-whitney` judge is
//! the simpler one-sided rank-sum test at `confidence` (default 0.98) on the
//! per-interval error rates; Kayenta's guidance is to have at least 50 data
//! points per metric, hence `min_intervals = 50` by default.
//!
//! # Nominal false-alarm rate
//!
//! [`JudgeSpec::nominal_false_alarm_rate`] gives, for a *healthy* release
//! (canary and baseline share the error probability `p`), the probability
//! that the judge reaches `Failed` within the first `k` intervals, under the
//! model the simulator implements: requests per interval ~ Poisson(lambda),
//! independent across intervals and arms; each request fails independently
//! with probability `p`.
//!
//! The figure is computed *exactly for the judge as implemented* (same
//! comparison code, same rounding), only truncating Poisson tails below
//! ~1e-18, so a Monte-Carlo test can compare the simulated false-rollback rate
//! against it. The trick that makes it cheap: by Poisson thinning, the error
//! count X ~ Poisson(lambda p) and the success count S ~ Poisson(lambda (1-p))
//! are independent, and every rule here is monotone in S for fixed X, so the
//! rejection region in S is an interval whose probability is a Poisson CDF.
//! (We do not use statrs' Binomial CDF for this: statrs 0.19 `beta_reg` stops
//! its continued fraction after 140 iterations without reporting it, which is
//! not accurate for the 1e4-1e6 requests an interval can hold.)
//!
//! * Threshold judges: the per-interval failure probability `q` is summed
//!   exactly, then the interval rule is applied exactly (binomial tail for
//!   `argo`/`flagger`, a run-length recursion for `consecutive`).
//! * `compare` with `mode = "per-interval"`: each interval is an independent
//!   test of exact size `a` (not the nominal alpha: the normal approximation
//!   and discreteness move it), so P = 1 - (1 - a)^k.
//! * `compare` with `mode = "fixed-horizon"`: one test after `horizon`
//!   intervals on Poisson(horizon * lambda) counts: exact.
//! * `compare` with `mode = "cumulative"` re-tests the growing totals every
//!   interval. Repeated significance tests on accumulating data inflate alpha
//!   (Armitage, McPherson & Rowe 1969: a two-sided 5 % test looked at 10 times
//!   rejects a true null roughly 19 % of the time). There is no closed form,
//!   so the function returns `None` for k > 1. This is exactly the number the
//!   project should *measure* by simulation, not assume.
//! * `mann-whitney`: `None` (normal approximation on few, tied, unequal
//!   variance samples, re-tested every interval) except `Some(0.0)` when
//!   `k < min_intervals`.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

/// Counts observed during one monitoring interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct IntervalCounts {
    pub canary_requests: u64,
    pub canary_errors: u64,
    pub baseline_requests: u64,
    pub baseline_errors: u64,
}

/// State of the analysis after an interval.
///
/// * `Healthy`: a measurement/test was made and the analysis has not failed
///   (a tolerated failed measurement below `failure_limit` is still
///   `Healthy`: only `Failed` triggers a rollback).
/// * `Inconclusive`: this interval gave nothing usable (no canary traffic,
///   minimum-sample guard not met, not enough intervals yet).
/// * `Failed`: roll back now. Latched until [`JudgeState::reset`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    Inconclusive,
    Failed,
}

/// How the `compare` judge groups counts before testing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CompareMode {
    /// Test the totals since the analysis started, every interval. Uses all
    /// data, but repeated looks inflate the false-alarm rate (no closed form).
    #[default]
    Cumulative,
    /// Test each interval's counts on their own: independent tests, so the
    /// false-alarm rate over k intervals is exactly 1 - (1 - a)^k.
    PerInterval,
    /// Accumulate for `horizon` intervals and test once: exact size, no
    /// peeking. `Inconclusive` before the horizon, final verdict after.
    FixedHorizon,
}

fn default_flagger_threshold() -> u32 {
    // pkg/apis/flagger/v1beta1/canary.go GetAnalysisThreshold: 1 when unset.
    1
}
fn default_compare_confidence() -> f64 {
    0.95
}
fn default_min_requests() -> u64 {
    100
}
fn default_mw_confidence() -> f64 {
    // spinnaker/kayenta NetflixACAJudge.scala: confLevel = 0.98.
    0.98
}
fn default_min_intervals() -> u32 {
    // Kayenta advises at least 50 data points per metric.
    50
}

/// Scenario description of a judge (serde, internally tagged by `kind`).
///
/// ```toml
/// [judge]
/// kind = "argo"            # Argo Rollouts AnalysisTemplate
/// max_error_rate = 0.02    # measurement fails when errors/requests > 0.02
/// failure_limit = 0        # optional, Argo default 0
/// count = 10               # optional: analysis succeeds after 10 measurements
/// ```
/// ```toml
/// [judge]
/// kind = "flagger"
/// max_error_rate = 0.01
/// threshold = 5            # optional, Flagger default 1
/// no_data_fails = false    # optional; true = Flagger's real no-traffic behaviour
/// ```
/// ```toml
/// [judge]
/// kind = "consecutive"
/// max_error_rate = 0.05
/// consecutive = 3
/// ```
/// ```toml
/// [judge]
/// kind = "compare"
/// confidence = 0.95        # optional, default 0.95 (one-sided alpha 0.05)
/// min_requests = 500       # optional, default 100, guard on each arm
/// mode = "per-interval"    # optional: "cumulative" (default) | "per-interval" | "fixed-horizon"
/// # horizon = 10           # required with mode = "fixed-horizon", forbidden otherwise
/// ```
/// ```toml
/// [judge]
/// kind = "mann-whitney"
/// confidence = 0.98        # optional, Kayenta's default
/// min_intervals = 50       # optional, per arm
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum JudgeSpec {
    /// Argo Rollouts: each interval is a measurement that fails when the
    /// canary error rate exceeds `max_error_rate`; the analysis fails when
    /// failed measurements exceed `failure_limit` (cumulative). With `count`,
    /// the analysis completes successfully after `count` measurements
    /// (inconclusive ones included, as in Argo) and stays `Healthy`.
    Argo {
        max_error_rate: f64,
        #[serde(default)]
        failure_limit: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
    },
    /// Flagger: each interval is a check that fails when the canary error rate
    /// exceeds `max_error_rate`; rollback when failed checks (cumulative)
    /// reach `threshold`. `threshold = 0` behaves as 1, like Flagger.
    Flagger {
        max_error_rate: f64,
        #[serde(default = "default_flagger_threshold")]
        threshold: u32,
        #[serde(default)]
        no_data_fails: bool,
    },
    /// Plain alerting rule: `consecutive` bad intervals in a row. An interval
    /// without canary traffic breaks the run, like a Prometheus alert whose
    /// expression returns nothing goes back from pending to inactive.
    Consecutive {
        max_error_rate: f64,
        consecutive: u32,
    },
    /// One-sided pooled two-proportion z-test, canary error rate greater than
    /// baseline's, at `confidence`; `Inconclusive` until both arms hold at
    /// least `min_requests` requests in the tested counts.
    Compare {
        #[serde(default = "default_compare_confidence")]
        confidence: f64,
        #[serde(default = "default_min_requests")]
        min_requests: u64,
        #[serde(default)]
        mode: CompareMode,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        horizon: Option<u32>,
    },
    /// Kayenta-style: one-sided Mann-Whitney U test over the per-interval
    /// error rates of each arm (intervals without traffic on an arm add no
    /// value to that arm), tested every interval once both arms hold
    /// `min_intervals` values. Fails when p < 1 - confidence.
    MannWhitney {
        #[serde(default = "default_mw_confidence")]
        confidence: f64,
        #[serde(default = "default_min_intervals")]
        min_intervals: u32,
    },
}

fn finite_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

fn check_rate(name: &str, v: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(format!("{name} must be in [0, 1], got {v}"))
    }
}

impl JudgeSpec {
    /// Checks the parameters; messages name the offending field.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            JudgeSpec::Argo { max_error_rate, .. } | JudgeSpec::Flagger { max_error_rate, .. } => {
                check_rate("max_error_rate", max_error_rate)
            }
            JudgeSpec::Consecutive {
                max_error_rate,
                consecutive,
            } => {
                check_rate("max_error_rate", max_error_rate)?;
                if consecutive == 0 {
                    return Err("consecutive must be at least 1, got 0".to_string());
                }
                Ok(())
            }
            JudgeSpec::Compare {
                confidence,
                mode,
                horizon,
                ..
            } => {
                // > 0.5 keeps the critical z positive, which the exact
                // false-alarm computation relies on (see z_test_size).
                if !(confidence > 0.5 && confidence < 1.0) {
                    return Err(format!("confidence must be in (0.5, 1), got {confidence}"));
                }
                match (mode, horizon) {
                    (CompareMode::FixedHorizon, None) => {
                        Err("horizon is required when mode = \"fixed-horizon\"".to_string())
                    }
                    (CompareMode::FixedHorizon, Some(0)) => {
                        Err("horizon must be at least 1, got 0".to_string())
                    }
                    (CompareMode::FixedHorizon, Some(_)) | (_, None) => Ok(()),
                    (_, Some(h)) => Err(format!(
                        "horizon = {h} is only meaningful with mode = \"fixed-horizon\""
                    )),
                }
            }
            JudgeSpec::MannWhitney {
                confidence,
                min_intervals,
            } => {
                if !(confidence > 0.0 && confidence < 1.0) {
                    return Err(format!("confidence must be in (0, 1), got {confidence}"));
                }
                if min_intervals == 0 {
                    return Err("min_intervals must be at least 1, got 0".to_string());
                }
                Ok(())
            }
        }
    }

    /// Validates and builds the runtime state.
    pub fn start(&self) -> Result<JudgeState, String> {
        JudgeState::new(*self)
    }

    /// Probability that this judge reaches `Failed` within the first
    /// `intervals` intervals of a healthy release, with Poisson(
    /// `requests_per_interval`) requests per interval on the canary (and, for
    /// the comparing judges, the same on the baseline: equal arms) and error
    /// probability `baseline_error_rate` on both. See the module docs for
    /// which judges have an exact figure; `None` where none exists or the
    /// inputs are invalid.
    pub fn nominal_false_alarm_rate(
        &self,
        intervals: u32,
        baseline_error_rate: f64,
        requests_per_interval: f64,
    ) -> Option<f64> {
        self.nominal_false_alarm_rate_two_arms(
            intervals,
            baseline_error_rate,
            requests_per_interval,
            requests_per_interval,
        )
    }

    /// As [`Self::nominal_false_alarm_rate`] with separate mean requests per
    /// interval for the canary and the baseline (e.g. 10 % / 90 % weights).
    /// Threshold judges ignore the baseline.
    pub fn nominal_false_alarm_rate_two_arms(
        &self,
        intervals: u32,
        error_rate: f64,
        canary_requests_per_interval: f64,
        baseline_requests_per_interval: f64,
    ) -> Option<f64> {
        self.validate().ok()?;
        let p = error_rate;
        let lc = canary_requests_per_interval;
        let lb = baseline_requests_per_interval;
        if !(0.0..=1.0).contains(&p) || !finite_non_negative(lc) {
            return None;
        }
        let two_arms = matches!(
            self,
            JudgeSpec::Compare { .. } | JudgeSpec::MannWhitney { .. }
        );
        if two_arms && !finite_non_negative(lb) {
            return None;
        }
        if intervals == 0 {
            return Some(0.0);
        }
        let k = u64::from(intervals);
        match *self {
            JudgeSpec::Argo {
                max_error_rate,
                failure_limit,
                count,
            } => {
                let q = threshold_fail_prob(lc, p, max_error_rate)?;
                // Every interval is one measurement (inconclusive ones
                // included), and no measurement is taken after `count`.
                let measured = count.map_or(k, |c| k.min(u64::from(c)));
                Some(binomial_tail_ge(measured, q, u64::from(failure_limit) + 1))
            }
            JudgeSpec::Flagger {
                max_error_rate,
                threshold,
                no_data_fails,
            } => {
                let mut q = threshold_fail_prob(lc, p, max_error_rate)?;
                if no_data_fails {
                    // P(no canary request) = e^{-lambda}, disjoint from q.
                    q += (-lc).exp();
                }
                Some(binomial_tail_ge(k, q.min(1.0), u64::from(threshold.max(1))))
            }
            JudgeSpec::Consecutive {
                max_error_rate,
                consecutive,
            } => {
                let q = threshold_fail_prob(lc, p, max_error_rate)?;
                run_probability(k, q, u64::from(consecutive))
            }
            JudgeSpec::Compare {
                confidence,
                min_requests,
                mode,
                horizon,
            } => {
                let z_crit = normal_quantile(confidence);
                match mode {
                    CompareMode::PerInterval => {
                        let a = z_test_size(lc, lb, p, min_requests, z_crit)?;
                        Some(at_least_once(a, k))
                    }
                    CompareMode::Cumulative if k == 1 => {
                        z_test_size(lc, lb, p, min_requests, z_crit)
                    }
                    CompareMode::Cumulative => None,
                    CompareMode::FixedHorizon => {
                        let h = f64::from(horizon?);
                        if k < u64::from(horizon?) {
                            Some(0.0)
                        } else {
                            z_test_size(lc * h, lb * h, p, min_requests, z_crit)
                        }
                    }
                }
            }
            JudgeSpec::MannWhitney { min_intervals, .. } => {
                if k < u64::from(min_intervals) {
                    Some(0.0)
                } else {
                    None
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Runtime state
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Inner {
    /// argo / flagger / consecutive
    Threshold {
        /// failed measurements / checks so far (cumulative)
        failed: u32,
        /// measurements taken (Argo `Count`: inconclusive ones included)
        measurements: u32,
        /// current run of consecutive failed intervals
        run: u32,
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
    /// Validates `spec` and starts a fresh analysis.
    pub fn new(spec: JudgeSpec) -> Result<Self, String> {
        spec.validate()?;
        let z_crit = match spec {
            JudgeSpec::Compare { confidence, .. } => normal_quantile(confidence),
            // unused by the other judges; not NaN so that PartialEq works
            _ => f64::INFINITY,
        };
        Ok(JudgeState {
            spec,
            z_crit,
            inner: Self::fresh_inner(&spec),
            failed: false,
            intervals: 0,
        })
    }

    fn fresh_inner(spec: &JudgeSpec) -> Inner {
        match spec {
            JudgeSpec::Argo { .. } | JudgeSpec::Flagger { .. } | JudgeSpec::Consecutive { .. } => {
                Inner::Threshold {
                    failed: 0,
                    measurements: 0,
                    run: 0,
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
                },
                Inner::Threshold {
                    failed,
                    measurements,
                    ..
                },
            ) => {
                if count.is_some_and(|n| *measurements >= n) {
                    // Argo: Count reached -> metric Successful, no more
                    // measurements.
                    Verdict::Healthy
                } else {
                    *measurements += 1;
                    match rate_exceeds(ce, cn, *max_error_rate) {
                        None => Verdict::Inconclusive,
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
fn rate_exceeds(errors: u64, requests: u64, max_error_rate: f64) -> Option<bool> {
    if requests == 0 {
        None
    } else {
        Some(errors as f64 / requests as f64 > max_error_rate)
    }
}

/// The one place where the z-test decides, shared with `z_test_size`.
fn z_rejects(x1: u64, n1: u64, x2: u64, n2: u64, min_requests: u64, z_crit: f64) -> Option<bool> {
    let min_n = min_requests.max(1);
    if n1 < min_n || n2 < min_n {
        None
    } else {
        Some(two_proportion_z(x1, n1, x2, n2) > z_crit)
    }
}

fn z_verdict(x1: u64, n1: u64, x2: u64, n2: u64, min_requests: u64, z_crit: f64) -> Verdict {
    match z_rejects(x1, n1, x2, n2, min_requests, z_crit) {
        None => Verdict::Inconclusive,
        Some(true) => Verdict::Failed,
        Some(false) => Verdict::Healthy,
    }
}

// ---------------------------------------------------------------------------
// Statistical helpers
// ---------------------------------------------------------------------------

/// Pooled two-proportion z statistic, canary (`x1` of `n1`) minus baseline
/// (`x2` of `n2`):
///
/// z = (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)),  p = (x1 + x2) / (n1 + n2)
///
/// computed in the algebraically identical form
/// z = (x1 n2 - x2 n1) * sqrt(N / (n1 n2 T (N - T))), N = n1 + n2,
/// T = x1 + x2, which has one rounding-sensitive subtraction instead of three.
/// Returns 0 (no evidence) when an arm is empty or the pooled proportion is 0
/// or 1 (zero variance). Errors above requests are clamped.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 0.0;
    }
    let (a, n) = (x1.min(n1) as f64, n1 as f64);
    let (b, m) = (x2.min(n2) as f64, n2 as f64);
    let big_n = n + m;
    let t = a + b;
    if t == 0.0 || t >= big_n {
        return 0.0;
    }
    (a * m - b * n) * (big_n / (n * m * t * (big_n - t))).sqrt()
}

/// Standard normal survival function P(Z > z) (statrs; accurate in the far
/// tail since it goes through erfc). NaN gives NaN.
pub fn normal_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    Normal::standard().sf(z)
}

/// Standard normal quantile Phi^{-1}(p); -inf/+inf at 0/1, NaN outside
/// [0, 1] (statrs panics there, we do not).
pub fn normal_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    Normal::standard().inverse_cdf(p)
}

/// One-sided Mann-Whitney U test, alternative "canary values tend to be
/// greater than baseline values", normal approximation with tie correction
/// and a 0.5 continuity correction (the same as SciPy's
/// `mannwhitneyu(canary, baseline, alternative="greater", method="asymptotic")`):
///
/// U = R_canary - n1 (n1 + 1) / 2 (midranks for ties),
/// sigma^2 = n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))),
/// p = P(Z > (U - n1 n2 / 2 - 0.5) / sigma).
///
/// Non-finite values are dropped. Returns 1 (no evidence) when an arm is
/// empty or every value is tied.
pub fn mann_whitney_u_p_value(canary: &[f64], baseline: &[f64]) -> f64 {
    let mut all: Vec<(f64, bool)> = canary
        .iter()
        .filter(|v| v.is_finite())
        .map(|&v| (v, true))
        .chain(
            baseline
                .iter()
                .filter(|v| v.is_finite())
                .map(|&v| (v, false)),
        )
        .collect();
    let n1 = all.iter().filter(|e| e.1).count() as f64;
    let n2 = all.len() as f64 - n1;
    if n1 == 0.0 || n2 == 0.0 {
        return 1.0;
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let big_n = all.len();
    let mut rank_sum = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < big_n {
        let mut j = i;
        while j + 1 < big_n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Positions i..=j (0-based) share the midrank of ranks i+1..=j+1.
        let midrank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum += midrank * all[i..=j].iter().filter(|e| e.1).count() as f64;
        i = j + 1;
    }
    let nf = big_n as f64;
    let u = rank_sum - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let var = n1 * n2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 || !var.is_finite() {
        return 1.0;
    }
    normal_sf((u - mean - 0.5) / var.sqrt())
}

// ---------------------------------------------------------------------------
// Exact false-alarm machinery
// ---------------------------------------------------------------------------

/// Relative cut-off for Poisson tails (relative to the mode's mass).
const TAIL: f64 = 1e-18;
/// Largest Poisson table built (entries); beyond that we return None rather
/// than allocate hundreds of MB. 4e6 entries covers means up to ~5e10.
const MAX_TABLE: usize = 4_000_000;
/// (x1, x2) pairs less likely than this are skipped by the z-test
/// enumeration: at most ~1e5 such pairs, so < 1e-15 of mass in total.
const PAIR_TAIL: f64 = 1e-20;
/// Largest z-test enumeration attempted (z evaluations, roughly).
const MAX_WORK: f64 = 2e9;

/// Poisson(mean) pmf and CDF on [lo, lo + len), tails below TAIL dropped and
/// the rest renormalised.
struct PoissonTable {
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
fn largest_true(lo: u64, hi: u64, hint: Option<u64>, pred: impl Fn(u64) -> bool) -> u64 {
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
fn threshold_fail_prob(lambda: f64, p: f64, max_error_rate: f64) -> Option<f64> {
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
fn z_test_size(lc: f64, lb: f64, p: f64, min_requests: u64, z_crit: f64) -> Option<f64> {
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
fn at_least_once(a: f64, k: u64) -> f64 {
    if a >= 1.0 {
        return 1.0;
    }
    (-(k as f64 * (-a).ln_1p()).exp_m1()).clamp(0.0, 1.0)
}

/// P(Bin(k, q) >= r), summed directly (accurate for tiny results).
fn binomial_tail_ge(k: u64, q: f64, r: u64) -> f64 {
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
fn run_probability(k: u64, q: f64, c: u64) -> Option<f64> {
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

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(cn: u64, ce: u64, bn: u64, be: u64) -> IntervalCounts {
        IntervalCounts {
            canary_requests: cn,
            canary_errors: ce,
            baseline_requests: bn,
            baseline_errors: be,
        }
    }
    const GOOD: IntervalCounts = IntervalCounts {
        canary_requests: 1000,
        canary_errors: 5,
        baseline_requests: 1000,
        baseline_errors: 5,
    };
    const BAD: IntervalCounts = IntervalCounts {
        canary_requests: 1000,
        canary_errors: 80,
        baseline_requests: 1000,
        baseline_errors: 5,
    };
    const EMPTY: IntervalCounts = IntervalCounts {
        canary_requests: 0,
        canary_errors: 0,
        baseline_requests: 0,
        baseline_errors: 0,
    };

    fn argo(limit: u32) -> JudgeState {
        JudgeSpec::Argo {
            max_error_rate: 0.02,
            failure_limit: limit,
            count: None,
        }
        .start()
        .unwrap()
    }

    fn run(j: &mut JudgeState, seq: &[IntervalCounts]) -> Vec<Verdict> {
        seq.iter().map(|c| j.observe(c)).collect()
    }

    use Verdict::{Failed as F, Healthy as H, Inconclusive as I};

    #[test]
    fn argo_failure_limit_zero_fails_on_first_bad_measurement() {
        let mut j = argo(0);
        assert_eq!(run(&mut j, &[GOOD, GOOD, BAD, GOOD]), [H, H, F, F]);
        assert!(j.has_failed());
    }

    #[test]
    fn argo_failure_limit_two_fails_on_third_bad_not_consecutive() {
        let mut j = argo(2);
        // failed counts 1, 1, 2, 2, 3: Argo fails when failed (3) > limit (2).
        assert_eq!(run(&mut j, &[BAD, GOOD, BAD, GOOD, BAD]), [H, H, H, H, F]);
        assert_eq!(j.failed_measurements(), 3);
    }

    #[test]
    fn argo_rate_equal_to_max_is_not_a_failure() {
        // 20/1000 = 0.02 is not > 0.02
        let mut j = argo(0);
        assert_eq!(j.observe(&counts(1000, 20, 1000, 0)), H);
        assert_eq!(j.observe(&counts(1000, 21, 1000, 0)), F);
    }

    #[test]
    fn argo_count_completes_analysis_and_inconclusive_counts_toward_it() {
        let mut j = JudgeSpec::Argo {
            max_error_rate: 0.02,
            failure_limit: 0,
            count: Some(3),
        }
        .start()
        .unwrap();
        // measurements 1 (inconclusive), 2, 3 -> count reached; later BAD ignored
        assert_eq!(run(&mut j, &[EMPTY, GOOD, GOOD, BAD, BAD]), [I, H, H, H, H]);
    }

    #[test]
    fn no_traffic_is_inconclusive_for_every_judge() {
        let specs = [
            JudgeSpec::Argo {
                max_error_rate: 0.0,
                failure_limit: 0,
                count: None,
            },
            JudgeSpec::Flagger {
                max_error_rate: 0.0,
                threshold: 1,
                no_data_fails: false,
            },
            JudgeSpec::Consecutive {
                max_error_rate: 0.0,
                consecutive: 1,
            },
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 1,
                mode: CompareMode::Cumulative,
                horizon: None,
            },
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 1,
                mode: CompareMode::PerInterval,
                horizon: None,
            },
            JudgeSpec::MannWhitney {
                confidence: 0.98,
                min_intervals: 1,
            },
        ];
        for s in specs {
            let mut j = s.start().unwrap();
            for _ in 0..5 {
                assert_eq!(j.observe(&EMPTY), I, "{s:?}");
            }
            // blue-green after the switch: canary has traffic, baseline none
            if matches!(s, JudgeSpec::Compare { .. } | JudgeSpec::MannWhitney { .. }) {
                assert_eq!(j.observe(&counts(1000, 500, 0, 0)), I, "{s:?}");
            }
        }
    }

    #[test]
    fn flagger_threshold_counts_cumulative_failed_checks() {
        let mut j = JudgeSpec::Flagger {
            max_error_rate: 0.02,
            threshold: 3,
            no_data_fails: false,
        }
        .start()
        .unwrap();
        assert_eq!(
            run(&mut j, &[BAD, GOOD, BAD, EMPTY, GOOD, BAD]),
            [H, H, H, I, H, F]
        );
    }

    #[test]
    fn flagger_threshold_zero_behaves_as_one_and_no_data_can_fail() {
        let mut j = JudgeSpec::Flagger {
            max_error_rate: 0.02,
            threshold: 0,
            no_data_fails: false,
        }
        .start()
        .unwrap();
        assert_eq!(run(&mut j, &[GOOD, BAD]), [H, F]);
        let mut j = JudgeSpec::Flagger {
            max_error_rate: 0.02,
            threshold: 2,
            no_data_fails: true,
        }
        .start()
        .unwrap();
        assert_eq!(run(&mut j, &[EMPTY, GOOD, EMPTY]), [H, H, F]);
    }

    #[test]
    fn consecutive_needs_an_unbroken_run() {
        let mut j = JudgeSpec::Consecutive {
            max_error_rate: 0.02,
            consecutive: 3,
        }
        .start()
        .unwrap();
        assert_eq!(
            run(&mut j, &[BAD, BAD, GOOD, BAD, BAD, EMPTY, BAD, BAD, BAD]),
            [H, H, H, H, H, I, H, H, F]
        );
    }

    #[test]
    fn reset_starts_a_new_analysis() {
        let mut j = argo(0);
        assert_eq!(j.observe(&BAD), F);
        assert_eq!(j.observe(&GOOD), F);
        j.reset();
        assert_eq!(j.observe(&GOOD), H);
        assert_eq!(j.intervals_observed(), 1);
    }

    #[test]
    fn z_statistic_textbook_example() {
        // Canary 40/1000 = 4 %, baseline 20/1000 = 2 %.
        // pooled p = 60/2000 = 0.03; SE = sqrt(0.03*0.97*(1/1000+1/1000))
        //          = sqrt(0.0291*0.002) = sqrt(5.82e-5) = 0.00762889
        // z = 0.02 / 0.00762889 = 2.621613; one-sided p = 1 - Phi(z) = 0.0043757
        let z = two_proportion_z(40, 1000, 20, 1000);
        assert!((z - 2.621_613).abs() < 1e-6, "{z}");
        assert!(
            (normal_sf(z) - 0.004_375_7).abs() < 1e-7,
            "{}",
            normal_sf(z)
        );
        // Same as the textbook form.
        let (p1, p2, pp) = (0.04, 0.02, 0.03);
        let textbook = (p1 - p2) / (pp * (1.0 - pp) * (2.0 / 1000.0f64)).sqrt();
        assert!((z - textbook).abs() < 1e-12);
        // Canary 30/1000 vs 20/1000: pooled 0.025, SE = sqrt(0.025*0.975*0.002)
        // = 0.00698212, z = 0.01/0.00698212 = 1.43223, p = 0.0761 (not significant)
        let z2 = two_proportion_z(30, 1000, 20, 1000);
        assert!((z2 - 1.432_23).abs() < 1e-5, "{z2}");
        // Antisymmetric and degenerate cases.
        assert_eq!(two_proportion_z(20, 1000, 40, 1000), -z);
        assert_eq!(two_proportion_z(0, 10, 0, 10), 0.0);
        assert_eq!(two_proportion_z(10, 10, 10, 10), 0.0);
        assert_eq!(two_proportion_z(1, 0, 1, 10), 0.0);
        assert!((normal_quantile(0.95) - 1.644_853_626_951).abs() < 1e-9);
    }

    fn compare(mode: CompareMode, min_requests: u64, horizon: Option<u32>) -> JudgeState {
        JudgeSpec::Compare {
            confidence: 0.95,
            min_requests,
            mode,
            horizon,
        }
        .start()
        .unwrap()
    }

    #[test]
    fn compare_per_interval_uses_the_worked_example() {
        let mut j = compare(CompareMode::PerInterval, 100, None);
        assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), H); // z = 1.43 < 1.645
        assert_eq!(j.observe(&counts(1000, 40, 1000, 20)), F); // z = 2.62 > 1.645
    }

    #[test]
    fn compare_min_sample_guard_holds_on_each_arm() {
        let mut j = compare(CompareMode::Cumulative, 500, None);
        // Overwhelming evidence, but canary has 200 < 500 requests.
        assert_eq!(j.observe(&counts(200, 100, 5000, 10)), I);
        assert_eq!(j.observe(&counts(200, 100, 5000, 10)), I);
        // Canary total 600 >= 500 -> tested -> fails.
        assert_eq!(j.observe(&counts(200, 100, 5000, 10)), F);
        // Baseline arm guarded too.
        let mut j = compare(CompareMode::PerInterval, 500, None);
        assert_eq!(j.observe(&counts(5000, 2500, 499, 0)), I);
    }

    #[test]
    fn compare_cumulative_accumulates_evidence() {
        let mut j = compare(CompareMode::Cumulative, 100, None);
        // 30/1000 vs 20/1000 each interval: z = 1.43 after one interval,
        // z = 1.43 * sqrt(2) = 2.03 after two (same rates, double the data).
        assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), H);
        assert_eq!(j.observe(&counts(1000, 30, 1000, 20)), F);
    }

    #[test]
    fn compare_fixed_horizon_tests_once() {
        let mut j = compare(CompareMode::FixedHorizon, 100, Some(3));
        let c = counts(1000, 24, 1000, 20); // mild excess: z(3 intervals) = 1.06 < 1.645
        assert_eq!(run(&mut j, &[c, c, c, BAD, BAD]), [I, I, H, H, H]);
        let mut j = compare(CompareMode::FixedHorizon, 100, Some(2));
        assert_eq!(run(&mut j, &[BAD, GOOD, GOOD]), [I, F, F]);
    }

    #[test]
    fn mann_whitney_hand_example() {
        // canary [3, 4, 5], baseline [1, 2, 3]
        // sorted: 1b 2b 3b 3c 4c 5c -> ranks 1 2 3.5 3.5 5 6
        // R_c = 3.5 + 5 + 6 = 14.5, U = 14.5 - 3*4/2 = 8.5, mean = 4.5
        // ties: one pair -> sum(t^3 - t) = 6
        // var = 9/12 * (7 - 6/30) = 0.75 * 6.8 = 5.1, sd = 2.258318
        // z = (8.5 - 4.5 - 0.5) / 2.258318 = 1.549826, p = 1 - Phi(z) = 0.0605916
        let p = mann_whitney_u_p_value(&[3.0, 4.0, 5.0], &[1.0, 2.0, 3.0]);
        assert!((p - 0.060_591_6).abs() < 1e-7, "{p}");
        // Reversed alternative gives the other tail (U = 0.5, z = -4.5/2.258).
        let p_rev = mann_whitney_u_p_value(&[1.0, 2.0, 3.0], &[3.0, 4.0, 5.0]);
        assert!((p_rev - normal_sf(-4.5 / 5.1f64.sqrt())).abs() < 1e-12);
        // Degenerate inputs: no evidence, no panic.
        assert_eq!(mann_whitney_u_p_value(&[], &[1.0]), 1.0);
        assert_eq!(mann_whitney_u_p_value(&[2.0, 2.0], &[2.0]), 1.0);
        assert_eq!(mann_whitney_u_p_value(&[f64::NAN], &[1.0]), 1.0);
    }

    #[test]
    fn mann_whitney_judge_waits_for_min_intervals_then_fails() {
        let mut j = JudgeSpec::MannWhitney {
            confidence: 0.98,
            min_intervals: 5,
        }
        .start()
        .unwrap();
        let mut out = Vec::new();
        for i in 0..6u64 {
            out.push(j.observe(&counts(1000, 50 + i, 1000, 5 + i)));
        }
        // 5 vs 5 values, all canary > all baseline: U = 25, var = 25*11/12,
        // z = (25 - 12.5 - 0.5)/4.787 = 2.507, p = 0.0061 < 0.02.
        assert_eq!(out, [I, I, I, I, F, F]);
    }

    #[test]
    fn validation_names_the_field() {
        let e = JudgeSpec::Argo {
            max_error_rate: 1.5,
            failure_limit: 0,
            count: None,
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("max_error_rate") && e.contains("1.5"), "{e}");
        let e = JudgeSpec::Compare {
            confidence: 0.4,
            min_requests: 1,
            mode: CompareMode::Cumulative,
            horizon: None,
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("confidence"), "{e}");
        assert!(
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 1,
                mode: CompareMode::FixedHorizon,
                horizon: None,
            }
            .validate()
            .is_err()
        );
        assert!(
            JudgeSpec::Compare {
                confidence: 0.95,
                min_requests: 1,
                mode: CompareMode::PerInterval,
                horizon: Some(3),
            }
            .validate()
            .is_err()
        );
        assert!(
            JudgeSpec::Consecutive {
                max_error_rate: f64::NAN,
                consecutive: 2
            }
            .validate()
            .is_err()
        );
    }

    // ---- exactness of the false-alarm machinery -----------------------------

    fn ln_fact(n: u64) -> f64 {
        statrs::function::gamma::ln_gamma(n as f64 + 1.0)
    }
    fn pois(k: u64, l: f64) -> f64 {
        if l == 0.0 {
            return if k == 0 { 1.0 } else { 0.0 };
        }
        (k as f64 * l.ln() - l - ln_fact(k)).exp()
    }
    fn binom(x: u64, n: u64, p: f64) -> f64 {
        (ln_fact(n) - ln_fact(x) - ln_fact(n - x)
            + x as f64 * p.ln()
            + (n - x) as f64 * (1.0 - p).ln())
        .exp()
    }

    #[test]
    fn threshold_fail_prob_matches_brute_force_sum_over_n() {
        for &(l, p, max) in &[(5.0, 0.1, 0.2), (30.0, 0.02, 0.05), (12.0, 0.3, 0.3)] {
            let mut brute = 0.0;
            for n in 1..200u64 {
                let pn = pois(n, l);
                for x in 0..=n {
                    if rate_exceeds(x, n, max) == Some(true) {
                        brute += pn * binom(x, n, p);
                    }
                }
            }
            let q = threshold_fail_prob(l, p, max).unwrap();
            assert!((q - brute).abs() < 1e-12, "{l} {p} {max}: {q} vs {brute}");
        }
    }

    #[test]
    fn z_test_size_matches_brute_force_enumeration() {
        for &(lc, lb, p, min) in &[(15.0, 25.0, 0.2, 5u64), (20.0, 20.0, 0.1, 1)] {
            let z_crit = normal_quantile(0.95);
            let nmax = 90u64;
            let bin: Vec<Vec<f64>> = (0..nmax)
                .map(|n| (0..=n).map(|x| binom(x, n, p)).collect())
                .collect();
            let mut brute = 0.0;
            for n1 in 0..nmax {
                let p1 = pois(n1, lc);
                for n2 in 0..nmax {
                    let w = p1 * pois(n2, lb);
                    for x1 in 0..=n1 {
                        let w1 = w * bin[n1 as usize][x1 as usize];
                        for x2 in 0..=n2 {
                            if z_rejects(x1, n1, x2, n2, min, z_crit) == Some(true) {
                                brute += w1 * bin[n2 as usize][x2 as usize];
                            }
                        }
                    }
                }
            }
            let a = z_test_size(lc, lb, p, min, z_crit).unwrap();
            assert!((a - brute).abs() < 1e-10, "{a} vs {brute}");
        }
    }

    #[test]
    fn nominal_closed_forms() {
        let argo0 = JudgeSpec::Argo {
            max_error_rate: 0.02,
            failure_limit: 0,
            count: None,
        };
        let q = threshold_fail_prob(500.0, 0.01, 0.02).unwrap();
        let got = argo0.nominal_false_alarm_rate(10, 0.01, 500.0).unwrap();
        assert!((got - (1.0 - (1.0 - q).powi(10))).abs() < 1e-12);
        // count caps the number of measurements
        let argo_c = JudgeSpec::Argo {
            max_error_rate: 0.02,
            failure_limit: 0,
            count: Some(4),
        };
        let got = argo_c.nominal_false_alarm_rate(10, 0.01, 500.0).unwrap();
        assert!((got - (1.0 - (1.0 - q).powi(4))).abs() < 1e-12);
        // Flagger threshold 2 over 3 checks: 3 q^2 (1-q) + q^3
        let fl = JudgeSpec::Flagger {
            max_error_rate: 0.02,
            threshold: 2,
            no_data_fails: false,
        };
        let got = fl.nominal_false_alarm_rate(3, 0.01, 500.0).unwrap();
        assert!((got - (3.0 * q * q * (1.0 - q) + q.powi(3))).abs() < 1e-12);
        // Consecutive 2 over 3 intervals: FF? or ?FF = q^2 + (1-q) q^2
        let co = JudgeSpec::Consecutive {
            max_error_rate: 0.02,
            consecutive: 2,
        };
        let got = co.nominal_false_alarm_rate(3, 0.01, 500.0).unwrap();
        assert!((got - (q * q + (1.0 - q) * q * q)).abs() < 1e-12);
        // no traffic at all -> never fails; zero intervals -> 0
        assert_eq!(argo0.nominal_false_alarm_rate(10, 0.01, 0.0), Some(0.0));
        assert_eq!(argo0.nominal_false_alarm_rate(0, 0.01, 500.0), Some(0.0));
        // Flagger's real no-data behaviour: lambda = 0 -> first check fails
        let fl_nd = JudgeSpec::Flagger {
            max_error_rate: 0.02,
            threshold: 1,
            no_data_fails: true,
        };
        assert_eq!(fl_nd.nominal_false_alarm_rate(1, 0.01, 0.0), Some(1.0));
        // Cumulative compare: no closed form beyond one look
        let cu = JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 100,
            mode: CompareMode::Cumulative,
            horizon: None,
        };
        assert!(cu.nominal_false_alarm_rate(1, 0.01, 2000.0).is_some());
        assert_eq!(cu.nominal_false_alarm_rate(5, 0.01, 2000.0), None);
        let mw = JudgeSpec::MannWhitney {
            confidence: 0.98,
            min_intervals: 50,
        };
        assert_eq!(mw.nominal_false_alarm_rate(49, 0.01, 100.0), Some(0.0));
        assert_eq!(mw.nominal_false_alarm_rate(50, 0.01, 100.0), None);
        // invalid inputs
        assert_eq!(argo0.nominal_false_alarm_rate(3, 1.5, 100.0), None);
        assert_eq!(argo0.nominal_false_alarm_rate(3, 0.01, f64::NAN), None);
    }

    #[test]
    fn z_test_size_is_near_alpha_for_large_counts() {
        // The exact size is not alpha, but with ~50 expected errors per arm
        // the normal approximation should be within about 20 % of it.
        let a = z_test_size(5000.0, 5000.0, 0.01, 100, normal_quantile(0.95)).unwrap();
        assert!((a - 0.05).abs() < 0.01, "{a}");
        // Large realistic case stays fast enough and sane.
        let a = z_test_size(600.0, 5400.0, 0.01, 100, normal_quantile(0.95)).unwrap();
        assert!(a > 0.02 && a < 0.08, "{a}");
    }

    // ---- Monte-Carlo check against the nominal figures ----------------------

    /// splitmix64: tiny, deterministic, good enough for these tests.
    struct Rng(u64);
    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn unif(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Poisson by inversion (fine for the small means used here).
        fn poisson(&mut self, l: f64) -> u64 {
            let u = self.unif();
            let mut k = 0u64;
            let mut p = (-l).exp();
            let mut c = p;
            while u > c && k < 10_000 {
                k += 1;
                p *= l / k as f64;
                c += p;
            }
            k
        }
        /// The simulator's way: N ~ Poisson, then N Bernoulli trials.
        fn binomial(&mut self, n: u64, p: f64) -> u64 {
            (0..n).filter(|_| self.unif() < p).count() as u64
        }
    }

    fn simulate(spec: JudgeSpec, k: u32, p: f64, lc: f64, lb: f64, reps: u32, seed: u64) -> f64 {
        let mut rng = Rng(seed);
        let mut alarms = 0u32;
        for _ in 0..reps {
            let mut j = spec.start().unwrap();
            for _ in 0..k {
                let cn = rng.poisson(lc);
                let ce = rng.binomial(cn, p);
                let bn = rng.poisson(lb);
                let be = rng.binomial(bn, p);
                if j.observe(&counts(cn, ce, bn, be)) == Verdict::Failed {
                    alarms += 1;
                    break;
                }
            }
        }
        f64::from(alarms) / f64::from(reps)
    }

    fn assert_within_ci(sim: f64, nominal: f64, reps: u32, what: &str) {
        // 4.5 sigma: deterministic seeds, so this is a tolerance on the
        // model, not a flaky bound.
        let sd = (nominal * (1.0 - nominal) / f64::from(reps)).sqrt();
        assert!(
            (sim - nominal).abs() <= 4.5 * sd + 1e-9,
            "{what}: simulated {sim} vs nominal {nominal} (sd {sd})"
        );
    }

    #[test]
    fn monte_carlo_matches_nominal_false_alarm_rates() {
        let reps = 20_000;
        let cases: [(JudgeSpec, u32, f64, f64, f64); 6] = [
            (
                JudgeSpec::Argo {
                    max_error_rate: 0.1,
                    failure_limit: 1,
                    count: None,
                },
                8,
                0.05,
                60.0,
                60.0,
            ),
            (
                JudgeSpec::Flagger {
                    max_error_rate: 0.08,
                    threshold: 2,
                    no_data_fails: true,
                },
                6,
                0.05,
                40.0,
                40.0,
            ),
            (
                JudgeSpec::Consecutive {
                    max_error_rate: 0.06,
                    consecutive: 2,
                },
                10,
                0.05,
                80.0,
                80.0,
            ),
            (
                JudgeSpec::Compare {
                    confidence: 0.95,
                    min_requests: 20,
                    mode: CompareMode::PerInterval,
                    horizon: None,
                },
                5,
                0.05,
                60.0,
                140.0,
            ),
            (
                JudgeSpec::Compare {
                    confidence: 0.9,
                    min_requests: 20,
                    mode: CompareMode::FixedHorizon,
                    horizon: Some(3),
                },
                4,
                0.05,
                40.0,
                60.0,
            ),
            (
                JudgeSpec::Compare {
                    confidence: 0.95,
                    min_requests: 20,
                    mode: CompareMode::Cumulative,
                    horizon: None,
                },
                1,
                0.05,
                60.0,
                140.0,
            ),
        ];
        for (i, (spec, k, p, lc, lb)) in cases.into_iter().enumerate() {
            let nominal = spec
                .nominal_false_alarm_rate_two_arms(k, p, lc, lb)
                .unwrap();
            let sim = simulate(spec, k, p, lc, lb, reps, 0xC0FFEE + i as u64);
            eprintln!("{spec:?} k={k}: nominal {nominal:.5}, simulated {sim:.5}");
            assert_within_ci(sim, nominal, reps, &format!("{spec:?}"));
            assert!(nominal > 0.01, "{spec:?}: case too easy ({nominal})");
        }
    }

    #[test]
    fn cumulative_peeking_inflates_alpha() {
        // Why the cumulative mode has no nominal figure: looking 10 times
        // rejects a healthy canary far more often than one look does.
        let spec = JudgeSpec::Compare {
            confidence: 0.95,
            min_requests: 20,
            mode: CompareMode::Cumulative,
            horizon: None,
        };
        let one = spec.nominal_false_alarm_rate(1, 0.05, 100.0).unwrap();
        let sim10 = simulate(spec, 10, 0.05, 100.0, 100.0, 5_000, 7);
        eprintln!("cumulative: one look {one:.4}, ten looks simulated {sim10:.4}");
        assert!(sim10 > 2.0 * one, "one look {one}, ten looks {sim10}");
    }

    #[test]
    fn no_panics_on_hostile_input() {
        let hostile = [
            counts(u64::MAX, u64::MAX, u64::MAX, u64::MAX),
            counts(0, 5, 0, 7),
            counts(10, 50, 10, 50),
            counts(1, 1, u64::MAX, 0),
        ];
        let specs = [
            JudgeSpec::Argo {
                max_error_rate: 0.0,
                failure_limit: u32::MAX,
                count: Some(0),
            },
            JudgeSpec::Flagger {
                max_error_rate: 1.0,
                threshold: u32::MAX,
                no_data_fails: true,
            },
            JudgeSpec::Consecutive {
                max_error_rate: 0.5,
                consecutive: u32::MAX,
            },
            JudgeSpec::Compare {
                confidence: 0.999_999,
                min_requests: u64::MAX,
                mode: CompareMode::Cumulative,
                horizon: None,
            },
            JudgeSpec::Compare {
                confidence: 0.6,
                min_requests: 0,
                mode: CompareMode::FixedHorizon,
                horizon: Some(u32::MAX),
            },
            JudgeSpec::MannWhitney {
                confidence: 1e-9,
                min_intervals: 1,
            },
        ];
        for s in specs {
            let mut j = s.start().unwrap();
            for _ in 0..3 {
                for c in &hostile {
                    let _ = j.observe(c);
                }
            }
            for &(k, p, l) in &[
                (u32::MAX, 0.5, 1e9),
                (3, 0.0, 10.0),
                (3, 1.0, 10.0),
                (3, 0.5, f64::INFINITY),
                (3, -0.1, 10.0),
                (3, 0.01, 1e30),
            ] {
                let _ = s.nominal_false_alarm_rate(k, p, l);
            }
        }
        assert!(normal_sf(f64::NAN).is_nan());
        assert!(normal_quantile(2.0).is_nan());
        let _ = two_proportion_z(u64::MAX, u64::MAX, 0, u64::MAX);
        let _ = mann_whitney_u_p_value(&[f64::INFINITY, 1.0], &[f64::NEG_INFINITY]);
    }
}
