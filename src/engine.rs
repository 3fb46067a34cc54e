//! The discrete-event engine: integer simulated time, an event queue ordered by
//! (time, insertion sequence), and named random streams.
//!
//! Time is an integer number of milliseconds so that two events scheduled for
//! "the same moment" really are simultaneous and their order is decided only by
//! the order in which they were scheduled: the same seed then always gives the
//! same run, whatever the platform's floating point does.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::ops::{Add, Sub};

/// Simulated time in whole milliseconds since the deployment started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimTime(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    /// Rounds a duration in seconds to the nearest millisecond; negative and
    /// non-finite inputs become zero (validation rejects them before this).
    pub fn from_secs_f64(seconds: f64) -> SimTime {
        if seconds.is_finite() && seconds > 0.0 {
            SimTime((seconds * 1000.0).round() as u64)
        } else {
            SimTime(0)
        }
    }

    pub fn from_secs(seconds: u64) -> SimTime {
        SimTime(seconds * 1000)
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }

    pub fn saturating_sub(self, other: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(other.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(rhs.0))
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        self.saturating_sub(rhs)
    }
}

impl fmt::Display for SimTime {
    /// `h:mm:ss.mmm`, the clock a narrated trace shows.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 % 1000;
        let total_s = self.0 / 1000;
        write!(
            f,
            "{}:{:02}:{:02}.{:03}",
            total_s / 3600,
            (total_s / 60) % 60,
            total_s % 60,
            ms
        )
    }
}

/// Events popped in a row without the clock moving before the queue calls the
/// run stalled. A run whose time stands still never ends: an event that
/// reschedules itself after a zero delay fires forever at the same
/// millisecond. Legitimate bursts are tiny beside this: every instance of the
/// largest allowed fleet (10,000) starting, becoming available and going
/// away at one moment is tens of thousands of events. 10,000,000 pops of a
/// bare queue take a few hundredths of a second, and of a simulation's
/// events seconds at most, so a real run is never cut and a stuck one ends.
pub const MAX_EVENTS_AT_ONE_TIME: u64 = 10_000_000;

/// A min-queue of events. Ties in time are broken by insertion order, so the
/// run never depends on how the heap happens to arrange equal keys.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(SimTime, u64, Slot<E>)>>,
    next_sequence: u64,
    now: SimTime,
    /// Events popped since the clock last moved forward.
    popped_at_now: u64,
    stall_limit: u64,
    stalled: bool,
}

/// Wraps the payload so the heap orders by (time, sequence) only.
#[derive(Debug)]
struct Slot<E>(E);
impl<E> PartialEq for Slot<E> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl<E> Eq for Slot<E> {}
impl<E> PartialOrd for Slot<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Slot<E> {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_stall_limit(MAX_EVENTS_AT_ONE_TIME)
    }

    /// A queue that stalls after `limit` events at one time instead of
    /// [`MAX_EVENTS_AT_ONE_TIME`] (for tests of the guard itself).
    pub fn with_stall_limit(limit: u64) -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_sequence: 0,
            now: SimTime::ZERO,
            popped_at_now: 0,
            stall_limit: limit,
            stalled: false,
        }
    }

    /// True once more than the stall limit of events were popped without the
    /// clock advancing; `pop` then returns None for good. A run that sees
    /// it did not finish: it must report an internal error, not an outcome.
    pub fn stalled(&self) -> bool {
        self.stalled
    }

    /// The time of the event popped last.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`; a time in the past is moved to now, so the
    /// clock never runs backwards.
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let at = at.max(self.now);
        self.heap
            .push(Reverse((at, self.next_sequence, Slot(event))));
        self.next_sequence += 1;
    }

    pub fn schedule_in(&mut self, delay: SimTime, event: E) {
        self.schedule(self.now + delay, event);
    }

    /// The earliest event, or None when the queue is empty or stalled.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.stalled {
            return None;
        }
        let Reverse((at, _, _)) = self.heap.peek()?;
        if *at > self.now {
            self.popped_at_now = 0;
        }
        if self.popped_at_now >= self.stall_limit {
            // The event stays queued: the run is cut, not silently shortened.
            self.stalled = true;
            return None;
        }
        let Reverse((at, _, Slot(event))) = self.heap.pop()?;
        self.popped_at_now += 1;
        self.now = at;
        Some((at, event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

/// A component's handle on the queue: it schedules its own events, which
/// the queue stores as the simulation's event type (`G: From<E>`), so every
/// component's events share one order of (time, insertion sequence).
pub trait Schedule<E> {
    fn now(&self) -> SimTime;
    fn at(&mut self, at: SimTime, event: E);
    fn after(&mut self, delay: SimTime, event: E) {
        let at = self.now() + delay;
        self.at(at, event);
    }
}

impl<E, G: From<E>> Schedule<E> for EventQueue<G> {
    fn now(&self) -> SimTime {
        EventQueue::now(self)
    }
    fn at(&mut self, at: SimTime, event: E) {
        self.schedule(at, G::from(event));
    }
}

/// What a random stream is used for. Each purpose has its own generator, so a
/// change in how many numbers one purpose draws never shifts another's, and
/// every strategy in a replication faces the same release (common random numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    Release = 1,
    Startup = 2,
    Traffic = 3,
    Monitor = 4,
    Human = 5,
    /// Whether a release changes the schema, and how long its migration and recovery take.
    Schema = 6,
    /// The database's own draws (writes a recovery would lose).
    Database = 7,
    /// Synthetic load an analysis drives against the preview environment.
    Preview = 8,
    /// People answering a pause, an approval or a reported deadline.
    Approval = 9,
    /// People noticing a defect no judge caught.
    Noticed = 10,
}

/// A ChaCha8 generator keyed by (seed, replication, purpose). ChaCha8 is
/// specified, portable and stable across rand versions, unlike `StdRng`.
pub fn stream(seed: u64, replication: u64, purpose: Purpose) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[0..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&replication.to_le_bytes());
    key[16..24].copy_from_slice(&(purpose as u64).to_le_bytes());
    key[24..32].copy_from_slice(b"cutover\0");
    ChaCha8Rng::from_seed(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn same_time_events_keep_insertion_order() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(5), "b");
        q.schedule(SimTime(1), "a");
        q.schedule(SimTime(5), "c");
        q.schedule(SimTime(5), "d");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    #[test]
    fn time_never_runs_backwards() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(100), 0);
        let (t, _) = q.pop().unwrap();
        assert_eq!(t, SimTime(100));
        // Scheduling in the past lands at "now", never before it.
        q.schedule(SimTime(10), 1);
        q.schedule(SimTime(150), 2);
        let mut last = q.now();
        while let Some((t, _)) = q.pop() {
            assert!(t >= last, "clock went from {last:?} back to {t:?}");
            last = t;
        }
        assert_eq!(last, SimTime(150));
    }

    #[test]
    fn an_event_that_reschedules_itself_at_now_stalls_the_queue() {
        let mut q = EventQueue::with_stall_limit(1_000);
        q.schedule(SimTime(7), ());
        let mut popped = 0u64;
        // What a monitor with a 0 ms interval does: fire, reschedule after 0.
        while q.pop().is_some() {
            popped += 1;
            q.schedule_in(SimTime::ZERO, ());
            assert!(popped <= 1_000, "pop kept returning events past the limit");
        }
        assert!(q.stalled());
        assert_eq!(popped, 1_000);
        assert_eq!(q.now(), SimTime(7));
        // Stalled for good: the pending event is kept but never returned.
        assert_eq!(q.len(), 1);
        assert!(q.pop().is_none());
    }

    #[test]
    fn many_events_at_one_time_below_the_limit_do_not_stall() {
        let mut q = EventQueue::with_stall_limit(1_000);
        // Exactly the limit at t = 0, then the limit again at every later time:
        // the count starts over whenever the clock moves.
        for t in 0..5u64 {
            for _ in 0..1_000 {
                q.schedule(SimTime(t), t);
            }
        }
        let mut popped = 0;
        while q.pop().is_some() {
            popped += 1;
        }
        assert_eq!(popped, 5_000);
        assert!(!q.stalled());
    }

    #[test]
    fn the_default_queue_stops_a_zero_delay_loop_at_the_named_limit() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(1), ());
        let mut popped = 0u64;
        while q.pop().is_some() {
            popped += 1;
            q.schedule_in(SimTime::ZERO, ());
            assert!(
                popped <= MAX_EVENTS_AT_ONE_TIME,
                "pop kept returning events"
            );
        }
        assert!(q.stalled());
        assert_eq!(popped, MAX_EVENTS_AT_ONE_TIME);
    }

    #[test]
    fn streams_differ_by_purpose_and_replication_and_repeat_by_key() {
        let a: u64 = stream(1, 0, Purpose::Release).random();
        let b: u64 = stream(1, 0, Purpose::Traffic).random();
        let c: u64 = stream(1, 1, Purpose::Release).random();
        let a2: u64 = stream(1, 0, Purpose::Release).random();
        assert_eq!(a, a2);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn clock_display() {
        assert_eq!(SimTime(3_723_004).to_string(), "1:02:03.004");
    }
}
