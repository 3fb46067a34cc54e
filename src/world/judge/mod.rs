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
//! nor a success. `inconclusive_limit` is Argo's `inconclusiveLimit`: past it
//! the analysis is Inconclusive and the release pauses until a person
//! resumes it. Unset it is unlimited, not Argo's 0: a first measurement whose
//! window holds no canary traffic yet would otherwise pause every release,
//! which is what Argo users meet until they add an `initialDelay`; set it to
//! 0 to see that. Metric queries fail at
//! `monitoring.query_failure_rate`; more than `consecutive_error_limit` failed
//! queries in a row error the analysis, which aborts the rollout
//! (`JudgeState::observe_query_error`).
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

fn default_consecutive_error_limit() -> u32 {
    // argo-rollouts utils/defaults: DefaultConsecutiveErrorLimit = 4.
    4
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
        /// Metric queries that error in a row before the analysis errors and
        /// the rollout aborts (Argo consecutiveErrorLimit, default 4). Errors
        /// are query failures, not failed measurements.
        #[serde(default = "default_consecutive_error_limit")]
        consecutive_error_limit: u32,
        /// Inconclusive measurements tolerated (Argo inconclusiveLimit): one
        /// more makes the analysis Inconclusive, which pauses the release
        /// for a person. Unset, inconclusive measurements never pause it
        /// (Argo's default is 0; see the module comment).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inconclusive_limit: Option<u32>,
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
    /// Whether an analysis with this judge ends by itself (Argo `count`, a
    /// fixed-horizon comparison); the others run until they are stopped.
    pub fn completes(&self) -> bool {
        matches!(
            self,
            JudgeSpec::Argo { count: Some(_), .. }
                | JudgeSpec::Compare {
                    mode: CompareMode::FixedHorizon,
                    ..
                }
        )
    }

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
        self.validate()?;
        Ok(JudgeState::new(*self))
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
                ..
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

mod false_alarm;
mod state;
#[cfg(test)]
mod tests;

pub use crate::stats::{mann_whitney_u_p_value, normal_quantile, normal_sf, two_proportion_z};
use false_alarm::*;
pub use state::JudgeState;
use state::*;
