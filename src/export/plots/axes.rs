//! Numbers and axes: quantiles, box statistics, tick steps, value axes that
//! switch to a log scale when the spread needs it, and time units.

use super::*;

/// Finite `Some` values, sorted ascending.
pub(super) fn finite_sorted(values: &[Option<f64>]) -> Vec<f64> {
    let mut v: Vec<f64> = values
        .iter()
        .filter_map(|x| x.filter(|x| x.is_finite()))
        .collect();
    v.sort_by(f64::total_cmp);
    v
}

// Quantiles are the summary statistics' own (type 7), so a box's p95 is the
// p95 summary.csv reports.
pub(super) use crate::stats::quantile;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BoxStats {
    pub(super) n: usize,
    pub(super) min: f64,
    pub(super) p5: f64,
    pub(super) p25: f64,
    pub(super) p50: f64,
    pub(super) p75: f64,
    pub(super) p95: f64,
    pub(super) max: f64,
}

pub(super) fn box_stats(sorted: &[f64]) -> Option<BoxStats> {
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

pub(super) fn nice_step(raw: f64) -> f64 {
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
pub(super) struct ValueAxis {
    pub(super) log: bool,
    /// Log axis only: some values were <= 0 and are drawn at `lo` (labelled "0").
    pub(super) zero_floor: bool,
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) minor: Vec<f64>,
}

impl ValueAxis {
    /// Linear when the positive values span at most two decades, log10 otherwise.
    pub(super) fn auto(values: &[f64], headroom: f64) -> Self {
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
    pub(super) fn linear(values: &[f64], headroom: f64) -> Self {
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
    pub(super) fn tight(lo: f64, hi: f64) -> Self {
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

    pub(super) fn log(finite: &[f64], pos_min: f64, max: f64, headroom: f64) -> Self {
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
    pub(super) fn t(&self, v: f64) -> f64 {
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
    pub(super) fn label(&self, t: f64) -> String {
        if self.log {
            if self.zero_floor && (t - self.lo).abs() < 1e-9 {
                "0".to_string()
            } else {
                tick_label(10f64.powf(t))
            }
        } else {
            tick_label(t)
        }
    }

    pub(super) fn mid(&self) -> f64 {
        (self.lo + self.hi) / 2.0
    }
}

/// Linear f64 coordinate with explicit bold (labelled) and light tick positions.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ticked {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) bold: Vec<f64>,
    pub(super) light: Vec<f64>,
}

impl Ticked {
    pub(super) fn new(lo: f64, hi: f64, bold: Vec<f64>, light: Vec<f64>) -> Self {
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

    pub(super) fn from_axis(ax: &ValueAxis) -> Self {
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
pub(super) fn time_unit(span_s: f64) -> (f64, &'static str) {
    if span_s > 2.0 * 3600.0 {
        (3600.0, "h")
    } else if span_s > 300.0 {
        (60.0, "min")
    } else {
        (1.0, "s")
    }
}
