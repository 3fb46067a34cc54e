//! Golden outputs: for every scenario in `scenarios/`, `compare` (its three
//! CSV files and the printed tables), `recommend` and `trace --csv` of every
//! strategy at a fixed seed and a small replication count, compared byte for
//! byte with the files under `tests/golden/<scenario>/`.
//!
//! A change that alters outputs on purpose regenerates them with
//!
//!     CUTOVER_BLESS=1 cargo test --release --test golden
//!
//! and says in its commit which figures moved and why.

mod common;

use common::cutover_stdout;
use std::path::{Path, PathBuf};

const SEED: &str = "7";
const REPLICATIONS: &str = "100";

/// Every output of one scenario, as (file name, bytes).
fn outputs(scenario: &Path) -> Vec<(String, Vec<u8>)> {
    let file = scenario.to_str().expect("UTF-8 path");
    let out = std::env::temp_dir().join(format!(
        "cutover-golden-{}-{}",
        std::process::id(),
        scenario.file_stem().unwrap().to_string_lossy()
    ));
    let out_text = out.to_str().expect("UTF-8 path");
    let printed = cutover_stdout(&[
        "compare",
        file,
        "--replications",
        REPLICATIONS,
        "--seed",
        SEED,
        "--threads",
        "2",
        "--no-plots",
        "--out",
        out_text,
    ])
    .replace(out_text, "OUT");
    let mut files = vec![("compare.txt".to_string(), printed.into_bytes())];
    for csv in [
        "summary.csv",
        "replications.csv",
        "monthly.csv",
        "breakeven.csv",
    ] {
        let bytes = std::fs::read(out.join(csv)).expect("compare wrote the file");
        files.push((csv.to_string(), bytes));
    }
    std::fs::remove_dir_all(&out).ok();
    let recommended = cutover_stdout(&[
        "recommend",
        file,
        "--replications",
        REPLICATIONS,
        "--seed",
        SEED,
    ]);
    files.push(("recommend.txt".into(), recommended.into_bytes()));
    let scenario_text = std::fs::read_to_string(scenario).unwrap();
    let parsed: toml::Table = scenario_text.parse().unwrap();
    let names: Vec<String> = parsed["strategies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    for name in names {
        let trace = cutover_stdout(&[
            "trace",
            file,
            "--strategy",
            &name,
            "--seed",
            SEED,
            "--defect",
            "--csv",
        ]);
        files.push((format!("trace-{name}.csv"), trace.into_bytes()));
    }
    files
}

fn scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_matches_its_golden_outputs() {
    let bless = std::env::var_os("CUTOVER_BLESS").is_some();
    let mut differing = Vec::new();
    let scenarios = scenarios();
    assert!(scenarios.len() >= 10, "the scenario library is missing");
    for scenario in scenarios {
        let stem = scenario.file_stem().unwrap().to_string_lossy().to_string();
        let dir = Path::new("tests/golden").join(&stem);
        if bless {
            std::fs::remove_dir_all(&dir).ok();
            std::fs::create_dir_all(&dir).unwrap();
        }
        for (name, bytes) in outputs(&scenario) {
            let path = dir.join(&name);
            if bless {
                std::fs::write(&path, &bytes).unwrap();
                continue;
            }
            match std::fs::read(&path) {
                Ok(golden) if golden == bytes => {}
                Ok(golden) => {
                    let first = golden
                        .split(|&b| b == b'\n')
                        .zip(bytes.split(|&b| b == b'\n'))
                        .position(|(a, b)| a != b)
                        .map_or("a length".to_string(), |l| format!("line {}", l + 1));
                    differing.push(format!("{} (first difference at {first})", path.display()));
                }
                Err(_) => differing.push(format!("{} (missing)", path.display())),
            }
        }
    }
    assert!(
        differing.is_empty(),
        "outputs differ from tests/golden; if the change is intended, regenerate with \
         `CUTOVER_BLESS=1 cargo test --release --test golden` and say why in the commit:\n  {}",
        differing.join("\n  ")
    );
}
