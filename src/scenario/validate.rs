//! Raw scenario → typed [`Scenario`]: every range checked, every duration
//! turned into [`SimTime`], every error tied to its file, line and key.

use super::locate::KeyMap;
use super::raw::{RawCost, RawDefect, RawMedianP95, RawScenario, RawSpread};
use super::{
    Cost, DefectClass, DefectKind, DuplicateMode, Infra, Monitoring, Release, RollbackBy, Scenario,
    Service, Spread, Traffic,
};
use crate::engine::SimTime;
use crate::error::{Error, Result};
use crate::strategies;
use crate::world::judge::JudgeSpec;
use serde::Deserialize;
use std::path::PathBuf;

pub struct Validator {
    file: PathBuf,
    keys: KeyMap,
}

impl Validator {
    pub fn new(file: PathBuf, keys: KeyMap) -> Validator {
        Validator { file, keys }
    }

    /// An error at `path`, located in the file.
    pub fn error(&self, path: &str, message: impl Into<String>) -> Error {
        Error::Input {
            file: self.file.clone(),
            line: self.keys.line_of_path(path),
            key: Some(path.to_string()),
            message: message.into(),
        }
    }

    pub fn probability(&self, path: &str, value: f64) -> Result<f64> {
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(
                path,
                format!("must be a probability in [0, 1], got {value}"),
            ))
        }
    }

    pub fn positive(&self, path: &str, value: f64) -> Result<f64> {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(self.error(path, format!("must be greater than 0, got {value}")))
        }
    }

    pub fn non_negative(&self, path: &str, value: f64) -> Result<f64> {
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(self.error(path, format!("must be 0 or more, got {value}")))
        }
    }

    /// A duration in seconds (0 allowed), as simulated milliseconds.
    pub fn duration_s(&self, path: &str, seconds: f64) -> Result<SimTime> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(self.error(
                path,
                format!("a duration cannot be negative, got {seconds} s"),
            ));
        }
        if seconds > 365.0 * 86_400.0 {
            return Err(self.error(path, format!("{seconds} s is longer than a year")));
        }
        Ok(SimTime::from_secs_f64(seconds))
    }

    /// An hour of the day in [0, 24).
    pub fn hour(&self, path: &str, value: f64) -> Result<f64> {
        if (0.0..24.0).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(
                path,
                format!("must be an hour of the day from 0 to 24 (exclusive), got {value}"),
            ))
        }
    }

    pub fn count(&self, path: &str, value: i64, min: i64, max: i64) -> Result<u64> {
        if (min..=max).contains(&value) {
            Ok(value as u64)
        } else {
            Err(self.error(
                path,
                format!("must be a whole number from {min} to {max}, got {value}"),
            ))
        }
    }

    /// A fixed value or a log-normal spread; `upper` bounds every value (1 for rates).
    pub fn spread(&self, path: &str, raw: RawSpread, upper: Option<f64>) -> Result<Spread> {
        let spread = match raw {
            RawSpread::Fixed(v) => Spread::fixed(self.non_negative(path, v)?),
            RawSpread::Spread(RawMedianP95 { median, p95 }) => {
                let median = self.positive(&format!("{path}.median"), median)?;
                let p95 = self.positive(&format!("{path}.p95"), p95)?;
                if p95 < median {
                    return Err(self.error(
                        &format!("{path}.p95"),
                        format!(
                            "the 95th percentile ({p95}) cannot be below the median ({median})"
                        ),
                    ));
                }
                Spread { median, p95 }
            }
        };
        if let Some(upper) = upper
            && (spread.median > upper || spread.p95 > upper)
        {
            return Err(self.error(path, format!("must not exceed {upper}")));
        }
        Ok(spread)
    }

    pub fn scenario(&self, raw: RawScenario, source: &str) -> Result<Scenario> {
        let service = Service {
            instances: self.count("service.instances", raw.service.instances, 1, 100_000)? as u32,
            capacity_rps_per_instance: self.positive(
                "service.capacity_rps_per_instance",
                raw.service.capacity_rps_per_instance,
            )?,
        };
        let traffic = Traffic {
            rate_rps: self.positive("traffic.rate_rps", raw.traffic.rate_rps)?,
            users: self.count("traffic.users", raw.traffic.users, 1, 10_000_000_000)?,
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
            )?,
            // HikariCP maxLifetime: 30 min.
            connection_lifetime_s: self.positive(
                "traffic.connection_lifetime_s",
                raw.traffic.connection_lifetime_s.unwrap_or(1800.0),
            )?,
            session_user_share: self.probability(
                "traffic.session_user_share",
                raw.traffic.session_user_share.unwrap_or(0.0),
            )?,
            sessions_in_shared_store: raw.traffic.sessions_in_shared_store.unwrap_or(false),
        };
        let release = self.release(raw.release)?;
        let infra = Infra {
            startup_s: self.spread("infra.startup_s", raw.infra.startup_s, Some(86_400.0))?,
            price_usd_per_hour: self
                .non_negative("infra.price_usd_per_hour", raw.infra.price_usd_per_hour)?,
            // Kubernetes terminationGracePeriodSeconds default: 30 s.
            drain: self.duration_s("infra.drain_s", raw.infra.drain_s.unwrap_or(30.0))?,
            duplicate_mode: match raw.infra.duplicate_mode.as_deref() {
                None | Some("on-demand") => DuplicateMode::OnDemand,
                Some("permanent") => DuplicateMode::Permanent,
                Some(other) => {
                    return Err(self.error(
                        "infra.duplicate_mode",
                        format!("expected \"on-demand\" or \"permanent\", got \"{other}\""),
                    ));
                }
            },
        };
        let cost = self.cost(raw.cost)?;
        let m = raw.monitoring;
        let monitoring = Monitoring {
            enabled: m.enabled,
            interval: self.duration_s(
                "monitoring.interval_s",
                self.positive("monitoring.interval_s", m.interval_s)?,
            )?,
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
                Some(r) => self.spread("monitoring.human_response_s", r, Some(7.0 * 86_400.0))?,
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
            progress_deadline: self.duration_s(
                "monitoring.progress_deadline_s",
                self.positive("monitoring.progress_deadline_s", m.progress_deadline_s)?,
            )?,
        };
        if raw.strategies.is_empty() {
            return Err(self.error("strategies", "list at least one strategy"));
        }
        let mut specs = Vec::with_capacity(raw.strategies.len());
        for (i, s) in raw.strategies.into_iter().enumerate() {
            let path = format!("strategies[{i}]");
            if specs
                .iter()
                .any(|x: &strategies::StrategySpec| x.name == s.name)
            {
                return Err(self.error(
                    &format!("{path}.name"),
                    format!("the name `{}` is used twice", s.name),
                ));
            }
            specs.push(strategies::parse(s, &path, self, service.instances)?);
        }
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
            strategies: specs,
        })
    }

    fn cost(&self, raw: Option<RawCost>) -> Result<Cost> {
        let raw = raw.unwrap_or(RawCost {
            deploys_per_month: None,
            cost_per_failed_request_usd: None,
            downtime_cost_per_minute_usd: None,
        });
        Ok(Cost {
            // About one deploy per working day: DORA "high" performers deploy
            // between once a day and once a week (R).
            deploys_per_month: self.non_negative(
                "cost.deploys_per_month",
                raw.deploys_per_month.unwrap_or(20.0),
            )?,
            // Revenue or goodwill lost per failed request: a rule of thumb (R).
            cost_per_failed_request_usd: self.non_negative(
                "cost.cost_per_failed_request_usd",
                raw.cost_per_failed_request_usd.unwrap_or(0.01),
            )?,
            // Ponemon 2016: $8,851 per minute of downtime (average data-centre outage).
            downtime_cost_per_minute_usd: self.non_negative(
                "cost.downtime_cost_per_minute_usd",
                raw.downtime_cost_per_minute_usd.unwrap_or(8851.0),
            )?,
        })
    }

    /// A judge table (`{ kind = "argo", max_error_rate = 0.01, ... }`).
    pub fn judge(&self, path: &str, value: toml::Value) -> Result<JudgeSpec> {
        let spec =
            JudgeSpec::deserialize(value).map_err(|e| self.error(path, e.message().to_string()))?;
        spec.validate().map_err(|e| self.error(path, e))?;
        Ok(spec)
    }

    fn release(&self, raw: super::raw::RawRelease) -> Result<Release> {
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
        Ok(Release {
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
            (_, Some(r)) => self.spread(&format!("{path}.error_rate"), r, Some(1.0))?,
            (_, None) => {
                return Err(self.error(
                    &format!("{path}.error_rate"),
                    "missing: the error rate the defect adds",
                ));
            }
        };
        let onset_s = match (kind, raw.onset_s) {
            (DefectKind::Latent, Some(o)) => {
                Some(self.spread(&format!("{path}.onset_s"), o, Some(30.0 * 86_400.0))?)
            }
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

/// Reads one strategy's own keys from its table, so each strategy module
/// declares the keys it understands and anything else is rejected by name.
pub struct KeyReader<'a> {
    validator: &'a Validator,
    prefix: String,
    table: toml::Table,
}

impl<'a> KeyReader<'a> {
    pub fn new(validator: &'a Validator, prefix: &str, table: toml::Table) -> KeyReader<'a> {
        KeyReader {
            validator,
            prefix: prefix.to_string(),
            table,
        }
    }

    pub fn validator(&self) -> &Validator {
        self.validator
    }

    pub fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> Error {
        self.validator.error(&self.path(key), message)
    }

    pub fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
    }

    pub fn f64(&mut self, key: &str) -> Result<Option<f64>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::Float(f)) => Ok(Some(f)),
            Some(toml::Value::Integer(i)) => Ok(Some(i as f64)),
            Some(other) => {
                Err(self.error(key, format!("expected a number, got {}", other.type_str())))
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(b)),
            Some(other) => Err(self.error(
                key,
                format!("expected true or false, got {}", other.type_str()),
            )),
        }
    }

    pub fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(key, format!("expected a string, got {}", other.type_str())))
            }
        }
    }

    pub fn duration_s(&mut self, key: &str, default_s: f64) -> Result<SimTime> {
        let seconds = self.f64(key)?.unwrap_or(default_s);
        self.validator.duration_s(&self.path(key), seconds)
    }

    /// Every key must have been taken; the first one left is unknown.
    pub fn finish(&self, kind: &str, known: &[&str]) -> Result<()> {
        match self.table.keys().next() {
            None => Ok(()),
            // A key of the kind that the chosen switch or router does not read.
            Some(k) if known.contains(&k.as_str()) => Err(self.validator.error(
                &self.path(k),
                format!("does not apply to this {kind} strategy's switch or router; remove it"),
            )),
            Some(k) => Err(self.validator.error(
                &self.path(k),
                format!(
                    "unknown key for a {kind} strategy; its keys are: name, kind, judge, {}",
                    known.join(", ")
                ),
            )),
        }
    }
}
