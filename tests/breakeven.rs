//! The recommendation cannot be gamed, and its break-evens are what they say:
//! a strategy that does not ship is left out with its reason; every money
//! break-even, written back into the scenario and re-run at the same seed,
//! makes the two strategies cost the same and flips the winner just past it;
//! the change-failure-rate break-even found by reweighting matches a
//! re-simulation at that rate within its confidence interval.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const DEFAULT: &str = include_str!("../scenarios/default.toml");

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cutover-breakeven-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `cutover ARGS`: (exit code, stdout).
fn cutover(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into(),
    )
}

/// `compare` of a scenario text at seed 42 into a fresh folder; returns the folder.
fn compare(text: &str, tag: &str, replications: u64) -> PathBuf {
    let dir = temp(tag);
    let file = dir.join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let out = dir.join("out");
    let reps = replications.to_string();
    let (code, _) = cutover(&[
        "compare",
        file.to_str().unwrap(),
        "--seed",
        "42",
        "--replications",
        &reps,
        "--no-plots",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "compare {tag}");
    out
}

/// A CSV file as rows of column → cell.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).expect("a CSV file");
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

/// Each strategy's expected total a month, from monthly.csv.
fn totals(out: &Path) -> HashMap<String, f64> {
    read_csv(&out.join("monthly.csv"))
        .into_iter()
        .map(|r| {
            (
                r["strategy"].clone(),
                r["expected_total_monthly_usd"].parse().unwrap(),
            )
        })
        .collect()
}

/// The default scenario with one key set, by its break-even path
/// (`cost.x`, `infra.x`, `release.x`, `strategies.NAME.x`).
fn with_key(key: &str, value: f64) -> String {
    let mut doc: toml_edit::DocumentMut = DEFAULT.parse().unwrap();
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["strategies", name, field] => {
            let strategies = doc["strategies"].as_array_of_tables_mut().unwrap();
            let table = strategies
                .iter_mut()
                .find(|t| t["name"].as_str() == Some(name))
                .unwrap_or_else(|| panic!("no strategy {name}"));
            table[*field] = toml_edit::value(value);
        }
        [table, field] => doc[*table][*field] = toml_edit::value(value),
        _ => panic!("unexpected key {key}"),
    }
    doc.to_string()
}

#[test]
fn a_strategy_that_rolls_back_every_healthy_release_is_never_recommended() {
    // A judge that fails any error at all: the healthy baseline (0.1%)
    // fails it at the first interval, so every release is rolled back. It
    // fails no request a defect causes, so by money alone it would look good.
    let text = format!(
        "{DEFAULT}\n[[strategies]]\nname = \"jumpy\"\nkind = \"canary\"\n\
         steps = [{{ weight = 5, pause_s = 600 }}, {{ weight = 100, pause_s = 0 }}]\n\
         judge = {{ kind = \"consecutive\", max_error_rate = 0.00001, consecutive = 1 }}\n"
    );
    let dir = temp("jumpy");
    let file = dir.join("scenario.toml");
    std::fs::write(&file, text).unwrap();
    let (code, stdout) = cutover(&["recommend", file.to_str().unwrap(), "--replications", "200"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.starts_with("recommended: jumpy"), "{stdout}");
    assert!(
        stdout.contains(
            "jumpy: does not ship: rolls back 100% of healthy releases \
             (cost.min_healthy_promoted_share asks that 95% be promoted)"
        ),
        "{stdout}"
    );
    // Out of the ranking table: no row of it starts with the name.
    let table_rows = stdout
        .lines()
        .skip_while(|l| !l.starts_with("----------"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty());
    assert!(table_rows.clone().count() == 4, "{stdout}");
    assert!(
        table_rows.into_iter().all(|l| !l.starts_with("jumpy")),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn every_money_break_even_makes_the_two_totals_equal_and_the_winner_flip_past_it() {
    let base = compare(DEFAULT, "base", 300);
    let rows = read_csv(&base.join("breakeven.csv"));
    let mut checked = 0;
    for r in rows
        .iter()
        .filter(|r| !r["breakeven_value"].is_empty() && r["input"] != "release.change_failure_rate")
    {
        let (key, winner, next) = (&r["input"], &r["winner"], &r["winner_beyond"]);
        let value: f64 = r["breakeven_value"].parse().unwrap();
        let at = totals(&compare(&with_key(key, value), "at", 300));
        let (w, n) = (at[winner.as_str()], at[next.as_str()]);
        // Equal within the CSV's rounding (6 decimals) and f64 sums.
        assert!(
            (w - n).abs() <= 1e-5 + 1e-9 * w.abs(),
            "{key} = {value}: {winner} ${w} against {next} ${n}"
        );
        // Just past it, the other strategy is cheaper.
        let past = if r["direction"] == "below" {
            value * (1.0 - 1e-3)
        } else {
            value * (1.0 + 1e-3)
        };
        let beyond = totals(&compare(&with_key(key, past), "past", 300));
        assert!(
            beyond[next.as_str()] < beyond[winner.as_str()],
            "{key} = {past}: {next} should now beat {winner}: {beyond:?}"
        );
        checked += 1;
    }
    // The default scenario has break-evens in downtime, price, deploys,
    // delay and the canary's operations at least.
    assert!(checked >= 5, "only {checked} break-evens: {rows:?}");
}

/// The default scenario's value at `table.key`.
fn default_value(table: &str, key: &str) -> f64 {
    let doc: toml_edit::DocumentMut = DEFAULT.parse().unwrap();
    let item = &doc[table][key];
    item.as_float()
        .or_else(|| item.as_integer().map(|i| i as f64))
        .unwrap_or_else(|| panic!("no {table}.{key}"))
}

/// What one replication costs a strategy per deploy at the default
/// scenario's prices (the terms of `crate::economics`; incidents already priced).
fn per_deploy_usd(row: &HashMap<String, String>) -> f64 {
    let v = |k: &str| row[k].parse::<f64>().unwrap_or(0.0);
    v("extra_instance_hours") * default_value("infra", "price_usd_per_hour")
        + v("incident_cost_usd")
        + v("false_rollback") * default_value("cost", "false_rollback_usd")
        + v("lead_time_s") / 3600.0 * default_value("cost", "delay_usd_per_hour")
}

/// The monthly difference of totals a − b at change failure rate `cfr`,
/// post-stratified as the monthly view is, with its standard error:
/// cfr × mean_d + (1 − cfr) × mean_h of the paired per-deploy differences,
/// times the deploys a month, plus the operations difference.
fn difference(out: &Path, a: &str, b: &str, cfr: f64, operations_usd: f64) -> (f64, f64) {
    let rows = read_csv(&out.join("replications.csv"));
    let mut by_rep: HashMap<String, (bool, f64)> = HashMap::new();
    for r in &rows {
        let sign = if r["strategy"] == a {
            1.0
        } else if r["strategy"] == b {
            -1.0
        } else {
            continue;
        };
        let e = by_rep
            .entry(r["replication"].clone())
            .or_insert((r["defective"] == "1" || r["defective"] == "true", 0.0));
        e.1 += sign * per_deploy_usd(r);
    }
    let class = |defective: bool| -> Vec<f64> {
        by_rep
            .values()
            .filter(|(d, _)| *d == defective)
            .map(|(_, x)| *x)
            .collect()
    };
    let (d, h) = (class(true), class(false));
    let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
    let se2 = |x: &[f64]| common::sample_variance(x) / x.len() as f64;
    let deploys = default_value("cost", "deploys_per_month");
    let diff = deploys * (cfr * mean(&d) + (1.0 - cfr) * mean(&h)) + operations_usd;
    let se = deploys * (cfr * cfr * se2(&d) + (1.0 - cfr) * (1.0 - cfr) * se2(&h)).sqrt();
    (diff, se)
}

#[test]
fn the_change_failure_rate_break_even_matches_a_re_simulation_at_that_rate() {
    let replications = 2000;
    let base = compare(DEFAULT, "cfr-base", replications);
    let rows = read_csv(&base.join("breakeven.csv"));
    let row = rows
        .iter()
        .find(|r| r["input"] == "release.change_failure_rate" && !r["breakeven_value"].is_empty())
        .expect("a change-failure-rate break-even in the default scenario");
    let cfr: f64 = row["breakeven_value"].parse().unwrap();
    let (a, b) = (row["winner"].as_str(), row["winner_beyond"].as_str());
    // Operations cost is a constant a month, as monthly.csv reports it.
    let monthly = read_csv(&base.join("monthly.csv"));
    let operations = |name: &str| -> f64 {
        monthly.iter().find(|r| r["strategy"] == name).unwrap()["monthly_operations_usd"]
            .parse()
            .unwrap()
    };
    let ops = operations(a) - operations(b);
    // In the run that found it the two totals are equal at that rate, by construction.
    let (d1, se1) = difference(&base, a, b, cfr, ops);
    // (replications.csv rounds each value to 6 decimals: at most 4 terms ×
    // 5e-7 a release, times 20 deploys, is 4e-5 a month.)
    assert!(d1.abs() < 1e-4, "{d1} at {cfr}");
    // A new simulation at that rate draws other releases: the difference
    // must be zero within the two runs' combined 99% interval.
    let again = compare(
        &with_key("release.change_failure_rate", cfr),
        "cfr-again",
        replications,
    );
    let (d2, se2) = difference(&again, a, b, cfr, ops);
    let half_width = 2.576 * (se1 * se1 + se2 * se2).sqrt();
    assert!(
        d2.abs() <= half_width,
        "{a} − {b} at a change failure rate of {cfr}: ${d2} a month, outside ±${half_width}"
    );
}
