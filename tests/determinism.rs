//! The same seed gives the same bytes in every output file whatever the
//! thread count; another seed gives other bytes; the CSV files have the
//! documented shape, and a metric that does not apply is an empty cell, never
//! a zero.

use std::path::{Path, PathBuf};
use std::process::Command;

const REPLICATIONS: usize = 300;
const STRATEGIES: usize = 4;
const SUMMARY_HEADER: &str = "strategy,metric,n,mean,std,p50,p95,p99,min,max,ci95_low,ci95_high";

fn out_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("cutover-determinism-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the default comparison and returns (summary.csv, replications.csv).
fn compare(seed: u64, threads: usize, out: &Path) -> (Vec<u8>, Vec<u8>) {
    let output = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("compare")
        .args(["--replications", &REPLICATIONS.to_string()])
        .args(["--seed", &seed.to_string()])
        .args(["--threads", &threads.to_string()])
        .arg("--out")
        .arg(out)
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (
        std::fs::read(out.join("summary.csv")).unwrap(),
        std::fs::read(out.join("replications.csv")).unwrap(),
    )
}

#[test]
fn same_seed_gives_the_same_bytes_with_one_or_two_threads() {
    let one = out_dir("seed7-threads1");
    let two = out_dir("seed7-threads2");
    let (summary1, reps1) = compare(7, 1, &one);
    let (summary2, reps2) = compare(7, 2, &two);
    assert!(
        summary1 == summary2,
        "summary.csv differs between --threads 1 and --threads 2"
    );
    assert!(
        reps1 == reps2,
        "replications.csv differs between --threads 1 and --threads 2"
    );
    // Every other output too: the monthly view (its resampling is seeded),
    // the plots and the report.
    let mut names: Vec<_> = std::fs::read_dir(&one)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names.len(),
        15,
        "4 CSV files, 5 PNG, 5 SVG and report.html: {names:?}"
    );
    for name in names {
        let (a, b) = (
            std::fs::read(one.join(&name)).unwrap(),
            std::fs::read(two.join(&name)).unwrap(),
        );
        assert!(
            a == b,
            "{name:?} differs between --threads 1 and --threads 2"
        );
    }
    for dir in [one, two] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn another_seed_gives_other_bytes() {
    let seven = out_dir("seed7-threads2-b");
    let eight = out_dir("seed8-threads2");
    let (summary7, reps7) = compare(7, 2, &seven);
    let (summary8, reps8) = compare(8, 2, &eight);
    assert!(
        summary7 != summary8,
        "seed 8 gave the same summary.csv as seed 7"
    );
    assert!(
        reps7 != reps8,
        "seed 8 gave the same replications.csv as seed 7"
    );
    for dir in [seven, eight] {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn csv_files_have_the_documented_shape_and_empty_cells_for_missing_metrics() {
    let dir = out_dir("shape");
    let (summary1, reps1) = compare(7, 2, &dir);

    // summary.csv: the documented header, one row per strategy and metric
    // (the default scenario has no [database] table, so no database metric).
    let summary = String::from_utf8(summary1).unwrap();
    assert_eq!(summary.lines().next(), Some(SUMMARY_HEADER));
    let metrics = cutover::outcome::Metric::reported(false);
    assert_eq!(
        summary.lines().count(),
        1 + STRATEGIES * metrics.len(),
        "one summary row per strategy and metric"
    );
    assert!(!summary.contains("schema_failed_requests"));

    // replications.csv: one row per replication and strategy.
    let mut reader = csv::Reader::from_reader(reps1.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("replications.csv has no column {name}: {header:?}"))
    };
    let (defective_col, detect_col, replication_col) = (
        col("defective"),
        col("time_to_detect_s"),
        col("replication"),
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), REPLICATIONS * STRATEGIES, "data rows");
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), header.len(), "row {i} has a ragged width");
        assert_eq!(
            row[replication_col],
            (i / STRATEGIES).to_string(),
            "row {i} out of replication order"
        );
    }

    // Healthy releases have no time to detect: an empty cell, never "0".
    let healthy: Vec<&csv::StringRecord> = rows
        .iter()
        .filter(|r| &r[defective_col] == "false")
        .collect();
    let defective = rows.iter().filter(|r| &r[defective_col] == "true").count();
    assert_eq!(
        healthy.len() + defective,
        rows.len(),
        "defective is true/false"
    );
    assert!(
        !healthy.is_empty() && defective > 0,
        "300 releases at a 15% change failure rate have both kinds"
    );
    for r in &healthy {
        assert_eq!(
            &r[detect_col], "",
            "a healthy release has a time_to_detect_s: {r:?}"
        );
    }
    // And a detected defect does get a number there, so the column is not
    // simply always empty.
    assert!(
        rows.iter()
            .filter(|r| &r[defective_col] == "true")
            .any(|r| r[detect_col].parse::<f64>().is_ok()),
        "no defective release has a time_to_detect_s"
    );

    let _ = std::fs::remove_dir_all(dir);
}
