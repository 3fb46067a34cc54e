//! `cutover canary-size` reproduces the worked figure and its own simulation
//! check lands within 3 points of the power asked for.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .arg("canary-size")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn detected_percent(stdout: &str) -> f64 {
    let after = stdout.split("detected ").nth(1).expect("a detection line");
    after.split('%').next().unwrap().trim().parse().unwrap()
}

#[test]
fn equal_arms_need_2319_requests_each() {
    let (code, out, _) = run(&[
        "--baseline-error",
        "0.01",
        "--detect-error",
        "0.02",
        "--rps",
        "1000",
        "--weight",
        "0.5",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("canary requests needed:   2319"), "{out}");
    assert!(
        out.contains("baseline requests (same time, weight 0.5): 2319"),
        "{out}"
    );
    assert!((detected_percent(&out) - 80.0).abs() <= 3.0, "{out}");
}

#[test]
fn a_five_percent_canary_is_checked_by_simulation() {
    let (code, out, _) = run(&[
        "--baseline-error",
        "0.01",
        "--detect-error",
        "0.02",
        "--rps",
        "1000",
        "--weight",
        "0.05",
        "--power",
        "0.9",
    ]);
    assert_eq!(code, 0);
    assert!((detected_percent(&out) - 90.0).abs() <= 3.0, "{out}");
}

#[test]
fn bad_values_exit_2_with_the_flag_named() {
    let (code, _, err) = run(&[
        "--baseline-error",
        "0.01",
        "--detect-error",
        "0.02",
        "--rps",
        "1000",
        "--weight",
        "1.5",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--weight"), "{err}");
}
