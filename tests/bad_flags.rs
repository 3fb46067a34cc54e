//! Flags beyond what the program can do in reasonable time or memory are
//! refused with exit code 2 and a message saying the limit, before anything
//! runs or is written.

use std::path::PathBuf;
use std::process::Command;

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cutover-flags-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `cutover compare --no-plots --out OUT FLAGS`: (exit code, stderr).
fn compare(tag: &str, flags: &[&str]) -> (Option<i32>, String, PathBuf) {
    let out = out_dir(tag);
    let r = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["compare", "--no-plots", "--out"])
        .arg(&out)
        .args(flags)
        .output()
        .unwrap();
    (
        r.status.code(),
        String::from_utf8_lossy(&r.stderr).into_owned(),
        out,
    )
}

fn assert_refused(tag: &str, flags: &[&str], says: &[&str]) {
    let (code, stderr, out) = compare(tag, flags);
    assert_eq!(code, Some(2), "{flags:?}: {stderr}");
    for s in says {
        assert!(stderr.contains(s), "{flags:?} must say {s:?}: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out.exists(), "{flags:?} wrote {}", out.display());
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |c| c.get())
}

#[test]
fn thousands_of_threads_are_refused_naming_the_cap() {
    let max = 4 * cores();
    assert_refused(
        "threads",
        &["--threads", &(max + 1).to_string()],
        &[&format!("at most {max}"), "4 per core"],
    );
    assert_refused("threads-10000", &["--threads", "10000"], &["at most"]);
}

#[test]
fn the_thread_cap_itself_runs() {
    let max = (4 * cores()).to_string();
    let (code, stderr, out) = compare("threads-max", &["--threads", &max, "--replications", "50"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.join("summary.csv").is_file());
    std::fs::remove_dir_all(out).unwrap();
}

#[test]
fn replications_beyond_memory_are_refused_naming_the_cap() {
    assert_refused(
        "replications-big",
        &["--replications", "1000001"],
        &["from 1 to 1,000,000", "GB of memory"],
    );
    assert_refused("replications-0", &["--replications", "0"], &["from 1 to"]);
}

#[test]
fn a_seed_outside_64_bits_is_refused() {
    assert_refused("seed-big", &["--seed", "18446744073709551616"], &["--seed"]);
    assert_refused("seed-negative", &["--seed", "-1"], &["-1"]);
}
