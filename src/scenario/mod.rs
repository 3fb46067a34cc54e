//! A scenario: the service, its traffic, the release, the infrastructure, the
//! monitoring and the strategies to compare. Read from TOML in two steps, as
//! ripgrep does with its flags: `raw` (exactly what was written, unknown keys
//! rejected) and `validate` (typed values, units resolved, ranges checked).

mod database;
pub mod file;
mod infra;
pub mod raw;
pub mod validate;

use crate::engine::SimTime;
use crate::error::{Error, Result};
use crate::input::limits::MAX_KEY_DEPTH;
use crate::input::locate::KeyMap;
use crate::input::scan;
pub use crate::stats::Spread;
use crate::strategies::StrategyConfig;
pub use crate::vocab::DefectKind;
pub use crate::world::database::{DatabaseModel, MigrationTiming, Practice, Recovery};
use crate::world::judge::JudgeSpec;
pub use crate::world::monitor::RollbackBy;
use crate::world::traffic::DailyCurve;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The scenario compiled into the binary, identical to scenarios/default.toml.
pub const DEFAULT_TOML: &str = include_str!("../../scenarios/default.toml");
pub const DEFAULT_NAME: &str = "scenarios/default.toml (embedded)";

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The file as written, for the report.
    pub source_toml: String,
    pub service: Service,
    pub traffic: Traffic,
    pub release: ReleaseModel,
    pub infra: Infra,
    pub monitoring: Monitoring,
    pub cost: Cost,
    /// The shared database's schema changes; None: no release changes it.
    pub database: Option<DatabaseModel>,
    pub strategies: Vec<StrategySpec>,
}

/// One `[[strategies]]` entry: its name, its validated kind, and its own
/// judge. It builds a fresh controller per run.
#[derive(Debug, Clone)]
pub struct StrategySpec {
    pub name: String,
    pub config: Arc<dyn StrategyConfig>,
    /// The strategy's own judge; None uses the scenario's `monitoring.judge`.
    pub judge: Option<JudgeSpec>,
    /// How this strategy's team ships schema changes; None uses `database.practice`.
    pub schema_practice: Option<Practice>,
    /// This strategy's pods' preStop sleep; None uses `infra.prestop_sleep_s`.
    pub prestop_sleep: Option<SimTime>,
    /// What running this strategy costs the team a month; None uses its
    /// kind's default (`Environment::operations_usd_per_month`).
    pub operations_usd_per_month: Option<f64>,
}

impl StrategySpec {
    /// What running this strategy costs the team a month: its own
    /// `operations_usd_per_month`, else its kind's default.
    pub fn operations_usd_per_month(&self) -> f64 {
        self.operations_usd_per_month
            .unwrap_or_else(|| self.config.environment().operations_usd_per_month)
    }
}

#[derive(Debug, Clone)]
pub struct Service {
    pub instances: u32,
    pub capacity_rps_per_instance: f64,
}

#[derive(Debug, Clone)]
pub struct Traffic {
    /// Mean request rate over a day.
    pub rate_rps: f64,
    pub users: u64,
    /// Daily swing: the rate is rate_rps × (1 + a·cos(2π(h − peak_hour)/24)).
    pub daily_amplitude: f64,
    pub peak_hour: f64,
    /// Hour of the day the deployment starts.
    pub start_hour: f64,
    /// Share of requests carried on long-lived connections (websockets,
    /// pooled HTTP or database connections) that stay on their instance.
    pub long_lived_share: f64,
    /// Long-lived connections open at any time.
    pub long_lived_connections: f64,
    /// Mean lifetime of a long-lived connection (exponential).
    pub connection_lifetime_s: f64,
    /// Share of users holding a server-side session.
    pub session_user_share: f64,
    /// Sessions live in a shared store, so moving a user loses nothing.
    pub sessions_in_shared_store: bool,
}

impl Traffic {
    /// The daily curve the request rate follows.
    pub fn curve(&self) -> DailyCurve {
        DailyCurve {
            rate_rps: self.rate_rps,
            amplitude: self.daily_amplitude,
            peak_hour: self.peak_hour,
            start_hour: self.start_hour,
        }
    }

    /// Requests per second at `t_s` seconds after the deployment started.
    pub fn rate_at(&self, t_s: f64) -> f64 {
        self.curve().rate_at(t_s)
    }

    /// Mean request rate over [t0_s, t1_s], integrating the daily curve exactly.
    pub fn mean_rate(&self, t0_s: f64, t1_s: f64) -> f64 {
        self.curve().mean_rate(t0_s, t1_s)
    }
}

/// What releases are like (the `[release]` table): how often one is
/// defective and with what. One drawn release is `release::Release`.
#[derive(Debug, Clone)]
pub struct ReleaseModel {
    /// Probability that a release carries a defect (DORA's change failure rate).
    pub change_failure_rate: f64,
    /// Error rate of a healthy version; both versions fail at least this often.
    pub baseline_error_rate: f64,
    /// Probability that the new environment differs from the old (config,
    /// data, scale), so smoke tests against it do not predict live behaviour.
    pub p_drift: f64,
    /// The defect catalogue; shares sum to 1.
    pub defects: Vec<DefectClass>,
}

#[derive(Debug, Clone)]
pub struct DefectClass {
    pub kind: DefectKind,
    /// Share of defective releases that carry this class.
    pub share: f64,
    /// Extra error rate the defect adds to the new version's requests.
    pub error_rate: Spread,
    /// Delay from the first instance of the new version serving until a latent
    /// defect starts to fail requests.
    pub onset_s: Option<Spread>,
}

#[derive(Debug, Clone)]
pub struct Infra {
    /// Time from asking for an instance to its passing readiness.
    pub startup_s: Spread,
    pub price_usd_per_hour: f64,
    /// A ready instance that is removed finishes its in-flight requests (and
    /// is paid for) this long once it stops taking new ones (after SIGTERM,
    /// or its deregistration from a load balancer).
    pub drain: SimTime,
    /// A terminating pod's preStop sleep: it keeps serving (and is paid for)
    /// this long before SIGTERM.
    pub prestop_sleep: SimTime,
    /// How long clients still send a terminating instance requests: the
    /// removal from its Service's endpoints reaching kube-proxy and ingress
    /// controllers.
    pub endpoint_propagation: SimTime,
    pub duplicate_mode: DuplicateMode,
}

/// How a second environment (blue-green's green) is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateMode {
    /// Cloud: the second environment exists, and is paid, only during a deployment.
    OnDemand,
    /// Pre-cloud: a standing second environment, paid all month.
    Permanent,
}

/// Turns per-deploy figures into monthly money.
#[derive(Debug, Clone)]
pub struct Cost {
    pub deploys_per_month: f64,
    /// Money lost per request that failed because of a defect.
    pub cost_per_failed_request_usd: f64,
    /// Money lost per minute of downtime: time in which at least
    /// `outage_error_share` of the requests fail or are dropped. Failures
    /// outside downtime are priced per request instead, so none is priced twice.
    pub downtime_cost_per_minute_usd: f64,
    /// The share of requests failing (failed + dropped over offered) at or
    /// above which the service counts as down, in (0, 1].
    pub outage_error_share: f64,
    /// What rolling back a healthy release costs the team: investigating it,
    /// re-releasing it, and the change's value while it waits.
    pub false_rollback_usd: f64,
    /// What an hour of a release in the pipeline costs (lead time).
    pub delay_usd_per_hour: f64,
    /// Engineering time per schema change shipped as expand/contract (the
    /// compatibility code written for the expand and removed by the contract).
    pub expand_contract_usd_per_change: f64,
    /// The share of healthy releases a strategy must promote to be
    /// recommended: below it, the strategy does not ship.
    pub min_healthy_promoted_share: f64,
}

#[derive(Debug, Clone)]
pub struct Monitoring {
    pub enabled: bool,
    pub interval: SimTime,
    /// The judge every strategy uses unless it names its own.
    pub judge: JudgeSpec,
    /// Who rolls back when the judge fails: the tool at once, or a person paged.
    pub rollback: RollbackBy,
    /// Time from the page to the person deciding to roll back.
    pub human_response_s: Spread,
    /// Probability that an interval's metric query fails (the monitoring
    /// backend does not answer), leaving the judge without a measurement.
    pub query_failure_rate: f64,
    pub watch_after_promotion: SimTime,
    pub progress_deadline: SimTime,
    /// Length of the window a measurement queries (`rate(...[window])`).
    pub query_window: SimTime,
    /// How far behind real time the newest queryable data is (scrape
    /// interval and rule evaluation).
    pub metrics_lag: SimTime,
    /// Time from a defect's first failed request to people noticing it
    /// without the judge.
    pub unwatched_detection_s: Spread,
}

impl Scenario {
    /// Loads a scenario file, or the embedded default when `path` is None.
    pub fn load(path: Option<&Path>) -> Result<Scenario> {
        match path {
            None => Scenario::parse(DEFAULT_TOML, Path::new(DEFAULT_NAME)),
            Some(p) => Scenario::parse(&file::read(p)?, p),
        }
    }

    /// Parses and validates scenario text; `file` is only used in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Scenario> {
        let keys = KeyMap::new(text);
        let raw: raw::RawScenario =
            toml::from_str(text).map_err(|e| toml_error(file, text, &keys, &e))?;
        let validator = crate::input::Validator::new(file.to_path_buf(), keys);
        validator.scenario(raw, text)
    }

    /// The strategy with this name.
    pub fn strategy(&self, name: &str) -> Option<&StrategySpec> {
        self.strategies.iter().find(|s| s.name == name)
    }
}

/// Turns a toml/serde error into one message naming the file, line and key.
fn toml_error(file: &Path, text: &str, keys: &KeyMap, e: &toml::de::Error) -> Error {
    let offset = e.span().map(|s| s.start);
    let mut line = offset.map(|o| keys.line_of_offset(o));
    let mut message = e.message().trim().to_string();
    // The key the error sits in: from the parsed document, or, when
    // toml_edit could not parse it either (duplicate keys, integers too
    // large), from a plain scan of the lines.
    let mut key = offset
        .and_then(|o| keys.path_at(o))
        .map(str::to_string)
        .or_else(|| line.and_then(|l| scan::path_on_line(text, l)));
    // serde names a missing field only in the text; the span is its table.
    if let Some(field) = backticked_after(&message, "missing field ") {
        let parent = offset.and_then(|o| table_at(text, keys, o));
        key = Some(match parent {
            Some(parent) => format!("{parent}.{field}"),
            None => field.to_string(),
        });
    }
    // The parser's recursion limit carries no position: find the line.
    if offset.is_none()
        && let Some((l, segments)) = scan::first_deeper_than(text, MAX_KEY_DEPTH)
    {
        line = Some(l);
        key = Some(scan::shorten(&segments, MAX_KEY_DEPTH));
        message = format!(
            "nested {} levels deep; scenario keys are at most 4 levels deep (the limit is {})",
            segments.len(),
            MAX_KEY_DEPTH
        );
    }
    // Name what was expected as the file says it, not as the code does.
    if let Some(at) = message.find("expected struct Raw") {
        message.replace_range(at.., "expected a table");
    }
    if message.contains("untagged enum RawSpread") {
        message = "expected a number, or a table { median = ..., p95 = ... }".to_string();
    }
    if let Some(number) = backticked_after(&message, "invalid type: integer ")
        && message.ends_with("expected i64")
    {
        message = format!("the whole number {number} does not fit in 64 bits");
    }
    Error::Input {
        file: PathBuf::from(file),
        line,
        key: key.map(|k| shorten_path(&k)),
        message,
    }
}

/// The table whose span holds `offset`: a missing field's parent.
fn table_at(text: &str, keys: &KeyMap, offset: usize) -> Option<String> {
    if let Some(path) = keys.path_at(offset) {
        return Some(path.to_string());
    }
    let line = keys.line_of_offset(offset);
    match scan::kinds(text).nth(line - 1)? {
        scan::LineKind::Header { .. } => scan::path_on_line(text, line),
        _ => None,
    }
}

/// A key path for a message, shortened only when nested absurdly deep.
fn shorten_path(path: &str) -> String {
    let segments: Vec<String> = path.split('.').map(str::to_string).collect();
    scan::shorten(&segments, MAX_KEY_DEPTH)
}

fn backticked_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split('`').next()
}
