//! cost_vs_risk: infrastructure cost per deploy against p95 failed requests.

use super::*;

pub(super) fn draw_cost_vs_risk<DB: DrawingBackend>(
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
        .x_label_formatter(&|v| tick_label(*v))
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
        draw_legend(&mut chart, pos)?;
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
