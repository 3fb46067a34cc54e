//! The narrated trace of a run: one line per event that matters, stamped
//! with the clock and the state of the fleet and router right after it. The
//! text is formatted only when a trace is kept.

use crate::engine::SimTime;
use crate::vocab::{Route, Version};

/// A moment of a run that plots and narrations mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    /// A judge or smoke test found the defect.
    Detected,
    RollbackDecided,
    /// The new version serves under 1% of traffic after a rollback decision.
    Mitigated,
}

/// One line of a narrated run.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEvent {
    pub at: SimTime,
    pub what: String,
    pub moment: Option<Moment>,
    pub old_ready: u32,
    pub new_ready: u32,
    pub share_new: f64,
}

/// The trace being kept, or none.
#[derive(Debug, Default)]
pub struct Narration {
    events: Option<Vec<TraceEvent>>,
}

/// The state a line is stamped with.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub at: SimTime,
    pub old_ready: u32,
    pub new_ready: u32,
    pub share_new: f64,
}

impl Narration {
    pub fn kept() -> Narration {
        Narration {
            events: Some(Vec::new()),
        }
    }

    pub fn is_kept(&self) -> bool {
        self.events.is_some()
    }

    pub fn events(&self) -> &[TraceEvent] {
        self.events.as_deref().unwrap_or(&[])
    }

    pub fn push(&mut self, stamp: Stamp, what: String, moment: Option<Moment>) {
        if let Some(events) = self.events.as_mut() {
            events.push(TraceEvent {
                at: stamp.at,
                what,
                moment,
                old_ready: stamp.old_ready,
                new_ready: stamp.new_ready,
                share_new: stamp.share_new,
            });
        }
    }
}

pub fn version_name(v: Version) -> &'static str {
    match v {
        Version::Old => "old version",
        Version::New => "new version",
    }
}

pub fn route_text(route: Route) -> String {
    match route {
        Route::ByReadyInstances => "spread over ready instances of both versions".into(),
        Route::Weight(w) => format!("{:.0}% of requests to the new version", w * 100.0),
        Route::All(v) => format!("every request to the {}", version_name(v)),
    }
}
