//! `cutover trace` narrates a release as it happened. Two narrations at seed
//! 42 are committed in tests/snapshots/ and must be printed exactly: a canary
//! whose crash-on-start defect only the progress deadline stops, and a canary
//! whose traffic-only defect the judge catches at 5% of traffic. When the
//! model changes on purpose, rewrite them with
//! `UPDATE_SNAPSHOTS=1 cargo test --release --test trace_snapshot` and read
//! the new ones before committing them. The other tests check what any trace
//! must say: the narration and the CSV tell the same events, and a healthy
//! rolling update keeps Kubernetes' availability floor and ends fully promoted.

mod common;

use common::cutover_stdout;
use std::path::PathBuf;
use std::process::Command;

/// (snapshot file, `cutover` arguments)
const SNAPSHOTS: [(&str, &[&str]); 2] = [
    (
        "trace_canary_seed42_defect.txt",
        &["trace", "--strategy", "canary", "--seed", "42", "--defect"],
    ),
    (
        "trace_canary_seed42_replication16.txt",
        &[
            "trace",
            "--strategy",
            "canary",
            "--seed",
            "42",
            "--replication",
            "16",
        ],
    ),
];

fn snapshot_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(file)
}

/// A line diff (longest common subsequence): "  " same, "- " only in the
/// snapshot, "+ " only in the actual output.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        }
    }
    out
}

#[test]
fn canary_traces_match_their_snapshots() {
    let update = std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1");
    let mut differing = Vec::new();
    for (file, args) in SNAPSHOTS {
        let actual = cutover_stdout(args);
        let path = snapshot_path(file);
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &actual).unwrap();
            eprintln!("rewrote {}", path.display());
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "cannot read the snapshot {}: {e}\n\
                 create it with UPDATE_SNAPSHOTS=1 cargo test --release --test trace_snapshot",
                path.display()
            )
        });
        if actual != expected {
            differing.push(format!(
                "`cutover {}` no longer matches {}\n(- snapshot, + actual output)\n\n{}",
                args.join(" "),
                path.display(),
                diff(&expected, &actual)
            ));
        }
    }
    assert!(
        differing.is_empty(),
        "{}\nIf the change is intended, rewrite the snapshots with\n\
         UPDATE_SNAPSHOTS=1 cargo test --release --test trace_snapshot\n\
         and review them before committing.",
        differing.join("\n")
    );
}

/// Milliseconds of a narration clock, h:mm:ss.mmm.
fn clock_ms(clock: &str) -> u64 {
    let (hms, ms) = clock.split_once('.').expect("h:mm:ss.mmm");
    let parts: Vec<u64> = hms.split(':').map(|p| p.parse().unwrap()).collect();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + ms.parse::<u64>().unwrap()
}

/// The share a narration line states, as a fraction ("5%" -> 0.05).
fn stated_share(line: &str) -> f64 {
    let text = line.rsplit("share on new ").next().unwrap();
    match text {
        "under 0.1%" => 0.0005,
        "over 99.9%" => 0.9995,
        _ => text.trim_end_matches('%').parse::<f64>().unwrap() / 100.0,
    }
}

#[test]
fn the_narration_and_the_csv_tell_the_same_events() {
    let args = [
        "trace",
        "--strategy",
        "canary",
        "--seed",
        "42",
        "--replication",
        "16",
    ];
    let narration = cutover_stdout(&args);
    let csv_text = cutover_stdout(&[&args[..], &["--csv"]].concat());
    let lines: Vec<&str> = narration
        .lines()
        .filter(|l| l.contains("  ready old "))
        .collect();
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(lines.len(), rows.len(), "{narration}\n{csv_text}");
    assert!(rows.len() > 5, "{csv_text}");
    for (line, row) in lines.iter().zip(&rows) {
        let (clock, rest) = line.split_once("  ").unwrap();
        let time_ms = (row[0].parse::<f64>().unwrap() * 1000.0).round() as u64;
        assert_eq!(clock_ms(clock), time_ms, "{line} / {row:?}");
        assert!(rest.trim_start().starts_with(&row[1]), "{line} / {row:?}");
        let ready = format!("ready old {:>3} new {:>3}", &row[2], &row[3]);
        assert!(line.contains(&ready), "{line} / {row:?}");
        let share: f64 = row[4].parse().unwrap();
        assert!(
            (stated_share(line) - share).abs() < 0.0006,
            "{line} / {row:?}"
        );
    }
    // This release is a traffic-only defect: the canary takes 5% of traffic,
    // the judge fails the analysis, and the rollback takes the share to 0.
    let events: Vec<&str> = rows.iter().map(|r| r.get(1).unwrap()).collect();
    let at = |prefix: &str| {
        events
            .iter()
            .position(|e| e.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {events:?}"))
    };
    assert!(at("route: 5% of requests") < at("analysis failed"));
    assert!(at("analysis failed") < at("rollback decided"));
    assert!(at("rollback decided") < at("rollback complete"));
    assert_eq!(&rows[at("route settled")][4], "0.05");
    assert_eq!(&rows[rows.len() - 1][4], "0");
    assert!(
        narration.contains("\noutcome: rolled_back — "),
        "{narration}"
    );
}

#[test]
fn an_unknown_strategy_is_a_usage_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["trace", "--strategy", "big-bang"])
        .output()
        .expect("cannot run cutover");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("unknown strategy `big-bang`") && stderr.contains("canary"),
        "{stderr}"
    );
}

#[test]
fn a_healthy_rolling_update_keeps_the_availability_floor_and_ends_promoted() {
    let text = cutover_stdout(&["trace", "--strategy", "rolling", "--healthy", "--csv"]);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["time_s", "event", "old_ready", "new_ready", "share_new"]
    );
    let rows: Vec<(f64, String, u32, u32, f64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].parse().unwrap(),
                r[1].to_string(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
                r[4].parse().unwrap(),
            )
        })
        .collect();
    assert!(rows.len() > 2, "{text}");
    assert_eq!(
        rows[0],
        (0.0, "deployment starts".to_string(), 10, 0, 0.0),
        "the default scenario starts on 10 old instances"
    );
    assert!(
        rows.windows(2).all(|w| w[0].0 <= w[1].0),
        "time goes back: {text}"
    );
    // Kubernetes RollingUpdate, 10 replicas at 25%/25%: max unavailable
    // floor(2.5) = 2, max surge ceil(2.5) = 3, so 8 to 13 instances ready.
    for (t, event, old, new, share) in &rows {
        assert!(
            (8..=13).contains(&(old + new)),
            "{t} s {event}: {old} + {new} ready"
        );
        assert!((0.0..=1.0).contains(share), "{t} s {event}: share {share}");
    }
    assert!(
        !text.contains("rollback"),
        "a healthy release rolled back: {text}"
    );
    let promoted = rows
        .iter()
        .find(|r| r.1 == "promotion complete")
        .unwrap_or_else(|| panic!("never promoted: {text}"));
    assert_eq!((promoted.2, promoted.3, promoted.4), (0, 10, 1.0), "{text}");
}
