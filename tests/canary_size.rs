//! `cutover canary-size` reproduces the worked figure and its own simulation
//! check lands within 3 points of the power asked for. `--weight` is a
//! percentage, as a canary step's `weight` in a scenario.

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

/// The rest of the line after `label`, trimmed.
fn after<'a>(stdout: &'a str, label: &str) -> &'a str {
    let rest = stdout
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{stdout}"));
    rest.lines().next().unwrap().trim()
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
        "50",
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("canary requests needed:   2319"), "{out}");
    assert!(
        out.contains("baseline requests (same time, weight 50%): 2319"),
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
        "5",
        "--power",
        "0.9",
    ]);
    assert_eq!(code, 0);
    // 5% of 1000 rps: the canary sees 50 requests a second and the baseline
    // 19 times as many.
    let canary: u64 = after(&out, "canary requests needed:").parse().unwrap();
    let baseline: u64 = after(&out, "weight 5%):").parse().unwrap();
    assert!(
        baseline >= 19 * canary && baseline <= 19 * canary + 1,
        "{out}"
    );
    let seconds: f64 = after(&out, "rps:")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((seconds - canary as f64 / 50.0).abs() <= 0.051, "{out}");
    assert!((detected_percent(&out) - 90.0).abs() <= 3.0, "{out}");
}

#[test]
fn a_weight_outside_0_to_100_percent_exits_2_with_the_flag_named() {
    for weight in ["100", "150", "0", "-5"] {
        let (code, out, err) = run(&[
            "--baseline-error",
            "0.01",
            "--detect-error",
            "0.02",
            "--rps",
            "1000",
            &format!("--weight={weight}"),
        ]);
        assert_eq!(code, 2, "--weight {weight}: {out}");
        assert!(
            err.contains("--weight must be a percentage in (0, 100)"),
            "--weight {weight}: {err}"
        );
        assert!(out.is_empty(), "{out}");
    }
}
