//! One replication told as a story: the narrated timeline `cutover trace`
//! prints, its CSV form, and the [`Timeline`] the timeline plot draws (the
//! share on the new version, and the moments detection, rollback decision and
//! mitigation).
//!
//! The simulation tags the events that matter with a [`Moment`]: a judge or
//! smoke test finding the defect, the rollback decision, and mitigation. A
//! progress-deadline rollback is decided without anything being detected.

use crate::error::{Error, Result};
use crate::format::{exact_number, percent};
use crate::release::Release;
use crate::scenario::Scenario;
use crate::simulation::{Moment, TraceEvent};

/// Releases searched by [`find_release`] before giving up.
pub const SEARCH_LIMIT: u64 = 100_000;

/// The moments of a run the timeline plot marks, in seconds since the start.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// The monitor found the defect (the decision time when the monitor decided).
    pub detected_s: Option<f64>,
    pub rollback_decision_s: Option<f64>,
    pub mitigated_s: Option<f64>,
}

/// Finds detection, rollback decision and mitigation in a trace.
pub fn moments(trace: &[TraceEvent]) -> Moments {
    let first = |m: Moment| {
        trace
            .iter()
            .find(|e| e.moment == Some(m))
            .map(|e| e.at.as_secs_f64())
    };
    Moments {
        detected_s: first(Moment::Detected),
        rollback_decision_s: first(Moment::RollbackDecided),
        mitigated_s: first(Moment::Mitigated),
    }
}

/// The share of traffic on the new version as a step function: one
/// (time_s, share_new) point where the share changes (the last event at a
/// given instant wins), plus the last event so the line reaches the end.
pub fn share_points(trace: &[TraceEvent]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    for e in trace {
        let p = (e.at.as_secs_f64(), e.share_new);
        match points.last_mut() {
            Some(last) if last.0 == p.0 => last.1 = p.1,
            _ => points.push(p),
        }
    }
    let end = points.last().copied();
    let mut steps: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for p in points {
        match steps.last() {
            // The first point of a run of equal shares carries it.
            Some(prev) if prev.1 == p.1 => {}
            _ => steps.push(p),
        }
    }
    if let (Some(end), Some(last)) = (end, steps.last())
        && end.0 > last.0
    {
        steps.push(end);
    }
    steps
}

/// One strategy's run as the timeline plot draws it: the share of traffic on
/// the new version over time and the moments that matter.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    pub strategy: String,
    /// (time_s, share_new in 0..=1), step function: share holds until next point.
    pub points: Vec<(f64, f64)>,
    pub detected_s: Option<f64>,
    pub rollback_decision_s: Option<f64>,
    pub mitigated_s: Option<f64>,
}

/// The timeline of one strategy's trace.
pub fn timeline(strategy: &str, trace: &[TraceEvent]) -> Timeline {
    let m = moments(trace);
    Timeline {
        strategy: strategy.to_string(),
        points: share_points(trace),
        detected_s: m.detected_s,
        rollback_decision_s: m.rollback_decision_s,
        mitigated_s: m.mitigated_s,
    }
}

/// The narrated timeline: one line per event, clock time first, then what
/// happened and the state of the fleet and router right after it.
pub fn narrate(trace: &[TraceEvent]) -> String {
    let width = trace
        .iter()
        .map(|e| e.what.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for e in trace {
        let pad = width - e.what.chars().count();
        out.push_str(&format!(
            "{}  {}{}  ready old {:>3} new {:>3}  share on new {}\n",
            e.at,
            e.what,
            " ".repeat(pad),
            e.old_ready,
            e.new_ready,
            percent(e.share_new),
        ));
    }
    out
}

/// The trace as CSV: `time_s,event,old_ready,new_ready,share_new`.
pub fn csv(trace: &[TraceEvent]) -> Result<String> {
    let err = |e: &dyn std::fmt::Display| Error::Internal(format!("csv: {e}"));
    let mut w = ::csv::Writer::from_writer(Vec::new());
    w.write_record(["time_s", "event", "old_ready", "new_ready", "share_new"])
        .map_err(|e| err(&e))?;
    for e in trace {
        w.write_record([
            exact_number(e.at.as_secs_f64()),
            e.what.clone(),
            e.old_ready.to_string(),
            e.new_ready.to_string(),
            exact_number(e.share_new),
        ])
        .map_err(|e| err(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| err(&e))?;
    String::from_utf8(bytes).map_err(|e| err(&e))
}

/// The first replication at or after `from` whose drawn release is defective
/// (`defective = true`) or healthy (`false`), with that release.
pub fn find_release(
    scenario: &Scenario,
    seed: u64,
    from: u64,
    defective: bool,
) -> Result<(u64, Release)> {
    (from..from.saturating_add(SEARCH_LIMIT))
        .map(|r| (r, Release::draw(scenario, seed, r)))
        .find(|(_, release)| release.is_defective() == defective)
        .ok_or_else(|| {
            Error::Usage(format!(
                "no {} release in replications {from}..{} with seed {seed} \
                 (release.change_failure_rate is {})",
                if defective { "defective" } else { "healthy" },
                from.saturating_add(SEARCH_LIMIT),
                scenario.release.change_failure_rate,
            ))
        })
}

/// A short description of a release: "healthy" or "defective (traffic-only, error rate 4.9%)".
pub fn describe_release(release: &Release) -> String {
    match &release.defect {
        None => "healthy".into(),
        Some(d) => {
            let mut s = format!(
                "defective ({}, error rate {}",
                d.kind.name(),
                percent(d.error_rate)
            );
            if let Some(onset) = d.onset {
                s.push_str(&format!(", onset after {onset}"));
            }
            s.push(')');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    const ROLLBACK_DECIDED: &str = "rollback decided";
    const MITIGATED: &str = "new version serves under 1% of traffic";

    /// A trace event; the moment follows from the text as the simulation writes it.
    fn ev(at_ms: u64, what: &str, old: u32, new: u32, share: f64) -> TraceEvent {
        let moment = if what.contains("analysis failed") || what.contains("smoke tests fail") {
            Some(Moment::Detected)
        } else if what == ROLLBACK_DECIDED {
            Some(Moment::RollbackDecided)
        } else if what == MITIGATED {
            Some(Moment::Mitigated)
        } else {
            None
        };
        TraceEvent {
            at: SimTime(at_ms),
            what: what.into(),
            moment,
            old_ready: old,
            new_ready: new,
            share_new: share,
        }
    }

    fn sample() -> Vec<TraceEvent> {
        vec![
            ev(0, "deployment starts", 10, 0, 0.0),
            ev(0, "route Weight(0.05)", 10, 0, 0.05),
            ev(28_113, "scale New to 1", 10, 1, 0.05),
            ev(
                120_000,
                "error rate 4.20% over the threshold: analysis failed",
                10,
                1,
                0.05,
            ),
            ev(120_000, ROLLBACK_DECIDED, 10, 1, 0.05),
            ev(120_000, "route Weight(0.0)", 10, 1, 0.0),
            ev(120_000, MITIGATED, 10, 1, 0.0),
            ev(150_000, "rollback complete", 10, 0, 0.0),
        ]
    }

    #[test]
    fn moments_from_the_monitor() {
        let m = moments(&sample());
        assert_eq!(m.detected_s, Some(120.0));
        assert_eq!(m.rollback_decision_s, Some(120.0));
        assert_eq!(m.mitigated_s, Some(120.0));
    }

    #[test]
    fn a_manual_rollback_is_detected_before_it_is_decided() {
        let trace = vec![
            ev(0, "deployment starts", 10, 0, 0.0),
            ev(60_000, "analysis failed: error rate 9%", 10, 1, 0.1),
            ev(60_000, "alert pages the on-call engineer", 10, 1, 0.1),
            ev(400_000, "on-call engineer decides to roll back", 10, 1, 0.1),
            ev(400_000, ROLLBACK_DECIDED, 10, 1, 0.1),
        ];
        let m = moments(&trace);
        assert_eq!(m.detected_s, Some(60.0));
        assert_eq!(m.rollback_decision_s, Some(400.0));
    }

    #[test]
    fn a_progress_deadline_decision_is_not_a_detection() {
        let trace = vec![
            ev(0, "deployment starts", 10, 0, 0.0),
            ev(
                600_000,
                "progress deadline exceeded: new instances never became ready",
                10,
                0,
                0.0,
            ),
            ev(600_000, ROLLBACK_DECIDED, 10, 0, 0.0),
        ];
        let m = moments(&trace);
        assert_eq!(m.detected_s, None);
        assert_eq!(m.rollback_decision_s, Some(600.0));
        assert_eq!(m.mitigated_s, None);
        assert_eq!(moments(&[]), Moments::default());
    }

    #[test]
    fn share_points_are_a_step_function() {
        assert_eq!(
            share_points(&sample()),
            vec![(0.0, 0.05), (120.0, 0.0), (150.0, 0.0)]
        );
        assert!(share_points(&[]).is_empty());
        assert_eq!(share_points(&[ev(5, "x", 1, 0, 0.0)]), vec![(0.005, 0.0)]);
    }

    #[test]
    fn narration_has_one_aligned_line_per_event() {
        let text = narrate(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8);
        assert!(lines[2].starts_with("0:00:28.113  scale New to 1 "));
        assert!(lines[2].ends_with("ready old  10 new   1  share on new 5%"));
        let col = |l: &str| l.find("ready old").unwrap();
        assert!(lines.iter().all(|l| col(l) == col(lines[0])));
        assert_eq!(narrate(&[]), "");
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_event() {
        let text = csv(&sample()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "time_s,event,old_ready,new_ready,share_new");
        assert_eq!(lines[3], "28.113,scale New to 1,10,1,0.05");
        assert_eq!(lines.len(), 9);
    }
}
