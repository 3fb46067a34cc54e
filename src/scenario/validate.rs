//! Raw scenario → typed [`Scenario`]: every range checked, every duration
//! turned into [`SimTime`], every error tied to its file, line and key.

use super::raw::{RawCost, RawDefect, RawMedianP95, RawScenario, RawSpread, RawStrategy};
use super::{
    Cost, DefectClass, DefectKind, DuplicateMode, Infra, Monitoring, ReleaseModel, RollbackBy,
    Scenario, Service, Spread, StrategySpec, Traffic,
};
use crate::error::Result;
use crate::input::KeyReader;
use crate::input::Validator;
use crate::strategies;
use crate::world::judge::JudgeSpec;
use serde::Deserialize;

impl Validator {
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
        let database = raw.database.map(|d| self.database(d)).transpose()?;
        if raw.strategies.is_empty() {
            return Err(self.error("strategies", "list at least one strategy"));
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
            if spec.schema_practice.is_some() && database.is_none() {
                return Err(self.error(
                    &format!("{path}.schema_practice"),
                    "a schema practice needs a [database] table",
                ));
            }
            specs.push(spec);
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
            database,
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

    /// One `[[strategies]]` entry: its name, its kind (read by the kind's
    /// own module, see `strategies::KINDS`) and its own judge.
    fn strategy(&self, raw: RawStrategy, path: &str, replicas: u32) -> Result<StrategySpec> {
        if raw.name.trim().is_empty() {
            return Err(self.error(&format!("{path}.name"), "a strategy needs a name"));
        }
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
        let mut reader = KeyReader::new(self, path, keys);
        let config = parse_kind(&mut reader, replicas)?;
        Ok(StrategySpec {
            name: raw.name,
            config,
            judge,
            schema_practice,
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
