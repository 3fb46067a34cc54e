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
    let dir = fresh_dir(case);
    let scenario = dir.join(format!("{case}.toml"));
    if let Some(text) = text {
        std::fs::write(&scenario, text).unwrap();
    }
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("summary.csv"), SENTINEL).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("compare")
        .arg(&scenario)
        .args(["--replications", "20", "--seed", "1", "--threads", "1"])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("the binary runs");
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
        "name = \"blue-green\"",
        "scale_down_delay_s",
        "scale_down_delay_s = -1",
    );
    assert_rejected(
        "negative-delay",
        &text,
        "strategies[2].scale_down_delay_s",
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
