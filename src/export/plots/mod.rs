//! Slide-ready plots of a cutover comparison (PNG and SVG), drawn in memory
//! from a [`Report`] by the [`Plots`] exporter.
//!
//! Everything is drawn with `plotters` and one embedded font
//! (`assets/DejaVuSans.ttf`, registered once as "sans-serif"), so no system
//! fonts or libraries are needed. Drawing never panics on odd input: empty
//! series, all-`None`, a single value, identical values and non-finite
//! numbers are all handled (non-finite values are dropped, zero-width ranges
//! are padded). As a last line of defence a panic inside plotters is caught
//! and turned into a [`PlotError`].

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Exporter, OutputFile, Report};
use crate::format::tick_label;
use crate::outcome::Metric;
use crate::trace::Timeline;

// ---------------------------------------------------------------------------
// Public input types
// ---------------------------------------------------------------------------

/// One strategy's replications, in replication order; None = metric does not apply in that replication.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategySeries {
    pub name: String,
    pub failed_requests: Vec<Option<f64>>,
    pub users_affected: Vec<Option<f64>>,
    pub rollback_time_s: Vec<Option<f64>>,
    pub infra_cost_usd_mean: f64,
    pub failed_requests_p95: f64,
}

/// One strategy's expected monthly total as a line in the price of a minute
/// of downtime: `total_now + slope × (x − now)` (exact: the total is linear in it).
#[derive(Debug, Clone, PartialEq)]
pub struct CostLine {
    /// The strategy's position in the scenario (its colour).
    pub index: usize,
    pub name: String,
    pub total_now: f64,
    pub slope: f64,
}

/// The strategies that ship, as lines in the downtime price.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostCurves {
    /// The scenario's `cost.downtime_cost_per_minute_usd`.
    pub now_usd_per_minute: f64,
    pub lines: Vec<CostLine>,
    /// Strategies left out because they do not ship.
    pub excluded: Vec<String>,
}

impl CostCurves {
    /// Line `i`'s total at a downtime price of `x` USD a minute.
    pub fn total(&self, i: usize, x: f64) -> f64 {
        let l = &self.lines[i];
        l.total_now + l.slope * (x - self.now_usd_per_minute)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlotInput {
    pub scenario_name: String,
    pub series: Vec<StrategySeries>,
    pub timelines: Vec<Timeline>,
    pub cost_curves: CostCurves,
}

impl PlotInput {
    /// What the plots show of a comparison.
    pub fn of(report: &Report) -> PlotInput {
        let results = &report.results;
        let column = |i: usize, m: Metric| -> Vec<Option<f64>> {
            results.outcomes.iter().map(|row| row[i].get(m)).collect()
        };
        // The blast radius of a bad release: healthy releases (0 by definition)
        // would flatten every box to zero, so they are left out of those plots.
        let blast = |i: usize, m: Metric| -> Vec<Option<f64>> {
            results
                .outcomes
                .iter()
                .map(|row| row[i].get(m).filter(|_| row[i].defective))
                .collect()
        };
        let series = results
            .strategy_names
            .iter()
            .enumerate()
            .map(|(i, name)| StrategySeries {
                name: name.clone(),
                failed_requests: blast(i, Metric::FailedRequests),
                users_affected: blast(i, Metric::UsersAffected),
                rollback_time_s: column(i, Metric::RollbackTime),
                infra_cost_usd_mean: results
                    .summary(i, Metric::InfraCost)
                    .map_or(f64::NAN, |s| s.mean),
                failed_requests_p95: results
                    .summary(i, Metric::FailedRequests)
                    .map_or(f64::NAN, |s| s.p95),
            })
            .collect();
        let decision = &report.decision;
        let cost_curves = CostCurves {
            now_usd_per_minute: decision.downtime_cost_now,
            lines: decision
                .downtime_lines
                .iter()
                .map(|&(index, total_now, slope)| CostLine {
                    index,
                    name: decision.names[index].clone(),
                    total_now,
                    slope,
                })
                .collect(),
            excluded: decision
                .excluded
                .iter()
                .map(|(r, _)| r.strategy.clone())
                .collect(),
        };
        PlotInput {
            scenario_name: report.scenario_name.clone(),
            series,
            timelines: report.timelines.clone(),
            cost_curves,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
    Svg,
}

impl PlotFormat {
    /// File extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            PlotFormat::Png => "png",
            PlotFormat::Svg => "svg",
        }
    }
}

// ---------------------------------------------------------------------------
// The exporter: a report in, the plot files out
// ---------------------------------------------------------------------------

/// The plots as PNG, drawn on the first call for a report and kept: the
/// PNG files and report.html, which embeds them, get the same bytes drawn once.
pub fn png_files(report: &Report) -> crate::Result<&[OutputFile]> {
    report
        .png_plots
        .get_or_init(|| render(&PlotInput::of(report), PlotFormat::Png).map_err(|e| e.to_string()))
        .as_deref()
        .map_err(|e| crate::Error::Internal(e.clone()))
}

/// The plots in one format: timeline, blast_radius, cost_vs_risk,
/// rollback_time and cost_vs_downtime (.png or .svg).
pub struct Plots(pub PlotFormat);

impl Exporter for Plots {
    fn export(&self, report: &Report) -> crate::Result<Vec<OutputFile>> {
        match self.0 {
            PlotFormat::Png => Ok(png_files(report)?.to_vec()),
            PlotFormat::Svg => render(&PlotInput::of(report), PlotFormat::Svg)
                .map_err(|e| crate::Error::Internal(e.to_string())),
        }
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Error while drawing plots. Underlying drawing errors are kept as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlotError {
    Draw(String),
    Font(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Draw(e) => write!(f, "plot drawing error: {e}"),
            PlotError::Font(e) => write!(f, "plot font error: {e}"),
        }
    }
}

impl std::error::Error for PlotError {}

fn derr<E: fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

// ---------------------------------------------------------------------------
// Plot catalogue (titles, alt texts, captions; also used by the HTML report)
// ---------------------------------------------------------------------------

/// Static description of one of the plots drawn by [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotDescription {
    /// File name without extension, e.g. "timeline".
    pub stem: &'static str,
    /// Title drawn on the image.
    pub title: &'static str,
    /// Short alternative text for `<img alt>`.
    pub alt: &'static str,
    /// How to read the plot (one paragraph).
    pub caption: &'static str,
}

pub const TIMELINE_TITLE: &str = "Share of traffic on the new version (one defective release)";
pub const BLAST_RADIUS_TITLE: &str = "Blast radius of each defective release";
pub const COST_VS_RISK_TITLE: &str =
    "Cost vs risk: infrastructure cost per deploy vs p95 failed requests";
pub const ROLLBACK_TIME_TITLE: &str = "Rollback time per replication";
pub const COST_VS_DOWNTIME_TITLE: &str =
    "Expected monthly cost against the price of a minute of downtime";

/// The five plots, in the order [`render`] draws them.
pub const PLOT_DESCRIPTIONS: [PlotDescription; 5] = [
    PlotDescription {
        stem: "timeline",
        title: TIMELINE_TITLE,
        alt: "Step plots, one panel per strategy, of the percentage of traffic on the new version over time during one defective release, with markers for detection, rollback decision and mitigation.",
        caption: "One defective release, the same under every strategy: the first replication in which the defect hurt users and every strategy rolled it back, if any (compare prints its number; `cutover trace --replication N` narrates it). The coloured step line is the percentage of traffic served by the new version; vertical markers show when the defect was detected (dashed), when the rollback was decided (dotted) and when the impact was mitigated (solid grey). All panels share the same time axis.",
    },
    PlotDescription {
        stem: "blast_radius",
        title: BLAST_RADIUS_TITLE,
        alt: "Box plots per strategy of failed requests (left) and users affected (right) per replication.",
        caption: "Distribution over the defective releases (a healthy release hurts no one, so it is left out) of failed requests (left) and users affected (right). Box: 25th to 75th percentile; black bar: median; whiskers: 5th to 95th percentile; circles: minimum and maximum; n: defective releases. A log scale is used when values span more than two decades; zeros are then drawn at the axis floor, labelled 0.",
    },
    PlotDescription {
        stem: "cost_vs_risk",
        title: COST_VS_RISK_TITLE,
        alt: "Scatter plot with one labelled point per strategy: mean infrastructure cost per deploy against the 95th percentile of failed requests.",
        caption: "Each point is one strategy: mean infrastructure cost per deploy in USD (x) against the 95th percentile of failed requests across replications (y). Lower-left is cheaper and safer. A log scale is used on y when values span more than two decades.",
    },
    PlotDescription {
        stem: "rollback_time",
        title: ROLLBACK_TIME_TITLE,
        alt: "Box plots per strategy of the time taken to roll back, over the replications that rolled back.",
        caption: "Distribution of rollback time over the replications that rolled back (n above each box). Box: 25th to 75th percentile; black bar: median; whiskers: 5th to 95th percentile; circles: minimum and maximum. Strategies that never rolled back are marked \"no rollbacks\".",
    },
    PlotDescription {
        stem: "cost_vs_downtime",
        title: COST_VS_DOWNTIME_TITLE,
        alt: "Line plot, one line per strategy that ships, of the expected total monthly cost against the cost of a minute of downtime on a log axis, with circles where the cheapest strategy changes.",
        caption: "Each line is one strategy's expected total cost a month (infrastructure, incidents, false rollbacks, lead time, operations and schema work) as the price of a minute of downtime varies, every other input as in the scenario; the dashed line is the scenario's price. The total is linear in that price, so the lines are exact, not re-simulated. Circles mark where the cheapest strategy changes, labelled with the price and the strategy that wins beyond it. Strategies that do not ship are left out.",
    },
];

/// Look up a plot description by file stem ("timeline", "blast_radius", ...).
pub fn describe_plot(stem: &str) -> Option<&'static PlotDescription> {
    PLOT_DESCRIPTIONS.iter().find(|d| d.stem == stem)
}

// ---------------------------------------------------------------------------
// Font registration
// ---------------------------------------------------------------------------

static FONT_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/DejaVuSans.ttf"
));
static FONT_REGISTERED: OnceLock<bool> = OnceLock::new();
const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu Sans as plotters' "sans-serif" font.
/// Idempotent and thread-safe; [`render`] calls it itself.
pub fn ensure_font_registered() -> Result<(), PlotError> {
    let ok = *FONT_REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font(
            "embedded assets/DejaVuSans.ttf could not be parsed".to_string(),
        ))
    }
}

// ---------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------

/// Okabe-Ito colour-blind-friendly palette; strategy `i` gets `OKABE_ITO[i % 8]`.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(240, 228, 66),  // yellow
];

/// Fixed colour of the strategy at `index` (its position in `PlotInput::series`).
pub fn strategy_color(index: usize) -> RGBColor {
    OKABE_ITO[index % OKABE_ITO.len()]
}

/// Strategy colour darkened if it is too light to read as text on white.
fn text_color(index: usize) -> RGBColor {
    let c = strategy_color(index);
    let lum = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    if lum > 180.0 {
        RGBColor(
            (c.0 as f64 * 0.55) as u8,
            (c.1 as f64 * 0.55) as u8,
            (c.2 as f64 * 0.55) as u8,
        )
    } else {
        c
    }
}

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 800;
const TITLE_PX: f64 = 30.0;
const PANEL_TITLE_PX: f64 = 22.0;
const AXIS_DESC_PX: f64 = 20.0;
const TICK_PX: f64 = 18.0;
const NOTE_PX: f64 = 18.0;
const TITLE_H: i32 = 56;

const GREY_TEXT: RGBColor = RGBColor(85, 85, 85);
const GRID_BOLD: RGBColor = RGBColor(215, 215, 215);
const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
const MARKER_DETECTED: RGBColor = RGBColor(40, 40, 40);
const MARKER_DECISION: RGBColor = RGBColor(0, 0, 0);
const MARKER_MITIGATED: RGBColor = RGBColor(140, 140, 140);

fn style(px: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, px).into_font().color(&color)
}

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlotKind {
    Timeline,
    BlastRadius,
    CostVsRisk,
    RollbackTime,
    CostVsDowntime,
}

impl PlotKind {
    const ALL: [PlotKind; 5] = [
        PlotKind::Timeline,
        PlotKind::BlastRadius,
        PlotKind::CostVsRisk,
        PlotKind::RollbackTime,
        PlotKind::CostVsDowntime,
    ];

    fn description(self) -> &'static PlotDescription {
        &PLOT_DESCRIPTIONS[self as usize]
    }

    fn size(self, input: &PlotInput) -> (u32, u32) {
        match self {
            PlotKind::Timeline => timeline_size(input.timelines.len()),
            _ => (WIDTH, HEIGHT),
        }
    }
}

/// Pixel size of timeline.png for `n_timelines` panels (1200x800 up to four panels, taller beyond).
pub fn timeline_size(n_timelines: usize) -> (u32, u32) {
    let n = n_timelines.min(64) as u32;
    (WIDTH, HEIGHT.max(150 + 160 * n))
}

/// Draws `timeline`, `blast_radius`, `cost_vs_risk`, `rollback_time` and
/// `cost_vs_downtime`, in that order, as files of one format.
pub fn render(input: &PlotInput, format: PlotFormat) -> Result<Vec<OutputFile>, PlotError> {
    ensure_font_registered()?;
    PlotKind::ALL
        .iter()
        .map(|&kind| {
            let name = format!("{}.{}", kind.description().stem, format.extension());
            let bytes = render_one(kind, format, input).map_err(|e| match e {
                PlotError::Draw(m) => PlotError::Draw(format!("{name}: {m}")),
                other => other,
            })?;
            Ok(OutputFile { name, bytes })
        })
        .collect()
}

/// One plot's file bytes. A panic inside plotters becomes an error.
fn render_one(kind: PlotKind, format: PlotFormat, input: &PlotInput) -> Result<Vec<u8>, PlotError> {
    let size = kind.size(input);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<Vec<u8>, PlotError> {
        match format {
            PlotFormat::Png => {
                let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
                {
                    let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                    draw_kind(&root, kind, input)?;
                    root.present().map_err(derr)?;
                }
                encode_png(&rgb, size)
            }
            PlotFormat::Svg => {
                let mut svg = String::new();
                {
                    let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                    draw_kind(&root, kind, input)?;
                    root.present().map_err(derr)?;
                }
                Ok(svg.into_bytes())
            }
        }
    }));
    outcome.unwrap_or_else(|panic| {
        let msg = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        Err(PlotError::Draw(format!("plotting panicked: {msg}")))
    })
}

/// PNG bytes of an RGB buffer, encoded as plotters' own file backend does
/// (the `image` crate's PNG encoder with its defaults).
fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, PlotError> {
    use image::ImageEncoder as _;
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(rgb, width, height, image::ColorType::Rgb8)
        .map_err(derr)?;
    Ok(png)
}

fn draw_kind<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    kind: PlotKind,
    input: &PlotInput,
) -> Result<(), PlotError> {
    root.fill(&WHITE).map_err(derr)?;
    let body = draw_title(root, kind.description().title)?;
    match kind {
        PlotKind::Timeline => draw_timeline(&body, input),
        PlotKind::BlastRadius => draw_blast_radius(&body, input),
        PlotKind::CostVsRisk => draw_cost_vs_risk(&body, input),
        PlotKind::RollbackTime => draw_rollback_time(&body, input),
        PlotKind::CostVsDowntime => draw_cost_vs_downtime(&body, input),
    }
}

mod axes;
mod boxes;
mod cost_vs_downtime;
mod cost_vs_risk;
mod draw;
#[cfg(test)]
mod tests;
mod timeline;

use axes::*;
use boxes::*;
use cost_vs_downtime::*;
use cost_vs_risk::*;
use draw::*;
use timeline::*;
