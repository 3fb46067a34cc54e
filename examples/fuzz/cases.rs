//! Scenario inputs for the fuzz runner (examples/fuzz/main.rs) and the
//! property test (tests/simulation_invariants.rs): random valid scenarios,
//! mutations of valid ones, and the invariants every outcome must keep.
//! Everything is drawn from one seeded ChaCha8 generator, so a failing input
//! is found again from its seed.
#![allow(dead_code)]

use cutover::outcome::{Kind, Metric, Outcome};
use cutover::scenario::Scenario;
use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use std::fmt::Write;

pub type Rng = ChaCha8Rng;

/// The scenario library, mutated as well as generated scenarios.
pub const LIBRARY: &[&str] = &[
    include_str!("../../scenarios/default.toml"),
    include_str!("../../scenarios/checkout.toml"),
    include_str!("../../scenarios/dns-legacy.toml"),
    include_str!("../../scenarios/drift.toml"),
    include_str!("../../scenarios/high-traffic.toml"),
    include_str!("../../scenarios/in-place-vs-blue-green.toml"),
    include_str!("../../scenarios/internal-tool.toml"),
    include_str!("../../scenarios/pre-cloud.toml"),
    include_str!("../../scenarios/regulated.toml"),
    include_str!("../../scenarios/websockets.toml"),
];

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    items.choose(rng).expect("a non-empty list")
}

/// A number with a few significant digits, in [lo, hi].
fn num(rng: &mut Rng, lo: f64, hi: f64) -> f64 {
    let v: f64 = rng.random_range(lo..=hi);
    let rounded = (v * 1000.0).round() / 1000.0;
    rounded.clamp(lo, hi)
}

fn spread_s(rng: &mut Rng, lo: f64, hi: f64) -> String {
    let median = num(rng, lo, hi);
    if rng.random_bool(0.4) {
        format!("{median}")
    } else {
        let p95 = num(rng, median, hi.max(median));
        format!("{{ median = {median}, p95 = {p95} }}")
    }
}

/// A judge table. The Mann-Whitney judge re-ranks every interval it holds at
/// each interval (its cost grows with the square of the intervals: one
/// replication with a 1 s interval and a day's watch takes a minute), so it
/// is drawn only with intervals of 10 s or more, as in practice.
fn judge(rng: &mut Rng, interval_s: f64) -> String {
    let rate = num(rng, 0.0, 0.2);
    let kinds = if interval_s >= 10.0 { 5 } else { 4 };
    match rng.random_range(0..kinds) {
        0 => format!(
            "{{ kind = \"argo\", max_error_rate = {rate}, failure_limit = {}{} }}",
            rng.random_range(0..3),
            if rng.random_bool(0.5) {
                format!(", count = {}", rng.random_range(1..20))
            } else {
                String::new()
            }
        ),
        1 => format!(
            "{{ kind = \"flagger\", max_error_rate = {rate}, threshold = {}, no_data_fails = {} }}",
            rng.random_range(0..5),
            rng.random_bool(0.5)
        ),
        2 => format!(
            "{{ kind = \"consecutive\", max_error_rate = {rate}, consecutive = {} }}",
            rng.random_range(1..5)
        ),
        3 => {
            let mode = *pick(rng, &["cumulative", "per-interval", "fixed-horizon"]);
            let horizon = if mode == "fixed-horizon" {
                format!(", horizon = {}", rng.random_range(1..20))
            } else {
                String::new()
            };
            format!(
                "{{ kind = \"compare\", confidence = {}, min_requests = {}, mode = \"{mode}\"{horizon} }}",
                num(rng, 0.51, 0.999),
                rng.random_range(0..2000)
            )
        }
        _ => format!(
            "{{ kind = \"mann-whitney\", confidence = {}, min_intervals = {} }}",
            num(rng, 0.5, 0.999),
            rng.random_range(1..30)
        ),
    }
}

fn steps(rng: &mut Rng, pause_max: f64) -> String {
    let n = rng.random_range(1..=5);
    let mut weights: Vec<u32> = (0..n - 1).map(|_| rng.random_range(1..=100)).collect();
    weights.sort();
    weights.push(100);
    let items: Vec<String> = weights
        .iter()
        .map(|w| format!("{{ weight = {w}, pause_s = {} }}", num(rng, 0.0, pause_max)))
        .collect();
    format!("[{}]", items.join(", "))
}

/// The keys of one switch mechanism.
fn switch_keys(rng: &mut Rng, name: &str) -> String {
    let mut s = String::new();
    match name {
        "load-balancer" => {
            let _ = writeln!(s, "propagation_s = {}", num(rng, 0.0, 30.0));
            let _ = writeln!(s, "deregistration_delay_s = {}", num(rng, 0.0, 600.0));
        }
        "selector" | "mesh" => {
            let _ = writeln!(s, "propagation_s = {}", num(rng, 0.0, 10.0));
        }
        "dns" => {
            if rng.random_bool(0.7) {
                let _ = writeln!(
                    s,
                    "dns = {{ ttl_s = {}, jvm_cache_share = {}, violator_share = {} }}",
                    num(rng, 0.0, 3600.0),
                    num(rng, 0.0, 0.3),
                    num(rng, 0.0, 0.3)
                );
            }
            let _ = writeln!(s, "dns_teardown_below = {}", num(rng, 0.0, 0.5));
            let _ = writeln!(s, "dns_max_wait_s = {}", num(rng, 0.0, 3600.0));
        }
        _ => {}
    }
    s
}

fn strategy(rng: &mut Rng, i: usize, instances: u32, interval_s: f64) -> String {
    let mut s = String::from("\n[[strategies]]\n");
    let kind = *pick(rng, &["in-place", "rolling", "blue-green", "canary"]);
    let _ = writeln!(s, "name = \"{kind}-{i}\"\nkind = \"{kind}\"");
    if rng.random_bool(0.2) {
        let _ = writeln!(s, "judge = {}", judge(rng, interval_s));
    }
    if rng.random_bool(0.2) {
        let _ = writeln!(s, "prestop_sleep_s = {}", num(rng, 0.0, 30.0));
    }
    let count_or_pct = |rng: &mut Rng| {
        if rng.random_bool(0.5) {
            format!("{}", rng.random_range(0..=instances + 2))
        } else {
            format!("\"{}%\"", rng.random_range(0..=100))
        }
    };
    match kind {
        "rolling" => {
            let _ = writeln!(s, "max_surge = {}", count_or_pct(rng));
            let _ = writeln!(s, "max_unavailable = {}", count_or_pct(rng));
            let _ = writeln!(s, "min_ready_s = {}", num(rng, 0.0, 60.0));
        }
        "blue-green" => {
            let _ = writeln!(s, "scale_down_delay_s = {}", num(rng, 0.0, 900.0));
            let _ = writeln!(s, "smoke_test_s = {}", num(rng, 0.0, 300.0));
            let _ = writeln!(s, "smoke_coverage = {}", num(rng, 0.0, 1.0));
            let switch = *pick(
                rng,
                &["load-balancer", "dns", "selector", "mesh", "instant"],
            );
            let _ = writeln!(s, "switch = \"{switch}\"");
            s.push_str(&switch_keys(rng, switch));
            if switch == "mesh" && rng.random_bool(0.5) {
                let _ = writeln!(s, "steps = {}", steps(rng, 600.0));
            }
        }
        "canary" => {
            let _ = writeln!(s, "steps = {}", steps(rng, 900.0));
            let router = *pick(rng, &["mesh", "load-balancer", "replicas"]);
            let _ = writeln!(s, "router = \"{router}\"");
            let mechanism = if router == "replicas" {
                "selector"
            } else {
                router
            };
            s.push_str(&switch_keys(rng, mechanism));
            let _ = writeln!(s, "sticky = {}", rng.random_bool(0.5));
            if router != "replicas" {
                let _ = writeln!(s, "smoke_test_s = {}", num(rng, 0.0, 120.0));
            }
            let _ = writeln!(s, "smoke_coverage = {}", num(rng, 0.0, 1.0));
            let _ = writeln!(s, "scale_down_delay_s = {}", num(rng, 0.0, 300.0));
            let _ = writeln!(s, "abort_scale_down_delay_s = {}", num(rng, 0.0, 300.0));
        }
        _ => {}
    }
    s
}

fn defects(rng: &mut Rng) -> String {
    let mut classes = vec![
        "crash-on-start",
        "smoke-detectable",
        "traffic-only",
        "latent",
    ];
    let n = rng.random_range(1..=classes.len());
    let mut chosen = Vec::new();
    for _ in 0..n {
        let i = rng.random_range(0..classes.len());
        chosen.push(classes.remove(i));
    }
    let weights: Vec<f64> = chosen
        .iter()
        .map(|_| rng.random_range(1..=10) as f64)
        .collect();
    let total: f64 = weights.iter().sum();
    let mut shares: Vec<f64> = weights.iter().map(|w| w / total).collect();
    // The last share makes the sum 1 in floating point as the validator adds it.
    let others: f64 = shares[..n - 1].iter().sum();
    shares[n - 1] = 1.0 - others;
    let mut s = String::new();
    for (class, share) in chosen.iter().zip(&shares) {
        let _ = write!(
            s,
            "\n[[release.defects]]\nclass = \"{class}\"\nshare = {share:?}\n"
        );
        if *class != "crash-on-start" {
            let median = num(rng, 0.0001, 0.5);
            if rng.random_bool(0.5) {
                let _ = writeln!(s, "error_rate = {median}");
            } else {
                let p95 = num(rng, median, 1.0);
                let _ = writeln!(s, "error_rate = {{ median = {median}, p95 = {p95} }}");
            }
        }
        if *class == "latent" {
            let _ = writeln!(s, "onset_s = {}", spread_s(rng, 0.001, 7200.0));
        }
    }
    s
}

/// A random scenario that passes validation: every key within its range,
/// sizes kept small enough that three replications run in milliseconds.
pub fn generate(rng: &mut Rng) -> String {
    let instances: u32 = if rng.random_bool(0.9) {
        rng.random_range(1..=30)
    } else {
        rng.random_range(31..=300)
    };
    let mut s = String::new();
    let _ = writeln!(s, "name = \"fuzz\"\ndescription = \"generated\"");
    let _ = writeln!(
        s,
        "[service]\ninstances = {instances}\ncapacity_rps_per_instance = {}",
        num(rng, 1.0, 2000.0)
    );
    let rate = if rng.random_bool(0.9) {
        num(rng, 0.01, 5000.0)
    } else {
        num(rng, 5000.0, 10_000_000.0)
    };
    let _ = writeln!(
        s,
        "[traffic]\nrate_rps = {rate}\nusers = {}\ndaily_amplitude = {}\npeak_hour = {}\nstart_hour = {}",
        rng.random_range(1..=10_000_000u64),
        num(rng, 0.0, 1.0),
        num(rng, 0.0, 23.9),
        num(rng, 0.0, 23.9)
    );
    let _ = writeln!(
        s,
        "long_lived_share = {}\nlong_lived_connections = {}\nconnection_lifetime_s = {}\nsession_user_share = {}\nsessions_in_shared_store = {}",
        num(rng, 0.0, 1.0),
        num(rng, 0.0, 10_000.0),
        num(rng, 0.001, 7200.0),
        num(rng, 0.0, 1.0),
        rng.random_bool(0.5)
    );
    let _ = writeln!(
        s,
        "[release]\nchange_failure_rate = {}\nbaseline_error_rate = {}\np_drift = {}",
        num(rng, 0.0, 1.0),
        num(rng, 0.0, 0.05),
        num(rng, 0.0, 1.0)
    );
    s.push_str(&defects(rng));
    let _ = writeln!(
        s,
        "[infra]\nstartup_s = {}\nprice_usd_per_hour = {}\ndrain_s = {}\nprestop_sleep_s = {}\nendpoint_propagation_s = {}\nduplicate_mode = \"{}\"",
        spread_s(rng, 0.001, 300.0),
        num(rng, 0.0, 10.0),
        num(rng, 0.0, 120.0),
        num(rng, 0.0, 30.0),
        num(rng, 0.0, 30.0),
        pick(rng, &["on-demand", "permanent"])
    );
    let interval = if rng.random_bool(0.9) {
        num(rng, 1.0, 300.0)
    } else {
        num(rng, 0.05, 1.0)
    };
    let _ = writeln!(
        s,
        "[monitoring]\nenabled = {}\ninterval_s = {interval}\njudge = {}\nrollback = \"{}\"\nhuman_response_s = {}\nquery_failure_rate = {}\nwatch_after_promotion_s = {}\nprogress_deadline_s = {}",
        rng.random_bool(0.8),
        judge(rng, interval),
        pick(rng, &["automatic", "manual"]),
        spread_s(rng, 0.001, 3600.0),
        num(rng, 0.0, 0.5),
        num(rng, 0.0, 7200.0),
        num(rng, 1.0, 1200.0)
    );
    let _ = writeln!(
        s,
        "[cost]\ndeploys_per_month = {}\ncost_per_failed_request_usd = {}\ndowntime_cost_per_minute_usd = {}\noutage_error_share = {}",
        num(rng, 0.0, 1000.0),
        num(rng, 0.0, 10.0),
        num(rng, 0.0, 100_000.0),
        num(rng, 0.001, 1.0)
    );
    for i in 0..rng.random_range(1..=4) {
        s.push_str(&strategy(rng, i, instances, interval));
    }
    s
}

/// Values at and around every limit, and the ones that broke things before.
const EDGES: &[&str] = &[
    "0",
    "-0.0",
    "-1",
    "1",
    "0.0004",
    "0.0005",
    "0.0009",
    "0.001",
    "0.0015",
    "1e-300",
    "86400",
    "86400.001",
    "604800",
    "1e7",
    "10000001",
    "10000",
    "10001",
    "100000",
    "1e9",
    "1e10",
    "1e15",
    "1e308",
    "inf",
    "-inf",
    "nan",
    "9223372036854775807",
    "99999999999999999999",
    "0.5",
    "0.999",
    "1.5",
    "100",
    "101",
    "24",
    "23.99",
    "\"25%\"",
    "\"150%\"",
    "\"x\"",
    "true",
    "[]",
    "{}",
];

/// Strings that names and kinds must survive.
const NAMES: &[&str] = &[
    "\"\"",
    "\" \"",
    "\"=1+1\"",
    "\"@SUM(A1)\"",
    "\"-x\"",
    "\"+x\"",
    "\"a\\u001b[2Jb\"",
    "\"a\\u202Eb\"",
    "\"a\\tb\"",
    "\"ok name\"",
    "\"ünïcödé\"",
];

/// One mutation of scenario text: a number swapped for an edge value or
/// scaled, a string value swapped, a line deleted or duplicated, a byte
/// overwritten or inserted, or the text cut short.
pub fn mutate(rng: &mut Rng, text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let at = rng.random_range(0..lines.len());
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match rng.random_range(0..100) {
        // Most mutations change one value: the inputs that stay valid test
        // the simulation at the edges of every range.
        0..=54 => {
            if let Some(i) = value_line(rng, &lines) {
                let (key, _) = lines[i].split_once('=').unwrap();
                let value = if rng.random_bool(0.7) {
                    pick(rng, EDGES).to_string()
                } else {
                    let scale = 10f64.powi(rng.random_range(-4..=6));
                    format!("{}", num(rng, 0.0, 10.0) * scale)
                };
                out[i] = format!("{key}= {value}");
            }
        }
        55..=62 => {
            if let Some(i) = (0..lines.len())
                .map(|_| rng.random_range(0..lines.len()))
                .find(|&i| lines[i].trim_start().starts_with("name"))
            {
                out[i] = format!("name = {}", pick(rng, NAMES));
            }
        }
        63..=70 => {
            out.remove(at);
        }
        71..=76 => out.insert(at, lines[at].to_string()),
        77..=84 => {
            let mut bytes = text.as_bytes().to_vec();
            let p = rng.random_range(0..bytes.len().max(1));
            let b = *pick(rng, b"=[]{}\"',.-#\n 0123456789%exnfi\\\x00\xff");
            if rng.random_bool(0.5) && !bytes.is_empty() {
                bytes[p] = b;
            } else {
                bytes.insert(p, b);
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        85..=89 => {
            let cut = rng.random_range(0..text.len().max(1));
            return String::from_utf8_lossy(&text.as_bytes()[..cut]).into_owned();
        }
        90..=94 => {
            let depth = *pick(rng, &[2usize, 20, 100, 10_000]);
            out.insert(at, format!("[{}]", vec!["a"; depth].join(".")));
        }
        _ => {
            let key = *pick(
                rng,
                &[
                    "x = 1",
                    "[[strategies]]",
                    "[service]",
                    "name = 1",
                    "a.b.c = 2",
                ],
            );
            out.insert(at, key.to_string());
        }
    }
    out.join("\n")
}

/// A random line that sets a value (`key = value`, not a comment or header).
fn value_line(rng: &mut Rng, lines: &[&str]) -> Option<usize> {
    (0..64)
        .map(|_| rng.random_range(0..lines.len()))
        .find(|&i| {
            let l = lines[i].trim_start();
            !l.starts_with('#') && !l.starts_with('[') && l.contains('=')
        })
}

/// An input: generated, generated then mutated, or a library scenario
/// mutated 1 to 4 times.
pub fn input(rng: &mut Rng) -> String {
    match rng.random_range(0..10) {
        0..=2 => generate(rng),
        3..=5 => {
            let base = generate(rng);
            mutate(rng, &base)
        }
        _ => {
            let mut text = pick(rng, LIBRARY).to_string();
            for _ in 0..rng.random_range(1..=4) {
                text = mutate(rng, &text);
            }
            text
        }
    }
}

/// Checks every invariant an outcome exposes; the first broken one, named.
pub fn check(scenario: &Scenario, o: &Outcome) -> Result<(), String> {
    let get = |m: Metric| o.get(m);
    for &m in Metric::ALL {
        if let Some(v) = get(m)
            && !v.is_finite()
        {
            return Err(format!("{} is {v}", m.name()));
        }
    }
    let signed = [Metric::ExtraCost];
    for &m in Metric::ALL {
        if let Some(v) = get(m)
            && v < 0.0
            && !signed.contains(&m)
        {
            return Err(format!("{} is negative: {v}", m.name()));
        }
    }
    for m in [Metric::PeakExposure, Metric::StaleAfter5Min] {
        if let Some(v) = get(m)
            && !(0.0..=1.0).contains(&v)
        {
            return Err(format!("{} is a share outside [0, 1]: {v}", m.name()));
        }
    }
    for m in [
        Metric::Detected,
        Metric::FalseRollback,
        Metric::MissedDefect,
        Metric::CaughtBeforeUsers,
    ] {
        if let Some(v) = get(m)
            && v != 0.0
            && v != 1.0
        {
            return Err(format!("{} is neither 0 nor 1: {v}", m.name()));
        }
    }
    let failed = get(Metric::FailedRequests).ok_or("failed_requests missing")?;
    let users = get(Metric::UsersAffected).ok_or("users_affected missing")?;
    if users > scenario.traffic.users as f64 {
        return Err(format!(
            "users_affected {users} > traffic.users {}",
            scenario.traffic.users
        ));
    }
    // Each user affected received at least one failure. Known exception, to
    // be removed when it is fixed: with sticky routing
    // `UserExposure::draw_affected` (src/world/traffic.rs) rounds each of its
    // 100 user buckets' fractional failures on its own, so the sum can exceed
    // the failures by up to about one user per bucket.
    let sticky = scenario
        .strategies
        .iter()
        .any(|s| format!("{:?}", s.config).contains("sticky: true"));
    let slack = if sticky { 100.0 } else { 0.0 };
    if users > failed + slack {
        return Err(format!("users_affected {users} > failed_requests {failed}"));
    }
    if !o.defective && (failed != 0.0 || users != 0.0) {
        return Err(format!(
            "a healthy release failed {failed} requests for {users} users"
        ));
    }
    let hours = get(Metric::InstanceHours).ok_or("instance_hours missing")?;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()));
    let states = [
        Metric::ProvisioningHours,
        Metric::ServingHours,
        Metric::IdleHours,
        Metric::DrainingHours,
    ]
    .iter()
    .map(|&m| get(m).unwrap_or(0.0))
    .sum::<f64>();
    if !close(states, hours) {
        return Err(format!(
            "instance states sum to {states} h, instance_hours is {hours}"
        ));
    }
    let by_version =
        get(Metric::OldVersionHours).unwrap_or(0.0) + get(Metric::NewVersionHours).unwrap_or(0.0);
    if !close(by_version, hours) {
        return Err(format!(
            "versions sum to {by_version} h, instance_hours is {hours}"
        ));
    }
    let price = scenario.infra.price_usd_per_hour;
    let cost = get(Metric::InfraCost).ok_or("infra_cost_usd missing")?;
    if !close(cost, hours * price) {
        return Err(format!("infra_cost_usd {cost} != {hours} h × {price}"));
    }
    // The fleet's own instances exist for the whole window, so the window
    // costs at least the service unchanged: extra_cost_usd ≥ 0.
    if let Some(extra) = get(Metric::ExtraCost)
        && price > 0.0
        && extra < -1e-6 * (1.0 + cost)
    {
        return Err(format!(
            "instance_hours {hours} below the fleet's own for the window (extra_cost_usd {extra})"
        ));
    }
    // Each failed or dropped request is priced once: by the minute inside
    // downtime, by the request outside it.
    let dropped = get(Metric::DroppedRequests).ok_or("dropped_requests missing")?;
    let outside =
        get(Metric::FailedOutsideDowntime).ok_or("failed_requests_outside_downtime missing")?;
    if outside > failed + dropped {
        return Err(format!(
            "failed_requests_outside_downtime {outside} > failed {failed} + dropped {dropped}"
        ));
    }
    let down_s = get(Metric::Downtime).ok_or("downtime_s missing")?;
    let incident = get(Metric::IncidentCost).ok_or("incident_cost_usd missing")?;
    let priced = down_s / 60.0 * scenario.cost.downtime_cost_per_minute_usd
        + outside * scenario.cost.cost_per_failed_request_usd;
    if !close(incident, priced) {
        return Err(format!(
            "incident_cost_usd {incident} != {down_s} s down and {outside} requests priced"
        ));
    }
    let peak = get(Metric::PeakInstances).ok_or("peak_instances missing")?;
    if peak < scenario.service.instances as f64 {
        return Err(format!(
            "peak_instances {peak} < service.instances {}",
            scenario.service.instances
        ));
    }
    match (o.kind, get(Metric::DeployDuration)) {
        (Kind::Stuck, Some(d)) => return Err(format!("stuck, yet deploy_duration_s is {d}")),
        (Kind::Promoted | Kind::RolledBack, None) => {
            return Err(format!("{} without deploy_duration_s", o.kind));
        }
        _ => {}
    }
    let only_defective = [
        Metric::Detected,
        Metric::MissedDefect,
        Metric::CaughtBeforeUsers,
        Metric::PeakExposure,
        Metric::TimeToDetect,
    ];
    for m in only_defective {
        if !o.defective && get(m).is_some() {
            return Err(format!("{} set for a healthy release", m.name()));
        }
    }
    if o.defective && get(Metric::FalseRollback).is_some() {
        return Err("false_rollback set for a defective release".into());
    }
    Ok(())
}

/// Every error message must name the file and a line; the key is named
/// wherever the line holds one. None when the message is complete.
pub fn message_fault(e: &cutover::Error, file: &str) -> Option<&'static str> {
    match e {
        cutover::Error::Input { line, file: f, .. } => {
            if f.to_string_lossy() != file {
                Some("names another file")
            } else if line.is_none() {
                Some("names no line")
            } else {
                None
            }
        }
        _ => Some("is not an input error"),
    }
}
