//! `compare` draws what the README promises: four plots as 1200×800 PNGs and
//! as SVGs, each strategy in its Okabe–Ito colour in the scenario's order,
//! with the strategy names and axis titles as text; report.html embeds the
//! PNGs; `--no-plots` writes none of them.

mod common;

use common::compare_cli;
use std::path::{Path, PathBuf};

const STEMS: [&str; 5] = [
    "timeline",
    "blast_radius",
    "cost_vs_risk",
    "rollback_time",
    "cost_vs_downtime",
];

/// The default scenario's strategies, in its order.
const STRATEGIES: [&str; 4] = ["in-place", "rolling", "blue-green", "canary"];

/// Okabe & Ito's colour-blind-safe palette (2008), first four: blue,
/// vermillion, bluish green, reddish purple — one per strategy, in order.
const STRATEGY_COLOURS: [[u8; 3]; 4] =
    [[0, 114, 178], [213, 94, 0], [0, 158, 115], [204, 121, 167]];

/// The palette's colours that no strategy of a four-strategy scenario gets:
/// orange, sky blue, yellow (black, the seventh, is also the text colour).
const UNUSED_COLOURS: [[u8; 3]; 3] = [[230, 159, 0], [86, 180, 233], [240, 228, 66]];

fn unique_temp_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("cutover-{tag}-{}-{nanos}", std::process::id()))
}

/// A decoded PNG: its size and its RGB pixels.
fn decode_png(path: &Path) -> image::RgbImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
        .unwrap_or_else(|e| panic!("{} is not a PNG: {e}", path.display()))
        .to_rgb8()
}

/// How many pixels have exactly this colour.
fn pixels_of(png: &image::RgbImage, colour: [u8; 3]) -> usize {
    png.pixels().filter(|p| p.0 == colour).count()
}

/// The text of every `<text>` element of an SVG, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let body = &rest[rest.find('>')? + 1..];
            let text = &body[..body.find("</text>")?];
            Some(
                text.trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&quot;", "\"")
                    .replace("&#39;", "'")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// The 200-release default comparison, with plots, in a fresh folder.
fn compare_with_plots() -> PathBuf {
    let out = unique_temp_dir("plots");
    compare_cli(&out, &[]);
    out
}

#[test]
fn every_png_is_1200_by_800_and_shows_each_strategy_in_its_colour() {
    let out = compare_with_plots();
    for stem in STEMS {
        let png = decode_png(&out.join(format!("{stem}.png")));
        // Four strategies fit the timeline's default size, one panel each.
        assert_eq!(png.dimensions(), (1200, 800), "{stem}.png");
    }
    // The strategies' own marks: the points of cost vs risk (filled circles)
    // and the step lines of the timeline are drawn in the strategy's colour.
    for stem in ["cost_vs_risk", "timeline"] {
        let png = decode_png(&out.join(format!("{stem}.png")));
        for (name, colour) in STRATEGIES.iter().zip(STRATEGY_COLOURS) {
            let n = pixels_of(&png, colour);
            assert!(
                n >= 200,
                "{stem}.png: {name}'s colour {colour:?} on only {n} pixels"
            );
        }
        for colour in UNUSED_COLOURS {
            assert_eq!(
                pixels_of(&png, colour),
                0,
                "{stem}.png uses {colour:?}, which no strategy of four should get"
            );
        }
    }
    // One timeline panel per strategy, top to bottom in the scenario's order:
    // each colour's pixels sit lower than the previous strategy's.
    let timeline = decode_png(&out.join("timeline.png"));
    let mean_row = |colour: [u8; 3]| {
        let rows: Vec<u32> = timeline
            .enumerate_pixels()
            .filter(|(_, _, p)| p.0 == colour)
            .map(|(_, y, _)| y)
            .collect();
        rows.iter().map(|&y| y as f64).sum::<f64>() / rows.len() as f64
    };
    let rows: Vec<f64> = STRATEGY_COLOURS.iter().map(|&c| mean_row(c)).collect();
    assert!(
        rows.windows(2).all(|w| w[0] < w[1]),
        "timeline.png: the strategies' colours are not in their panels' order \
         (mean pixel rows {rows:?})"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert_eq!(report.matches("<img").count(), STEMS.len());
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn every_svg_names_the_strategies_in_order_and_titles_its_axes() {
    let out = compare_with_plots();
    // (plot, its title, the start of each axis title it must carry)
    let plots: [(&str, &str, &[&str]); 4] = [
        (
            "timeline",
            "Share of traffic on the new version (one defective release)",
            &["time since release start (", "on new"],
        ),
        (
            "blast_radius",
            "Blast radius of each defective release",
            &["failed requests (count", "users affected (count"],
        ),
        (
            "cost_vs_risk",
            "Cost vs risk: infrastructure cost per deploy vs p95 failed requests",
            &[
                "infrastructure cost per deploy, mean (USD)",
                "failed requests per deploy, p95 (count",
            ],
        ),
        (
            "rollback_time",
            "Rollback time per replication",
            &["rollback time ("],
        ),
    ];
    for (stem, title, axes) in plots {
        let path = out.join(format!("{stem}.svg"));
        let svg =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(svg.trim_start().starts_with("<svg"), "{stem}.svg");
        assert!(svg.trim_end().ends_with("</svg>"), "{stem}.svg");
        assert!(
            svg.contains(r#"width="1200" height="800""#),
            "{stem}.svg is not 1200×800"
        );
        let texts = svg_texts(&svg);
        assert!(
            texts.iter().any(|t| t == title),
            "{stem}.svg: no title in {texts:?}"
        );
        for axis in axes {
            assert!(
                texts.iter().any(|t| t.starts_with(axis)),
                "{stem}.svg: no axis title {axis:?} in {texts:?}"
            );
        }
        // Each strategy is named (a timeline panel's caption may add what
        // did not happen). Its last naming is a panel, an axis label or the
        // legend, which follow the scenario's order (cost vs risk first labels
        // its points where they fall).
        let last: Vec<usize> = STRATEGIES
            .iter()
            .map(|name| {
                texts
                    .iter()
                    .rposition(|t| t == name || t.starts_with(&format!("{name}  (")))
                    .unwrap_or_else(|| panic!("{stem}.svg does not name {name}: {texts:?}"))
            })
            .collect();
        assert!(
            last.windows(2).all(|w| w[0] < w[1]),
            "{stem}.svg names the strategies out of order: {texts:?}"
        );
    }
    std::fs::remove_dir_all(&out).ok();
}

#[test]
fn no_plots_writes_no_plot_and_no_report() {
    let out = unique_temp_dir("no-plots");
    compare_cli(&out, &["--no-plots"]);
    assert!(out.join("summary.csv").is_file());
    assert!(out.join("replications.csv").is_file());
    assert!(out.join("monthly.csv").is_file());
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
