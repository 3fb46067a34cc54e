//! Box plots: blast radius (failed requests, users affected) and rollback time.

use super::*;

/// Draws one box-plot panel; returns the value axis used.
pub(super) fn draw_box_panel<DB: DrawingBackend>(
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

pub(super) const BOX_LEGEND: &str = "Box: 25th–75th percentile · black bar: median · whiskers: 5th–95th percentile · circles: min and max.";

pub(super) fn draw_blast_radius<DB: DrawingBackend>(
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

pub(super) fn draw_rollback_time<DB: DrawingBackend>(
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
