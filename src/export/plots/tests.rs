//! Every plot is drawn, valid and readable, for ordinary and degenerate input.

use super::*;

/// Deterministic pseudo-random numbers (xorshift), no rand dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(crate) fn synthetic_input() -> PlotInput {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let specs = [
        // name, failed scale, probability defect applies, rollback s, cost, p95
        ("in-place", 40_000.0, 1.0, 420.0, 12.0, 52_000.0),
        ("rolling", 9_000.0, 1.0, 300.0, 14.5, 14_000.0),
        ("blue-green", 2_500.0, 0.9, 35.0, 24.0, 3_100.0),
        ("canary", 300.0, 0.8, 90.0, 16.0, 450.0),
    ];
    let series = specs
        .iter()
        .map(|&(name, scale, p, rb, cost, p95)| {
            let mut failed = Vec::new();
            let mut users = Vec::new();
            let mut rollback = Vec::new();
            for _ in 0..200 {
                if rng.next() < p {
                    let f = (scale * (0.2 + 1.6 * rng.next()) * (rng.next() * 2.0).exp()).round();
                    failed.push(Some(f));
                    users.push(Some((f / 7.0).round()));
                    rollback.push(Some(rb * (0.5 + rng.next())));
                } else {
                    failed.push(Some(0.0));
                    users.push(Some(0.0));
                    rollback.push(None);
                }
            }
            StrategySeries {
                name: name.to_string(),
                failed_requests: failed,
                users_affected: users,
                rollback_time_s: rollback,
                infra_cost_usd_mean: cost,
                failed_requests_p95: p95,
            }
        })
        .collect();
    let timelines = vec![
        Timeline {
            strategy: "in-place".into(),
            points: vec![(0.0, 0.0), (30.0, 1.0), (640.0, 0.0)],
            detected_s: Some(240.0),
            rollback_decision_s: Some(300.0),
            mitigated_s: Some(640.0),
        },
        Timeline {
            strategy: "rolling".into(),
            points: vec![
                (0.0, 0.0),
                (60.0, 0.25),
                (120.0, 0.5),
                (180.0, 0.75),
                (260.0, 0.5),
                (320.0, 0.25),
                (380.0, 0.0),
            ],
            detected_s: Some(200.0),
            rollback_decision_s: Some(250.0),
            mitigated_s: Some(380.0),
        },
        Timeline {
            strategy: "blue-green".into(),
            points: vec![(0.0, 0.0), (300.0, 1.0), (545.0, 0.0)],
            detected_s: Some(480.0),
            rollback_decision_s: Some(530.0),
            mitigated_s: Some(545.0),
        },
        Timeline {
            strategy: "canary".into(),
            points: vec![(0.0, 0.0), (30.0, 0.05), (330.0, 0.0)],
            detected_s: Some(270.0),
            rollback_decision_s: Some(310.0),
            mitigated_s: Some(330.0),
        },
    ];
    PlotInput {
        scenario_name: "synthetic".into(),
        series,
        timelines,
        cost_curves: CostCurves {
            now_usd_per_minute: 100.0,
            lines: vec![
                CostLine {
                    index: 0,
                    name: "cheap".into(),
                    total_now: 1000.0,
                    slope: 10.0,
                },
                CostLine {
                    index: 1,
                    name: "safe".into(),
                    total_now: 1500.0,
                    slope: 1.0,
                },
            ],
            excluded: vec![],
        },
    }
}

fn edge_input() -> PlotInput {
    let s = |name: &str, f: Vec<Option<f64>>, r: Vec<Option<f64>>, cost: f64, p95: f64| {
        StrategySeries {
            name: name.to_string(),
            failed_requests: f.clone(),
            users_affected: f,
            rollback_time_s: r,
            infra_cost_usd_mean: cost,
            failed_requests_p95: p95,
        }
    };
    PlotInput {
        scenario_name: "edge <&> cases".into(),
        series: vec![
            s("empty", vec![], vec![], 10.0, 0.0),
            s(
                "all-none",
                vec![None, None],
                vec![None, None],
                f64::NAN,
                1.0,
            ),
            s("single", vec![Some(5.0)], vec![Some(12.0)], 10.0, 5.0),
            s(
                "identical",
                vec![Some(7.0); 5],
                vec![None, Some(f64::INFINITY)],
                10.0,
                7.0,
            ),
            s(
                "zeros & NaN",
                vec![Some(0.0), Some(f64::NAN), Some(0.0)],
                vec![],
                f64::INFINITY,
                f64::NAN,
            ),
        ],
        timelines: vec![
            Timeline {
                strategy: "empty".into(),
                points: vec![],
                detected_s: None,
                rollback_decision_s: None,
                mitigated_s: None,
            },
            Timeline {
                strategy: "nan".into(),
                points: vec![(f64::NAN, 0.5), (0.0, f64::INFINITY), (5.0, 2.0)],
                detected_s: Some(f64::NAN),
                rollback_decision_s: None,
                mitigated_s: Some(5.0),
            },
        ],
        // Parallel lines (no crossing), and a line with a non-finite slope.
        cost_curves: CostCurves {
            now_usd_per_minute: 0.0,
            lines: vec![
                CostLine {
                    index: 0,
                    name: "flat".into(),
                    total_now: 10.0,
                    slope: 0.0,
                },
                CostLine {
                    index: 1,
                    name: "also flat".into(),
                    total_now: 10.0,
                    slope: 0.0,
                },
            ],
            excluded: vec!["ships nothing".into()],
        },
    }
}

fn png_dims(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.len() > 33, "PNG too short");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    (w, h)
}

/// Checks the files of every format asked for: the four plots, in order,
/// PNGs of the documented size, SVGs that are whole documents with their title.
fn check_files(input: &PlotInput, formats: &[PlotFormat]) {
    for &format in formats {
        let files = render(input, format).unwrap();
        keep_if_asked(&files);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        let expected: Vec<String> = PLOT_DESCRIPTIONS
            .iter()
            .map(|d| format!("{}.{}", d.stem, format.extension()))
            .collect();
        assert_eq!(names, expected);
        for (file, desc) in files.iter().zip(PLOT_DESCRIPTIONS) {
            match format {
                PlotFormat::Png => {
                    let size = if desc.stem == "timeline" {
                        timeline_size(input.timelines.len())
                    } else {
                        (WIDTH, HEIGHT)
                    };
                    assert_eq!(png_dims(&file.bytes), size, "{}", file.name);
                }
                PlotFormat::Svg => {
                    let text = std::str::from_utf8(&file.bytes).unwrap();
                    assert!(text.trim_start().starts_with("<svg"), "{}", file.name);
                    assert!(text.trim_end().ends_with("</svg>"), "{}", file.name);
                    assert!(text.contains(desc.title), "{} lacks its title", file.name);
                }
            }
        }
    }
}

/// With CUTOVER_KEEP_PLOTS set, writes the files into a temp folder to look at.
fn keep_if_asked(files: &[OutputFile]) {
    if std::env::var_os("CUTOVER_KEEP_PLOTS").is_some() {
        let dir = crate::export::test_dir("plots");
        for f in files {
            crate::export::write_file(&dir.join(&f.name), &f.bytes).unwrap();
        }
        eprintln!("plots kept in {}", dir.display());
    }
}

#[test]
fn draws_all_plots_for_synthetic_input() {
    check_files(&synthetic_input(), &[PlotFormat::Png, PlotFormat::Svg]);
}

#[test]
fn edge_cases_still_draw_valid_files() {
    let inputs = [
        edge_input(),
        PlotInput {
            scenario_name: String::new(),
            series: vec![],
            timelines: vec![],
            cost_curves: CostCurves::default(),
        },
        PlotInput {
            scenario_name: "no rollbacks".into(),
            series: vec![StrategySeries {
                name: "canary".into(),
                failed_requests: vec![Some(0.0); 3],
                users_affected: vec![None; 3],
                rollback_time_s: vec![None; 3],
                infra_cost_usd_mean: 0.0,
                failed_requests_p95: 0.0,
            }],
            timelines: vec![],
            cost_curves: CostCurves::default(),
        },
    ];
    for input in &inputs {
        check_files(input, &[PlotFormat::Svg, PlotFormat::Png]);
    }
}

#[test]
fn many_timelines_make_a_taller_image() {
    assert_eq!(timeline_size(0), (1200, 800));
    assert_eq!(timeline_size(4), (1200, 800));
    assert!(timeline_size(6).1 > 800);
}

#[test]
fn quantiles_and_box_stats() {
    assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5), 3.0);
    assert_eq!(quantile(&[1.0, 2.0], 0.25), 1.25);
    assert_eq!(quantile(&[4.0], 0.95), 4.0);
    assert!(box_stats(&[]).is_none());
    let s = box_stats(&[2.0, 2.0, 2.0]).unwrap();
    assert_eq!((s.min, s.p50, s.max, s.n), (2.0, 2.0, 2.0, 3));
    assert_eq!(
        finite_sorted(&[
            Some(3.0),
            None,
            Some(f64::NAN),
            Some(1.0),
            Some(f64::INFINITY)
        ]),
        vec![1.0, 3.0]
    );
}

#[test]
fn value_axis_choices() {
    let lin = ValueAxis::auto(&[0.0, 5.0, 80.0], 0.0);
    assert!(!lin.log);
    assert_eq!(lin.lo, 0.0);
    assert!(lin.hi >= 80.0);
    let log = ValueAxis::auto(&[0.0, 3.0, 50_000.0], 0.0);
    assert!(log.log && log.zero_floor);
    assert_eq!(log.t(0.0), log.lo);
    assert_eq!(log.label(log.lo), "0");
    assert_eq!(log.label(3.0), "1000");
    let flat = ValueAxis::auto(&[7.0, 7.0], 0.0);
    assert!(flat.hi > flat.lo);
    let zero = ValueAxis::auto(&[0.0], 0.0);
    assert!(zero.hi > zero.lo);
    let empty = ValueAxis::auto(&[], 0.1);
    assert!(empty.hi > empty.lo && !empty.ticks.is_empty());
    let neg = ValueAxis::linear(&[-3.0, -3.0], 0.0);
    assert!(neg.hi > neg.lo);
    let time = ValueAxis::tight(0.0, 10.67);
    assert!(time.hi > 10.67 && time.hi < 11.0);
    assert!(time.ticks.iter().all(|t| *t <= time.hi) && time.ticks.len() >= 5);
    let bad = ValueAxis::tight(f64::NAN, 3.0);
    assert!(bad.hi > bad.lo);
}

#[test]
fn describe_plot_knows_all_stems() {
    for stem in [
        "timeline",
        "blast_radius",
        "cost_vs_risk",
        "rollback_time",
        "cost_vs_downtime",
    ] {
        assert_eq!(describe_plot(stem).unwrap().stem, stem);
    }
    assert!(describe_plot("nope").is_none());
    assert_eq!(PlotKind::CostVsRisk.description().stem, "cost_vs_risk");
}

#[test]
fn the_registered_font_draws_text_and_registering_again_keeps_it() {
    /// A small white bitmap, with `text` drawn on it in the plots' font when given.
    fn bitmap(text: Option<&str>) -> Vec<u8> {
        let (w, h) = (240u32, 60u32);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            if let Some(text) = text {
                root.draw_text(text, &style(TICK_PX, BLACK), (10, 20))
                    .expect("the registered font draws text");
            }
            root.present().unwrap();
        }
        rgb
    }
    ensure_font_registered().unwrap();
    let blank = bitmap(None);
    let first = bitmap(Some("canary 5%"));
    ensure_font_registered().unwrap();
    let again = bitmap(Some("canary 5%"));
    let inked = |rgb: &[u8]| rgb.iter().zip(&blank).filter(|(a, b)| a != b).count();
    // Nine glyphs at 18 px ink a few hundred subpixels; a font that drew
    // nothing (or boxes of nothing) would leave the bitmap blank.
    assert!(inked(&first) > 300, "text drew {} subpixels", inked(&first));
    assert_eq!(first, again, "registering again changed how text draws");
    assert_ne!(
        first,
        bitmap(Some("rolling 25%")),
        "different text, same pixels"
    );
}

#[test]
fn the_cheapest_line_changes_where_the_two_lines_meet() {
    // cheap: 1000 + 10 (x − 100); safe: 1500 + (x − 100). Equal at x = 155.56.
    let input = synthetic_input();
    let found = cost_vs_downtime::crossings(&input.cost_curves, 1.0, 10_000.0);
    assert_eq!(found.len(), 1, "{found:?}");
    let (x, total, next) = found[0];
    assert!((x - (100.0 + 500.0 / 9.0)).abs() < 1e-9, "{x}");
    assert!((total - input.cost_curves.total(0, x)).abs() < 1e-9);
    assert_eq!(input.cost_curves.lines[next].name, "safe");
}

#[test]
fn a_line_above_the_chart_is_cut_where_it_leaves() {
    let runs = cost_vs_downtime::below(&[(0.0, 0.0), (1.0, 10.0), (2.0, 0.0)], 5.0);
    assert_eq!(
        runs,
        vec![vec![(0.0, 0.0), (0.5, 5.0)], vec![(1.5, 5.0), (2.0, 0.0)]]
    );
}
