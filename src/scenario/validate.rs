//! Raw scenario → typed [`Scenario`]: every range checked, every duration
//! turned into [`SimTime`], every error tied to its file, line and key.

use super::raw::{RawCost, RawDefect, RawMedianP95, RawScenario, RawSpread, RawStrategy};
use super::{
    Cost, DefectClass, DefectKind, Monitoring, ReleaseModel, RollbackBy, Scenario, Service, Spread,
    StrategySpec, Traffic,
};
use crate::error::Result;
use crate::input::limits::{self, Limit, MIN_DURATION_S};
use crate::input::{KeyReader, Validator, shown};
use crate::strategies;
use crate::world::judge::JudgeSpec;
use serde::Deserialize;

/// What a `{ median, p95 }` spread measures, which decides its bounds.
#[derive(Debug, Clone, Copy)]
pub enum SpreadOf {
    /// Seconds: 0 (fixed only) or from 1 ms up to the limit.
    Duration(Limit),
    /// An error rate: a probability.
    Rate,
}

impl Validator {
    /// A fixed value or a log-normal spread by its median and 95th percentile.
    pub fn spread(&self, path: &str, raw: RawSpread, of: SpreadOf) -> Result<Spread> {
        match raw {
            RawSpread::Fixed(v) => Ok(Spread::fixed(self.spread_value(path, v, of, true)?)),
            RawSpread::Spread(RawMedianP95 { median, p95 }) => {
                let median = self.spread_value(&format!("{path}.median"), median, of, false)?;
                let p95 = self.spread_value(&format!("{path}.p95"), p95, of, false)?;
                if p95 < median {
                    return Err(self.error(
                        &format!("{path}.p95"),
                        format!(
                            "the 95th percentile ({p95}) cannot be below the median ({median})"
                        ),
                    ));
                }
                Ok(Spread { median, p95 })
            }
        }
    }

    /// One number of a spread; only a fixed value may be 0.
    fn spread_value(&self, path: &str, v: f64, of: SpreadOf, zero_ok: bool) -> Result<f64> {
        if !(zero_ok || v.is_finite() && v > 0.0) {
            return Err(self.error(path, format!("must be greater than 0, got {}", shown(v))));
        }
        match of {
            SpreadOf::Duration(limit) => {
                let v = self.non_negative(path, v, limit)?;
                if v > 0.0 && v < MIN_DURATION_S {
                    return Err(self.error(
                        path,
                        format!(
                            "must be {}at least 0.001 s: the engine counts whole milliseconds, \
                             so {} s would round to 0 ms",
                            if zero_ok { "0 or " } else { "" },
                            shown(v)
                        ),
                    ));
                }
                Ok(v)
            }
            SpreadOf::Rate => self.probability(path, v),
        }
    }

    /// A scenario or strategy name: printed to terminals and written to CSV
    /// cells, so no control characters (an escape sequence can clear the
    /// screen or retitle the window), no bidirectional overrides (they
    /// reorder what is shown), and no leading `=`, `+`, `-` or `@`, which a
    /// spreadsheet opening the CSV runs as a formula (OWASP "CSV Injection").
    pub fn name(&self, path: &str, name: &str) -> Result<()> {
        if let Some(c) = name.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
            return Err(self.error(
                path,
                format!(
                    "a name cannot hold control characters, got {:?} in {:?}",
                    c, name
                ),
            ));
        }
        if let Some(c) = name.chars().next().filter(|c| "=+-@".contains(*c)) {
            return Err(self.error(
                path,
                format!(
                    "a name cannot start with `{c}`: a spreadsheet opening the CSV files \
                     would run it as a formula; got {name:?}"
                ),
            ));
        }
        Ok(())
    }

    pub fn scenario(&self, raw: RawScenario, source: &str) -> Result<Scenario> {
        if let Some(name) = &raw.name {
            self.name("name", name)?;
        }
        let service = Service {
            instances: self.count(
                "service.instances",
                raw.service.instances,
                1,
                limits::MAX_INSTANCES,
                "the simulation's time grows with the square of the instances; \
                 one replication at 10,000 takes about a second",
            )? as u32,
            capacity_rps_per_instance: self.positive(
                "service.capacity_rps_per_instance",
                raw.service.capacity_rps_per_instance,
                limits::CAPACITY_RPS,
            )?,
        };
        let traffic = Traffic {
            rate_rps: self.positive("traffic.rate_rps", raw.traffic.rate_rps, limits::RATE_RPS)?,
            users: self.count(
                "traffic.users",
                raw.traffic.users,
                1,
                limits::MAX_USERS,
                "more than every person on Earth",
            )?,
            daily_amplitude: self.probability(
                "traffic.daily_amplitude",
                raw.traffic.daily_amplitude.unwrap_or(0.0),
            )?,
            peak_hour: self.hour("traffic.peak_hour", raw.traffic.peak_hour.unwrap_or(14.0))?,
            start_hour: self.hour("traffic.start_hour", raw.traffic.start_hour.unwrap_or(10.0))?,
            long_lived_share: self.probability(
                "traffic.long_lived_share",
                raw.traffic.long_lived_share.unwrap_or(0.0),
            )?,
            long_lived_connections: self.non_negative(
                "traffic.long_lived_connections",
                raw.traffic.long_lived_connections.unwrap_or(0.0),
                limits::LONG_LIVED_CONNECTIONS,
            )?,
            connection_lifetime_s: self.connection_lifetime_s(raw.traffic.connection_lifetime_s)?,
            session_user_share: self.probability(
                "traffic.session_user_share",
                raw.traffic.session_user_share.unwrap_or(0.0),
            )?,
            sessions_in_shared_store: raw.traffic.sessions_in_shared_store.unwrap_or(false),
        };
        let release = self.release(raw.release)?;
        let infra = self.infra(raw.infra)?;
        let cost = self.cost(raw.cost)?;
        let m = raw.monitoring;
        let interval = self.positive_duration_s(
            "monitoring.interval_s",
            m.interval_s,
            "the monitor measures again one interval later, so a zero interval \
             would keep simulated time at the same moment forever",
        )?;
        let monitoring = Monitoring {
            enabled: m.enabled,
            interval,
            judge: self.judge("monitoring.judge", m.judge)?,
            rollback: match m.rollback.as_deref() {
                None | Some("automatic") => RollbackBy::Automatic,
                Some("manual") => RollbackBy::Manual,
                Some(other) => {
                    return Err(self.error(
                        "monitoring.rollback",
                        format!("expected \"automatic\" or \"manual\", got \"{other}\""),
                    ));
                }
            },
            human_response_s: match m.human_response_s {
                Some(r) => self.spread(
                    "monitoring.human_response_s",
                    r,
                    SpreadOf::Duration(limits::DURATION_S),
                )?,
                // On-call paging norm: acknowledge within 5 min, escalate by 30 min (R).
                None => Spread {
                    median: 300.0,
                    p95: 1800.0,
                },
            },
            query_failure_rate: self.probability(
                "monitoring.query_failure_rate",
                m.query_failure_rate.unwrap_or(0.0),
            )?,
            watch_after_promotion: self.duration_s(
                "monitoring.watch_after_promotion_s",
                m.watch_after_promotion_s,
            )?,
            progress_deadline: self.positive_duration_s(
                "monitoring.progress_deadline_s",
                m.progress_deadline_s,
                "a zero deadline would fail every new instance before it could start",
            )?,
            query_window: match m.query_window_s {
                Some(w) => self.positive_duration_s(
                    "monitoring.query_window_s",
                    w,
                    "a measurement over an empty window has no requests to judge",
                )?,
                None => interval,
            },
            // Absent: an ideal backend that answers with the interval just
            // ended. Scenarios set the real figure (Prometheus scrapes every
            // 15–60 s, so the newest sample is up to that old).
            metrics_lag: self
                .duration_s("monitoring.metrics_lag_s", m.metrics_lag_s.unwrap_or(0.0))?,
            unwatched_detection_s: match m.unwatched_detection_s {
                Some(r) => self.spread(
                    "monitoring.unwatched_detection_s",
                    r,
                    SpreadOf::Duration(limits::DURATION_S),
                )?,
                // Without a judge, a defect is noticed through users'
                // reports and dashboards: an hour typically, most within a
                // working day (R).
                None => Spread {
                    median: 3600.0,
                    p95: 28_800.0,
                },
            },
        };
        let database = raw.database.map(|d| self.database(d)).transpose()?;
        if raw.strategies.is_empty() {
            return Err(self.error("strategies", "list at least one strategy"));
        }
        if raw.strategies.len() > limits::MAX_STRATEGIES {
            return Err(self.error(
                &format!("strategies[{}]", limits::MAX_STRATEGIES),
                format!(
                    "a scenario may compare at most {} strategies (every replication runs \
                     each one), got {}",
                    limits::MAX_STRATEGIES,
                    raw.strategies.len()
                ),
            ));
        }
        let mut specs = Vec::with_capacity(raw.strategies.len());
        for (i, s) in raw.strategies.into_iter().enumerate() {
            let path = format!("strategies[{i}]");
            if specs.iter().any(|x: &StrategySpec| x.name == s.name) {
                return Err(self.error(
                    &format!("{path}.name"),
                    format!("the name `{}` is used twice", s.name),
                ));
            }
            let spec = self.strategy(s, &path, service.instances)?;
            if let Some(key) = spec.config.blocking_analysis() {
                let judge = spec.judge.unwrap_or(monitoring.judge);
                if monitoring.enabled && !judge.completes() {
                    let remedy = if key == "post_promotion_analysis" {
                        ", or set scale_down_delay_s (Argo then cancels the analysis at the delay)"
                    } else {
                        ""
                    };
                    return Err(self.error(
                        &format!("{path}.{key}"),
                        format!(
                            "the release waits for this analysis to complete, but its judge never \
                             ends by itself: give the strategy a judge with a `count` (kind = \"argo\") \
                             or a fixed-horizon comparison{remedy}"
                        ),
                    ));
                }
            }
            if spec.schema_practice.is_some() && database.is_none() {
                return Err(self.error(
                    &format!("{path}.schema_practice"),
                    "a schema practice needs a [database] table",
                ));
            }
            specs.push(spec);
        }
        self.judges_fit_the_interval(&monitoring, &specs)?;
        Ok(Scenario {
            name: raw.name.unwrap_or_else(|| "unnamed".into()),
            description: raw.description.unwrap_or_default(),
            source_toml: source.to_string(),
            service,
            traffic,
            release,
            infra,
            monitoring,
            cost,
            database,
            strategies: specs,
        })
    }

    /// The Mann-Whitney judge ranks every interval it has seen, again at each
    /// interval, so its cost grows with the square of the intervals: one
    /// replication of the default scenario with a day's watch took 0.04 s at
    /// a 60 s interval, 1 s at 10 s and 64 s at 1 s. 10 s is also Flagger's
    /// shortest analysis interval (fluxcd/flagger, `analysis.interval`).
    fn judges_fit_the_interval(&self, m: &Monitoring, specs: &[StrategySpec]) -> Result<()> {
        let interval_s = m.interval.as_secs_f64();
        if interval_s >= limits::MIN_MANN_WHITNEY_INTERVAL_S {
            return Ok(());
        }
        let scenario_judge = std::iter::once(("monitoring.judge".to_string(), &m.judge));
        let strategy_judges = specs.iter().enumerate().filter_map(|(i, s)| {
            s.judge
                .as_ref()
                .map(|j| (format!("strategies[{i}].judge"), j))
        });
        let used =
            |path: &str| path != "monitoring.judge" || specs.iter().any(|s| s.judge.is_none());
        for (path, judge) in scenario_judge.chain(strategy_judges) {
            if matches!(judge, JudgeSpec::MannWhitney { .. }) && used(&path) {
                return Err(self.error(
                    &path,
                    format!(
                        "a mann-whitney judge needs monitoring.interval_s of at least 10 s: it \
                         ranks every interval again at each one, so its cost grows with the \
                         square of the intervals (a day's watch at 1 s takes a minute per \
                         replication); got {} s",
                        shown(interval_s)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The mean lifetime of a long-lived connection, in seconds as written
    /// (a rate, not a scheduled wait, so it is not rounded to milliseconds).
    fn connection_lifetime_s(&self, raw: Option<f64>) -> Result<f64> {
        // HikariCP maxLifetime: 30 min.
        let seconds = raw.unwrap_or(1800.0);
        self.positive_duration_s(
            "traffic.connection_lifetime_s",
            seconds,
            "a connection that lives no time at all carries no request",
        )?;
        Ok(seconds)
    }

    fn cost(&self, raw: Option<RawCost>) -> Result<Cost> {
        let raw = raw.unwrap_or(RawCost {
            deploys_per_month: None,
            cost_per_failed_request_usd: None,
            downtime_cost_per_minute_usd: None,
            outage_error_share: None,
            false_rollback_usd: None,
            delay_usd_per_hour: None,
            expand_contract_usd_per_change: None,
            min_healthy_promoted_share: None,
        });
        Ok(Cost {
            // About one deploy per working day: DORA "high" performers deploy
            // between once a day and once a week (R).
            deploys_per_month: self.non_negative(
                "cost.deploys_per_month",
                raw.deploys_per_month.unwrap_or(20.0),
                limits::DEPLOYS_PER_MONTH,
            )?,
            // Revenue or goodwill lost per failed request: a rule of thumb (R).
            cost_per_failed_request_usd: self.non_negative(
                "cost.cost_per_failed_request_usd",
                raw.cost_per_failed_request_usd.unwrap_or(0.01),
                limits::COST_PER_FAILED_REQUEST_USD,
            )?,
            // Ponemon 2016: $8,851 per minute of downtime (average data-centre outage).
            downtime_cost_per_minute_usd: self.non_negative(
                "cost.downtime_cost_per_minute_usd",
                raw.downtime_cost_per_minute_usd.unwrap_or(8851.0),
                limits::DOWNTIME_COST_PER_MINUTE_USD,
            )?,
            // Down for its users when at least half the requests fail: most
            // users then cannot finish what they came to do and a retry
            // succeeds no more often than it fails, so the time is lost as a
            // whole rather than request by request (R). Above 0: at 0 every
            // span would be downtime.
            outage_error_share: self.positive(
                "cost.outage_error_share",
                raw.outage_error_share.unwrap_or(0.5),
                limits::OUTAGE_ERROR_SHARE,
            )?,
            // Two engineer-hours at $100 an hour (a loaded US engineer's
            // cost, about $200,000 a year over 2,000 hours) to find out that
            // the rollback was a false alarm and release the change again (R).
            false_rollback_usd: self.non_negative(
                "cost.false_rollback_usd",
                raw.false_rollback_usd.unwrap_or(200.0),
                limits::TEAM_USD,
            )?,
            // A change's value while it waits to reach users: $10 an hour,
            // $240 a day (R).
            delay_usd_per_hour: self.non_negative(
                "cost.delay_usd_per_hour",
                raw.delay_usd_per_hour.unwrap_or(10.0),
                limits::TEAM_USD,
            )?,
            // Four engineer-hours at $100 an hour per schema change: the
            // dual-shape code of the expand and its removal in the contract (R).
            expand_contract_usd_per_change: self.non_negative(
                "cost.expand_contract_usd_per_change",
                raw.expand_contract_usd_per_change.unwrap_or(400.0),
                limits::TEAM_USD,
            )?,
            // A strategy that rolls back more than one healthy release in
            // twenty does not ship reliably enough to recommend (R).
            min_healthy_promoted_share: self.probability(
                "cost.min_healthy_promoted_share",
                raw.min_healthy_promoted_share.unwrap_or(0.95),
            )?,
        })
    }

    /// One `[[strategies]]` entry: its name, its kind (read by the kind's
    /// own module, see `strategies::KINDS`), its own judge, schema practice
    /// and preStop sleep.
    fn strategy(&self, raw: RawStrategy, path: &str, replicas: u32) -> Result<StrategySpec> {
        if raw.name.trim().is_empty() {
            return Err(self.error(&format!("{path}.name"), "a strategy needs a name"));
        }
        self.name(&format!("{path}.name"), &raw.name)?;
        let Some(parse_kind) = strategies::parser(&raw.kind) else {
            return Err(self.error(
                &format!("{path}.kind"),
                format!(
                    "unknown strategy kind `{}`; expected one of {}",
                    raw.kind,
                    strategies::kind_names().join(", ")
                ),
            ));
        };
        let mut keys = raw.keys;
        let judge = match keys.remove("judge") {
            Some(value) => Some(self.judge(&format!("{path}.judge"), value)?),
            None => None,
        };
        let practice_path = format!("{path}.schema_practice");
        let schema_practice = match keys.remove("schema_practice") {
            None => None,
            Some(toml::Value::String(s)) => Some(self.practice(&practice_path, Some(&s))?),
            Some(other) => {
                return Err(self.error(
                    &practice_path,
                    format!("expected a string, got {}", other.type_str()),
                ));
            }
        };
        let mut reader = KeyReader::checked(self, path, keys)?;
        let prestop_sleep = match reader.f64("prestop_sleep_s")? {
            Some(s) => Some(self.duration_s(&format!("{path}.prestop_sleep_s"), s)?),
            None => None,
        };
        let operations_usd_per_month = match reader.f64("operations_usd_per_month")? {
            Some(usd) => Some(self.non_negative(
                &format!("{path}.operations_usd_per_month"),
                usd,
                limits::TEAM_USD,
            )?),
            None => None,
        };
        let config = parse_kind(&mut reader, replicas)?;
        Ok(StrategySpec {
            name: raw.name,
            config,
            judge,
            schema_practice,
            prestop_sleep,
            operations_usd_per_month,
        })
    }

    /// A judge table (`{ kind = "argo", max_error_rate = 0.01, ... }`).
    pub fn judge(&self, path: &str, value: toml::Value) -> Result<JudgeSpec> {
        let spec =
            JudgeSpec::deserialize(value).map_err(|e| self.error(path, e.message().to_string()))?;
        spec.validate().map_err(|e| self.error(path, e))?;
        Ok(spec)
    }

    fn release(&self, raw: super::raw::RawRelease) -> Result<ReleaseModel> {
        let change_failure_rate =
            self.probability("release.change_failure_rate", raw.change_failure_rate)?;
        let baseline_error_rate =
            self.probability("release.baseline_error_rate", raw.baseline_error_rate)?;
        let p_drift = self.probability("release.p_drift", raw.p_drift.unwrap_or(0.0))?;
        if raw.defects.is_empty() {
            return Err(self.error("release.defects", "list at least one defect class"));
        }
        let defects = raw
            .defects
            .into_iter()
            .enumerate()
            .map(|(i, d)| self.defect(&format!("release.defects[{i}]"), d))
            .collect::<Result<Vec<_>>>()?;
        let total: f64 = defects.iter().map(|d| d.share).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(self.error(
                "release.defects",
                format!("the shares of the defect classes must sum to 1, got {total}"),
            ));
        }
        Ok(ReleaseModel {
            change_failure_rate,
            baseline_error_rate,
            p_drift,
            defects,
        })
    }

    fn defect(&self, path: &str, raw: RawDefect) -> Result<DefectClass> {
        let kind = DefectKind::ALL
            .iter()
            .find(|(name, _)| *name == raw.class)
            .map(|(_, k)| *k)
            .ok_or_else(|| {
                let names: Vec<_> = DefectKind::ALL.iter().map(|(n, _)| *n).collect();
                self.error(
                    &format!("{path}.class"),
                    format!(
                        "unknown defect class `{}`; expected one of {}",
                        raw.class,
                        names.join(", ")
                    ),
                )
            })?;
        let share = self.probability(&format!("{path}.share"), raw.share)?;
        let error_rate = match (kind, raw.error_rate) {
            (DefectKind::CrashOnStart, Some(_)) => {
                return Err(self.error(
                    &format!("{path}.error_rate"),
                    "a crash-on-start defect serves no requests, so it has no error rate",
                ));
            }
            (DefectKind::CrashOnStart, None) => Spread::fixed(1.0),
            (_, Some(r)) => self.spread(&format!("{path}.error_rate"), r, SpreadOf::Rate)?,
            (_, None) => {
                return Err(self.error(
                    &format!("{path}.error_rate"),
                    "missing: the error rate the defect adds",
                ));
            }
        };
        let onset_s = match (kind, raw.onset_s) {
            (DefectKind::Latent, Some(o)) => Some(self.spread(
                &format!("{path}.onset_s"),
                o,
                SpreadOf::Duration(limits::ONSET_S),
            )?),
            (DefectKind::Latent, None) => {
                return Err(self.error(
                    &format!("{path}.onset_s"),
                    "missing: a latent defect needs its onset delay",
                ));
            }
            (_, Some(_)) => {
                return Err(self.error(
                    &format!("{path}.onset_s"),
                    "only a latent defect has an onset delay",
                ));
            }
            (_, None) => None,
        };
        Ok(DefectClass {
            kind,
            share,
            error_rate,
            onset_s,
        })
    }
}

/// Unicode's bidirectional embedding, override and isolate controls
/// (U+202A–U+202E, U+2066–U+2069): invisible, they reorder the text after
/// them ("Trojan Source", CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
