//! Runs the real `cutover compare`, renders its report.html in headless
//! Chromium (no network) and checks that every embedded plot decoded, using
//! the marker set by the report's inline script (see src/export/report.rs).
//!
//! Skipped only when chromium is absent and CI is unset; with CI=true a
//! missing chromium fails the test (.ci/run installs it). CHROMIUM=/path
//! overrides the binary.

mod common;

use common::compare_cli;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cutover::export::plots::PLOT_DESCRIPTIONS;

/// `chromium` on PATH (Debian: /usr/bin/chromium), or $CHROMIUM if set.
fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

fn on_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn unique_temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `chromium --headless ... --dump-dom file://<html>` with a fresh profile and
/// returns the serialized DOM after the load event (killed after 90 s).
fn dump_dom(chromium: &Path, html: &Path) -> String {
    let profile = unique_temp_dir("cutover-chromium-profile");
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("failed to start chromium");
    // Read stdout on a thread so a large DOM cannot block the child on a full pipe.
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(90) {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let dom = reader.join().unwrap();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).ok();
    }
    std::fs::remove_dir_all(&profile).ok();
    assert!(status.success(), "chromium failed ({status}): {stderr}");
    eprintln!("chromium --dump-dom took {:.1?}", started.elapsed());
    dom
}

/// (loaded, total) from `<body data-images-ok="K/N">` in the dumped DOM.
fn images_ok(dom: &str) -> Option<(usize, usize)> {
    let key = "data-images-ok=\"";
    let start = dom.find(key)? + key.len();
    let value = &dom[start..start + dom[start..].find('"')?];
    let (k, n) = value.split_once('/')?;
    Some((k.parse().ok()?, n.parse().ok()?))
}

#[test]
fn report_renders_in_headless_chromium_with_all_images() {
    let Some(chromium) = find_chromium() else {
        if on_ci() {
            panic!(
                "chromium not found but CI is set: install it with `apt-get install -y chromium`"
            );
        }
        eprintln!(
            "SKIPPED report_renders_in_headless_chromium_with_all_images: chromium not installed (apt-get install -y chromium)"
        );
        return;
    };
    let dir = unique_temp_dir("cutover-report-browser");
    compare_cli(&dir, &[]);
    let report = dir.join("report.html");
    let plots = PLOT_DESCRIPTIONS.len();

    let dom = dump_dom(&chromium, &report);
    assert_eq!(
        images_ok(&dom),
        Some((plots, plots)),
        "marker missing or images failed"
    );
    assert!(dom.contains("data-status=\"ok\""));
    for d in PLOT_DESCRIPTIONS {
        assert!(
            dom.contains(&format!("data-plot=\"{}\"", d.stem)),
            "plot {} missing from the report",
            d.stem
        );
    }
    // The comparison table and the scenario made it into the page.
    for strategy in ["in-place", "rolling", "blue-green", "canary"] {
        assert!(
            dom.contains(&format!("<td>{strategy}</td>")),
            "row {strategy}"
        );
    }
    assert!(dom.contains("change_failure_rate"), "scenario TOML missing");

    // Negative control: corrupt one image's base64; the marker must report it.
    let html = std::fs::read_to_string(&report).unwrap();
    let broken = html.replacen("base64,", "base64,!!not-base64!!", 1);
    let broken_path = dir.join("report_broken.html");
    std::fs::write(&broken_path, broken).unwrap();
    let dom = dump_dom(&chromium, &broken_path);
    assert_eq!(images_ok(&dom), Some((plots - 1, plots)));
    assert!(dom.contains("data-status=\"failed\""));

    std::fs::remove_dir_all(&dir).ok();
}
