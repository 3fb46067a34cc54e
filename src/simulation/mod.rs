//! One simulated release under one strategy: the engine's clock and queue,
//! the world (fleet, router, traffic, monitor) and the strategy's controller.
//! Events are processed in order; between two events traffic is drawn for the
//! whole span at once.

mod accounting;
mod routing;

use routing::version_name;

use crate::engine::{EventQueue, Purpose, SimTime, stream};
use crate::outcome::{Kind, Outcome};
use crate::release::Release;
use crate::scenario::RollbackBy;
use crate::scenario::StrategySpec;
use crate::scenario::{DefectKind, Scenario};
use crate::strategies::{Action, Observation, Strategy, View};
use crate::vocab::Version;
use crate::world::connections::Connections;
use crate::world::fleet::{Fleet, FleetEvent};
use crate::world::judge::{IntervalCounts, JudgeState, Verdict};
use crate::world::router::Router;
use crate::world::sessions::Sessions;
use crate::world::traffic::UserExposure;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// No deployment is simulated past this; one still running is `stuck`.
const HORIZON_CAP: SimTime = SimTime(7 * 86_400 * 1000);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    StartupDone(usize),
    Available(usize),
    Gone(usize),
    Timer(u32),
    /// A route change has settled; ignored unless it is the latest change.
    RouteSettled(u32),
    MonitorTick,
    ProgressCheck(usize),
    DefectOnset,
    SmokeTestsDone {
        found_defect: bool,
    },
    /// The paged person decides to roll back.
    HumanDecision,
    /// A moment when a rollback's routing change should have brought the
    /// new version under 1% of traffic.
    Recheck,
    /// Five minutes after the switch to all-new began.
    FiveMinutesAfterSwitch,
    /// End of observation; ignored unless its generation is current.
    End(u32),
}

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

/// Why the rollback was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionReason {
    Monitor,
    ProgressDeadline,
    SmokeTests,
}

pub struct Simulation<'a> {
    scenario: &'a Scenario,
    release: &'a Release,
    controller: Box<dyn Strategy>,
    min_ready: SimTime,
    queue: EventQueue<Event>,
    fleet: Fleet,
    router: Router,
    startup_rng: ChaCha8Rng,
    traffic_rng: ChaCha8Rng,
    users: UserExposure,
    judge: Option<JudgeState>,
    human_rng: ChaCha8Rng,
    monitor_rng: ChaCha8Rng,
    paged: bool,
    interval: IntervalCounts,
    /// Traffic has been drawn up to here.
    accounted_to: SimTime,
    observing: bool,
    end_generation: u32,
    onset_scheduled: bool,
    defect_active: bool,
    // What happened.
    failed_requests: u64,
    dropped_requests: u64,
    exposure_start: Option<SimTime>,
    peak_exposure: f64,
    decision: Option<(SimTime, DecisionReason)>,
    mitigated_at: Option<SimTime>,
    completed: Option<(SimTime, Kind)>,
    trace: Option<Vec<TraceEvent>>,
    /// (from, share of requests on the new version).
    routing_log: Vec<(SimTime, f64)>,
    /// Requests offered over the observed window, for the mean rate.
    offered_requests: f64,
    observed_s: f64,
    // Routing layer.
    drain: SimTime,
    sticky: bool,
    settle: (f64, Option<SimTime>),
    connections: Connections,
    sessions: Sessions,
    route_generation: u32,
    switch_started: Option<SimTime>,
    time_to_switch_s: Option<f64>,
    stale_after_5min: Option<f64>,
}

impl<'a> Simulation<'a> {
    pub fn new(
        scenario: &'a Scenario,
        strategy: &StrategySpec,
        release: &'a Release,
        seed: u64,
        replication: u64,
    ) -> Self {
        let replicas = scenario.service.instances;
        let m = &scenario.monitoring;
        Simulation {
            scenario,
            release,
            controller: strategy.config.controller(replicas),
            min_ready: strategy.config.min_ready(),
            queue: EventQueue::new(),
            fleet: Fleet::running(replicas),
            router: Router::new(strategy.config.initial_route(), strategy.config.switch()),
            startup_rng: stream(seed, replication, Purpose::Startup),
            traffic_rng: stream(seed, replication, Purpose::Traffic),
            users: UserExposure::new(scenario.traffic.users),
            // The judge spec was validated with the scenario, so this cannot fail.
            judge: m
                .enabled
                .then(|| JudgeState::new(strategy.judge.unwrap_or(m.judge)).ok())
                .flatten(),
            human_rng: stream(seed, replication, Purpose::Human),
            monitor_rng: stream(seed, replication, Purpose::Monitor),
            paged: false,
            interval: IntervalCounts::default(),
            accounted_to: SimTime::ZERO,
            observing: true,
            end_generation: 0,
            onset_scheduled: false,
            defect_active: !matches!(
                release.defect.as_ref().map(|d| d.kind),
                Some(DefectKind::Latent)
            ),
            failed_requests: 0,
            dropped_requests: 0,
            exposure_start: None,
            peak_exposure: 0.0,
            decision: None,
            mitigated_at: None,
            completed: None,
            trace: None,
            routing_log: Vec::new(),
            offered_requests: 0.0,
            observed_s: 0.0,
            drain: strategy.config.drain(scenario.infra.drain),
            sticky: strategy.config.sticky(),
            settle: strategy.config.settle(),
            connections: Connections::new(
                scenario.traffic.long_lived_connections,
                scenario.traffic.long_lived_share,
                scenario.traffic.connection_lifetime_s,
            ),
            sessions: Sessions::new(
                scenario.traffic.users,
                scenario.traffic.session_user_share,
                scenario.traffic.sessions_in_shared_store,
            ),
            route_generation: 0,
            switch_started: None,
            time_to_switch_s: None,
            stale_after_5min: None,
        }
    }

    /// Keeps a narrated trace of the run.
    pub fn with_trace(mut self) -> Self {
        self.trace = Some(Vec::new());
        self
    }

    pub fn trace(&self) -> &[TraceEvent] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// Runs to the end and returns the outcome.
    pub fn run(&mut self) -> Outcome {
        self.note("deployment starts");
        self.observe(Observation::Start);
        // The routing at t = 0 starts the log that cost states are split by.
        self.log_routing();
        if self.judge.is_some() {
            self.queue
                .schedule(self.scenario.monitoring.interval, Event::MonitorTick);
        }
        while let Some((now, event)) = self.queue.pop() {
            if now > HORIZON_CAP {
                break;
            }
            self.account_traffic(now);
            self.handle(event);
            self.check_mitigated();
            self.track_switch();
            self.log_routing();
        }
        self.outcome()
    }

    fn now(&self) -> SimTime {
        self.queue.now()
    }

    fn view(&self) -> View {
        View {
            now: self.now(),
            replicas: self.scenario.service.instances,
            old: self.fleet.counts(Version::Old),
            new: self.fleet.counts(Version::New),
        }
    }

    /// Share of requests routed to the new version right now (before long-lived connections).
    fn routed_share(&self) -> f64 {
        self.router.routed_share(
            self.now(),
            self.fleet.counts(Version::Old),
            self.fleet.counts(Version::New),
        )
    }

    /// Share of all requests reaching the new version right now, long-lived
    /// connections included.
    fn share_new(&self) -> f64 {
        self.connections.effective_share(self.routed_share())
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::StartupDone(id) => self.startup_done(id),
            Event::Available(id) => {
                if self.fleet.mark_available(id) {
                    let v = self.fleet.instances()[id].version;
                    self.observe(Observation::Available(v));
                }
            }
            Event::Gone(id) => self.instance_gone(id),
            Event::Recheck => {}
            // Only a switch still going forward is measured; a rollback
            // decided before then sends traffic back on purpose.
            Event::FiveMinutesAfterSwitch if self.decision.is_none() => {
                self.stale_after_5min = Some(1.0 - self.share_new());
            }
            Event::FiveMinutesAfterSwitch => {}
            Event::Timer(tag) => self.observe(Observation::Timer(tag)),
            Event::RouteSettled(generation) if generation != self.route_generation => {}
            Event::RouteSettled(_) => {
                self.note("route settled");
                self.observe(Observation::RouteSettled);
            }
            Event::MonitorTick => self.monitor_tick(),
            Event::ProgressCheck(id) => {
                let inst = &self.fleet.instances()[id];
                if inst.version == Version::New
                    && inst.is_live()
                    && inst.ready_at.is_none()
                    && self.decision.is_none()
                {
                    self.note("progress deadline exceeded: new instances never became ready");
                    self.decide_rollback(DecisionReason::ProgressDeadline);
                }
            }
            Event::SmokeTestsDone { found_defect } => {
                if found_defect {
                    self.mark(
                        "smoke tests fail against the idle new environment",
                        Moment::Detected,
                    );
                    self.decide_rollback(DecisionReason::SmokeTests);
                } else {
                    self.note("smoke tests pass");
                    self.observe(Observation::SmokeTestsPassed);
                }
            }
            Event::HumanDecision => {
                if self.decision.is_none() {
                    self.note("on-call engineer decides to roll back");
                    self.decide_rollback(DecisionReason::Monitor);
                }
            }
            Event::DefectOnset => {
                self.defect_active = true;
                self.note("latent defect starts failing requests");
            }
            Event::End(generation) => {
                if generation == self.end_generation && self.observing {
                    self.observing = false;
                    self.note("observation ends");
                }
            }
        }
    }

    fn startup_done(&mut self, id: usize) {
        let inst = &self.fleet.instances()[id];
        let crashes = inst.version == Version::New
            && matches!(
                self.release.defect.as_ref().map(|d| d.kind),
                Some(DefectKind::CrashOnStart)
            );
        if crashes || !self.fleet.mark_ready(id, self.now()) {
            return;
        }
        let v = self.fleet.instances()[id].version;
        let ready = self.fleet.counts(v).ready;
        self.note(&format!(
            "{} instance ready ({ready} ready)",
            version_name(v)
        ));
        self.observe(Observation::Ready(v));
        if self.min_ready == SimTime::ZERO {
            self.handle(Event::Available(id));
        } else {
            self.queue.schedule_in(self.min_ready, Event::Available(id));
        }
    }

    fn observe(&mut self, observation: Observation) {
        let view = self.view();
        let actions = self.controller.on(&observation, &view);
        for action in actions {
            self.apply(action);
        }
    }

    fn apply(&mut self, action: Action) {
        let now = self.now();
        match action {
            // Asking for the count a version already has changes nothing.
            Action::Scale { version, replicas } if replicas == self.fleet.counts(version).spec => {}
            Action::Scale { version, replicas } => {
                let startup = self.scenario.infra.startup_s;
                let ready_before = self.fleet.counts(version).ready;
                let sessions_share = self.sessions_share(version);
                let rng = &mut self.startup_rng;
                let events = self.fleet.scale(version, replicas, now, self.drain, || {
                    SimTime::from_secs_f64(startup.sample(rng))
                });
                let removed = ready_before.saturating_sub(self.fleet.counts(version).ready);
                self.sessions
                    .instances_removed(removed, ready_before, sessions_share);
                for (at, e) in events {
                    match e {
                        FleetEvent::StartupDone(id) => {
                            self.queue.schedule(at, Event::StartupDone(id));
                            if version == Version::New {
                                self.queue.schedule_in(
                                    self.scenario.monitoring.progress_deadline,
                                    Event::ProgressCheck(id),
                                );
                            }
                        }
                        FleetEvent::Gone(id) => self.queue.schedule(at, Event::Gone(id)),
                    }
                }
                self.note(&format!("scale {} to {replicas}", version_name(version)));
            }
            Action::Route(route) => self.route(route),
            Action::Timer { after, tag } => self.queue.schedule_in(after, Event::Timer(tag)),
            Action::SmokeTests { duration, coverage } => {
                self.note("smoke tests start against the idle new environment");
                let found_defect = self.release.smoke_tests_find_defect(coverage);
                self.queue
                    .schedule_in(duration, Event::SmokeTestsDone { found_defect });
            }
            Action::Promoted => {
                self.completed = Some((now, Kind::Promoted));
                self.note("promotion complete");
                self.end_generation += 1;
                let end = now + self.scenario.monitoring.watch_after_promotion;
                self.queue.schedule(end, Event::End(self.end_generation));
            }
            Action::RolledBack => {
                self.completed = Some((now, Kind::RolledBack));
                self.note("rollback complete");
                self.end_generation += 1;
                self.queue.schedule(now, Event::End(self.end_generation));
            }
        }
    }

    fn decide_rollback(&mut self, reason: DecisionReason) {
        self.decision = Some((self.now(), reason));
        self.end_generation += 1;
        self.observing = true;
        self.mark("rollback decided", Moment::RollbackDecided);
        self.observe(Observation::RollbackDecided);
    }

    fn monitor_tick(&mut self) {
        let counts = std::mem::take(&mut self.interval);
        if !self.observing {
            return;
        }
        // One draw per tick, used or not, so the stream stays aligned.
        let query_failed =
            self.monitor_rng.random::<f64>() < self.scenario.monitoring.query_failure_rate;
        if query_failed {
            self.note("metric query failed: no measurement this interval");
        }
        if self.decision.is_none()
            && !self.paged
            && let Some(judge) = self.judge.as_mut()
            && (if query_failed {
                judge.observe_query_error()
            } else {
                judge.observe(&counts)
            }) == Verdict::Failed
        {
            let rate = counts.canary_errors as f64 / counts.canary_requests.max(1) as f64;
            let why = if query_failed {
                "analysis failed: metric queries kept failing (too many errors in a row)"
                    .to_string()
            } else {
                format!(
                    "analysis failed: new version error rate {:.2}% this interval",
                    rate * 100.0
                )
            };
            self.mark(&why, Moment::Detected);
            match self.scenario.monitoring.rollback {
                RollbackBy::Automatic => self.decide_rollback(DecisionReason::Monitor),
                RollbackBy::Manual => {
                    self.paged = true;
                    self.note("alert pages the on-call engineer");
                    let response = self
                        .scenario
                        .monitoring
                        .human_response_s
                        .sample(&mut self.human_rng);
                    self.queue
                        .schedule_in(SimTime::from_secs_f64(response), Event::HumanDecision);
                }
            }
        }
        self.queue
            .schedule_in(self.scenario.monitoring.interval, Event::MonitorTick);
    }

    fn note(&mut self, what: &str) {
        self.push_trace(what, None);
    }

    fn mark(&mut self, what: &str, moment: Moment) {
        self.push_trace(what, Some(moment));
    }

    fn push_trace(&mut self, what: &str, moment: Option<Moment>) {
        if self.trace.is_none() {
            return;
        }
        let old = self.fleet.counts(Version::Old);
        let new = self.fleet.counts(Version::New);
        let share_new = self.share_new();
        let at = self.now();
        if let Some(trace) = self.trace.as_mut() {
            trace.push(TraceEvent {
                at,
                what: what.to_string(),
                moment,
                old_ready: old.ready,
                new_ready: new.ready,
                share_new,
            });
        }
    }
}

/// Runs one replication of one strategy.
pub fn simulate(
    scenario: &Scenario,
    strategy: &StrategySpec,
    release: &Release,
    seed: u64,
    replication: u64,
) -> Outcome {
    Simulation::new(scenario, strategy, release, seed, replication).run()
}
