//! cost_vs_downtime: each strategy's total monthly cost against the price of
//! a minute of downtime, with the points where the cheapest strategy changes.

use super::*;
use crate::breakeven;

/// Points drawn per line (log-spaced over the x range).
const SAMPLES: usize = 240;

/// The x range: whole decades from a decade below the smallest point of
/// interest (the scenario's value and every change of the cheapest line
/// within six decades of it) to a decade above the largest.
fn x_range(curves: &CostCurves) -> (f64, f64) {
    let now = if curves.now_usd_per_minute > 0.0 {
        curves.now_usd_per_minute
    } else {
        1.0
    };
    let points = crossings(curves, now / 1e6, now * 1e6);
    let lo = points.iter().map(|c| c.0).fold(now, f64::min) / 10.0;
    let hi = points.iter().map(|c| c.0).fold(now, f64::max) * 10.0;
    (
        10f64.powf(lo.log10().floor()).max(1e-4),
        10f64.powf(hi.log10().ceil()).min(1e9),
    )
}

/// Where the cheapest line changes between `lo` and `hi`: (x, total, new
/// cheapest index into `curves.lines`), walking up from `lo` with the
/// break-evens' own crossing rule.
pub(super) fn crossings(curves: &CostCurves, lo: f64, hi: f64) -> Vec<(f64, f64, usize)> {
    let at = |x: f64| -> Vec<breakeven::Line> {
        (0..curves.lines.len())
            .map(|i| (i, curves.total(i, x), curves.lines[i].slope))
            .collect()
    };
    let mut out = Vec::new();
    let (Some(mut w), true) = (breakeven::cheapest(&at(lo)), lo > 0.0 && hi > lo) else {
        return out;
    };
    let mut x = lo;
    // Each crossing hands over to a line with a smaller slope, so there are
    // at most as many as lines.
    for _ in 0..curves.lines.len() {
        let lines = at(x);
        let Some(c) = breakeven::crossing_above(&lines, w, x, hi) else {
            break;
        };
        x = c.value;
        out.push((x, curves.total(c.next, x), c.next));
        w = (c.next, curves.total(c.next, x), curves.lines[c.next].slope);
    }
    out
}

/// The parts of a polyline at or below `top`, each ending where it meets `top`.
pub(super) fn below(points: &[(f64, f64)], top: f64) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut run: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        let meet = |from: (f64, f64), to: (f64, f64)| {
            let f = (top - from.1) / (to.1 - from.1);
            (from.0 + f * (to.0 - from.0), top)
        };
        match (y0 <= top, y1 <= top) {
            (true, true) => {
                if run.is_empty() {
                    run.push((x0, y0));
                }
                run.push((x1, y1));
            }
            (true, false) => {
                if run.is_empty() {
                    run.push((x0, y0));
                }
                run.push(meet((x0, y0), (x1, y1)));
                runs.push(std::mem::take(&mut run));
            }
            (false, true) => {
                run.push(meet((x1, y1), (x0, y0)));
                run.push((x1, y1));
            }
            (false, false) => {}
        }
    }
    if run.len() > 1 {
        runs.push(run);
    }
    runs
}

pub(super) fn draw_cost_vs_downtime<DB: DrawingBackend>(
    body: &DrawingArea<DB, Shift>,
    input: &PlotInput,
) -> Result<(), PlotError> {
    let curves = &input.cost_curves;
    if curves.lines.is_empty() {
        return centered_message(body, "no strategy ships, so there is no cost to compare");
    }
    let (_, h) = body.dim_in_pixel();
    let (chart_area, notes) = body.split_vertically(h as i32 - 64);
    let (lo, hi) = x_range(curves);
    let xs: Vec<f64> = (0..=SAMPLES)
        .map(|k| lo * (hi / lo).powf(k as f64 / SAMPLES as f64))
        .collect();
    let totals: Vec<Vec<f64>> = (0..curves.lines.len())
        .map(|i| xs.iter().map(|&x| curves.total(i, x)).collect())
        .collect();
    let xa = ValueAxis::log(&xs, lo, hi, 0.0);
    // Linear in money, up to twice the cheapest strategy's dearest point:
    // the decision lives near the bottom line, and a strategy far above it
    // leaves the chart (cut at the top) rather than squash the rest.
    let envelope_max = (0..xs.len())
        .map(|k| totals.iter().map(|t| t[k]).fold(f64::INFINITY, f64::min))
        .fold(0.0, f64::max);
    let top = 2.0 * envelope_max;
    let ya = ValueAxis::linear(&[0.0, top], 0.0);
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(20)
        .margin_right(40)
        .x_label_area_size(70)
        .y_label_area_size(120)
        .build_cartesian_2d(Ticked::from_axis(&xa), Ticked::from_axis(&ya))
        .map_err(derr)?;
    let y_desc = "expected total cost a month (USD)";
    chart
        .configure_mesh()
        .x_label_formatter(&|v| format!("${}", xa.label(*v)))
        .y_label_formatter(&|v| ya.label(*v))
        .x_desc("cost of a minute of downtime (USD, log scale)")
        .y_desc(y_desc)
        .label_style(style(TICK_PX, BLACK))
        .axis_desc_style(style(AXIS_DESC_PX, BLACK))
        .bold_line_style(GRID_BOLD)
        .light_line_style(GRID_LIGHT)
        .draw()
        .map_err(derr)?;

    for (i, line) in curves.lines.iter().enumerate() {
        let c = strategy_color(line.index);
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(&totals[i])
            .map(|(&x, &y)| (xa.t(x), y))
            .collect();
        for run in below(&points, ya.hi) {
            chart
                .draw_series(LineSeries::new(run, c.stroke_width(3)))
                .map_err(derr)?;
        }
        chart
            .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
            .map_err(derr)?
            .label(line.name.clone())
            .legend(move |(lx, ly)| {
                PathElement::new(vec![(lx, ly), (lx + 24, ly)], c.stroke_width(3))
            });
    }

    // The scenario's value: a dashed vertical line.
    let now = curves.now_usd_per_minute;
    if now >= lo && now <= hi {
        let x = xa.t(now);
        let (y0, y1) = (ya.lo, ya.hi);
        let segments = 40;
        chart
            .draw_series((0..segments).step_by(2).map(|k| {
                let a = y0 + (y1 - y0) * k as f64 / segments as f64;
                let b = y0 + (y1 - y0) * (k + 1) as f64 / segments as f64;
                PathElement::new(vec![(x, a), (x, b)], GREY_TEXT.stroke_width(2))
            }))
            .map_err(derr)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("scenario: {}", crate::format::dollars(now)),
                (x, y1),
                style(TICK_PX, GREY_TEXT).pos(Pos::new(HPos::Left, VPos::Top)),
            )))
            .map_err(derr)?;
    }

    // Where the cheapest strategy changes: a ringed point and its price.
    for (x, y, next) in crossings(curves, lo, hi) {
        let at = (xa.t(x), y);
        chart
            .draw_series([
                Circle::new(at, 9, WHITE.filled()),
                Circle::new(at, 9, BLACK.stroke_width(2)),
            ])
            .map_err(derr)?;
        chart
            .draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Text::new(
                        format!(
                            "{} → {}",
                            crate::format::dollars(x),
                            curves.lines[next].name
                        ),
                        (0, -16),
                        style(TICK_PX, BLACK).pos(Pos::new(HPos::Center, VPos::Bottom)),
                    ),
            ))
            .map_err(derr)?;
    }

    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

    let mut lines = vec![
        "Each line is one strategy's expected total a month as the price of downtime changes, every other input as in the scenario."
            .to_string(),
        "Circles: where the cheapest strategy changes (exact break-evens; breakeven.csv). Lines above twice the cheapest leave the top."
            .to_string(),
    ];
    if !curves.excluded.is_empty() {
        lines[1].push_str(&format!(
            " Not shown (does not ship): {}.",
            curves.excluded.join(", ")
        ));
    }
    draw_notes(&notes, &lines)
}
