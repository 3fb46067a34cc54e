//! The monitor: every interval it sees counts of requests and errors per
//! version (drawn by the traffic model, never the true rate), asks the
//! metrics backend for them (which may fail), and hands them to the judge
//! (`world::judge`). When the judge fails the release it decides: roll back
//! at once, or page a person who decides after their response time. It owns
//! its random streams (query failures, human response), so its draws never
//! shift another component's.

use crate::engine::{Schedule, SimTime};
use crate::stats::Spread;
use crate::world::judge::{IntervalCounts, JudgeSpec, JudgeState, Verdict};
use crate::world::traffic::VersionSpan;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Who rolls back when the judge fails: the tool at once, or a person paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackBy {
    Automatic,
    Manual,
}

#[derive(Debug, Clone)]
pub struct MonitorParams {
    /// The judge; None when monitoring is off.
    pub judge: Option<JudgeSpec>,
    pub interval: SimTime,
    /// Probability that an interval's metric query fails.
    pub query_failure_rate: f64,
    pub rollback: RollbackBy,
    /// Time from the page to the person deciding to roll back.
    pub human_response_s: Spread,
}

/// The monitor's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorEvent {
    /// The end of a monitoring interval.
    Tick,
    /// The paged person decides to roll back.
    HumanDecision,
}

/// What the monitor concluded at the end of an interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickReport {
    /// The metric query failed: no measurement this interval.
    pub query_failed: bool,
    /// The judge's verdict on the interval, with the counts it judged; None
    /// when it did not judge (no judge, a decision already taken, or paged).
    pub verdict: Option<(Verdict, IntervalCounts)>,
    pub decision: Option<Decision>,
}

/// What the monitor decided after a failed analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Roll back now (automatic rollback).
    RollBack,
    /// A person was paged; their decision arrives as [`MonitorEvent::HumanDecision`].
    Paged,
}

pub struct Monitor {
    judge: Option<JudgeState>,
    interval: SimTime,
    query_failure_rate: f64,
    rollback: RollbackBy,
    human_response_s: Spread,
    counts: IntervalCounts,
    paged: bool,
    monitor_rng: ChaCha8Rng,
    human_rng: ChaCha8Rng,
}

impl Monitor {
    /// `p.judge` has passed validation with the scenario.
    pub fn new(p: MonitorParams, monitor_rng: ChaCha8Rng, human_rng: ChaCha8Rng) -> Monitor {
        Monitor {
            judge: p.judge.map(JudgeState::new),
            interval: p.interval,
            query_failure_rate: p.query_failure_rate,
            rollback: p.rollback,
            human_response_s: p.human_response_s,
            counts: IntervalCounts::default(),
            paged: false,
            monitor_rng,
            human_rng,
        }
    }

    /// Schedules the first interval's end, when there is a judge.
    pub fn start(&self, q: &mut impl Schedule<MonitorEvent>) {
        if self.judge.is_some() {
            q.at(self.interval, MonitorEvent::Tick);
        }
    }

    /// Adds one span's traffic to the interval's counts: the new version is
    /// the judge's canary arm, the old version its baseline.
    pub fn add_span(&mut self, old: &VersionSpan, new: &VersionSpan) {
        self.counts.canary_requests += new.requests();
        self.counts.canary_errors += new.errors();
        self.counts.baseline_requests += old.requests();
        self.counts.baseline_errors += old.errors();
    }

    /// Ends an interval: queries the metrics, lets the judge rule unless a
    /// rollback is already `decided` or a person paged, and decides. None
    /// when the release is no longer observed (the monitor then stops).
    /// The caller schedules the next interval with [`Monitor::next_interval`]
    /// once it has acted on the report.
    pub fn tick(
        &mut self,
        observing: bool,
        decided: bool,
        q: &mut impl Schedule<MonitorEvent>,
    ) -> Option<TickReport> {
        let counts = std::mem::take(&mut self.counts);
        if !observing {
            return None;
        }
        // One draw per interval, used or not, so the stream stays aligned.
        let query_failed = self.monitor_rng.random::<f64>() < self.query_failure_rate;
        let mut report = TickReport {
            query_failed,
            verdict: None,
            decision: None,
        };
        if decided || self.paged {
            return Some(report);
        }
        let Some(judge) = self.judge.as_mut() else {
            return Some(report);
        };
        let verdict = if query_failed {
            judge.observe_query_error()
        } else {
            judge.observe(&counts)
        };
        report.verdict = Some((verdict, counts));
        if verdict == Verdict::Failed {
            report.decision = Some(match self.rollback {
                RollbackBy::Automatic => Decision::RollBack,
                RollbackBy::Manual => {
                    self.paged = true;
                    let response = self.human_response_s.sample(&mut self.human_rng);
                    q.after(
                        SimTime::from_secs_f64(response),
                        MonitorEvent::HumanDecision,
                    );
                    Decision::Paged
                }
            });
        }
        Some(report)
    }

    pub fn next_interval(&self, q: &mut impl Schedule<MonitorEvent>) {
        q.after(self.interval, MonitorEvent::Tick);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EventQueue, Purpose, stream};

    fn monitor(rollback: RollbackBy, query_failure_rate: f64) -> Monitor {
        Monitor::new(
            MonitorParams {
                judge: Some(JudgeSpec::Consecutive {
                    max_error_rate: 0.05,
                    consecutive: 1,
                }),
                interval: SimTime::from_secs(60),
                query_failure_rate,
                rollback,
                human_response_s: Spread::fixed(300.0),
            },
            stream(1, 0, Purpose::Monitor),
            stream(1, 0, Purpose::Human),
        )
    }

    fn span(served: u64, defect_errors: u64) -> VersionSpan {
        VersionSpan {
            served,
            dropped: 0,
            schema_errors: 0,
            defect_errors,
            baseline_errors: 0,
        }
    }

    #[test]
    fn a_failed_interval_rolls_back_at_once_when_automatic() {
        let mut m = monitor(RollbackBy::Automatic, 0.0);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.start(&mut q);
        assert_eq!(q.pop(), Some((SimTime::from_secs(60), MonitorEvent::Tick)));
        m.add_span(&span(1000, 0), &span(100, 10));
        let report = m.tick(true, false, &mut q).expect("observing");
        let (verdict, counts) = report.verdict.expect("judged");
        assert_eq!(verdict, Verdict::Failed);
        assert_eq!((counts.canary_requests, counts.canary_errors), (100, 10));
        assert_eq!(counts.baseline_requests, 1000);
        assert_eq!(report.decision, Some(Decision::RollBack));
        assert!(q.is_empty(), "nobody is paged");
    }

    #[test]
    fn a_failed_interval_pages_a_person_when_manual() {
        let mut m = monitor(RollbackBy::Manual, 0.0);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.add_span(&span(1000, 0), &span(100, 10));
        let report = m.tick(true, false, &mut q).unwrap();
        assert_eq!(report.decision, Some(Decision::Paged));
        assert_eq!(
            q.pop(),
            Some((SimTime::from_secs(300), MonitorEvent::HumanDecision))
        );
        // While the page is out, later intervals are not judged again.
        m.add_span(&span(1000, 0), &span(100, 10));
        assert_eq!(m.tick(true, false, &mut q).unwrap().verdict, None);
    }

    #[test]
    fn a_healthy_interval_decides_nothing_and_counts_start_afresh() {
        let mut m = monitor(RollbackBy::Automatic, 0.0);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.add_span(&span(1000, 0), &span(100, 1));
        let report = m.tick(true, false, &mut q).unwrap();
        assert_eq!(report.verdict.map(|v| v.0), Some(Verdict::Healthy));
        assert_eq!(report.decision, None);
        let next = m.tick(true, false, &mut q).unwrap();
        assert_eq!(next.verdict.map(|v| v.1), Some(IntervalCounts::default()));
    }

    #[test]
    fn failed_queries_and_ended_observation() {
        let mut m = monitor(RollbackBy::Automatic, 1.0);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        let report = m.tick(true, true, &mut q).unwrap();
        assert!(report.query_failed);
        assert_eq!(report.verdict, None, "a rollback is already decided");
        assert_eq!(m.tick(false, false, &mut q), None, "observation ended");
        m.next_interval(&mut q);
        assert_eq!(q.pop(), Some((SimTime::from_secs(60), MonitorEvent::Tick)));
    }
}
