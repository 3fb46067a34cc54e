//! The monitor: it runs the analyses a strategy asks for. Each analysis run
//! measures every interval: a measurement at time t queries the request and
//! error counts per version over the query window ending at t minus the
//! metrics lag (Prometheus scrapes every 15–60 s and a query such as
//! `rate(errors[1m])` sees the last minute it has: `monitoring.query_window_s`
//! and `monitoring.metrics_lag_s`). The counts are drawn by the traffic
//! model, never the true rate. The query may fail; the judge
//! (`world::judge`) rules on the measurement. When the judge fails the
//! release it decides: roll back at once, or page a person who decides after
//! their response time. It owns its random streams (query failures, human
//! response, synthetic load), so its draws never shift another component's.
//!
//! A run measures users' traffic, or synthetic load it drives itself
//! against a new version that takes no user traffic yet (the preview
//! service of an Argo blue-green release).

use crate::engine::{Schedule, SimTime};
use crate::stats::{Spread, binomial, poisson};
use crate::vocab::AnalysisRun;
use crate::world::judge::{IntervalCounts, JudgeSpec, JudgeState, Verdict};
use crate::world::traffic::VersionSpan;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Who rolls back when the judge fails: the tool at once, or a person paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RollbackBy {
    Automatic,
    Manual,
}

#[derive(Debug, Clone)]
pub struct MonitorParams {
    /// The judge of the strategy's analysis runs; None when monitoring is off.
    pub analysis: Option<JudgeSpec>,
    /// The judge of the watch after promotion (the scenario's alert); None
    /// when monitoring is off.
    pub watch: Option<JudgeSpec>,
    pub interval: SimTime,
    /// Length of the window a measurement queries.
    pub query_window: SimTime,
    /// How far behind real time the newest queryable data is.
    pub metrics_lag: SimTime,
    /// Probability that an interval's metric query fails.
    pub query_failure_rate: f64,
    pub rollback: RollbackBy,
    /// Time from the page to the person deciding to roll back.
    pub human_response_s: Spread,
    /// Failure probability of a synthetic request to the new version.
    pub synthetic_error_rate: f64,
}

/// The monitor's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorEvent {
    /// A measurement of the run with this generation.
    Tick(u32),
    /// The edge of a query window: an event there makes the counts at that
    /// moment exact.
    Mark,
    /// The paged person decides to roll back.
    HumanDecision,
}

/// What the monitor concluded at a measurement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickReport {
    /// The metric query failed: no measurement this interval.
    pub query_failed: bool,
    /// The judge's verdict on the measurement, with the counts it judged;
    /// None when it did not judge (a decision already taken, or paged).
    pub verdict: Option<(Verdict, IntervalCounts)>,
    pub decision: Option<Decision>,
    /// The run took its `count` measurements without failing and ended.
    pub completed: bool,
    /// The run went Inconclusive (past its inconclusive limit) and ended:
    /// the release pauses for a person.
    pub inconclusive: bool,
}

/// What the monitor decided after a failed analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Roll back now (automatic rollback).
    RollBack,
    /// A person was paged; their decision arrives as [`MonitorEvent::HumanDecision`].
    Paged,
}

/// The run measuring now.
struct Run {
    judge: JudgeState,
    generation: u32,
    synthetic_rps: Option<f64>,
}

pub struct Monitor {
    analysis: Option<JudgeSpec>,
    watch: Option<JudgeSpec>,
    run: Option<Run>,
    generation: u32,
    interval: SimTime,
    query_window: SimTime,
    metrics_lag: SimTime,
    query_failure_rate: f64,
    rollback: RollbackBy,
    human_response_s: Spread,
    synthetic_error_rate: f64,
    /// Counts since t = 0, and their value at recent span ends (oldest first).
    total: IntervalCounts,
    history: VecDeque<(SimTime, IntervalCounts)>,
    paged: bool,
    monitor_rng: ChaCha8Rng,
    human_rng: ChaCha8Rng,
    synthetic_rng: ChaCha8Rng,
}

impl Monitor {
    /// `p`'s judges have passed validation with the scenario. `rngs` are the
    /// query-failure, human-response and synthetic-load streams.
    pub fn new(p: MonitorParams, rngs: [ChaCha8Rng; 3]) -> Monitor {
        let [monitor_rng, human_rng, synthetic_rng] = rngs;
        Monitor {
            analysis: p.analysis,
            watch: p.watch,
            run: None,
            generation: 0,
            interval: p.interval,
            query_window: p.query_window,
            metrics_lag: p.metrics_lag,
            query_failure_rate: p.query_failure_rate,
            rollback: p.rollback,
            human_response_s: p.human_response_s,
            synthetic_error_rate: p.synthetic_error_rate,
            total: IntervalCounts::default(),
            history: VecDeque::from([(SimTime::ZERO, IntervalCounts::default())]),
            paged: false,
            monitor_rng,
            human_rng,
            synthetic_rng,
        }
    }

    /// Starts an analysis run with the strategy's judge, replacing any run;
    /// false when monitoring is off.
    pub fn start_analysis(
        &mut self,
        run: AnalysisRun,
        now: SimTime,
        q: &mut impl Schedule<MonitorEvent>,
    ) -> bool {
        self.start(self.analysis, run, now, q)
    }

    /// Starts the watch after promotion (the scenario's alert on users' traffic).
    pub fn start_watch(&mut self, now: SimTime, q: &mut impl Schedule<MonitorEvent>) -> bool {
        self.start(self.watch, AnalysisRun::ON_USERS, now, q)
    }

    fn start(
        &mut self,
        judge: Option<JudgeSpec>,
        run: AnalysisRun,
        now: SimTime,
        q: &mut impl Schedule<MonitorEvent>,
    ) -> bool {
        self.stop();
        let Some(spec) = judge else {
            return false;
        };
        self.run = Some(Run {
            judge: JudgeState::new(spec),
            generation: self.generation,
            synthetic_rps: run.synthetic_rps,
        });
        self.schedule(now + run.initial_delay + self.interval, now, q);
        true
    }

    /// Cancels the run measuring now, if any.
    pub fn stop(&mut self) {
        self.run = None;
        self.generation += 1;
    }

    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Failed checks of the run measuring now (0 without one), for the
    /// controller's view.
    pub fn failed_checks(&self) -> u32 {
        self.run
            .as_ref()
            .map_or(0, |r| r.judge.failed_measurements())
    }

    /// A measurement at `at`, with events at the edges of its query window
    /// still to come, so the counts there are exact.
    fn schedule(&self, at: SimTime, now: SimTime, q: &mut impl Schedule<MonitorEvent>) {
        let (start, end) = self.window(at);
        for edge in [start, end] {
            if edge > now && edge < at {
                q.at(edge, MonitorEvent::Mark);
            }
        }
        q.at(at, MonitorEvent::Tick(self.generation));
    }

    /// The query window of a measurement at `at`.
    fn window(&self, at: SimTime) -> (SimTime, SimTime) {
        let end = SimTime(at.0.saturating_sub(self.metrics_lag.0));
        (SimTime(end.0.saturating_sub(self.query_window.0)), end)
    }

    /// Adds the traffic of the span ending at `now`: the new version is the
    /// judge's canary arm, the old version its baseline.
    pub fn add_span(&mut self, now: SimTime, old: &VersionSpan, new: &VersionSpan) {
        let t = &mut self.total;
        t.canary_requests += new.requests();
        t.canary_errors += new.errors();
        t.baseline_requests += old.requests();
        t.baseline_errors += old.errors();
        match self.history.back_mut() {
            Some(last) if last.0 == now => last.1 = self.total,
            _ => self.history.push_back((now, self.total)),
        }
        // Keep the last entry at or before the oldest window edge still needed.
        let oldest = SimTime(
            now.0
                .saturating_sub(self.metrics_lag.0 + self.query_window.0),
        );
        while self.history.len() > 2 && self.history[1].0 <= oldest {
            self.history.pop_front();
        }
    }

    /// Counts since t = 0 at `at`: exact at a span's end, else the last span
    /// end before it.
    fn total_at(&self, at: SimTime) -> IntervalCounts {
        // The history is sorted by time: a binary search keeps a short
        // interval with a long window cheap.
        match self.history.partition_point(|(t, _)| *t <= at) {
            0 => IntervalCounts::default(),
            i => self.history[i - 1].1,
        }
    }

    /// Counts in the query window of a measurement at `at`.
    fn measure(&mut self, at: SimTime, synthetic_rps: Option<f64>) -> IntervalCounts {
        let (start, end) = self.window(at);
        let (a, b) = (self.total_at(start), self.total_at(end));
        let mut counts = IntervalCounts {
            canary_requests: b.canary_requests - a.canary_requests,
            canary_errors: b.canary_errors - a.canary_errors,
            baseline_requests: b.baseline_requests - a.baseline_requests,
            baseline_errors: b.baseline_errors - a.baseline_errors,
        };
        if let Some(rps) = synthetic_rps {
            let seconds = (end - start).as_secs_f64();
            let requests = poisson(&mut self.synthetic_rng, rps * seconds);
            counts.canary_requests = requests;
            counts.canary_errors =
                binomial(&mut self.synthetic_rng, requests, self.synthetic_error_rate);
        }
        counts
    }

    /// A measurement of run `generation` at `now`: queries the metrics, lets
    /// the judge rule unless a person was already paged, and decides. (A
    /// rollback decision stops the run, so a decided release never gets here.) None when the run is no longer current. The
    /// caller schedules the next measurement with [`Monitor::next_interval`]
    /// once it has acted on the report.
    pub fn tick(
        &mut self,
        generation: u32,
        now: SimTime,
        q: &mut impl Schedule<MonitorEvent>,
    ) -> Option<TickReport> {
        let synthetic_rps = match &self.run {
            Some(run) if run.generation == generation => run.synthetic_rps,
            _ => return None,
        };
        // One draw per measurement, used or not, so the stream stays aligned.
        let query_failed = self.monitor_rng.random::<f64>() < self.query_failure_rate;
        let mut report = TickReport {
            query_failed,
            verdict: None,
            decision: None,
            completed: false,
            inconclusive: false,
        };
        if self.paged {
            return Some(report);
        }
        let counts = self.measure(now, synthetic_rps);
        let judge = &mut self.run.as_mut().expect("checked above").judge;
        let verdict = if query_failed {
            judge.observe_query_error()
        } else {
            judge.observe(&counts)
        };
        report.verdict = Some((verdict, counts));
        if judge.is_complete() {
            report.completed = true;
            self.stop();
        } else if judge.is_inconclusive() {
            report.inconclusive = true;
            self.stop();
        }
        if verdict == Verdict::Failed {
            self.stop();
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

    /// Schedules the next measurement of run `generation`, if it still runs.
    pub fn next_interval(
        &self,
        generation: u32,
        now: SimTime,
        q: &mut impl Schedule<MonitorEvent>,
    ) {
        if self
            .run
            .as_ref()
            .is_some_and(|r| r.generation == generation)
        {
            self.schedule(now + self.interval, now, q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{EventQueue, Purpose, stream};

    const MIN: SimTime = SimTime(60_000);

    fn monitor(rollback: RollbackBy, query_failure_rate: f64, lag: SimTime) -> Monitor {
        let judge = JudgeSpec::Consecutive {
            max_error_rate: 0.05,
            consecutive: 1,
        };
        Monitor::new(
            MonitorParams {
                analysis: Some(judge),
                watch: Some(judge),
                interval: MIN,
                query_window: MIN,
                metrics_lag: lag,
                query_failure_rate,
                rollback,
                human_response_s: Spread::fixed(300.0),
                synthetic_error_rate: 0.5,
            },
            [
                stream(1, 0, Purpose::Monitor),
                stream(1, 0, Purpose::Human),
                stream(1, 0, Purpose::Preview),
            ],
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

    /// Pops events until the next measurement, returning its time and generation.
    fn next_tick(q: &mut EventQueue<MonitorEvent>) -> (SimTime, u32) {
        while let Some((t, e)) = q.pop() {
            if let MonitorEvent::Tick(g) = e {
                return (t, g);
            }
        }
        panic!("no measurement scheduled")
    }

    #[test]
    fn a_failed_measurement_rolls_back_at_once_when_automatic() {
        let mut m = monitor(RollbackBy::Automatic, 0.0, SimTime::ZERO);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        assert!(m.start_analysis(AnalysisRun::ON_USERS, SimTime::ZERO, &mut q));
        let (at, generation) = next_tick(&mut q);
        assert_eq!(
            at, MIN,
            "the first measurement one interval after the start"
        );
        m.add_span(at, &span(1000, 0), &span(100, 10));
        let report = m.tick(generation, at, &mut q).expect("current run");
        let (verdict, counts) = report.verdict.expect("judged");
        assert_eq!(verdict, Verdict::Failed);
        assert_eq!((counts.canary_requests, counts.canary_errors), (100, 10));
        assert_eq!(counts.baseline_requests, 1000);
        assert_eq!(report.decision, Some(Decision::RollBack));
        assert!(!m.is_running(), "a failed run ends");
        assert!(q.is_empty(), "nobody is paged");
    }

    #[test]
    fn a_failed_measurement_pages_a_person_when_manual() {
        let mut m = monitor(RollbackBy::Manual, 0.0, SimTime::ZERO);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.start_analysis(AnalysisRun::ON_USERS, SimTime::ZERO, &mut q);
        let (at, generation) = next_tick(&mut q);
        m.add_span(at, &span(1000, 0), &span(100, 10));
        let report = m.tick(generation, at, &mut q).unwrap();
        assert_eq!(report.decision, Some(Decision::Paged));
        assert_eq!(
            q.pop(),
            Some((at + SimTime::from_secs(300), MonitorEvent::HumanDecision))
        );
    }

    #[test]
    fn the_query_sees_the_window_ending_a_lag_before_the_measurement() {
        // Lag 30 s, window 60 s: the measurement at 120 s sees [30 s, 90 s].
        // Spans end at 30 s (10 bad requests), 90 s (5 good) and 120 s (50 bad).
        let mut m = monitor(RollbackBy::Automatic, 0.0, SimTime::from_secs(30));
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.start_analysis(AnalysisRun::ON_USERS, SimTime::from_secs(60), &mut q);
        // The window's edges are events, so the counts there are exact.
        assert_eq!(q.pop(), Some((SimTime::from_secs(90), MonitorEvent::Mark)));
        let (at, generation) = next_tick(&mut q);
        assert_eq!(at, SimTime::from_secs(120));
        m.add_span(SimTime::from_secs(30), &span(0, 0), &span(10, 10));
        m.add_span(SimTime::from_secs(90), &span(0, 0), &span(5, 0));
        m.add_span(SimTime::from_secs(120), &span(0, 0), &span(50, 50));
        let report = m.tick(generation, at, &mut q).unwrap();
        let (verdict, counts) = report.verdict.unwrap();
        assert_eq!((counts.canary_requests, counts.canary_errors), (5, 0));
        assert_eq!(
            verdict,
            Verdict::Healthy,
            "the bad minute is not queryable yet"
        );
    }

    #[test]
    fn a_stopped_or_replaced_run_measures_nothing() {
        let mut m = monitor(RollbackBy::Automatic, 0.0, SimTime::ZERO);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.start_analysis(AnalysisRun::ON_USERS, SimTime::ZERO, &mut q);
        let (at, first) = next_tick(&mut q);
        m.start_watch(SimTime::ZERO, &mut q);
        assert_eq!(m.tick(first, at, &mut q), None, "replaced");
        m.stop();
        let (at, second) = next_tick(&mut q);
        assert_eq!(m.tick(second, at, &mut q), None, "stopped");
        m.next_interval(second, at, &mut q);
        assert!(q.is_empty());
    }

    #[test]
    fn an_argo_run_completes_after_its_count_and_synthetic_load_is_measured() {
        let mut m = monitor(RollbackBy::Automatic, 0.0, SimTime::ZERO);
        m.analysis = Some(JudgeSpec::Argo {
            max_error_rate: 0.9,
            failure_limit: 0,
            count: Some(2),
            consecutive_error_limit: 4,
            inconclusive_limit: None,
        });
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        let run = AnalysisRun {
            initial_delay: SimTime::from_secs(30),
            synthetic_rps: Some(10.0),
        };
        m.start_analysis(run, SimTime::ZERO, &mut q);
        let (at, generation) = next_tick(&mut q);
        assert_eq!(
            at,
            SimTime::from_secs(90),
            "initial delay, then one interval"
        );
        let report = m.tick(generation, at, &mut q).unwrap();
        let (_, counts) = report.verdict.unwrap();
        // Poisson(600) synthetic requests, half failing: far from 0 and from all.
        assert!((400..800).contains(&counts.canary_requests), "{counts:?}");
        assert!(counts.canary_errors > 0 && counts.canary_errors < counts.canary_requests);
        assert!(!report.completed);
        m.next_interval(generation, at, &mut q);
        let (at, generation) = next_tick(&mut q);
        let report = m.tick(generation, at, &mut q).unwrap();
        assert!(report.completed && !m.is_running());
    }

    #[test]
    fn a_failed_query_is_an_error_measurement() {
        let mut m = monitor(RollbackBy::Automatic, 1.0, SimTime::ZERO);
        let mut q: EventQueue<MonitorEvent> = EventQueue::new();
        m.start_analysis(AnalysisRun::ON_USERS, SimTime::ZERO, &mut q);
        let (at, generation) = next_tick(&mut q);
        m.add_span(at, &span(100, 100), &span(100, 100));
        let report = m.tick(generation, at, &mut q).unwrap();
        assert!(report.query_failed);
        // The consecutive judge has nothing to judge: the bad counts are unseen.
        assert_eq!(report.verdict.map(|v| v.0), Some(Verdict::Inconclusive));
        assert_eq!(report.decision, None);
    }
}
