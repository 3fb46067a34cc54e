//! timeline: the share of traffic on the new version over one defective
//! release, one panel per strategy, with detection, decision and mitigation marked.

use super::*;

pub(super) fn draw_timeline<DB: DrawingBackend>(
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
        mesh.x_label_formatter(&|v| tick_label(*v))
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

pub(super) fn draw_timeline_legend<DB: DrawingBackend>(
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
