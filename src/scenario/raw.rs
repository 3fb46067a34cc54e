//! The scenario file exactly as written: serde structs that reject unknown
//! keys. Nothing here is checked beyond its type; `validate` turns these into
//! the typed [`Scenario`](super::Scenario).

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub service: RawService,
    pub traffic: RawTraffic,
    pub release: RawRelease,
    pub infra: RawInfra,
    pub monitoring: RawMonitoring,
    pub cost: Option<RawCost>,
    pub database: Option<RawDatabase>,
    pub strategies: Vec<RawStrategy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub schema_change_share: f64,
    pub practice: Option<String>,
    pub migration_timing: Option<String>,
    pub migration_s: Option<RawSpread>,
    pub touched_share: Option<f64>,
    pub write_share: Option<f64>,
    pub recovery: Option<String>,
    pub roll_forward_s: Option<RawSpread>,
    pub down_migration_s: Option<RawSpread>,
    pub restore_s: Option<RawSpread>,
    pub contract_after_s: Option<f64>,
    pub contract_failure_rate: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCost {
    pub deploys_per_month: Option<f64>,
    pub cost_per_failed_request_usd: Option<f64>,
    pub downtime_cost_per_minute_usd: Option<f64>,
    pub outage_error_share: Option<f64>,
    pub false_rollback_usd: Option<f64>,
    pub delay_usd_per_hour: Option<f64>,
    pub expand_contract_usd_per_change: Option<f64>,
    pub min_healthy_promoted_share: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub instances: i64,
    pub capacity_rps_per_instance: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTraffic {
    pub rate_rps: f64,
    pub users: i64,
    pub daily_amplitude: Option<f64>,
    pub peak_hour: Option<f64>,
    pub start_hour: Option<f64>,
    pub long_lived_share: Option<f64>,
    pub long_lived_connections: Option<f64>,
    pub connection_lifetime_s: Option<f64>,
    pub session_user_share: Option<f64>,
    pub sessions_in_shared_store: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelease {
    pub change_failure_rate: f64,
    pub baseline_error_rate: f64,
    pub p_drift: Option<f64>,
    pub defects: Vec<RawDefect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefect {
    pub class: String,
    pub share: f64,
    pub error_rate: Option<RawSpread>,
    pub onset_s: Option<RawSpread>,
}

/// A positive quantity given either as one fixed value or as a log-normal
/// spread by its median and 95th percentile.
#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(untagged)]
pub enum RawSpread {
    Fixed(f64),
    Spread(RawMedianP95),
}

#[derive(Debug, Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct RawMedianP95 {
    pub median: f64,
    pub p95: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInfra {
    pub startup_s: RawSpread,
    pub price_usd_per_hour: f64,
    pub drain_s: Option<f64>,
    pub prestop_sleep_s: Option<f64>,
    pub endpoint_propagation_s: Option<f64>,
    pub duplicate_mode: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitoring {
    pub enabled: bool,
    pub interval_s: f64,
    pub judge: toml::Value,
    pub rollback: Option<String>,
    pub human_response_s: Option<RawSpread>,
    pub query_failure_rate: Option<f64>,
    pub watch_after_promotion_s: f64,
    pub progress_deadline_s: f64,
    pub query_window_s: Option<f64>,
    pub metrics_lag_s: Option<f64>,
    pub unwatched_detection_s: Option<RawSpread>,
}

/// One strategy: its name, its kind, and the kind's own keys, which the
/// strategy's module reads (and rejects when unknown) in `strategies::parse`.
#[derive(Debug, Deserialize)]
pub struct RawStrategy {
    pub name: String,
    pub kind: String,
    #[serde(flatten)]
    pub keys: toml::Table,
}
