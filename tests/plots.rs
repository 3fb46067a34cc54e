//! `compare` writes the four plots as PNG and SVG (and report.html) into the
//! output folder; `--no-plots` writes none of them.

mod common;

use common::compare_cli;
use std::path::PathBuf;

use cutover::export::plots::{PLOT_DESCRIPTIONS, timeline_size};

const STEMS: [&str; 4] = ["timeline", "blast_radius", "cost_vs_risk", "rollback_time"];

fn unique_temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("cutover-{tag}-{}-{nanos}", std::process::id()))
}

/// Width and height from a PNG's signature and IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    if bytes.len() < 24 || bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

#[test]
fn png_size_reads_the_header() {
    let mut png = vec![
        0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', 0, 0, 0, 13,
    ];
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&1200u32.to_be_bytes());
    png.extend_from_slice(&800u32.to_be_bytes());
    assert_eq!(png_size(&png), Some((1200, 800)));
    assert_eq!(png_size(b"<svg></svg>"), None);
    assert_eq!(png_size(&png[..20]), None);
}

#[test]
fn compare_writes_every_plot_as_png_and_svg() {
    let out = unique_temp_dir("plots");
    compare_cli(&out, &[]);
    assert_eq!(
        PLOT_DESCRIPTIONS.map(|d| d.stem),
        STEMS,
        "the plot catalogue changed; update this test"
    );
    for stem in STEMS {
        let png = out.join(format!("{stem}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(!bytes.is_empty(), "{} is empty", png.display());
        let (w, h) = png_size(&bytes)
            .unwrap_or_else(|| panic!("{} is not a PNG (signature or IHDR)", png.display()));
        let expected = if stem == "timeline" {
            // The default scenario has four strategies, one panel each.
            timeline_size(4)
        } else {
            (1200, 800)
        };
        assert_eq!((w, h), expected, "{} dimensions", png.display());

        let svg = out.join(format!("{stem}.svg"));
        let text =
            std::fs::read_to_string(&svg).unwrap_or_else(|e| panic!("{}: {e}", svg.display()));
        assert!(!text.is_empty(), "{} is empty", svg.display());
        let open = text
            .find("<svg")
            .unwrap_or_else(|| panic!("{} has no <svg", svg.display()));
        let close = text
            .rfind("</svg>")
            .unwrap_or_else(|| panic!("{} has no </svg>", svg.display()));
        assert!(open < close, "{}: </svg> before <svg", svg.display());
        assert!(
            text[close + "</svg>".len()..].trim().is_empty(),
            "{}: text after </svg>",
            svg.display()
        );
    }
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(report.matches("<img").count(), STEMS.len());
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn no_plots_writes_no_plot_and_no_report() {
    let out = unique_temp_dir("no-plots");
    compare_cli(&out, &["--no-plots"]);
    assert!(out.join("summary.csv").is_file());
    assert!(out.join("replications.csv").is_file());
    for stem in STEMS {
        for ext in ["png", "svg"] {
            let path = out.join(format!("{stem}.{ext}"));
            assert!(
                !path.exists(),
                "{} written despite --no-plots",
                path.display()
            );
        }
    }
    assert!(!out.join("report.html").exists());
    std::fs::remove_dir_all(&out).ok();
}
