//! The largest (and smallest) values a scenario, a flag or a scenario file may
//! hold, each with the reason it exists. Every one is derived from what the
//! engine can represent or run in reasonable time, and the reason is part of
//! the message that refuses a value beyond it.

/// An upper bound on a number, and why it is there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub max: f64,
    /// Completes "must be at most {max}{unit}: {why}".
    pub why: &'static str,
    pub unit: &'static str,
}

/// The engine's clock tick: simulated time is a whole number of
/// milliseconds, so a shorter positive duration would round to 0 ms. A
/// monitor whose interval rounds to 0 reschedules itself at the same moment
/// forever.
pub const MIN_DURATION_S: f64 = 0.001;

/// The engine simulates at most 7 days per release (`HORIZON_CAP` in
/// src/simulation/mod.rs); a release still running then is `stuck`.
pub const ENGINE_HORIZON_S: f64 = 7.0 * 86_400.0;

/// One wait of the deployment (a pause, a delay, a deadline, the watch after
/// promotion, a start-up): a day leaves six of the engine's seven for the
/// rest, so no single setting turns every release into `stuck`.
pub const DURATION_S: Limit = Limit {
    max: 86_400.0,
    unit: " s (1 day)",
    why: "the engine simulates 7 days at most, and one wait longer than a day would leave releases `stuck` instead of measured",
};

/// When a latent defect starts failing. It may lie beyond the horizon (the
/// defect is then never seen, which is a result); 30 days keeps the draw far
/// from the end of the millisecond clock.
pub const ONSET_S: Limit = Limit {
    max: 30.0 * 86_400.0,
    unit: " s (30 days)",
    why: "a later onset is never seen within the engine's 7-day horizon anyway",
};

/// Requests a run can count: rate × (1 + daily amplitude ≤ 1) × the 7-day
/// horizon = 10^7 × 2 × 604,800 ≈ 1.2·10^13, 750 times below 2^53, so every
/// count stays exact in an f64 and far from saturating a u64.
pub const RATE_RPS: Limit = Limit {
    max: 10_000_000.0,
    unit: " rps",
    why: "request counts over the engine's 7-day horizon must stay far below 2^53 to be exact",
};

/// One instance's capacity: the same bound as the whole service's rate.
pub const CAPACITY_RPS: Limit = Limit {
    max: 10_000_000.0,
    unit: " rps",
    why: "no instance serves more than the largest allowed request rate",
};

/// Open long-lived connections: 10,000 instances × 100,000 sockets each.
pub const LONG_LIVED_CONNECTIONS: Limit = Limit {
    max: 1e9,
    unit: "",
    why: "that is 100,000 sockets on each of the largest allowed fleet's 10,000 instances",
};

/// Price of an instance-hour, ten times the dearest cloud instance (about
/// $100 an hour). With the largest fleet (10,000, tripled at worst during a
/// deploy) for the whole horizon (168 h) and the most deploys a month, the
/// monthly infrastructure stays below 10^15 dollars.
pub const PRICE_USD_PER_HOUR: Limit = Limit {
    max: 1_000.0,
    unit: " USD",
    why: "monthly sums must stay finite",
};

pub const COST_PER_FAILED_REQUEST_USD: Limit = Limit {
    max: 1_000.0,
    unit: " USD",
    why: "monthly sums must stay finite",
};

pub const DOWNTIME_COST_PER_MINUTE_USD: Limit = Limit {
    max: 10_000_000.0,
    unit: " USD",
    why: "monthly sums must stay finite",
};

/// A team's money per event or per month (a false rollback, an hour of
/// delay, a schema change's engineering, a strategy's operations).
pub const TEAM_USD: Limit = Limit {
    max: 10_000_000.0,
    unit: " USD",
    why: "monthly sums must stay finite",
};

/// A share of the requests offered cannot exceed all of them.
pub const OUTAGE_ERROR_SHARE: Limit = Limit {
    max: 1.0,
    unit: "",
    why: "it is a share of the requests offered",
};

/// About one deploy every 26 seconds, around the clock.
pub const DEPLOYS_PER_MONTH: Limit = Limit {
    max: 100_000.0,
    unit: "",
    why: "that is a deploy every 26 seconds, and monthly sums must stay finite",
};

/// The fleet. The simulation's cost grows with the square of the instances:
/// one replication of the default scenario's four strategies took 5 ms at
/// 1,000 instances, 77 ms at 5,000, 0.28 s at 10,000 and 1.1 s at 20,000
/// (websockets.toml: 0.65 s at 10,000, 2.4 s at 20,000) on this project's
/// 2-core machine. 10,000 keeps one replication under a second.
pub const MAX_INSTANCES: i64 = 10_000;

/// Distinct users behind the traffic.
pub const MAX_USERS: i64 = 10_000_000_000;

/// Strategies in one scenario: every replication runs each of them, and the
/// results hold about 0.66 KB per replication and strategy.
pub const MAX_STRATEGIES: usize = 16;

/// `--replications`: the results hold about 0.66 KB per replication and
/// strategy (measured: 100,000 releases of the default scenario's four
/// strategies peaked at 265 MB), so a million of four need about 2.6 GB.
pub const MAX_REPLICATIONS: u64 = 1_000_000;

/// `--threads`, per core: more workers than cores only wait their turn
/// (output never depends on the count); `--threads 10000` spent longer
/// starting threads than simulating.
pub const MAX_THREADS_PER_CORE: usize = 4;

/// The shortest monitoring interval a Mann-Whitney judge may run at: it
/// ranks every interval again at each one, so its cost grows with the
/// square of the intervals (see `judges_fit_the_interval` in
/// src/scenario/validate.rs for the measurements).
pub const MIN_MANN_WHITNEY_INTERVAL_S: f64 = 10.0;

/// Size of a scenario file. The largest in scenarios/ is under 20 KB; the
/// whole text is embedded in report.html.
pub const MAX_SCENARIO_BYTES: u64 = 1024 * 1024;

/// Table nesting: a scenario's deepest key (`strategies[0].steps[0].pause_s`)
/// is four levels down. Deeper headers and keys only show up in a fuzzed or
/// broken file, where the message should name the line, not recurse.
pub const MAX_KEY_DEPTH: usize = 16;

// The reasons above, checked when the crate compiles: a limit changed
// beyond what it protects stops the build.

/// Every count a run can make stays 100 times below 2^53.
const _: () = assert!(RATE_RPS.max * 2.0 * ENGINE_HORIZON_S * 100.0 < 9_007_199_254_740_992.0);

/// The largest monthly infrastructure bill stays below 10^15 dollars.
const _: () = assert!(
    MAX_INSTANCES as f64 * 3.0 * ENGINE_HORIZON_S / 3600.0
        * PRICE_USD_PER_HOUR.max
        * DEPLOYS_PER_MONTH.max
        < 1e15
);

/// The largest incident bill a month, and its square (the p95 of a month
/// sums squared deviations), stay finite.
const _: () = {
    let per_deploy = RATE_RPS.max * 2.0 * ENGINE_HORIZON_S * COST_PER_FAILED_REQUEST_USD.max
        + ENGINE_HORIZON_S / 60.0 * DOWNTIME_COST_PER_MINUTE_USD.max;
    assert!(per_deploy * DEPLOYS_PER_MONTH.max < 1e30);
    assert!(per_deploy * per_deploy * DEPLOYS_PER_MONTH.max < 1e300);
};

/// One wait fits seven times into the horizon; the shortest is one tick.
const _: () = assert!(DURATION_S.max * 7.0 <= ENGINE_HORIZON_S && MIN_DURATION_S * 1000.0 >= 1.0);
