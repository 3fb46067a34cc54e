//! Drawing helpers shared by the plots: titles, notes, messages, markers.

use super::*;

/// Draws the slide title centred at the top and returns the area below it.
pub(super) fn draw_title<DB: DrawingBackend>(
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
pub(super) fn fitted_style<DB: DrawingBackend>(
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

/// The series legend every plot draws: a white box at `pos`.
pub(super) fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    pos: SeriesLabelPosition,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .position(pos)
        .margin(12)
        .legend_area_size(30)
        .label_font(style(20.0, BLACK))
        .background_style(WHITE.mix(0.92))
        .border_style(RGBColor(170, 170, 170))
        .draw()
        .map_err(derr)
}

/// Grey explanatory lines at the top-left of `area`.
pub(super) fn draw_notes<DB: DrawingBackend>(
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

pub(super) fn centered_message<DB: DrawingBackend>(
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
pub(super) fn dash_segments(x0: i32, x1: i32, on: i32, off: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    let mut x = x0;
    while x < x1 {
        out.push((x, (x + on).min(x1)));
        x += on + off;
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MarkerKind {
    Detected,
    Decision,
    Mitigated,
}

impl MarkerKind {
    pub(super) const ALL: [MarkerKind; 3] = [
        MarkerKind::Detected,
        MarkerKind::Decision,
        MarkerKind::Mitigated,
    ];

    pub(super) fn label(self) -> &'static str {
        match self {
            MarkerKind::Detected => "defect detected",
            MarkerKind::Decision => "rollback decided",
            MarkerKind::Mitigated => "mitigated",
        }
    }

    pub(super) fn color(self) -> RGBColor {
        match self {
            MarkerKind::Detected => MARKER_DETECTED,
            MarkerKind::Decision => MARKER_DECISION,
            MarkerKind::Mitigated => MARKER_MITIGATED,
        }
    }

    pub(super) fn width(self) -> u32 {
        match self {
            MarkerKind::Detected => 2,
            MarkerKind::Decision => 3,
            MarkerKind::Mitigated => 4,
        }
    }

    /// (dash length, gap) in pixels; `None` = solid.
    pub(super) fn dash(self) -> Option<(i32, i32)> {
        match self {
            MarkerKind::Detected => Some((10, 6)),
            MarkerKind::Decision => Some((3, 5)),
            MarkerKind::Mitigated => None,
        }
    }

    pub(super) fn value(self, tl: &Timeline) -> Option<f64> {
        match self {
            MarkerKind::Detected => tl.detected_s,
            MarkerKind::Decision => tl.rollback_decision_s,
            MarkerKind::Mitigated => tl.mitigated_s,
        }
        .filter(|v| v.is_finite())
    }
}
