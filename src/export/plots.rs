//! Slide-ready plots of a cutover comparison (PNG and SVG).
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
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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

/// The share of traffic on the new version over one replication with a defect.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub strategy: String,
    /// (time_s, share_new in 0..=1), step function: share holds until next point.
    pub points: Vec<(f64, f64)>,
    pub detected_s: Option<f64>,
    pub rollback_decision_s: Option<f64>,
    pub mitigated_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlotInput {
    pub scenario_name: String,
    pub series: Vec<StrategySeries>,
    pub timelines: Vec<Timeline>,
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

/// Error while writing plots. Underlying io / drawing errors are kept as strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlotError {
    Io(String),
    Draw(String),
    Font(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::Io(e) => write!(f, "plot io error: {e}"),
            PlotError::Draw(e) => write!(f, "plot drawing error: {e}"),
            PlotError::Font(e) => write!(f, "plot font error: {e}"),
        }
    }
}

impl std::error::Error for PlotError {}

impl From<std::io::Error> for PlotError {
    fn from(e: std::io::Error) -> Self {
        PlotError::Io(e.to_string())
    }
}

fn derr<E: fmt::Display>(e: E) -> PlotError {
    PlotError::Draw(e.to_string())
}

// ---------------------------------------------------------------------------
// Plot catalogue (titles, alt texts, captions; also used by the HTML report)
// ---------------------------------------------------------------------------

/// Static description of one of the plots written by [`write_plots`].
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

/// The four plots, in the order [`write_plots`] writes them.
pub const PLOT_DESCRIPTIONS: [PlotDescription; 4] = [
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
/// Idempotent and thread-safe; [`write_plots`] calls it itself.
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
}

impl PlotKind {
    const ALL: [PlotKind; 4] = [
        PlotKind::Timeline,
        PlotKind::BlastRadius,
        PlotKind::CostVsRisk,
        PlotKind::RollbackTime,
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

/// Writes `timeline`, `blast_radius`, `cost_vs_risk` and `rollback_time` in each
/// requested format into `dir` (created if missing) and returns the written paths,
/// format by format in that order.
pub fn write_plots(
    dir: &Path,
    input: &PlotInput,
    formats: &[PlotFormat],
) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font_registered()?;
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut done: Vec<PlotFormat> = Vec::new();
    for &format in formats {
        if done.contains(&format) {
            continue;
        }
        done.push(format);
        for kind in PlotKind::ALL {
            let path = dir.join(format!(
                "{}.{}",
                kind.description().stem,
                format.extension()
            ));
            render(&path, format, kind, input)?;
            written.push(path);
        }
    }
    Ok(written)
}

fn render(
    path: &Path,
    format: PlotFormat,
    kind: PlotKind,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let size = kind.size(input);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), PlotError> {
        match format {
            PlotFormat::Png => {
                let root = BitMapBackend::new(path, size).into_drawing_area();
                draw_kind(&root, kind, input)?;
                root.present().map_err(derr)
            }
            PlotFormat::Svg => {
                let root = SVGBackend::new(path, size).into_drawing_area();
                draw_kind(&root, kind, input)?;
                root.present().map_err(derr)
            }
        }
    }));
    match outcome {
        Ok(result) => result.map_err(|e| match e {
            PlotError::Draw(m) => PlotError::Draw(format!("{}: {m}", path.display())),
            other => other,
        }),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(PlotError::Draw(format!(
                "{}: plotting panicked: {msg}",
                path.display()
            )))
        }
    }
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
    }
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

/// Finite `Some` values, sorted ascending.
fn finite_sorted(values: &[Option<f64>]) -> Vec<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .filter_map(|x| x.filter(|x| x.is_finite()))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Linear-interpolated quantile (type 7) of a non-empty sorted slice.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    if i + 1 < n {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[n - 1]
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct BoxStats {
    n: usize,
    min: f64,
    p5: f64,
    p25: f64,
    p50: f64,
    p75: f64,
    p95: f64,
    max: f64,
}

fn box_stats(sorted: &[f64]) -> Option<BoxStats> {
    if sorted.is_empty() {
        return None;
    }
    Some(BoxStats {
        n: sorted.len(),
        min: sorted[0],
        p5: quantile(sorted, 0.05),
        p25: quantile(sorted, 0.25),
        p50: quantile(sorted, 0.50),
        p75: quantile(sorted, 0.75),
        p95: quantile(sorted, 0.95),
        max: sorted[sorted.len() - 1],
    })
}

/// Compact tick label: 0, 0.25, 12.5, 950, 1.2k, 35k, 2.5M.
fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "?".to_string();
    }
    let a = v.abs();
    if a < 1e-12 {
        return "0".to_string();
    }
    let (x, suffix) = if a >= 1e9 {
        (v / 1e9, "G")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let ax = x.abs();
    let s = if ax >= 100.0 {
        format!("{x:.0}")
    } else if ax >= 10.0 {
        format!("{x:.1}")
    } else if ax >= 1.0 {
        format!("{x:.2}")
    } else if ax >= 0.001 {
        format!("{x:.3}")
    } else {
        return format!("{x:.0e}");
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    format!("{s}{suffix}")
}

fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A value axis: linear, or log10 with zeros drawn at the floor.
/// Coordinates on the chart are `t(value)`; tick positions are in that space.
#[derive(Debug, Clone, PartialEq)]
struct ValueAxis {
    log: bool,
    /// Log axis only: some values were <= 0 and are drawn at `lo` (labelled "0").
    zero_floor: bool,
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    minor: Vec<f64>,
}

impl ValueAxis {
    /// Linear when the positive values span at most two decades, log10 otherwise.
    fn auto(values: &[f64], headroom: f64) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let pos_min = finite
            .iter()
            .copied()
            .filter(|v| *v > 0.0)
            .fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if pos_min.is_finite() && max.is_finite() && max / pos_min > 100.0 {
            Self::log(&finite, pos_min, max, headroom)
        } else {
            Self::linear(&finite, headroom)
        }
    }

    /// Linear axis with nice ticks; starts at 0 when all values are >= 0.
    fn linear(values: &[f64], headroom: f64) -> Self {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let (mut lo, mut hi) = if finite.is_empty() {
            (0.0, 1.0)
        } else {
            (
                finite.iter().copied().fold(f64::INFINITY, f64::min),
                finite.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        };
        if lo >= 0.0 {
            lo = 0.0;
        }
        if hi.is_nan() || hi - lo <= f64::EPSILON * hi.abs().max(1.0) {
            // Zero-width range: pad it.
            hi = if lo == 0.0 { 1.0 } else { lo + lo.abs() * 0.5 };
            if hi <= lo {
                hi = lo + 1.0;
            }
        }
        let step = nice_step((hi - lo) / 5.0);
        let lo_n = (lo / step).floor() * step;
        let hi_n = (hi / step).ceil() * step;
        let count = (((hi_n - lo_n) / step).round() as usize).min(50);
        let ticks: Vec<f64> = (0..=count).map(|k| lo_n + k as f64 * step).collect();
        let span = hi_n - lo_n;
        ValueAxis {
            log: false,
            zero_floor: false,
            lo: lo_n,
            hi: hi_n + span * headroom,
            ticks,
            minor: Vec::new(),
        }
    }

    /// Linear axis over `lo..=hi` with 2% padding on the right and nice ticks inside it
    /// (used for the shared time axis so the data fills the width).
    fn tight(lo: f64, hi: f64) -> Self {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (0.0, 1.0)
        };
        let step = nice_step((hi - lo) / 6.0);
        let hi_plot = hi + (hi - lo) * 0.02;
        let first = (lo / step).ceil();
        let ticks: Vec<f64> = (0..=60)
            .map(|k| (first + k as f64) * step)
            .take_while(|t| *t <= hi_plot)
            .collect();
        ValueAxis {
            log: false,
            zero_floor: false,
            lo,
            hi: hi_plot,
            ticks,
            minor: Vec::new(),
        }
    }

    fn log(finite: &[f64], pos_min: f64, max: f64, headroom: f64) -> Self {
        let min_exp = pos_min.log10().floor();
        let mut max_exp = max.log10().ceil();
        if max_exp <= min_exp {
            max_exp = min_exp + 1.0;
        }
        let zero_floor = finite.iter().any(|v| *v <= 0.0);
        let lo = if zero_floor { min_exp - 1.0 } else { min_exp };
        let decades = (max_exp - min_exp) as usize;
        let every = decades.div_ceil(8).max(1);
        let mut ticks = Vec::new();
        if zero_floor {
            ticks.push(lo);
        }
        for (k, e) in (min_exp as i64..=max_exp as i64).enumerate() {
            if k % every == 0 {
                ticks.push(e as f64);
            }
        }
        let mut minor = Vec::new();
        if decades <= 6 {
            for e in min_exp as i64..max_exp as i64 {
                for m in 2..=9 {
                    minor.push(e as f64 + (m as f64).log10());
                }
            }
        }
        ValueAxis {
            log: true,
            zero_floor,
            lo,
            hi: max_exp + (max_exp - lo) * headroom,
            ticks,
            minor,
        }
    }

    /// Value -> chart coordinate.
    fn t(&self, v: f64) -> f64 {
        if self.log {
            if v > 0.0 {
                v.log10().max(self.lo)
            } else {
                self.lo
            }
        } else {
            v
        }
    }

    /// Tick label for a chart coordinate.
    fn label(&self, t: f64) -> String {
        if self.log {
            if self.zero_floor && (t - self.lo).abs() < 1e-9 {
                "0".to_string()
            } else {
                fmt_num(10f64.powf(t))
            }
        } else {
            fmt_num(t)
        }
    }

    fn mid(&self) -> f64 {
        (self.lo + self.hi) / 2.0
    }
}

/// Linear f64 coordinate with explicit bold (labelled) and light tick positions.
#[derive(Debug, Clone, PartialEq)]
struct Ticked {
    lo: f64,
    hi: f64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, bold: Vec<f64>, light: Vec<f64>) -> Self {
        let (lo, hi) = if lo.is_finite() && hi.is_finite() && hi > lo {
            (lo, hi)
        } else if lo.is_finite() {
            (lo, lo + 1.0)
        } else {
            (0.0, 1.0)
        };
        let keep =
            |v: &f64| v.is_finite() && *v >= lo - 1e-9 * (hi - lo) && *v <= hi + 1e-9 * (hi - lo);
        Ticked {
            lo,
            hi,
            bold: bold.into_iter().filter(keep).collect(),
            light: light.into_iter().filter(keep).collect(),
        }
    }

    fn from_axis(ax: &ValueAxis) -> Self {
        Ticked::new(ax.lo, ax.hi, ax.ticks.clone(), ax.minor.clone())
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let frac = (v - self.lo) / (self.hi - self.lo);
        let len = (limit.1 - limit.0) as f64;
        if !frac.is_finite() {
            return limit.0;
        }
        // Clamp far-out values so pixel arithmetic cannot overflow.
        let frac = frac.clamp(-10.0, 11.0);
        limit.0 + (len * frac + 1e-3).floor() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

/// Divisor and unit name for a time span given in seconds.
fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s > 2.0 * 3600.0 {
        (3600.0, "h")
    } else if span_s > 300.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}

// ---------------------------------------------------------------------------
// Drawing helpers
// ---------------------------------------------------------------------------

/// Draws the slide title centred at the top and returns the area below it.
fn draw_title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, PlotError> {
    let (w, _) = root.dim_in_pixel();
    let (top, body) = root.split_vertically(TITLE_H);
    let st = fitted_style(&top, title, TITLE_PX, w as i32 - 40, BLACK)?;
    top.draw_text(
        title,
        &st.pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, TITLE_H / 2 + 2),
    )
    .map_err(derr)?;
    Ok(body)
}

/// Text style at `px`, shrunk (down to 60%) if `text` would be wider than `max_w`.
fn fitted_style<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    px: f64,
    max_w: i32,
    color: RGBColor,
) -> Result<TextStyle<'static>, PlotError> {
    let mut size = px;
    let floor = (px * 0.6).max(12.0);
    while size > floor {
        let (tw, _) = area
            .estimate_text_size(text, &style(size, color))
            .map_err(derr)?;
        if (tw as i32) <= max_w {
            break;
        }
        size -= 1.0;
    }
    Ok(style(size, color))
}

/// Grey explanatory lines at the top-left of `area`.
fn draw_notes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[String],
) -> Result<(), PlotError> {
    let (w, _) = area.dim_in_pixel();
    for (i, line) in lines.iter().enumerate() {
        let st = fitted_style(area, line, NOTE_PX, w as i32 - 50, GREY_TEXT)?;
        area.draw_text(line, &st, (25, 6 + 26 * i as i32))
            .map_err(derr)?;
    }
    Ok(())
}

fn centered_message<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw_text(
        text,
        &style(22.0, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
        (w as i32 / 2, h as i32 / 2),
    )
    .map_err(derr)
}

/// Dash segments along a horizontal pixel line, for legend samples.
fn dash_segments(x0: i32, x1: i32, on: i32, off: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    let mut x = x0;
    while x < x1 {
        out.push((x, (x + on).min(x1)));
        x += on + off;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkerKind {
    Detected,
    Decision,
    Mitigated,
}

impl MarkerKind {
    const ALL: [MarkerKind; 3] = [
        MarkerKind::Detected,
        MarkerKind::Decision,
        MarkerKind::Mitigated,
    ];

    fn label(self) -> &'static str {
        match self {
            MarkerKind::Detected => "defect detected",
            MarkerKind::Decision => "rollback decided",
            MarkerKind::Mitigated => "mitigated",
        }
    }

    fn color(self) -> RGBColor {
        match self {
            MarkerKind::Detected => MARKER_DETECTED,
            MarkerKind::Decision => MARKER_DECISION,
            MarkerKind::Mitigated => MARKER_MITIGATED,
        }
    }

    fn width(self) -> u32 {
        match self {
            MarkerKind::Detected => 2,
            MarkerKind::Decision => 3,
            MarkerKind::Mitigated => 4,
        }
    }

    /// (dash length, gap) in pixels; `None` = solid.
    fn dash(self) -> Option<(i32, i32)> {
        match self {
            MarkerKind::Detected => Some((10, 6)),
            MarkerKind::Decision => Some((3, 5)),
            MarkerKind::Mitigated => None,
        }
    }

    fn value(self, tl: &Timeline) -> Option<f64> {
        match self {
            MarkerKind::Detected => tl.detected_s,
            MarkerKind::Decision => tl.rollback_decision_s,
            MarkerKind::Mitigated => tl.mitigated_s,
        }
        .filter(|v| v.is_finite())
    }
}

// ---------------------------------------------------------------------------
// timeline
// ---------------------------------------------------------------------------

fn draw_timeline<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let (legend_area, panels_area) = body.split_vertically(44);
    draw_timeline_legend(&legend_area)?;

    let n = input.timelines.len();
    if n == 0 {
        return centered_message(&panels_area, "no timeline data");
    }

    // Shared time axis over all points and markers.
    let mut times: Vec<f64> = Vec::new();
    for tl in &input.timelines {
        times.extend(tl.points.iter().map(|p| p.0).filter(|t| t.is_finite()));
        times.extend(MarkerKind::ALL.iter().filter_map(|m| m.value(tl)));
    }
    let t_min = times.iter().copied().fold(0.0f64, f64::min);
    let t_max = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let t_max = if t_max.is_finite() && t_max > t_min {
        t_max
    } else {
        t_min + 60.0
    };
    let (div, unit) = time_unit(t_max - t_min);
    let x_axis = ValueAxis::tight(t_min / div, t_max / div);
    let x_end = t_max / div;

    let (_, ph) = panels_area.dim_in_pixel();
    let x_label_h: i32 = 70;
    let each = ((ph as i32 - x_label_h) / n as i32).max(1);
    let breaks: Vec<i32> = (1..n as i32).map(|i| i * each).collect();
    let panels = panels_area.split_by_breakpoints(Vec::<i32>::new(), breaks);

    for (i, (tl, panel)) in input.timelines.iter().zip(panels.iter()).enumerate() {
        let last = i + 1 == n;
        let idx = input
            .series
            .iter()
            .position(|s| s.name == tl.strategy)
            .unwrap_or(i);
        let color = strategy_color(idx);

        let mut missing = Vec::new();
        if MarkerKind::Detected.value(tl).is_none() {
            missing.push("defect not detected");
        }
        if MarkerKind::Decision.value(tl).is_none() {
            missing.push("no rollback decision");
        }
        if MarkerKind::Mitigated.value(tl).is_none() {
            missing.push("not mitigated");
        }
        let caption = if missing.is_empty() {
            tl.strategy.clone()
        } else {
            format!("{}  ({})", tl.strategy, missing.join(", "))
        };

        let mut chart = ChartBuilder::on(panel)
            .caption(caption, style(PANEL_TITLE_PX, text_color(idx)))
            .margin_left(16)
            .margin_right(30)
            .margin_top(4)
            .margin_bottom(if last { 4 } else { 8 })
            .x_label_area_size(if last { x_label_h - 8 } else { 0 })
            .y_label_area_size(100)
            .build_cartesian_2d(
                Ticked::from_axis(&x_axis),
                Ticked::new(-4.0, 106.0, vec![0.0, 50.0, 100.0], vec![25.0, 75.0]),
            )
            .map_err(derr)?;

        let x_desc = format!("time since release start ({unit})");
        let mut mesh = chart.configure_mesh();
        mesh.x_label_formatter(&|v| fmt_num(*v))
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .y_desc("on new")
            .label_style(style(TICK_PX, BLACK))
            .axis_desc_style(style(AXIS_DESC_PX, BLACK))
            .bold_line_style(GRID_BOLD)
            .light_line_style(GRID_LIGHT);
        if last {
            mesh.x_desc(x_desc);
        }
        mesh.draw().map_err(derr)?;

        let mut pts: Vec<(f64, f64)> = tl
            .points
            .iter()
            .filter(|(t, s)| t.is_finite() && s.is_finite())
            .map(|&(t, s)| (t / div, s.clamp(0.0, 1.0) * 100.0))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));

        if pts.is_empty() {
            chart
                .draw_series(std::iter::once(Text::new(
                    "no timeline points",
                    (x_axis.mid(), 50.0),
                    style(NOTE_PX, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(derr)?;
        } else {
            let mut path = vec![pts[0]];
            for w in pts.windows(2) {
                path.push((w[1].0, w[0].1));
                path.push(w[1]);
            }
            let last_pt = pts[pts.len() - 1];
            if x_end > last_pt.0 {
                path.push((x_end, last_pt.1));
            }
            // Repeated and collinear points make the bitmap backend's thick
            // lines bulge; keep only the corners.
            path.dedup();
            let mut corners: Vec<(f64, f64)> = Vec::with_capacity(path.len());
            for p in path {
                if let [.., a, b] = corners[..]
                    && ((a.0 == b.0 && b.0 == p.0) || (a.1 == b.1 && b.1 == p.1))
                {
                    corners.pop();
                }
                corners.push(p);
            }
            let path = corners;
            let mut poly = path.clone();
            poly.push((path[path.len() - 1].0, 0.0));
            poly.push((pts[0].0, 0.0));
            chart
                .draw_series(std::iter::once(Polygon::new(
                    poly,
                    color.mix(0.15).filled(),
                )))
                .map_err(derr)?;
            if path.len() == 1 {
                chart
                    .draw_series(std::iter::once(Circle::new(path[0], 5, color.filled())))
                    .map_err(derr)?;
            }
            chart
                .draw_series(LineSeries::new(path, color.stroke_width(3)))
                .map_err(derr)?;
        }

        // The wide mitigation line first, so coinciding detection and
        // decision markers stay visible on top of it.
        for m in MarkerKind::ALL.into_iter().rev() {
            if let Some(t) = m.value(tl) {
                let x = t / div;
                let line = vec![(x, -4.0), (x, 106.0)];
                let st = m.color().stroke_width(m.width());
                match m.dash() {
                    Some((on, off)) => {
                        chart
                            .draw_series(DashedLineSeries::new(line, on, off, st))
                            .map_err(derr)?;
                    }
                    None => {
                        chart
                            .draw_series(std::iter::once(PathElement::new(line, st)))
                            .map_err(derr)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn draw_timeline_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    let y = h as i32 / 2;
    let label_st = style(NOTE_PX, BLACK);
    let sample_w = 44;
    let gap = 8;
    let spacing = 34;
    let mut items: Vec<(Option<MarkerKind>, &str)> =
        vec![(None, "share on new version (strategy colour)")];
    items.extend(MarkerKind::ALL.iter().map(|m| (Some(*m), m.label())));
    let mut widths = Vec::new();
    for (_, label) in &items {
        let (tw, _) = area.estimate_text_size(label, &label_st).map_err(derr)?;
        widths.push(tw as i32);
    }
    let total: i32 = widths.iter().map(|tw| sample_w + gap + tw).sum::<i32>()
        + spacing * (items.len() as i32 - 1);
    let mut x = ((w as i32 - total) / 2).max(10);
    for ((kind, label), tw) in items.iter().zip(widths) {
        match kind {
            None => {
                let c = RGBColor(70, 70, 70);
                area.draw(&PathElement::new(
                    vec![
                        (x, y + 7),
                        (x + sample_w / 2, y + 7),
                        (x + sample_w / 2, y - 7),
                        (x + sample_w, y - 7),
                    ],
                    c.stroke_width(3),
                ))
                .map_err(derr)?;
            }
            Some(m) => {
                let st = m.color().stroke_width(m.width());
                // Vertical sample, like on the chart, plus a horizontal dash pattern.
                match m.dash() {
                    Some((on, off)) => {
                        for (a, b) in dash_segments(x, x + sample_w, on, off) {
                            area.draw(&PathElement::new(vec![(a, y), (b, y)], st))
                                .map_err(derr)?;
                        }
                    }
                    None => {
                        area.draw(&PathElement::new(vec![(x, y), (x + sample_w, y)], st))
                            .map_err(derr)?;
                    }
                }
            }
        }
        area.draw_text(
            label,
            &label_st.pos(Pos::new(HPos::Left, VPos::Center)),
            (x + sample_w + gap, y),
        )
        .map_err(derr)?;
        x += sample_w + gap + tw + spacing;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Box plots (blast radius, rollback time)
// ---------------------------------------------------------------------------

/// Draws one box-plot panel; returns the value axis used.
fn draw_box_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel_title: Option<&str>,
    y_desc: &str,
    names: &[String],
    data: &[Vec<f64>],
    empty_text: &str,
) -> Result<ValueAxis, PlotError> {
    let n = names.len();
    let all: Vec<f64> = data.iter().flatten().copied().collect();
    let ax = ValueAxis::auto(&all, 0.10);
    let x_hi = n.max(1) as f64 - 0.5;
    let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let desc = if ax.log {
        format!("{y_desc}, log scale")
    } else {
        y_desc.to_string()
    };
    // The rotated axis description must fit the plot height.
    let (_, ah) = area.dim_in_pixel();
    let desc_style = fitted_style(area, &desc, AXIS_DESC_PX, ah as i32 - 110, BLACK)?;

    // Shrink category labels if they would not fit their slot.
    let (aw, _) = area.dim_in_pixel();
    let slot = ((aw as i32 - 130) / n.max(1) as i32).max(20);
    let widest = names
        .iter()
        .max_by_key(|s| s.chars().count())
        .cloned()
        .unwrap_or_default();
    let name_style = fitted_style(area, &widest, TICK_PX + 2.0, slot - 6, BLACK)?;

    let mut builder = ChartBuilder::on(area);
    if let Some(t) = panel_title {
        builder.caption(t, style(PANEL_TITLE_PX, BLACK));
    }
    let mut chart = builder
        .margin(14)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(100)
        .build_cartesian_2d(
            Ticked::new(-0.5, x_hi, keys, Vec::new()),
            Ticked::from_axis(&ax),
        )
        .map_err(derr)?;

    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| {
            let i = x.round();
            if i >= 0.0 && (i as usize) < n {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|y| ax.label(*y))
        .y_desc(desc)
        .x_label_style(name_style)
        .y_label_style(style(TICK_PX, BLACK))
        .axis_desc_style(desc_style)
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .draw()
        .map_err(derr)?;

    if n == 0 {
        chart
            .draw_series(std::iter::once(Text::new(
                "no strategies",
                (0.0, ax.mid()),
                style(22.0, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(derr)?;
        return Ok(ax);
    }

    for (i, vals) in data.iter().enumerate().take(n) {
        let x = i as f64;
        let c = strategy_color(i);
        let Some(s) = box_stats(vals) else {
            chart
                .draw_series(std::iter::once(Text::new(
                    empty_text.to_string(),
                    (x, ax.mid()),
                    style(NOTE_PX + 2.0, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
                )))
                .map_err(derr)?;
            continue;
        };
        let (p5, p25, p50, p75, p95) = (
            ax.t(s.p5),
            ax.t(s.p25),
            ax.t(s.p50),
            ax.t(s.p75),
            ax.t(s.p95),
        );
        let line = c.stroke_width(2);
        chart
            .draw_series([
                PathElement::new(vec![(x, p5), (x, p25)], line),
                PathElement::new(vec![(x, p75), (x, p95)], line),
                PathElement::new(vec![(x - 0.12, p5), (x + 0.12, p5)], line),
                PathElement::new(vec![(x - 0.12, p95), (x + 0.12, p95)], line),
            ])
            .map_err(derr)?;
        chart
            .draw_series([
                Rectangle::new([(x - 0.28, p25), (x + 0.28, p75)], c.mix(0.35).filled()),
                Rectangle::new([(x - 0.28, p25), (x + 0.28, p75)], c.stroke_width(2)),
            ])
            .map_err(derr)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x - 0.28, p50), (x + 0.28, p50)],
                BLACK.stroke_width(4),
            )))
            .map_err(derr)?;
        let (tmin, tmax) = (ax.t(s.min), ax.t(s.max));
        let eps = (ax.hi - ax.lo) * 1e-3;
        let mut extremes = Vec::new();
        if (tmin - p5).abs() > eps {
            extremes.push(tmin);
        }
        if (tmax - p95).abs() > eps {
            extremes.push(tmax);
        }
        chart
            .draw_series(
                extremes
                    .into_iter()
                    .map(|y| Circle::new((x, y), 5, c.stroke_width(2))),
            )
            .map_err(derr)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((x, tmax))
                    + Text::new(
                        format!("n={}", s.n),
                        (0, -10),
                        style(NOTE_PX, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    ),
            ))
            .map_err(derr)?;
    }
    Ok(ax)
}

const BOX_LEGEND: &str = "Box: 25th–75th percentile · black bar: median · whiskers: 5th–95th percentile · circles: min and max.";

fn draw_blast_radius<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let (_, h) = body.dim_in_pixel();
    let (charts, notes) = body.split_vertically(h as i32 - 64);
    // Side by side up to five strategies; stacked (full width each) beyond, so
    // the category labels stay readable.
    let panels = if input.series.len() > 5 {
        charts.split_evenly((2, 1))
    } else {
        charts.split_evenly((1, 2))
    };
    let names: Vec<String> = input.series.iter().map(|s| s.name.clone()).collect();
    let failed: Vec<Vec<f64>> = input
        .series
        .iter()
        .map(|s| finite_sorted(&s.failed_requests))
        .collect();
    let users: Vec<Vec<f64>> = input
        .series
        .iter()
        .map(|s| finite_sorted(&s.users_affected))
        .collect();
    let a1 = draw_box_panel(
        &panels[0],
        Some("Failed requests"),
        "failed requests (count)",
        &names,
        &failed,
        "no data",
    )?;
    let a2 = draw_box_panel(
        &panels[1],
        Some("Users affected"),
        "users affected (count)",
        &names,
        &users,
        "no data",
    )?;
    let mut second =
        "n = defective releases (healthy ones hurt no one and are left out).".to_string();
    if a1.log || a2.log {
        second.push_str(" Log scale: values span more than two decades");
        if a1.zero_floor || a2.zero_floor {
            second.push_str("; zeros drawn at the axis floor (labelled 0).");
        } else {
            second.push('.');
        }
    }
    draw_notes(&notes, &[BOX_LEGEND.to_string(), second])
}

fn draw_rollback_time<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let (_, h) = body.dim_in_pixel();
    let (chart_area, notes) = body.split_vertically(h as i32 - 64);
    let names: Vec<String> = input.series.iter().map(|s| s.name.clone()).collect();
    let raw: Vec<Vec<f64>> = input
        .series
        .iter()
        .map(|s| finite_sorted(&s.rollback_time_s))
        .collect();
    let max = raw.iter().flatten().copied().fold(0.0f64, f64::max);
    let (div, unit) = time_unit(max);
    let data: Vec<Vec<f64>> = raw
        .iter()
        .map(|v| v.iter().map(|x| x / div).collect())
        .collect();
    let ax = draw_box_panel(
        &chart_area,
        None,
        &format!("rollback time ({unit})"),
        &names,
        &data,
        "no rollbacks",
    )?;
    let mut second = "n = replications that rolled back.".to_string();
    if ax.log {
        second.push_str(" Log scale: values span more than two decades");
        if ax.zero_floor {
            second.push_str("; zeros drawn at the axis floor (labelled 0).");
        } else {
            second.push('.');
        }
    }
    draw_notes(&notes, &[BOX_LEGEND.to_string(), second])
}

// ---------------------------------------------------------------------------
// cost vs risk
// ---------------------------------------------------------------------------

fn draw_cost_vs_risk<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let (_, h) = body.dim_in_pixel();
    let (chart_area, notes) = body.split_vertically(h as i32 - 64);

    let mut points: Vec<(usize, &str, f64, f64)> = Vec::new();
    let mut skipped: Vec<&str> = Vec::new();
    for (i, s) in input.series.iter().enumerate() {
        if s.infra_cost_usd_mean.is_finite() && s.failed_requests_p95.is_finite() {
            points.push((i, &s.name, s.infra_cost_usd_mean, s.failed_requests_p95));
        } else {
            skipped.push(&s.name);
        }
    }
    let xs: Vec<f64> = points.iter().map(|p| p.2).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.3).collect();
    let xa = ValueAxis::linear(&xs, 0.15);
    let ya = ValueAxis::auto(&ys, 0.12);

    let mut chart = ChartBuilder::on(&chart_area)
        .margin(20)
        .margin_right(40)
        .x_label_area_size(70)
        .y_label_area_size(110)
        .build_cartesian_2d(Ticked::from_axis(&xa), Ticked::from_axis(&ya))
        .map_err(derr)?;
    let y_desc = if ya.log {
        "failed requests per deploy, p95 (count, log scale)"
    } else {
        "failed requests per deploy, p95 (count)"
    };
    chart
        .configure_mesh()
        .x_label_formatter(&|v| fmt_num(*v))
        .y_label_formatter(&|v| ya.label(*v))
        .x_desc("infrastructure cost per deploy, mean (USD)")
        .y_desc(y_desc)
        .label_style(style(TICK_PX, BLACK))
        .axis_desc_style(style(AXIS_DESC_PX, BLACK))
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .draw()
        .map_err(derr)?;

    if points.is_empty() {
        chart
            .draw_series(std::iter::once(Text::new(
                "no strategies with a finite cost and p95",
                (xa.mid(), ya.mid()),
                style(22.0, GREY_TEXT).pos(Pos::new(HPos::Center, VPos::Center)),
            )))
            .map_err(derr)?;
    }

    // Points with legend entries.
    for &(i, name, x, y) in &points {
        let c = strategy_color(i);
        let at = (xa.t(x), ya.t(y));
        chart
            .draw_series([
                Circle::new(at, 11, c.filled()),
                Circle::new(at, 11, BLACK.stroke_width(1)),
            ])
            .map_err(derr)?
            .label(name.to_string())
            .legend(move |(lx, ly)| {
                EmptyElement::at((lx + 8, ly))
                    + Circle::new((0, 0), 8, c.filled())
                    + Circle::new((0, 0), 8, BLACK.stroke_width(1))
            });
    }

    // Direct labels, placed right of the point (left if no room), nudged apart.
    let (prx, pry) = chart.plotting_area().get_pixel_range();
    let label_px = TICK_PX + 2.0;
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new(); // x0, y0, x1, y1
    let mut order: Vec<usize> = (0..points.len()).collect();
    let pix: Vec<(i32, i32)> = points
        .iter()
        .map(|&(_, _, x, y)| chart.backend_coord(&(xa.t(x), ya.t(y))))
        .collect();
    order.sort_by_key(|&k| pix[k].1);
    let mut labels: Vec<(usize, &str, i32, i32, HPos)> = Vec::new();
    for k in order {
        let (i, name, _, _) = points[k];
        let (px, py) = pix[k];
        let (tw, th) = chart_area
            .estimate_text_size(name, &style(label_px, BLACK))
            .map_err(derr)?;
        let (tw, th) = (tw as i32, th as i32);
        let right = px + 16 + tw <= prx.end - 4;
        let (x0, x1, anchor_x, hpos) = if right {
            (px + 16, px + 16 + tw, px + 16, HPos::Left)
        } else {
            (px - 16 - tw, px - 16, px - 16, HPos::Right)
        };
        let mut y = py;
        for _ in 0..50 {
            let (y0, y1) = (y - th / 2 - 2, y + th / 2 + 2);
            let clash = placed
                .iter()
                .any(|&(a0, b0, a1, b1)| x0 < a1 && a0 < x1 && y0 < b1 && b0 < y1);
            if !clash {
                break;
            }
            y += th / 2 + 2;
        }
        let y = y.clamp(pry.start + th / 2, pry.end - th / 2);
        placed.push((x0, y - th / 2 - 2, x1, y + th / 2 + 2));
        labels.push((i, name, anchor_x, y, hpos));
    }
    let label_area = chart.plotting_area().strip_coord_spec();
    let (ox, oy) = (prx.start, pry.start);
    for &(i, name, ax, ay, hpos) in &labels {
        label_area
            .draw_text(
                name,
                &style(label_px, text_color(i)).pos(Pos::new(hpos, VPos::Center)),
                (ax - ox, ay - oy),
            )
            .map_err(derr)?;
    }

    if !points.is_empty() {
        // Legend in the corner that holds no point or label.
        let corners = [
            SeriesLabelPosition::UpperRight,
            SeriesLabelPosition::UpperLeft,
            SeriesLabelPosition::LowerRight,
            SeriesLabelPosition::LowerLeft,
        ];
        let widest = points
            .iter()
            .map(|p| {
                chart_area
                    .estimate_text_size(p.1, &style(20.0, BLACK))
                    .map(|s| s.0 as i32)
                    .unwrap_or(100)
            })
            .max()
            .unwrap_or(100);
        let lw = widest + 70;
        let lh = points.len() as i32 * 30 + 30;
        let free = |pos: &SeriesLabelPosition| {
            let (x0, y0) = match pos {
                SeriesLabelPosition::UpperRight => (prx.end - lw, pry.start),
                SeriesLabelPosition::UpperLeft => (prx.start, pry.start),
                SeriesLabelPosition::LowerRight => (prx.end - lw, pry.end - lh),
                _ => (prx.start, pry.end - lh),
            };
            let (x1, y1) = (x0 + lw, y0 + lh);
            !pix.iter()
                .any(|&(px, py)| px + 12 > x0 && px - 12 < x1 && py + 12 > y0 && py - 12 < y1)
                && !placed
                    .iter()
                    .any(|&(a0, b0, a1, b1)| a0 < x1 && x0 < a1 && b0 < y1 && y0 < b1)
        };
        let pos = corners
            .iter()
            .find(|p| free(p))
            .cloned()
            .unwrap_or(SeriesLabelPosition::UpperRight);
        chart
            .configure_series_labels()
            .position(pos)
            .margin(12)
            .legend_area_size(30)
            .label_font(style(20.0, BLACK))
            .background_style(WHITE.mix(0.92))
            .border_style(RGBColor(170, 170, 170))
            .draw()
            .map_err(derr)?;
    }

    let mut lines = vec![
        "Each point is one strategy: mean infrastructure cost per deploy (x) vs 95th percentile of failed requests (y)."
            .to_string(),
        "Lower-left is cheaper and safer.".to_string(),
    ];
    if ya.log {
        lines[1].push_str(" y: log scale (values span more than two decades)");
        if ya.zero_floor {
            lines[1].push_str("; p95 = 0 drawn at the axis floor (labelled 0)");
        }
        lines[1].push('.');
    }
    if !skipped.is_empty() {
        lines[1].push_str(&format!(
            " Not shown (no finite value): {}.",
            skipped.join(", ")
        ));
    }
    draw_notes(&notes, &lines)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        std::env::temp_dir().join(format!(
            "cutover-plots-{tag}-{}-{nanos}",
            std::process::id()
        ))
    }

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
                        let f =
                            (scale * (0.2 + 1.6 * rng.next()) * (rng.next() * 2.0).exp()).round();
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

    fn check_files(dir: &Path, input: &PlotInput, paths: &[PathBuf]) {
        assert_eq!(paths.len(), 8);
        for desc in PLOT_DESCRIPTIONS {
            let png = dir.join(format!("{}.png", desc.stem));
            let svg = dir.join(format!("{}.svg", desc.stem));
            assert!(paths.contains(&png) && paths.contains(&svg));
            let bytes = std::fs::read(&png).unwrap();
            assert!(!bytes.is_empty());
            let expected = if desc.stem == "timeline" {
                timeline_size(input.timelines.len())
            } else {
                (WIDTH, HEIGHT)
            };
            assert_eq!(png_dims(&bytes), expected, "{}", png.display());
            let text = std::fs::read_to_string(&svg).unwrap();
            let head = text.trim_start();
            assert!(
                head.starts_with("<svg") || head.starts_with("<?xml"),
                "{}",
                svg.display()
            );
            assert!(text.contains("</svg>"));
            assert!(
                text.contains(desc.title),
                "{} lacks its title",
                svg.display()
            );
        }
    }

    #[test]
    fn writes_all_plots_for_synthetic_input() {
        let dir = temp_dir("synthetic");
        let input = synthetic_input();
        let paths = write_plots(&dir, &input, &[PlotFormat::Png, PlotFormat::Svg]).unwrap();
        check_files(&dir, &input, &paths);
        if std::env::var_os("CUTOVER_KEEP_PLOTS").is_some() {
            eprintln!("plots kept in {}", dir.display());
        } else {
            std::fs::remove_dir_all(&dir).ok();
        }
    }

    #[test]
    fn edge_cases_still_write_valid_files() {
        let inputs = [
            edge_input(),
            PlotInput {
                scenario_name: String::new(),
                series: vec![],
                timelines: vec![],
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
            },
        ];
        for (k, input) in inputs.iter().enumerate() {
            let dir = temp_dir(&format!("edge{k}"));
            let paths = write_plots(
                &dir,
                input,
                &[PlotFormat::Svg, PlotFormat::Png, PlotFormat::Png],
            )
            .unwrap();
            check_files(&dir, input, &paths);
            if std::env::var_os("CUTOVER_KEEP_PLOTS").is_some() {
                eprintln!("plots kept in {}", dir.display());
            } else {
                std::fs::remove_dir_all(&dir).ok();
            }
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
    fn number_labels() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(12.5), "12.5");
        assert_eq!(fmt_num(950.0), "950");
        assert_eq!(fmt_num(2500.0), "2500");
        assert_eq!(fmt_num(35_000.0), "35k");
        assert_eq!(fmt_num(2_500_000.0), "2.5M");
        assert_eq!(fmt_num(f64::NAN), "?");
    }

    #[test]
    fn describe_plot_knows_all_stems() {
        for stem in ["timeline", "blast_radius", "cost_vs_risk", "rollback_time"] {
            assert_eq!(describe_plot(stem).unwrap().stem, stem);
        }
        assert!(describe_plot("nope").is_none());
        assert_eq!(PlotKind::CostVsRisk.description().stem, "cost_vs_risk");
    }

    #[test]
    fn font_registration_is_idempotent() {
        ensure_font_registered().unwrap();
        ensure_font_registered().unwrap();
    }
}
