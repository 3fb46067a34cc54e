//! Bad input is refused with exit code 2 and a message that names the file,
//! the line and the key, before anything is written to the output folder.
//!
//! Every case writes a variant of scenarios/default.toml with exactly one
//! change to a fresh temporary folder, runs the binary with `--out` pointing
//! at a folder that already holds a sentinel `summary.csv`, and checks:
//! exit code 2; stderr contains `FILE:LINE: key `KEY`` where LINE is the line
//! of the bad key in the written file (found by searching the text, not by
//! asking the library); no panic; the sentinel is byte-identical and no other
//! file appeared.

use cutover::error::Error;
use cutover::scenario::Scenario;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const DEFAULT: &str = include_str!("../scenarios/default.toml");
const SENTINEL: &[u8] = b"strategy,metric\nsentinel,do-not-touch\n";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A fresh, empty folder under the system temp dir.
fn fresh_dir(case: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "cutover-bad-input-{}-{case}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 1-based number of the first line at or after the line containing `anchor`
/// whose trimmed text starts with `starts_with`.
fn find_line(text: &str, anchor: &str, starts_with: &str) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines
        .iter()
        .position(|l| l.contains(anchor))
        .unwrap_or_else(|| panic!("anchor {anchor:?} not in the scenario"));
    lines[from..]
        .iter()
        .position(|l| l.trim_start().starts_with(starts_with))
        .map(|i| from + i + 1)
        .unwrap_or_else(|| panic!("no line starting with {starts_with:?} after {anchor:?}"))
}

/// The default scenario with the line found by `find_line(anchor, starts_with)`
/// replaced by `new_line`; returns the text and that line's number.
fn replace_line(anchor: &str, starts_with: &str, new_line: &str) -> (String, usize) {
    let line = find_line(DEFAULT, anchor, starts_with);
    let text = DEFAULT
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == line { new_line } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_ne!(text, DEFAULT, "the edit must change the scenario");
    (text, line)
}

/// The default scenario with `new_line` inserted right after the line found
/// by `find_line(anchor, starts_with)`; returns the text and the new line's number.
fn insert_after(anchor: &str, starts_with: &str, new_line: &str) -> (String, usize) {
    let line = find_line(DEFAULT, anchor, starts_with);
    let mut lines: Vec<&str> = DEFAULT.lines().collect();
    lines.insert(line, new_line);
    (lines.join("\n") + "\n", line + 1)
}

/// The default scenario with the line found by `find_line` deleted.
fn delete_line(anchor: &str, starts_with: &str) -> String {
    let line = find_line(DEFAULT, anchor, starts_with);
    DEFAULT
        .lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != line)
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

struct Run {
    code: Option<i32>,
    stderr: String,
    scenario: PathBuf,
    out: PathBuf,
    dir: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cutover compare SCENARIO --out OUT` where OUT holds the sentinel.
/// `text` None: the scenario file is never written (missing file).
fn run(case: &str, text: Option<&str>) -> Run {
    run_with(case, |scenario| {
        if let Some(text) = text {
            std::fs::write(scenario, text).unwrap();
        }
    })
}

/// As [`run`], with `make` creating whatever the scenario path should be.
/// A run that has not ended after 20 s is killed and fails the test (a
/// scenario that blocks the read must not hang the suite).
fn run_with(case: &str, make: impl FnOnce(&Path)) -> Run {
    let dir = fresh_dir(case);
    let scenario = dir.join(format!("{case}.toml"));
    make(&scenario);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("summary.csv"), SENTINEL).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("compare")
        .arg(&scenario)
        .args(["--replications", "20", "--seed", "1", "--threads", "1"])
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!(
                "cutover compare {} did not end within 20 s",
                scenario.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        scenario,
        out,
        dir,
    }
}

/// Exit code 2, no panic, output folder untouched.
fn assert_refused_cleanly(r: &Run) {
    assert_eq!(r.code, Some(2), "exit code; stderr:\n{}", r.stderr);
    assert!(
        !r.stderr.contains("panicked"),
        "the binary panicked:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.starts_with("error: "),
        "stderr must start with `error: `:\n{}",
        r.stderr
    );
    let mut names: Vec<String> = std::fs::read_dir(&r.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["summary.csv"],
        "no file may appear in the output folder"
    );
    assert_eq!(
        std::fs::read(r.out.join("summary.csv")).unwrap(),
        SENTINEL,
        "the existing summary.csv must be left byte-identical"
    );
}

/// Refused, and stderr says `FILE:LINE: key `KEY``.
fn assert_rejected(case: &str, text: &str, key: &str, line: usize) {
    let r = run(case, Some(text));
    assert_refused_cleanly(&r);
    let expected = format!("{}:{line}: key `{key}`", r.scenario.display());
    assert!(
        r.stderr.contains(&expected),
        "stderr must contain {expected:?}, got:\n{}",
        r.stderr
    );
}

#[test]
fn missing_file() {
    let r = run("missing", None);
    assert!(!r.scenario.exists());
    assert_refused_cleanly(&r);
    assert!(
        r.stderr
            .contains(&format!("error: {}", r.scenario.display())),
        "stderr must name the missing file, got:\n{}",
        r.stderr
    );
}

#[test]
fn malformed_toml() {
    let (text, line) = replace_line("[service]", "instances", "instances = = 3");
    let r = run("malformed", Some(&text));
    assert_refused_cleanly(&r);
    // toml_edit cannot parse the document either, so no key can be attached:
    // the message must still point at the file and the broken line.
    let expected = format!("error: {}:{line}: ", r.scenario.display());
    assert!(
        r.stderr.contains(&expected),
        "stderr must contain {expected:?}, got:\n{}",
        r.stderr
    );
}

#[test]
fn unknown_key_in_a_section() {
    let (text, line) = insert_after("[service]", "instances", "replicas = 10");
    assert_rejected("unknown-section-key", &text, "service.replicas", line);
}

#[test]
fn unknown_top_level_key() {
    let (text, line) = insert_after("name = \"default\"", "name", "owner = \"ops\"");
    assert_rejected("unknown-top-key", &text, "owner", line);
}

#[test]
fn unknown_key_in_a_strategy() {
    let (text, line) = replace_line("name = \"rolling\"", "max_surge", "max_surgee = \"25%\"");
    assert_rejected(
        "unknown-strategy-key",
        &text,
        "strategies[1].max_surgee",
        line,
    );
}

#[test]
fn wrong_type() {
    let (text, line) = replace_line("[service]", "instances", "instances = \"ten\"");
    assert_rejected("wrong-type", &text, "service.instances", line);
}

#[test]
fn probability_above_one() {
    let (text, line) = replace_line(
        "[release]",
        "change_failure_rate",
        "change_failure_rate = 1.5",
    );
    assert_rejected("probability", &text, "release.change_failure_rate", line);
}

#[test]
fn negative_interval() {
    let (text, line) = replace_line("[monitoring]", "interval_s", "interval_s = -5");
    assert_rejected("negative-interval", &text, "monitoring.interval_s", line);
}

#[test]
fn negative_strategy_delay() {
    let (text, line) = replace_line(
        "name = \"canary\"",
        "scale_down_delay_s",
        "scale_down_delay_s = -1",
    );
    assert_rejected(
        "negative-delay",
        &text,
        "strategies[3].scale_down_delay_s",
        line,
    );
}

#[test]
fn negative_dns_ttl() {
    let (text, line) = replace_line(
        "name = \"blue-green\"",
        "switch",
        "switch = \"dns\"\ndns = { ttl_s = -5 }",
    );
    let text = without_line(&text, "name = \"blue-green\"", "propagation_s");
    let text = without_line(&text, "name = \"blue-green\"", "deregistration_delay_s");
    // The replaced line holds the switch; the dns table is on the next one.
    assert_rejected("negative-ttl", &text, "strategies[2].dns.ttl_s", line + 1);
}

#[test]
fn long_lived_share_above_one() {
    let (text, line) = replace_line("[traffic]", "long_lived_share", "long_lived_share = 1.5");
    assert_rejected("long-lived-share", &text, "traffic.long_lived_share", line);
}

#[test]
fn mesh_steps_not_reaching_100() {
    let (text, line) = replace_line(
        "name = \"blue-green\"",
        "switch",
        "switch = \"mesh\"\nsteps = [{ weight = 10, pause_s = 60 }, { weight = 50, pause_s = 60 }]",
    );
    let text = without_line(&text, "name = \"blue-green\"", "deregistration_delay_s");
    assert_rejected("mesh-steps", &text, "strategies[2].steps", line + 1);
}

#[test]
fn unknown_switch() {
    let (text, line) = replace_line(
        "name = \"blue-green\"",
        "switch",
        "switch = \"carrier-pigeon\"",
    );
    assert_rejected("unknown-switch", &text, "strategies[2].switch", line);
}

/// `text` without the first line after `anchor` that starts with `starts_with`
/// (the line sits after the one the test changed, so that line's number holds).
fn without_line(text: &str, anchor: &str, starts_with: &str) -> String {
    let line = find_line(text, anchor, starts_with);
    text.lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != line)
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn zero_instances() {
    let (text, line) = replace_line("[service]", "instances", "instances = 0");
    assert_rejected("zero-instances", &text, "service.instances", line);
}

#[test]
fn canary_weights_not_ending_at_100() {
    let text = delete_line("name = \"canary\"", "{ weight = 100");
    let line = find_line(&text, "name = \"canary\"", "steps");
    assert_rejected("canary-weights", &text, "strategies[3].steps", line);
}

#[test]
fn p95_below_median() {
    let (text, line) = replace_line(
        "[infra]",
        "startup_s",
        "startup_s = { median = 30, p95 = 10 }",
    );
    assert_rejected("p95-below-median", &text, "infra.startup_s.p95", line);
}

#[test]
fn unknown_strategy_kind() {
    let (text, line) = replace_line("name = \"blue-green\"", "kind", "kind = \"red-black\"");
    assert_rejected("unknown-kind", &text, "strategies[2].kind", line);
}

#[test]
fn max_surge_above_100_percent() {
    let (text, line) = replace_line("name = \"rolling\"", "max_surge", "max_surge = \"150%\"");
    assert_rejected("surge-150", &text, "strategies[1].max_surge", line);
}

#[test]
fn max_surge_not_a_number() {
    let (text, line) = replace_line("name = \"rolling\"", "max_surge", "max_surge = \"abc\"");
    assert_rejected("surge-abc", &text, "strategies[1].max_surge", line);
}

/// Refused, stderr says `FILE:LINE: key `KEY``, and the message contains
/// every one of `says`.
fn assert_rejected_saying(case: &str, text: &str, key: &str, line: usize, says: &[&str]) {
    let r = run(case, Some(text));
    assert_refused_cleanly(&r);
    let expected = format!("{}:{line}: key `{key}`", r.scenario.display());
    assert!(
        r.stderr.contains(&expected),
        "stderr must contain {expected:?}, got:\n{}",
        r.stderr
    );
    for s in says {
        assert!(
            r.stderr.contains(s),
            "stderr must say {s:?}, got:\n{}",
            r.stderr
        );
    }
    assert_eq!(r.stderr.lines().count(), 1, "one message:\n{}", r.stderr);
}

// --- Durations that would stop simulated time (issue 15, item 1) ---

#[test]
fn an_interval_that_rounds_to_zero_milliseconds_is_refused() {
    // 0.0004 s passed "greater than 0", rounded to 0 ms and hung every command.
    for (case, value) in [
        ("interval-0.0004", "0.0004"),
        ("interval-0.0009", "0.0009"),
        ("interval-0", "0"),
    ] {
        let (text, line) = replace_line(
            "[monitoring]",
            "interval_s",
            &format!("interval_s = {value}"),
        );
        assert_rejected_saying(
            case,
            &text,
            "monitoring.interval_s",
            line,
            &["at least 0.001 s"],
        );
    }
}

#[test]
fn the_shortest_interval_runs_and_ends() {
    let (text, _) = replace_line("[monitoring]", "interval_s", "interval_s = 0.001");
    let scenario = Scenario::parse(&text, Path::new("interval-1ms.toml")).expect("1 ms is allowed");
    let settings = cutover::experiment::Settings {
        replications: 1,
        seed: 1,
        threads: 1,
    };
    let results = cutover::experiment::run(&scenario, settings).expect("it runs");
    assert_eq!(results.outcomes.len(), 1);
}

#[test]
fn a_strategy_duration_below_one_millisecond_is_refused() {
    let (text, line) = replace_line(
        "name = \"canary\"",
        "scale_down_delay_s",
        "scale_down_delay_s = 0.0001",
    );
    assert_rejected_saying(
        "delay-0.0001",
        &text,
        "strategies[3].scale_down_delay_s",
        line,
        &["0 or at least 0.001 s"],
    );
    let (text, line) = replace_line(
        "name = \"canary\"",
        "{ weight = 5",
        "  { weight = 5, pause_s = 0.0004 },",
    );
    assert_rejected_saying(
        "pause-0.0004",
        &text,
        "strategies[3].steps[0].pause_s",
        line,
        &["0.001 s"],
    );
}

#[test]
fn a_dns_duration_below_one_millisecond_is_refused() {
    let (text, line) = replace_line(
        "name = \"blue-green\"",
        "switch",
        "switch = \"dns\"\ndns = { ttl_s = 0.0001 }",
    );
    let text = without_line(&text, "name = \"blue-green\"", "propagation_s");
    let text = without_line(&text, "name = \"blue-green\"", "deregistration_delay_s");
    assert_rejected_saying(
        "dns-ttl-tiny",
        &text,
        "strategies[2].dns.ttl_s",
        line + 1,
        &["0.001 s"],
    );
}

#[test]
fn teardown_durations_out_of_range_are_refused() {
    for (key, value, says) in [
        ("prestop_sleep_s", "-5", "cannot be negative"),
        ("prestop_sleep_s", "90000", "at most 86,400 s (1 day)"),
        ("endpoint_propagation_s", "0.0004", "0 or at least 0.001 s"),
        ("endpoint_propagation_s", "nan", "got nan"),
    ] {
        let (text, line) = replace_line("[infra]", key, &format!("{key} = {value}"));
        assert_rejected_saying(
            &format!("{key}-{value}"),
            &text,
            &format!("infra.{key}"),
            line,
            &[says],
        );
    }
    // A strategy's own preStop sleep is held to the same rules.
    for (value, says) in [
        ("-1", "cannot be negative"),
        ("\"5s\"", "expected a number"),
    ] {
        let (text, line) = insert_after(
            "name = \"rolling\"",
            "kind",
            &format!("prestop_sleep_s = {value}"),
        );
        assert_rejected_saying(
            "strategy-prestop",
            &text,
            "strategies[1].prestop_sleep_s",
            line,
            &[says],
        );
    }
}

// --- Values beyond what the engine represents (item 5) ---

#[test]
fn a_watch_beyond_a_day_is_refused_below_the_seven_day_horizon() {
    let (text, line) = replace_line(
        "[monitoring]",
        "watch_after_promotion_s",
        "watch_after_promotion_s = 700000",
    );
    assert_rejected_saying(
        "watch-long",
        &text,
        "monitoring.watch_after_promotion_s",
        line,
        &["at most 86,400 s (1 day)", "7 days"],
    );
}

#[test]
fn a_rate_that_would_saturate_counts_is_refused() {
    let (text, line) = replace_line("[traffic]", "rate_rps", "rate_rps = 1e308");
    assert_rejected_saying(
        "rate-1e308",
        &text,
        "traffic.rate_rps",
        line,
        &["at most 10,000,000 rps", "2^53", "got 1e308"],
    );
}

#[test]
fn money_that_would_overflow_monthly_sums_is_refused() {
    let cases = [
        (
            "[infra]",
            "price_usd_per_hour",
            "infra.price_usd_per_hour",
            "at most 1,000 USD",
        ),
        (
            "[cost]",
            "deploys_per_month",
            "cost.deploys_per_month",
            "at most 100,000",
        ),
        (
            "[cost]",
            "cost_per_failed_request_usd",
            "cost.cost_per_failed_request_usd",
            "at most 1,000 USD",
        ),
        (
            "[cost]",
            "downtime_cost_per_minute_usd",
            "cost.downtime_cost_per_minute_usd",
            "at most 10,000,000 USD",
        ),
    ];
    for (anchor, key, path, says) in cases {
        let (text, line) = replace_line(anchor, key, &format!("{key} = 1e308"));
        assert_rejected_saying(key, &text, path, line, &[says, "finite"]);
    }
}

#[test]
fn an_outage_share_outside_0_to_1_is_refused() {
    for (value, says) in [
        ("0", "must be greater than 0"),
        ("1.5", "at most 1: it is a share of the requests offered"),
    ] {
        let (text, line) = replace_line(
            "[cost]",
            "outage_error_share",
            &format!("outage_error_share = {value}"),
        );
        assert_rejected_saying(value, &text, "cost.outage_error_share", line, &[says]);
    }
}

#[test]
fn counts_beyond_their_limits_are_refused() {
    let (text, line) = replace_line(
        "[traffic]",
        "long_lived_connections",
        "long_lived_connections = 1e300",
    );
    assert_rejected_saying(
        "connections",
        &text,
        "traffic.long_lived_connections",
        line,
        &["at most 1,000,000,000"],
    );
    let (text, line) = replace_line("[traffic]", "users", "users = 20000000000");
    assert_rejected_saying("users", &text, "traffic.users", line, &["10,000,000,000"]);
}

#[test]
fn an_infinite_or_nan_strategy_number_is_refused() {
    let (text, line) = replace_line(
        "name = \"canary\"",
        "scale_down_delay_s",
        "scale_down_delay_s = 30\nsmoke_coverage = nan",
    );
    assert_rejected_saying(
        "nan",
        &text,
        "strategies[3].smoke_coverage",
        line + 1,
        &["finite"],
    );
}

// --- Resources (item 6) ---

#[test]
fn a_mann_whitney_judge_at_a_short_interval_is_refused() {
    // Its cost grows with the square of the intervals: 64 s per replication
    // at a 1 s interval with a day's watch.
    let (text, _) = replace_line("[monitoring]", "interval_s", "interval_s = 1");
    let (text, line) = {
        let line = find_line(&text, "[monitoring]", "judge");
        let text = text
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i + 1 == line {
                    "judge = { kind = \"mann-whitney\" }"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        (text, line)
    };
    assert_rejected_saying(
        "mw-1s",
        &text,
        "monitoring.judge",
        line,
        &["at least 10 s", "square"],
    );
    let ten = text.replace("interval_s = 1\n", "interval_s = 10\n");
    assert!(Scenario::parse(&ten, Path::new("ok.toml")).is_ok());
}

#[test]
fn more_instances_than_the_engine_runs_in_reasonable_time_are_refused() {
    // 100,000 was allowed and took 30 s per replication.
    let (text, line) = replace_line("[service]", "instances", "instances = 100000");
    assert_rejected_saying(
        "instances-100k",
        &text,
        "service.instances",
        line,
        &["from 1 to 10,000", "square"],
    );
    let (text, _) = replace_line("[service]", "instances", "instances = 10000");
    assert!(Scenario::parse(&text, Path::new("ok.toml")).is_ok());
}

#[test]
fn more_strategies_than_the_limit_are_refused() {
    let extra = (0..17)
        .map(|i| format!("[[strategies]]\nname = \"s{i}\"\nkind = \"in-place\"\n"))
        .collect::<String>();
    let base = DEFAULT[..DEFAULT.find("[[strategies]]").unwrap()].to_string();
    let text = base.clone() + &extra;
    let line = text.lines().count() - 3 * 17 + 3 * 16 + 1;
    assert_rejected_saying(
        "strategies-17",
        &text,
        "strategies[16]",
        line,
        &["at most 16"],
    );
}

#[test]
fn a_fifo_as_scenario_is_refused_without_blocking() {
    let r = run_with("fifo", |path| {
        let ok = Command::new("mkfifo").arg(path).status().unwrap().success();
        assert!(ok, "mkfifo failed");
    });
    assert_refused_cleanly(&r);
    assert!(
        r.stderr
            .contains(&format!("error: {}: ", r.scenario.display())),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("must be a regular file"), "{}", r.stderr);
    assert!(r.stderr.contains("FIFO"), "{}", r.stderr);
}

#[test]
fn a_folder_as_scenario_is_refused() {
    let r = run_with("folder", |path| std::fs::create_dir(path).unwrap());
    assert_refused_cleanly(&r);
    assert!(r.stderr.contains("a directory"), "{}", r.stderr);
}

#[test]
fn a_scenario_over_one_mebibyte_is_refused_naming_the_limit() {
    // A valid scenario padded with a comment to just over 1 MiB.
    let pad = "#".repeat(1024 * 1024);
    let text = format!("{DEFAULT}\n{pad}\n");
    let r = run("huge", Some(&text));
    assert_refused_cleanly(&r);
    assert!(
        r.stderr
            .contains(&format!("error: {}: ", r.scenario.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("at most 1,048,576 bytes (1 MiB)"),
        "{}",
        r.stderr
    );
    // Just under the limit is read.
    let text = format!(
        "{DEFAULT}\n{}\n",
        "#".repeat(1024 * 1024 - DEFAULT.len() - 3)
    );
    assert!(text.len() <= 1024 * 1024);
    let r = run("just-under", Some(&text));
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

// --- Messages: file, line and full key path (item 7) ---

#[test]
fn invalid_utf8_names_the_line_and_key() {
    let (text, line) = replace_line("[service]", "instances", "instances = 10 # caf\u{e9}");
    let bytes = text.replace("caf\u{e9}", "caf\u{1}").into_bytes();
    let bytes: Vec<u8> = bytes
        .into_iter()
        .map(|b| if b == 1 { 0xE9 } else { b })
        .collect();
    let r = run_with("latin1", |path| std::fs::write(path, &bytes).unwrap());
    assert_refused_cleanly(&r);
    let expected = format!("{}:{line}: key `service.instances`: ", r.scenario.display());
    assert!(
        r.stderr.contains(&expected),
        "want {expected:?}:\n{}",
        r.stderr
    );
    assert!(r.stderr.contains("not UTF-8"), "{}", r.stderr);
}

#[test]
fn binary_garbage_names_a_line() {
    let bytes: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    let r = run_with("garbage", |path| std::fs::write(path, &bytes).unwrap());
    assert_refused_cleanly(&r);
    // Bytes 0..=127 hold one newline (10), so the first non-UTF-8 byte (128) is on line 2.
    assert!(
        r.stderr
            .starts_with(&format!("error: {}:2: ", r.scenario.display())),
        "{}",
        r.stderr
    );
}

#[test]
fn a_header_nested_ten_thousand_deep_names_its_line() {
    let deep = format!("[{}]", vec!["a"; 10_000].join("."));
    let (text, line) = replace_line("[service]", "[service]", &deep);
    let r = run("deep", Some(&text));
    assert_refused_cleanly(&r);
    let expected = format!(
        "{}:{line}: key `a.a.a.a.… (10000 levels)`",
        r.scenario.display()
    );
    assert!(
        r.stderr.contains(&expected),
        "want {expected:?}:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.len() < 400,
        "the message must not repeat the whole header"
    );
}

#[test]
fn a_duplicate_key_names_its_full_path() {
    let (text, line) = insert_after("[service]", "instances", "instances = 4");
    assert_rejected_saying(
        "duplicate",
        &text,
        "service.instances",
        line,
        &["duplicate key"],
    );
}

#[test]
fn an_integer_overflow_names_its_full_path() {
    let (text, line) = replace_line("[service]", "instances", "instances = 99999999999999999999");
    assert_rejected_saying(
        "overflow",
        &text,
        "service.instances",
        line,
        &["does not fit in 64 bits"],
    );
}

#[test]
fn an_error_on_a_table_header_names_the_table() {
    // A second [service] table: the error sits on the header line itself.
    let (text, line) = replace_line("[traffic]", "[traffic]", "[service]");
    assert_rejected_saying("duplicate-table", &text, "service", line, &["duplicate"]);
    // A table where a value belongs.
    let (text, line) = replace_line("[service]", "[service]", "service = 3\n[servicex]");
    assert_rejected_saying(
        "table-as-value",
        &text,
        "service",
        line,
        &["expected a table"],
    );
}

#[test]
fn a_missing_key_names_its_table() {
    let text = delete_line("[service]", "instances");
    let line = find_line(&text, "[service]", "[service]");
    assert_rejected_saying(
        "missing",
        &text,
        "service.instances",
        line,
        &["missing field"],
    );
}

// --- Names (item 8) ---

#[test]
fn names_with_control_characters_are_refused() {
    let (text, line) = replace_line(
        "name = \"default\"",
        "name",
        "name = \"de\\u001b]0;pwned\\u0007fault\"",
    );
    assert_rejected_saying(
        "escape-in-name",
        &text,
        "name",
        line,
        &["control characters"],
    );
    let (text, line) = replace_line("name = \"canary\"", "name", "name = \"can\\u001b[2Jary\"");
    assert_rejected_saying(
        "escape-in-strategy",
        &text,
        "strategies[3].name",
        line,
        &["control characters"],
    );
    let (text, line) = replace_line("name = \"canary\"", "name", "name = \"can\\u202Eyran\"");
    assert_rejected_saying(
        "bidi-in-strategy",
        &text,
        "strategies[3].name",
        line,
        &["control characters"],
    );
}

#[test]
fn names_a_spreadsheet_would_run_as_formulas_are_refused() {
    for (i, lead) in ["=", "+", "-", "@"].iter().enumerate() {
        let (text, line) = replace_line(
            "name = \"rolling\"",
            "name",
            &format!("name = \"{lead}SUM(A1)\""),
        );
        assert_rejected_saying(
            &format!("formula-{i}"),
            &text,
            "strategies[1].name",
            line,
            &["formula"],
        );
    }
    let (text, line) = replace_line(
        "name = \"default\"",
        "name",
        "name = \"=cmd|' /C calc'!A0\"",
    );
    assert_rejected_saying("formula-scenario", &text, "name", line, &["formula"]);
    // Inside a name they are harmless.
    let (text, _) = replace_line("name = \"rolling\"", "name", "name = \"rolling-25%+@=\"");
    assert!(Scenario::parse(&text, Path::new("ok.toml")).is_ok());
}

/// One random mutation of the default scenario text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite the byte at (position mod len) with `byte`.
    Edit(usize, u8),
    /// Insert `byte` at (position mod len).
    Insert(usize, u8),
    /// Keep only the first (position mod len) bytes.
    Truncate(usize),
    /// Delete line (index mod line count).
    DeleteLine(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    // Bytes that matter to TOML more often than chance would pick them.
    let byte = prop_oneof![
        3 => any::<u8>(),
        2 => prop::sample::select(b"=[]{}\"',.-#\n 0123456789%ex".to_vec()),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(p, b)| Mutation::Edit(p, b)),
        (any::<usize>(), byte).prop_map(|(p, b)| Mutation::Insert(p, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<usize>().prop_map(Mutation::DeleteLine),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Edit(p, b) => {
                if !bytes.is_empty() {
                    bytes[p % len] = b;
                }
            }
            Mutation::Insert(p, b) => bytes.insert(p % (bytes.len() + 1), b),
            Mutation::Truncate(p) => bytes.truncate(p % len),
            Mutation::DeleteLine(i) => {
                let s = String::from_utf8_lossy(&bytes).into_owned();
                let lines: Vec<&str> = s.split('\n').collect();
                let drop = i % lines.len();
                bytes = lines
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != drop)
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    // 64 cases by default; PROPTEST_CASES=N runs more for a deeper search.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    #[test]
    fn mutated_scenarios_never_panic(mutations in prop::collection::vec(mutation(), 1..6)) {
        let text = apply(DEFAULT, &mutations);
        let file = Path::new("fuzzed-scenario.toml");
        let result = std::panic::catch_unwind(|| Scenario::parse(&text, file));
        prop_assert!(result.is_ok(), "Scenario::parse panicked on:\n{text}");
        if let Err(e) = result.unwrap() {
            prop_assert!(
                matches!(e, Error::Input { .. }),
                "a parse error must be Error::Input, got {e:?}"
            );
            let shown = e.to_string();
            prop_assert!(
                shown.contains("fuzzed-scenario.toml"),
                "the message must name the file: {shown}"
            );
        }
    }
}
