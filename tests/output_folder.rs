//! `--out` as a user may give it: links inside it are replaced, never written
//! through; a folder that cannot take the files is refused with exit code 2
//! before the simulation starts; a write that fails midway leaves the
//! previous files as they were and no staging folder behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A fresh folder for one test, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "cutover-out-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn staging_left(&self) -> Vec<String> {
        fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".cutover-staging-"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn compare(out: &Path, replications: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["compare", "--no-plots", "--seed", "3", "--replications"])
        .arg(replications)
        .arg("--out")
        .arg(out)
        .output()
        .expect("cutover runs")
}

#[test]
fn a_symlink_named_summary_csv_is_replaced_and_its_target_left_untouched() {
    let s = Scratch::new("symlink");
    let out = s.0.join("out");
    fs::create_dir_all(&out).unwrap();
    let target = s.0.join("precious.txt");
    fs::write(&target, "do not overwrite").unwrap();
    std::os::unix::fs::symlink(&target, out.join("summary.csv")).unwrap();
    let dangling = s.0.join("not-there.csv");
    std::os::unix::fs::symlink(&dangling, out.join("monthly.csv")).unwrap();
    let hard = s.0.join("hard.txt");
    fs::write(&hard, "hard link").unwrap();
    fs::hard_link(&hard, out.join("replications.csv")).unwrap();

    let r = compare(&out, "20");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(fs::read_to_string(&target).unwrap(), "do not overwrite");
    assert!(!dangling.exists(), "a dangling link's target was created");
    assert_eq!(fs::read_to_string(&hard).unwrap(), "hard link");
    for name in ["summary.csv", "monthly.csv", "replications.csv"] {
        let meta = fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is still a link");
    }
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("strategy,metric,n,"), "{summary}");
    assert!(s.staging_left().is_empty(), "{:?}", s.staging_left());
}

/// Runs compare with a replication count that would take minutes, so a
/// refusal that comes quickly came before the simulation.
fn refused_before_simulating(out: &Path) -> String {
    let started = Instant::now();
    let r = compare(out, "1000000");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.status.code(), Some(2), "{}: {stderr}", out.display());
    assert!(
        took < Duration::from_secs(10),
        "{}: refused only after {took:?}, so after simulating",
        out.display()
    );
    assert!(
        stderr.starts_with(&format!("error: --out {}: ", out.display())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn an_out_that_is_a_file_or_a_device_is_refused_before_simulating() {
    let s = Scratch::new("file");
    let file = s.0.join("results.csv");
    fs::write(&file, "mine").unwrap();
    let stderr = refused_before_simulating(&file);
    assert!(stderr.contains("is not a folder"), "{stderr}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
    let stderr = refused_before_simulating(&file.join("below"));
    assert!(stderr.contains("is a file"), "{stderr}");
    refused_before_simulating(Path::new("/dev/full"));
    if Path::new("/proc/self").exists() {
        refused_before_simulating(Path::new("/proc/self"));
    }
    assert!(s.staging_left().is_empty(), "{:?}", s.staging_left());
}

#[test]
fn an_unwritable_out_is_refused_before_simulating() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("readonly");
    let parent = s.0.join("locked");
    let out = parent.join("out");
    fs::create_dir_all(&out).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o555)).unwrap();
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o555)).unwrap();
    // Root writes anyway; then only /proc/self (above) shows the refusal.
    let privileged = fs::write(out.join("probe"), "").is_ok();
    if !privileged {
        let stderr = refused_before_simulating(&out);
        assert!(stderr.contains("cannot be written"), "{stderr}");
    } else {
        eprintln!("running as a privileged user: permission bits do not stop writes; skipped");
    }
    fs::set_permissions(&parent, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&out, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_write_that_fails_midway_leaves_the_previous_set_and_no_staging() {
    let s = Scratch::new("efbig");
    let out = s.0.join("out");
    let r = compare(&out, "20");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let before: Vec<(String, Vec<u8>)> = ["summary.csv", "replications.csv", "monthly.csv"]
        .iter()
        .map(|n| (n.to_string(), fs::read(out.join(n)).unwrap()))
        .collect();
    // A file size limit of 64 KB (ulimit -f counts 1 KB blocks), with
    // SIGXFSZ ignored so the write fails with EFBIG as on a full disk:
    // summary.csv fits, replications.csv of 500 releases does not.
    let script = format!(
        "trap '' XFSZ; ulimit -f 64; exec '{}' compare --no-plots --seed 4 --replications 500 --out '{}'",
        env!("CARGO_BIN_EXE_cutover"),
        out.display()
    );
    let r = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stderr.contains("replications.csv"), "{stderr}");
    for (name, bytes) in &before {
        assert_eq!(&fs::read(out.join(name)).unwrap(), bytes, "{name} changed");
    }
    assert!(s.staging_left().is_empty(), "{:?}", s.staging_left());
}
