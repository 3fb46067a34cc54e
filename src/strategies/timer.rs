//! A strategy's timer, with a generation: starting a timer or cancelling
//! makes every earlier one stale, so a pause overtaken by a rollback fires
//! into nothing instead of advancing the release.

use super::Action;
use crate::engine::SimTime;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timer {
    generation: u32,
}

/// Tags of a second timer start here, so its tags never meet the first's.
const SECOND: u32 = 1 << 31;

impl Timer {
    /// A timer whose tags never equal those of a `Timer::default()`: a
    /// strategy's second timer, running beside the first.
    pub fn second() -> Timer {
        Timer { generation: SECOND }
    }

    /// The action that starts a timer of `after`; earlier timers go stale.
    pub fn start(&mut self, after: SimTime) -> Action {
        self.generation += 1;
        Action::Timer {
            after,
            tag: self.generation,
        }
    }

    /// The action that waits for a person instead of a duration; their
    /// answer fires as this timer. Earlier timers go stale.
    pub fn person(&mut self) -> Action {
        self.generation += 1;
        Action::AwaitPerson {
            tag: self.generation,
        }
    }

    /// Makes every timer started so far stale.
    pub fn cancel(&mut self) {
        self.generation += 1;
    }

    /// Whether the timer that fired with `tag` is the latest one started.
    pub fn fired(&self, tag: u32) -> bool {
        tag == self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_timer_fires() {
        let mut t = Timer::default();
        let Action::Timer { tag: first, .. } = t.start(SimTime(5)) else {
            panic!("a timer action")
        };
        assert!(t.fired(first));
        let Action::Timer { tag: second, .. } = t.start(SimTime(5)) else {
            panic!("a timer action")
        };
        assert!(!t.fired(first) && t.fired(second));
        t.cancel();
        assert!(!t.fired(second));
    }
}
