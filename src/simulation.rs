//! One simulated release under one strategy: the engine's clock and queue,
//! the world (fleet, router, traffic, monitor) and the strategy's controller.
//! Events are processed in order; between two events traffic is drawn for the
//! whole span at once.

use crate::engine::{EventQueue, Purpose, SimTime, stream};
use crate::outcome::{Kind, Metric, Outcome};
use crate::release::Release;
use crate::scenario::RollbackBy;
use crate::scenario::{DefectKind, Scenario};
use crate::strategies::{Action, Observation, Route, Strategy, StrategySpec, Version, View};
use crate::world::connections::Connections;
use crate::world::cost;
use crate::world::fleet::{Fleet, FleetEvent};
use crate::world::judge::{IntervalCounts, JudgeState, Verdict};
use crate::world::monitor;
use crate::world::router::Router;
use crate::world::sessions::Sessions;
use crate::world::traffic::{self, Offer, UserExposure, VersionSpan};
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

    /// Records the share on the new version whenever it changes (for cost states and timelines).
    fn log_routing(&mut self) {
        let share = self.share_new();
        if self
            .routing_log
            .last()
            .is_none_or(|&(_, last)| last != share)
        {
            let now = self.now();
            match self.routing_log.last_mut() {
                Some(entry) if entry.0 == now => entry.1 = share,
                _ => self.routing_log.push((now, share)),
            }
        }
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
                    let v = self.fleet.instances[id].version;
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
                let inst = &self.fleet.instances[id];
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
        let inst = &self.fleet.instances[id];
        let crashes = inst.version == Version::New
            && matches!(
                self.release.defect.as_ref().map(|d| d.kind),
                Some(DefectKind::CrashOnStart)
            );
        if crashes || !self.fleet.mark_ready(id, self.now()) {
            return;
        }
        let v = self.fleet.instances[id].version;
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

    /// Starts a route change: it settles when all but the strategy's settle
    /// share has moved (or after its maximum wait).
    fn route(&mut self, route: Route) {
        let now = self.now();
        let (old, new) = (
            self.fleet.counts(Version::Old),
            self.fleet.counts(Version::New),
        );
        let routed_before = self.routed_share();
        self.router.set(route, now, old, new);
        self.note(&format!("route: {}", route_text(route)));
        let target = match route {
            Route::ByReadyInstances => None,
            Route::Weight(w) => Some(w),
            Route::All(Version::New) => Some(1.0),
            Route::All(Version::Old) => Some(0.0),
        };
        if let Some(target) = target {
            let sticky = self.sticky || matches!(route, Route::All(_));
            self.sessions.route_changed(target, sticky);
        }
        let (below, max_wait) = self.settle;
        let mut settle_s = self.router.settle_s(below);
        if let Some(max) = max_wait {
            settle_s = settle_s.min(max.as_secs_f64());
        }
        self.route_generation += 1;
        self.queue.schedule(
            now + SimTime::from_secs_f64(settle_s),
            Event::RouteSettled(self.route_generation),
        );
        // Shares move continuously (DNS caches, connections closing): check
        // again when, barring cuts, the change will have reached 99%.
        let away_from = match target {
            Some(t) if t >= 1.0 => Some(Version::Old),
            Some(t) if t <= 0.0 => Some(Version::New),
            _ => None,
        };
        if let Some(version) = away_from {
            let remaining = |t: f64| self.remaining_on(version, routed_before, t);
            let at = time_until(remaining, 0.0099);
            if at.is_finite() {
                self.queue.schedule(
                    now + SimTime::from_secs_f64(at) + SimTime(1),
                    Event::Recheck,
                );
            }
        }
        if target == Some(1.0) && self.switch_started.is_none() {
            self.switch_started = Some(now);
            self.queue
                .schedule(now + SimTime::from_secs(300), Event::FiveMinutesAfterSwitch);
        }
    }

    /// Measures the switch to all-new: until 99% of requests reach the new version.
    fn track_switch(&mut self) {
        if let Some(started) = self.switch_started
            && self.time_to_switch_s.is_none()
            && self.share_new() >= 0.99
        {
            self.time_to_switch_s = Some((self.now() - started).as_secs_f64());
        }
    }

    /// Share of session holders served by `version`: with a switch or weights
    /// they sit where routing last sent them; behind a load balancer that
    /// spreads over instances, they follow the instance counts.
    fn sessions_share(&self, version: Version) -> f64 {
        let on_new = match self.router.target() {
            Route::ByReadyInstances => self.routed_share(),
            _ => self.sessions.on_new,
        };
        match version {
            Version::New => on_new,
            Version::Old => 1.0 - on_new,
        }
    }

    /// Share of requests still reaching `version` `t_s` after a switch away
    /// from it began, long-lived connections included (ignoring cuts).
    fn remaining_on(&self, version: Version, routed_before: f64, t_s: f64) -> f64 {
        let c = &self.connections;
        let (routed_left, conn_left) = match version {
            Version::Old => (1.0 - routed_before, 1.0 - c.on_new),
            Version::New => (routed_before, c.on_new),
        };
        let decay = if c.lifetime_s > 0.0 {
            (-t_s / c.lifetime_s).exp()
        } else {
            0.0
        };
        (1.0 - c.request_share) * routed_left * self.router.switch.remaining(t_s)
            + c.request_share * conn_left * decay
    }

    /// An instance finished draining: its long-lived connections are cut.
    fn instance_gone(&mut self, id: usize) {
        let v = self.fleet.instances[id].version;
        if self.fleet.instances[id].gone_at.is_some() {
            return;
        }
        let holding = self.fleet.holding_connections(v);
        let routed = self.routed_share();
        let cut = self
            .connections
            .instance_gone(v == Version::New, holding, routed);
        self.fleet.mark_gone(id, self.now());
        if cut >= 0.5 {
            self.note(&format!(
                "{} instance gone: {cut:.0} open connections cut",
                version_name(v)
            ));
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
        if self.decision.is_none()
            && !self.paged
            && let Some(judge) = self.judge.as_mut()
            && judge.observe(&counts) == Verdict::Failed
        {
            let rate = counts.canary_errors as f64 / counts.canary_requests.max(1) as f64;
            self.mark(
                &format!(
                    "analysis failed: new version error rate {:.2}% this interval",
                    rate * 100.0
                ),
                Moment::Detected,
            );
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

    fn new_is_defective_now(&self) -> bool {
        self.release.defect.is_some() && self.defect_active
    }

    /// Draws the traffic of [accounted_to, now) under the routing that held then.
    fn account_traffic(&mut self, now: SimTime) {
        let from = self.accounted_to;
        self.accounted_to = now;
        if now <= from {
            return;
        }
        let duration_s = (now - from).as_secs_f64();
        let old = self.fleet.counts(Version::Old);
        let new = self.fleet.counts(Version::New);
        let routed = self.router.mean_routed_share(from, now, old, new);
        let conn_mean = self.connections.mean_on_new(duration_s, routed);
        self.connections.relax(duration_s, routed);
        if !self.observing {
            return;
        }
        let l = self.connections.request_share;
        let share_new = (1.0 - l) * routed + l * conn_mean;
        let rate = self
            .scenario
            .traffic
            .mean_rate(from.as_secs_f64(), now.as_secs_f64());
        self.offered_requests += rate * duration_s;
        self.observed_s += duration_s;
        let baseline = self.scenario.release.baseline_error_rate;
        let serving_new = new.ready > 0;
        if share_new > 0.0
            && serving_new
            && let Some(defect) = &self.release.defect
            && defect.kind == DefectKind::Latent
            && !self.onset_scheduled
        {
            self.onset_scheduled = true;
            self.queue
                .schedule(from + defect.onset.unwrap_or_default(), Event::DefectOnset);
        }
        let defective = self.new_is_defective_now();
        let defect_rate = match &self.release.defect {
            Some(d) if defective => d.error_rate,
            _ => 0.0,
        };
        let old_capacity = self.capacity_rps(Version::Old, 1.0 - routed, 1.0 - conn_mean);
        let new_capacity = self.capacity_rps(Version::New, routed, conn_mean);
        let old_span = traffic::draw(
            &mut self.traffic_rng,
            Offer {
                rate_rps: rate * (1.0 - share_new),
                capacity_rps: old_capacity,
                defect_error_rate: 0.0,
                baseline_error_rate: baseline,
            },
            duration_s,
        );
        let new_span = traffic::draw(
            &mut self.traffic_rng,
            Offer {
                rate_rps: rate * share_new,
                capacity_rps: new_capacity,
                defect_error_rate: defect_rate,
                baseline_error_rate: baseline,
            },
            duration_s,
        );
        self.record_span(from, share_new, defective, &old_span, &new_span);
    }

    /// Requests per second `version` can serve: its ready instances for every
    /// request, and its draining instances for the long-lived connections
    /// still pinned to them (a draining instance takes no new requests).
    fn capacity_rps(&self, version: Version, routed: f64, pinned: f64) -> f64 {
        let per_instance = self.scenario.service.capacity_rps_per_instance;
        let ready = self.fleet.counts(version).ready as f64;
        let draining = self.fleet.holding_connections(version) as f64 - ready;
        let l = self.connections.request_share;
        let offered = (1.0 - l) * routed + l * pinned;
        let pinned_part = if offered > 0.0 {
            l * pinned / offered
        } else {
            0.0
        };
        (ready + draining.max(0.0) * pinned_part) * per_instance
    }

    fn record_span(
        &mut self,
        from: SimTime,
        share_new: f64,
        defective: bool,
        old: &VersionSpan,
        new: &VersionSpan,
    ) {
        monitor::add_span(&mut self.interval, old, new);
        self.dropped_requests += old.dropped + new.dropped;
        let crash = matches!(
            self.release.defect.as_ref().map(|d| d.kind),
            Some(DefectKind::CrashOnStart)
        );
        // Exposure starts with the first request defective code handles: a
        // served request, or for a crash-on-start defect one routed to its
        // instances (which fails).
        let reached_defect = new.served > 0 || (crash && new.dropped > 0);
        if !defective || share_new <= 0.0 || !reached_defect {
            return;
        }
        self.exposure_start.get_or_insert(from);
        self.peak_exposure = self.peak_exposure.max(share_new);
        // A crash-on-start defect fails every request routed to its instances.
        let failures = new.defect_errors + if crash { new.dropped } else { 0 };
        self.failed_requests += failures;
        if self.sticky {
            self.users.add_sticky_failures(failures, share_new);
        } else {
            self.users.add_failures(failures);
        }
    }

    /// Mitigation: after a rollback decision, the new version serves under 1%
    /// of traffic and the old version's ready instances can serve the rest (an
    /// in-place redeploy is not mitigated while nothing is up to serve).
    fn check_mitigated(&mut self) {
        if self.decision.is_none() || self.mitigated_at.is_some() {
            return;
        }
        let share_new = self.share_new();
        let old_capacity = self.fleet.counts(Version::Old).ready as f64
            * self.scenario.service.capacity_rps_per_instance;
        let old_offered =
            self.scenario.traffic.rate_at(self.now().as_secs_f64()) * (1.0 - share_new);
        if share_new < 0.01 && old_capacity >= 0.99 * old_offered {
            self.mitigated_at = Some(self.now());
            self.mark("new version serves under 1% of traffic", Moment::Mitigated);
        }
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

    fn outcome(&mut self) -> Outcome {
        let (completed_at, kind) = self.completed.unwrap_or((self.now(), Kind::Stuck));
        let kind = if self.now() > HORIZON_CAP {
            Kind::Stuck
        } else {
            kind
        };
        let mut o = Outcome::new(kind, self.release.is_defective());
        let secs = |t: SimTime| Some(t.as_secs_f64());
        let window_end = self
            .fleet
            .instances
            .iter()
            .filter_map(|i| i.gone_at)
            .fold(completed_at, SimTime::max);
        if kind != Kind::Stuck {
            o.set(Metric::DeployDuration, secs(completed_at));
        }
        o.set(Metric::FailedRequests, Some(self.failed_requests as f64));
        o.set(
            Metric::UsersAffected,
            Some(self.users.draw_affected(&mut self.traffic_rng) as f64),
        );
        o.set(Metric::DroppedRequests, Some(self.dropped_requests as f64));
        o.set(
            Metric::TimeToSwitch,
            self.time_to_switch_s.filter(|t| t.is_finite()),
        );
        o.set(Metric::StaleAfter5Min, self.stale_after_5min);
        o.set(Metric::ConnectionsCut, Some(self.connections.cut.round()));
        o.set(Metric::SessionsLost, Some(self.sessions.lost.round()));
        let rolled_back = self.decision.is_some();
        let flag = |b: bool| Some(if b { 1.0 } else { 0.0 });
        if self.release.is_defective() {
            o.set(Metric::Detected, flag(rolled_back));
            o.set(
                Metric::MissedDefect,
                flag(kind == Kind::Promoted && !rolled_back),
            );
            o.set(
                Metric::CaughtBeforeUsers,
                flag(rolled_back && self.failed_requests == 0),
            );
        } else {
            o.set(Metric::FalseRollback, flag(rolled_back));
        }
        if self.release.is_defective() {
            o.set(Metric::PeakExposure, Some(self.peak_exposure));
        }
        if let (Some(start), Some((decided, _))) = (self.exposure_start, self.decision)
            && self.release.is_defective()
        {
            o.set(Metric::TimeToDetect, secs(decided.saturating_sub(start)));
        }
        if let (Some((decided, _)), Some(mitigated)) = (self.decision, self.mitigated_at) {
            o.set(Metric::RollbackTime, secs(mitigated - decided));
            if let Some(start) = self.exposure_start {
                o.set(Metric::TimeToMitigate, secs(mitigated - start));
            }
        }
        let price = self.scenario.infra.price_usd_per_hour;
        let states = cost::instance_hours(&self.fleet, &self.routing_log, window_end);
        let hours = self.fleet.instance_seconds(window_end) / 3600.0;
        o.set(Metric::InstanceHours, Some(hours));
        o.set(Metric::ProvisioningHours, Some(states.provisioning));
        o.set(Metric::ServingHours, Some(states.serving));
        o.set(Metric::IdleHours, Some(states.idle));
        o.set(Metric::DrainingHours, Some(states.draining));
        o.set(Metric::InfraCost, Some(hours * price));
        let unchanged_hours =
            self.scenario.service.instances as f64 * window_end.as_secs_f64() / 3600.0;
        o.set(Metric::ExtraCost, Some((hours - unchanged_hours) * price));
        let mean_rate = if self.observed_s > 0.0 {
            self.offered_requests / self.observed_s
        } else {
            self.scenario.traffic.rate_rps
        };
        o.set(
            Metric::IncidentCost,
            Some(cost::incident_cost_usd(
                &self.scenario.cost,
                self.failed_requests as f64,
                self.dropped_requests as f64,
                mean_rate,
            )),
        );
        o.set(
            Metric::PeakInstances,
            Some(self.fleet.peak_instances() as f64),
        );
        o
    }
}

fn version_name(v: Version) -> &'static str {
    match v {
        Version::Old => "old version",
        Version::New => "new version",
    }
}

fn route_text(route: crate::strategies::Route) -> String {
    use crate::strategies::Route;
    match route {
        Route::ByReadyInstances => "spread over ready instances of both versions".into(),
        Route::Weight(w) => format!("{:.0}% of requests to the new version", w * 100.0),
        Route::All(v) => format!("every request to the {}", version_name(v)),
    }
}

/// The first time in [0, 10^7] s at which the non-increasing `remaining`
/// falls to `share` or below (bisection to the millisecond); infinite if never.
fn time_until(remaining: impl Fn(f64) -> f64, share: f64) -> f64 {
    if remaining(0.0) <= share {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, 1e7);
    if remaining(hi) > share {
        return f64::INFINITY;
    }
    while hi - lo > 1e-3 {
        let mid = 0.5 * (lo + hi);
        if remaining(mid) <= share {
            hi = mid
        } else {
            lo = mid
        }
    }
    hi
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
