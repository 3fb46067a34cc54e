//! `cutover trace --strategy canary --seed 42 --defect` prints exactly the
//! committed narration in tests/snapshots/. When the model changes on purpose,
//! rewrite the snapshot with `UPDATE_SNAPSHOTS=1 cargo test --test trace_snapshot`
//! and read the new one before committing it.

use std::path::PathBuf;
use std::process::Command;

const ARGS: [&str; 6] = ["trace", "--strategy", "canary", "--seed", "42", "--defect"];

fn snapshot_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/trace_canary_seed42_defect.txt")
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
fn diff_marks_changed_lines() {
    assert_eq!(diff("a\nb\nc\n", "a\nx\nc\n"), "  a\n- b\n+ x\n  c\n");
    assert_eq!(diff("a\n", "a\nb\n"), "  a\n+ b\n");
}

#[test]
fn canary_trace_matches_the_snapshot() {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(ARGS)
        .output()
        .expect("cannot run cutover");
    assert!(
        output.status.success(),
        "cutover {} failed ({}):\n{}",
        ARGS.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let actual = String::from_utf8(output.stdout).expect("trace output is UTF-8");
    let path = snapshot_path();
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        eprintln!("rewrote {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the snapshot {}: {e}\n\
             create it with UPDATE_SNAPSHOTS=1 cargo test --test trace_snapshot",
            path.display()
        )
    });
    if actual != expected {
        panic!(
            "`cutover {}` no longer matches {}\n\
             (- snapshot, + actual output)\n\n{}\n\
             If the change is intended, rewrite the snapshot with\n\
             UPDATE_SNAPSHOTS=1 cargo test --release --test trace_snapshot\n\
             and review it before committing.",
            ARGS.join(" "),
            path.display(),
            diff(&expected, &actual)
        );
    }
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
fn healthy_and_csv_traces() {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["trace", "--strategy", "rolling", "--healthy", "--csv"])
        .output()
        .expect("cannot run cutover");
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["time_s", "event", "old_ready", "new_ready", "share_new"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert!(rows.len() > 2, "{text}");
    for row in &rows {
        assert!(row[0].parse::<f64>().is_ok(), "time_s in {row:?}");
        assert!(row[2].parse::<u32>().is_ok() && row[3].parse::<u32>().is_ok());
        let share: f64 = row[4].parse().unwrap();
        assert!((0.0..=1.0).contains(&share), "share_new in {row:?}");
    }
}
