use super::*;
use std::os::unix::fs::MetadataExt;

/// A fresh folder for one test, holding `out` (not created).
struct Scratch {
    root: PathBuf,
}

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let root = std::env::temp_dir().join(format!(
            "cutover-output-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap();
        Scratch { root }
    }

    fn out(&self) -> PathBuf {
        self.root.join("out")
    }

    /// Entries of the root other than `out` and what the test made itself.
    fn leftovers(&self) -> Vec<String> {
        names(&self.root)
            .into_iter()
            .filter(|n| n.starts_with(".cutover"))
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn write_set(out: &Path, files: &[(&str, &str)]) -> Vec<PathBuf> {
    let mut set = OutputSet::begin(out).unwrap();
    for (name, text) in files {
        set.add(name, text.as_bytes()).unwrap();
    }
    set.commit().unwrap()
}

#[test]
fn a_new_folder_appears_whole_and_no_staging_remains() {
    let s = Scratch::new("new");
    let out = s.root.join("a/b/out");
    let paths = write_set(&out, &[("summary.csv", "1"), ("monthly.csv", "2")]);
    assert_eq!(paths, [out.join("summary.csv"), out.join("monthly.csv")]);
    assert_eq!(names(&out), ["monthly.csv", "summary.csv"]);
    assert_eq!(fs::read_to_string(out.join("summary.csv")).unwrap(), "1");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
    assert!(names(&s.root.join("a/b")).iter().all(|n| n == "out"));
}

#[test]
fn a_new_set_replaces_the_old_and_keeps_files_of_yours() {
    let s = Scratch::new("replace");
    let out = s.out();
    write_set(&out, &[("summary.csv", "old"), ("report.html", "old")]);
    fs::write(out.join("notes.txt"), "mine").unwrap();
    std::os::unix::fs::symlink("notes.txt", out.join("latest")).unwrap();
    let notes_inode = fs::metadata(out.join("notes.txt")).unwrap().ino();
    let folder_inode = fs::metadata(&out).unwrap().ino();
    write_set(&out, &[("summary.csv", "new")]);
    // On Linux the whole folder was swapped in at once.
    if cfg!(target_os = "linux") {
        assert_ne!(fs::metadata(&out).unwrap().ino(), folder_inode);
    }
    assert_eq!(
        names(&out),
        ["latest", "notes.txt", "report.html", "summary.csv"]
    );
    assert_eq!(fs::read_to_string(out.join("summary.csv")).unwrap(), "new");
    // A file this run did not write is the user's to keep, untouched.
    assert_eq!(fs::read_to_string(out.join("report.html")).unwrap(), "old");
    assert_eq!(fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    assert_eq!(
        fs::metadata(out.join("notes.txt")).unwrap().ino(),
        notes_inode
    );
    assert_eq!(
        fs::read_link(out.join("latest")).unwrap(),
        Path::new("notes.txt")
    );
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn a_symlink_in_place_of_a_file_is_replaced_not_written_through() {
    let s = Scratch::new("symlink");
    let out = s.out();
    fs::create_dir_all(&out).unwrap();
    let elsewhere = s.root.join("precious.txt");
    fs::write(&elsewhere, "precious").unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("summary.csv")).unwrap();
    let dangling = s.root.join("never-created.txt");
    std::os::unix::fs::symlink(&dangling, out.join("monthly.csv")).unwrap();
    write_set(&out, &[("summary.csv", "new"), ("monthly.csv", "new")]);
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "precious");
    assert!(!dangling.exists(), "a dangling link's target was created");
    for name in ["summary.csv", "monthly.csv"] {
        let meta = fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is still a link");
        assert_eq!(fs::read_to_string(out.join(name)).unwrap(), "new");
    }
}

#[test]
fn a_hard_link_in_place_of_a_file_is_replaced_not_rewritten() {
    let s = Scratch::new("hardlink");
    let out = s.out();
    fs::create_dir_all(&out).unwrap();
    let elsewhere = s.root.join("precious.txt");
    fs::write(&elsewhere, "precious").unwrap();
    fs::hard_link(&elsewhere, out.join("summary.csv")).unwrap();
    write_set(&out, &[("summary.csv", "new")]);
    assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "precious");
    assert_eq!(fs::read_to_string(out.join("summary.csv")).unwrap(), "new");
}

#[test]
fn an_unfinished_set_leaves_the_old_one_and_no_staging() {
    let s = Scratch::new("drop");
    let out = s.out();
    write_set(&out, &[("summary.csv", "old"), ("monthly.csv", "old")]);
    {
        let mut set = OutputSet::begin(&out).unwrap();
        set.add("summary.csv", b"new").unwrap();
        assert!(!s.leftovers().is_empty(), "staging is beside --out");
        // A failure here (the writer returns an error) drops the set.
        assert!(set.add("summary.csv", b"twice").is_err());
    }
    assert_eq!(names(&out), ["monthly.csv", "summary.csv"]);
    assert_eq!(fs::read_to_string(out.join("summary.csv")).unwrap(), "old");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn files_written_into_the_staging_folder_are_adopted() {
    let s = Scratch::new("adopt");
    let out = s.out();
    let mut set = OutputSet::begin(&out).unwrap();
    let plot = set.dir().join("timeline.png");
    fs::write(&plot, "png").unwrap();
    set.adopt(std::slice::from_ref(&plot)).unwrap();
    assert!(set.adopt(&[s.root.join("elsewhere.png")]).is_err());
    assert_eq!(set.commit().unwrap(), [out.join("timeline.png")]);
    assert_eq!(fs::read_to_string(out.join("timeline.png")).unwrap(), "png");
}

#[test]
fn names_that_are_not_plain_file_names_are_refused() {
    let s = Scratch::new("names");
    let mut set = OutputSet::begin(&s.out()).unwrap();
    for bad in ["", "../x.csv", "a/b.csv", ".cutover-staging-1"] {
        assert!(set.add(bad, b"x").is_err(), "{bad:?}");
    }
}

#[test]
fn an_out_that_cannot_hold_files_is_refused_as_bad_input() {
    let s = Scratch::new("refuse");
    let file = s.root.join("a-file");
    fs::write(&file, "x").unwrap();
    let cases = [
        file.clone(),
        file.join("below"),
        PathBuf::from("/dev/full"),
        PathBuf::from("/proc/self"),
    ];
    for out in cases {
        if out.starts_with("/proc") && !Path::new("/proc/self").exists() {
            continue;
        }
        let e = OutputSet::begin(&out).unwrap_err();
        assert!(e.is_bad_input(), "{}: {e}", out.display());
        assert!(
            e.to_string()
                .starts_with(&format!("--out {}: ", out.display())),
            "{e}"
        );
    }
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn staging_folders_of_finished_runs_are_removed_and_live_ones_kept() {
    let s = Scratch::new("stale");
    // No pid reaches 4,000,000,000 (Linux's pid_max is at most 2^22).
    let dead = s.root.join(format!("{STAGING_PREFIX}4000000000-1-0"));
    fs::create_dir_all(&dead).unwrap();
    fs::write(dead.join("summary.csv"), "half").unwrap();
    let live = s
        .root
        .join(format!("{STAGING_PREFIX}{}-1-0", std::process::id()));
    fs::create_dir_all(&live).unwrap();
    let unrelated = s.root.join(".cutover-staging-notes");
    fs::create_dir_all(&unrelated).unwrap();
    write_set(&s.out(), &[("summary.csv", "new")]);
    assert!(!dead.exists(), "a killed run's staging folder stayed");
    assert!(live.exists(), "a running run's staging folder was removed");
    assert!(
        unrelated.exists(),
        "a folder that only looks alike was removed"
    );
}

#[test]
fn an_out_holding_folders_gets_its_files_renamed_one_by_one() {
    let s = Scratch::new("perfile");
    let out = s.out();
    write_set(&out, &[("summary.csv", "old")]);
    fs::create_dir_all(out.join("keep/inner")).unwrap();
    fs::write(out.join("keep/inner/x"), "x").unwrap();
    let folder_inode = fs::metadata(&out).unwrap().ino();
    write_set(&out, &[("summary.csv", "new"), ("monthly.csv", "new")]);
    assert_eq!(fs::metadata(&out).unwrap().ino(), folder_inode);
    assert_eq!(names(&out), ["keep", "monthly.csv", "summary.csv"]);
    assert_eq!(fs::read_to_string(out.join("summary.csv")).unwrap(), "new");
    assert_eq!(fs::read_to_string(out.join("keep/inner/x")).unwrap(), "x");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}

#[test]
fn a_folder_where_a_file_goes_fails_the_commit_and_keeps_the_old_set() {
    let s = Scratch::new("dir-in-the-way");
    let out = s.out();
    write_set(&out, &[("monthly.csv", "old")]);
    fs::create_dir_all(out.join("summary.csv/inner")).unwrap();
    let mut set = OutputSet::begin(&out).unwrap();
    set.add("monthly.csv", b"new").unwrap();
    set.add("summary.csv", b"new").unwrap();
    assert!(set.commit().is_err());
    assert!(out.join("summary.csv/inner").is_dir());
    assert_eq!(fs::read_to_string(out.join("monthly.csv")).unwrap(), "old");
    assert!(s.leftovers().is_empty(), "{:?}", s.leftovers());
}
