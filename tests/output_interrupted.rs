//! A run interrupted at any moment (SIGINT, SIGTERM, SIGKILL) leaves `--out`
//! holding either the complete previous set of files or the complete new
//! one, byte for byte, never a mix; the staging folders such runs leave are
//! removed by the next run.
//!
//! The run is a real `cutover compare` with enough releases to last about a
//! second. Some kills land at fractions of that time (mostly during the
//! simulation); the others the moment anything in `--out` is seen to change,
//! which is when a run that wrote its files in place (as cutover once did)
//! would have replaced summary.csv but not yet the plots.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type FileSet = BTreeMap<String, Vec<u8>>;

fn read_set(dir: &Path) -> FileSet {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, fs::read(e.path()).unwrap())
        })
        .collect()
}

fn write_set(dir: &Path, set: &FileSet) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in set {
        fs::write(dir.join(name), bytes).unwrap();
    }
}

fn compare(out: &Path, seed: &str, replications: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cutover"));
    c.args([
        "compare",
        "--seed",
        seed,
        "--replications",
        replications,
        "--out",
    ])
    .arg(out)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    c
}

fn run_to_end(out: &Path, seed: &str, replications: &str) -> Duration {
    let started = Instant::now();
    let status = compare(out, seed, replications).status().unwrap();
    assert!(status.success(), "compare --seed {seed} failed");
    started.elapsed()
}

/// What `ls -l` would show: name, size, inode, modification time.
fn listing(dir: &Path) -> Vec<(String, u64, u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = entries
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            let name = e.file_name().to_string_lossy().into_owned();
            Some((name, m.len(), m.ino(), m.modified().ok()?))
        })
        .collect();
    v.sort();
    v
}

/// Waits until `out` looks different from `before` or the run ends.
fn until_out_changes(
    out: &Path,
    before: &[(String, u64, u64, std::time::SystemTime)],
    child: &mut std::process::Child,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while listing(out) == before && Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn describe(set: &FileSet) -> String {
    set.iter()
        .map(|(n, b)| format!("{n} ({} bytes)", b.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn an_interrupted_run_leaves_the_old_set_or_the_new_one_never_a_mix() {
    let root = std::env::temp_dir().join(format!("cutover-interrupted-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(&root).unwrap();
    let (old_dir, new_dir, out) = (root.join("old"), root.join("new"), root.join("out"));

    // The previous set: a small run. The new set: a run lasting about a second.
    run_to_end(&old_dir, "1", "200");
    let took = run_to_end(&new_dir, "2", "4000");
    let (old, new) = (read_set(&old_dir), read_set(&new_dir));
    assert_ne!(old, new);
    assert_eq!(
        old.keys().collect::<Vec<_>>(),
        new.keys().collect::<Vec<_>>()
    );

    // None: the moment `out` is seen to change.
    let moments = [
        Some(0.2),
        Some(0.5),
        Some(0.8),
        Some(0.9),
        Some(1.0),
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    let signals = ["INT", "TERM", "KILL"];
    let (mut saw_old, mut saw_new) = (0, 0);
    for (i, moment) in moments.iter().enumerate() {
        let signal = signals[i % signals.len()];
        write_set(&out, &old);
        let before = listing(&out);
        let mut child = compare(&out, "2", "4000").spawn().unwrap();
        match moment {
            Some(fraction) => std::thread::sleep(took.mul_f64(*fraction)),
            None => until_out_changes(&out, &before, &mut child),
        }
        let _ = Command::new("kill")
            .args(["-s", signal, &child.id().to_string()])
            .status();
        child.wait().unwrap();
        let found = read_set(&out);
        let when = moment.map_or("when --out changed".to_string(), |f| {
            format!("at {f} of the run")
        });
        if found == old {
            saw_old += 1;
        } else if found == new {
            saw_new += 1;
        } else {
            panic!(
                "SIG{signal} {when} left a mix:\n{}",
                describe(&found)
                    .split(", ")
                    .map(|f| {
                        let name = f.split(' ').next().unwrap();
                        let which = if old.get(name) == found.get(name) {
                            "old"
                        } else if new.get(name) == found.get(name) {
                            "new"
                        } else {
                            "neither"
                        };
                        format!("  {f}: {which}\n")
                    })
                    .collect::<String>()
            );
        }
    }
    eprintln!("interrupted runs: {saw_old} left the old set, {saw_new} the new one");
    assert!(
        saw_old > 0,
        "no kill landed before the end: the test proves nothing"
    );

    // The killed runs' staging folders go with the next run.
    run_to_end(&out, "1", "200");
    let left: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".cutover"))
        })
        .collect();
    assert!(left.is_empty(), "staging folders left: {left:?}");
    assert_eq!(read_set(&out), old);
    fs::remove_dir_all(&root).unwrap();
}
