//! One simulated release under one strategy. The simulation is a conductor:
//! it owns the event queue and three components that own their state, the
//! [`World`] (fleet, router, connections, sessions, traffic, user exposure),
//! the [`Monitor`] (judge, interval counts, paging) and the [`Tally`] (what
//! happened, and the outcome), plus the strategy's controller. Each event
//! belongs to one component; what the component reports is narrated and
//! passed to the controller as an observation, and the controller's actions
//! are applied to the world. Between two events traffic is drawn for the
//! whole span at once.
//!
//! Layering: `simulation` may import `world`, `strategies`, `scenario`,
//! `release`, `outcome`, `engine`, `stats` and `vocab`; nothing below it
//! imports it.

mod narration;
pub mod tally;

pub use narration::{Moment, TraceEvent};
pub use tally::DecisionReason;

use crate::engine::{EventQueue, MAX_EVENTS_AT_ONE_TIME, Purpose, SimTime, stream};
use crate::error::{Error, Result};
use crate::format;
use crate::outcome::{Kind, Outcome};
use crate::release::Release;
use crate::scenario::{Scenario, StrategySpec};
use crate::strategies::{Action, Environment, Observation, Strategy, View};
use crate::vocab::Version;
use crate::world::cost::IncidentPrices;
use crate::world::database::{Database, DatabaseChange, MigrationTiming};
use crate::world::fleet::FleetEvent;
use crate::world::judge::Verdict;
use crate::world::monitor::{Decision, Monitor, MonitorEvent, MonitorParams};
use crate::world::people::{People, PeopleEvent, PeopleParams};
use crate::world::teardown::TeardownParams;
use crate::world::{Happened, World, WorldEvent, WorldParams};
use narration::{Narration, Stamp, route_text, version_name};
use tally::{Tally, TallyEvent, TallyParams};

/// No deployment is simulated past this; one still running is `stuck`.
const HORIZON_CAP: SimTime = SimTime(7 * 86_400 * 1000);
/// Cuts are expected values; one that rounds to no connection is not narrated.
const NARRATED_CUT: f64 = 0.5;

/// Every event, by the component it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    World(WorldEvent),
    Monitor(MonitorEvent),
    Strategy(StrategyEvent),
    Tally(TallyEvent),
    People(PeopleEvent),
    /// End of observation; ignored unless its generation is current.
    End(u32),
}

/// What the simulation does on the strategy's behalf and reports back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrategyEvent {
    Timer(u32),
    SmokeTestsDone {
        found_defect: bool,
    },
    /// Monitoring is off: an analysis the strategy waits for has nothing to run.
    NoAnalysis,
}

impl From<WorldEvent> for Event {
    fn from(e: WorldEvent) -> Event {
        Event::World(e)
    }
}
impl From<MonitorEvent> for Event {
    fn from(e: MonitorEvent) -> Event {
        Event::Monitor(e)
    }
}
impl From<StrategyEvent> for Event {
    fn from(e: StrategyEvent) -> Event {
        Event::Strategy(e)
    }
}
impl From<PeopleEvent> for Event {
    fn from(e: PeopleEvent) -> Event {
        Event::People(e)
    }
}
impl From<TallyEvent> for Event {
    fn from(e: TallyEvent) -> Event {
        Event::Tally(e)
    }
}

pub struct Simulation<'a> {
    release: &'a Release,
    watch_after_promotion: SimTime,
    controller: Box<dyn Strategy>,
    queue: EventQueue<Event>,
    world: World,
    monitor: Monitor,
    people: People,
    tally: Tally,
    /// The release aborts when it exceeds the progress deadline (Argo);
    /// otherwise a person acts on the report.
    progress_deadline_abort: bool,
    narration: Narration,
    /// The release is still observed: traffic is drawn and the monitor judges.
    observing: bool,
    /// The strategy has been told the deployment starts (a pre-deploy
    /// migration holds it back until it is applied).
    started: bool,
    /// A progress deadline was reported to people (a Deployment reports once).
    deadline_reported: bool,
    end_generation: u32,
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
        let env = strategy.config.environment();
        let m = &scenario.monitoring;
        let monitor = MonitorParams {
            analysis: m.enabled.then(|| strategy.judge.unwrap_or(m.judge)),
            watch: m.enabled.then_some(m.judge),
            interval: m.interval,
            query_window: m.query_window,
            metrics_lag: m.metrics_lag,
            query_failure_rate: m.query_failure_rate,
            rollback: m.rollback,
            human_response_s: m.human_response_s,
            synthetic_error_rate: scenario.release.baseline_error_rate
                + release.synthetic_load_error_rate(),
        };
        let people = PeopleParams {
            human_response_s: m.human_response_s,
            unwatched_detection_s: m.unwatched_detection_s,
        };
        let tally = TallyParams {
            replicas,
            price_usd_per_hour: scenario.infra.price_usd_per_hour,
            prices: IncidentPrices {
                cost_per_failed_request_usd: scenario.cost.cost_per_failed_request_usd,
                downtime_cost_per_minute_usd: scenario.cost.downtime_cost_per_minute_usd,
            },
            outage_error_share: scenario.cost.outage_error_share,
            defective: release.is_defective(),
            database: scenario.database.is_some(),
        };
        Simulation {
            release,
            watch_after_promotion: m.watch_after_promotion,
            controller: strategy.config.controller(replicas),
            queue: EventQueue::new(),
            world: World::new(
                world_params(scenario, strategy, &env, release, (seed, replication)),
                stream(seed, replication, Purpose::Startup),
                stream(seed, replication, Purpose::Traffic),
            ),
            monitor: Monitor::new(
                monitor,
                [
                    stream(seed, replication, Purpose::Monitor),
                    stream(seed, replication, Purpose::Human),
                    stream(seed, replication, Purpose::Preview),
                ],
            ),
            people: People::new(
                people,
                stream(seed, replication, Purpose::Approval),
                stream(seed, replication, Purpose::Noticed),
            ),
            progress_deadline_abort: env.progress_deadline_abort,
            tally: Tally::new(tally),
            narration: Narration::default(),
            observing: true,
            started: false,
            deadline_reported: false,
            end_generation: 0,
        }
    }

    /// Keeps a narrated trace of the run.
    pub fn with_trace(mut self) -> Self {
        self.narration = Narration::kept();
        self
    }

    pub fn trace(&self) -> &[TraceEvent] {
        self.narration.events()
    }

    /// Runs to the end and returns the outcome; an internal error when
    /// simulated time stopped advancing (the queue stalled).
    pub fn run(&mut self) -> Result<Outcome> {
        self.note(|| "deployment starts".into());
        self.migrate(MigrationTiming::PreDeploy);
        if self.world.database().is_some_and(|db| db.is_migrating()) {
            self.note(|| "migration runs before the new version starts (pre-deploy)".into());
        } else {
            self.start();
        }
        // The routing at t = 0 starts the log that cost states are split by.
        self.log_routing();
        let mut past_horizon = false;
        while let Some((now, event)) = self.queue.pop() {
            if now > HORIZON_CAP {
                past_horizon = true;
                break;
            }
            if let Some(span) = self.world.account(self.observing, &mut self.queue) {
                self.monitor.add_span(now, &span.old, &span.new);
                if span.defect_failures.is_some() {
                    self.people.defect_hurt(span.from, &mut self.queue);
                }
                self.tally.record(&span);
            }
            self.handle(event);
            self.check_mitigated();
            let (now, share) = (self.now(), self.share_new());
            self.tally.track_switch(now, share);
            self.log_routing();
        }
        let now = self.now();
        if self.queue.stalled() {
            return Err(Error::Internal(format!(
                "simulated time stopped advancing at {now}: more than {MAX_EVENTS_AT_ONE_TIME} \
                 events at one instant"
            )));
        }
        Ok(self.tally.outcome(&mut self.world, now, past_horizon))
    }

    fn now(&self) -> SimTime {
        self.queue.now()
    }

    /// Tells the strategy the deployment starts.
    fn start(&mut self) {
        self.started = true;
        self.observe(Observation::Start);
    }

    /// Starts the release's migration if it runs at `timing`.
    fn migrate(&mut self, timing: MigrationTiming) {
        if let Some(change) = self.world.start_migration(timing, &mut self.queue) {
            self.database_changed(change);
        } else if timing == MigrationTiming::OnStart
            && self.world.database().is_some_and(|db| db.is_migrating())
        {
            self.note(|| "the first new instance starts the migration (on-start)".into());
        }
    }

    /// Narrates what happened to the schema.
    fn database_changed(&mut self, change: DatabaseChange) {
        match change {
            DatabaseChange::Nothing => {}
            DatabaseChange::MigrationApplied { old_fails } if old_fails > 0.0 => {
                self.note(|| {
                    format!(
                        "migration applied: the old version can no longer serve {} of requests",
                        format::percent(old_fails)
                    )
                });
            }
            DatabaseChange::MigrationApplied { .. } => {
                self.note(|| "migration applied: both versions work against it".into());
            }
            DatabaseChange::Recovered(recovery) => {
                self.note(|| format!("schema recovered ({})", recovery.name()));
            }
            DatabaseChange::Contracted {
                old_fails,
                new_fails,
            } => self.note(|| {
                format!(
                    "contract step applied: the old version fails {} and the new {} of requests",
                    format::percent(old_fails),
                    format::percent(new_fails)
                )
            }),
        }
    }

    fn share_new(&self) -> f64 {
        self.world.share_new(self.now())
    }

    fn view(&self) -> View {
        View {
            now: self.now(),
            replicas: self.world.replicas(),
            old: self.world.counts(Version::Old),
            new: self.world.counts(Version::New),
            failed_checks: self.monitor.failed_checks(),
        }
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::World(e) => {
                let happened = self.world.handle(e, &mut self.queue);
                self.world_happened(happened);
            }
            Event::Monitor(MonitorEvent::Tick(generation)) => self.monitor_tick(generation),
            Event::Monitor(MonitorEvent::Mark) => {}
            Event::Monitor(MonitorEvent::HumanDecision) => {
                if !self.tally.decided() {
                    self.note(|| "on-call engineer decides to roll back".into());
                    self.decide_rollback(DecisionReason::Monitor);
                }
            }
            Event::Strategy(StrategyEvent::Timer(tag)) => self.observe(Observation::Timer(tag)),
            Event::Strategy(StrategyEvent::NoAnalysis) => {
                self.observe(Observation::AnalysisSucceeded)
            }
            Event::Strategy(StrategyEvent::SmokeTestsDone { found_defect: true }) => {
                self.mark(
                    || "smoke tests fail against the idle new environment".into(),
                    Moment::Detected,
                );
                self.decide_rollback(DecisionReason::SmokeTests);
            }
            Event::Strategy(StrategyEvent::SmokeTestsDone {
                found_defect: false,
            }) => {
                self.note(|| "smoke tests pass".into());
                self.observe(Observation::SmokeTestsPassed);
            }
            Event::Tally(e) => {
                let share = self.share_new();
                self.tally.handle(e, share);
            }
            Event::People(PeopleEvent::Answered(tag)) => {
                self.note(|| "a person approves: the release goes on".into());
                self.observe(Observation::Timer(tag));
            }
            Event::People(PeopleEvent::ActsOnDeadline) => {
                if !self.tally.decided() {
                    self.note(|| "an engineer rolls the stalled deployment back".into());
                    self.decide_rollback(DecisionReason::ProgressDeadline);
                }
            }
            Event::People(PeopleEvent::Noticed) => {
                if !self.tally.decided() && self.observing {
                    self.mark(
                        || {
                            "people notice the defect without the judge (reports, dashboards)"
                                .into()
                        },
                        Moment::Detected,
                    );
                    self.decide_rollback(DecisionReason::Noticed);
                }
            }
            Event::End(generation) => {
                if generation == self.end_generation && self.observing {
                    let now = self.now();
                    let hurting = self.people.will_notice(now) || self.world.defect_serves(now);
                    if !self.tally.decided() && hurting {
                        let since = self.tally.exposure_start().unwrap_or(now);
                        self.people.defect_hurt(since, &mut self.queue);
                        self.monitor.stop();
                        self.note(|| {
                            "the watch ends, but the defect goes on failing requests until people notice"
                                .into()
                        });
                    } else {
                        self.observing = false;
                        self.monitor.stop();
                        self.note(|| "observation ends".into());
                    }
                }
            }
        }
    }

    /// Narrates what a world event did and tells the controller.
    fn world_happened(&mut self, happened: Happened) {
        match happened {
            Happened::Nothing => {}
            Happened::Ready { id, version, ready } => {
                self.note(|| format!("{} instance ready ({ready} ready)", version_name(version)));
                if version == Version::New {
                    self.migrate(MigrationTiming::OnStart);
                }
                self.observe(Observation::Ready(version));
                if self.world.min_ready() == SimTime::ZERO {
                    let happened = self.world.available(id);
                    self.world_happened(happened);
                } else {
                    self.queue.schedule_in(
                        self.world.min_ready(),
                        Event::World(WorldEvent::Fleet(FleetEvent::Available(id))),
                    );
                }
            }
            Happened::Available(version) => self.observe(Observation::Available(version)),
            Happened::Gone { version, cut } => {
                if cut >= NARRATED_CUT {
                    self.note(|| {
                        format!(
                            "{} instance gone: {cut:.0} open connections cut",
                            version_name(version)
                        )
                    });
                }
                self.observe(Observation::Gone(version));
            }
            Happened::ProgressDeadlineExceeded if self.tally.decided() => {}
            Happened::ProgressDeadlineExceeded if self.progress_deadline_abort => {
                self.note(|| "progress deadline exceeded: the rollout aborts".into());
                self.decide_rollback(DecisionReason::ProgressDeadline);
            }
            Happened::ProgressDeadlineExceeded if !self.deadline_reported => {
                // Kubernetes only sets the Progressing condition to False
                // (ProgressDeadlineExceeded); the rollout stays where it is.
                self.deadline_reported = true;
                self.note(|| "progress deadline exceeded: reported only; a person must act".into());
                self.people.report_deadline(&mut self.queue);
            }
            Happened::ProgressDeadlineExceeded => {}
            Happened::RouteSettled => {
                self.note(|| "route settled".into());
                self.observe(Observation::RouteSettled);
            }
            Happened::DefectOnset => {
                self.note(|| "latent defect starts failing requests".into());
                // A defect that starts after the watch still hurts users
                // until people notice it.
                let now = self.now();
                if !self.observing && !self.tally.decided() && self.world.defect_serves(now) {
                    self.observing = true;
                    self.people.defect_hurt(now, &mut self.queue);
                }
            }
            Happened::Database(change) => {
                let applied = matches!(change, DatabaseChange::MigrationApplied { .. });
                let recovered = matches!(change, DatabaseChange::Recovered(_));
                self.database_changed(change);
                if applied && !self.started {
                    self.start();
                }
                if recovered && self.tally.rolled_back() {
                    self.end_observation(self.now());
                }
            }
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
                if self.world.scale(version, replicas, &mut self.queue) {
                    self.note(|| format!("scale {} to {replicas}", version_name(version)));
                }
            }
            Action::Route(route) => {
                let target = self.world.route(route, &mut self.queue);
                self.note(|| format!("route: {}", route_text(route)));
                self.tally.route_changed(target, &mut self.queue);
            }
            Action::Timer { after, tag } => self
                .queue
                .schedule_in(after, Event::Strategy(StrategyEvent::Timer(tag))),
            Action::StartAnalysis(run) => {
                if !self.monitor.start_analysis(run, now, &mut self.queue) {
                    self.queue
                        .schedule_in(SimTime::ZERO, Event::Strategy(StrategyEvent::NoAnalysis));
                } else {
                    self.note(|| match run.synthetic_rps {
                        Some(rps) => format!(
                            "analysis starts against the preview ({rps:.0} rps of synthetic load)"
                        ),
                        None => "analysis starts".into(),
                    });
                }
            }
            Action::StopAnalysis => {
                if self.monitor.is_running() {
                    self.monitor.stop();
                    self.note(|| "analysis cancelled".into());
                }
            }
            Action::AwaitPerson { tag } => {
                self.note(|| "paused: waiting for a person".into());
                self.people.ask(tag, &mut self.queue);
            }
            Action::SmokeTests { duration, coverage } => {
                self.note(|| "smoke tests start against the idle new environment".into());
                let found_defect = self.release.smoke_tests_find_defect(coverage);
                self.queue.schedule_in(
                    duration,
                    Event::Strategy(StrategyEvent::SmokeTestsDone { found_defect }),
                );
            }
            Action::Promoted => {
                self.tally.complete(now, Kind::Promoted);
                self.note(|| "promotion complete".into());
                self.world
                    .promoted(self.watch_after_promotion, &mut self.queue);
                if self.watch_after_promotion > SimTime::ZERO
                    && self.monitor.start_watch(now, &mut self.queue)
                {
                    self.note(|| "the alert watches the promoted release".into());
                } else {
                    self.monitor.stop();
                }
                self.end_generation += 1;
                let end = now + self.watch_after_promotion;
                self.queue.schedule(end, Event::End(self.end_generation));
            }
            Action::RolledBack => {
                self.tally.complete(now, Kind::RolledBack);
                self.note(|| "rollback complete".into());
                // Users keep failing against a broken schema until it is
                // recovered, so observation lasts until then.
                if self.world.old_version_serves() {
                    self.end_observation(now);
                }
            }
        }
    }

    fn end_observation(&mut self, at: SimTime) {
        self.end_generation += 1;
        self.queue.schedule(at, Event::End(self.end_generation));
    }

    fn decide_rollback(&mut self, reason: DecisionReason) {
        self.tally.decide(self.now(), reason);
        self.monitor.stop();
        self.end_generation += 1;
        self.observing = true;
        self.mark(|| "rollback decided".into(), Moment::RollbackDecided);
        if self.world.rollback_decided(&mut self.queue) {
            self.tally.rollback_cannot_mitigate();
            let recovery = self.world.database().map(Database::recovery);
            self.note(|| {
                format!(
                    "the old version fails against the new schema too: failures go on until the {} completes",
                    recovery.map_or("recovery", |r| r.name())
                )
            });
        }
        self.observe(Observation::RollbackDecided);
    }

    fn monitor_tick(&mut self, generation: u32) {
        let now = self.now();
        let Some(report) = self.monitor.tick(generation, now, &mut self.queue) else {
            return;
        };
        if report.query_failed {
            self.note(|| "metric query failed: no measurement this interval".into());
        }
        if let Some((verdict, counts)) = report.verdict {
            if verdict == Verdict::Failed {
                self.mark(
                    || {
                        if report.query_failed {
                            "analysis failed: metric queries kept failing (too many errors in a row)"
                                .to_string()
                        } else {
                            let rate =
                                counts.canary_errors as f64 / counts.canary_requests.max(1) as f64;
                            format!(
                                "analysis failed: new version error rate {:.2}% this interval",
                                rate * 100.0
                            )
                        }
                    },
                    Moment::Detected,
                );
            }
            self.observe(Observation::Verdict(verdict));
        }
        match report.decision {
            Some(Decision::RollBack) => self.decide_rollback(DecisionReason::Monitor),
            Some(Decision::Paged) => self.note(|| "alert pages the on-call engineer".into()),
            None => {}
        }
        if report.completed {
            self.note(|| "analysis successful".into());
            self.observe(Observation::AnalysisSucceeded);
        }
        if report.inconclusive {
            self.note(|| "analysis inconclusive: the release pauses for a person".into());
            self.observe(Observation::AnalysisInconclusive);
        }
        self.monitor.next_interval(generation, now, &mut self.queue);
    }

    /// After a rollback decision, the first moment the new version is out
    /// (the rollback's routing is done), and the first moment the old
    /// version also serves the schema (mitigated).
    fn check_mitigated(&mut self) {
        if !self.tally.decided() || self.tally.mitigated() {
            return;
        }
        let now = self.now();
        if !self.world.new_version_is_out(now) {
            return;
        }
        let first = self.tally.routed_back(now);
        if self.world.old_version_serves() {
            self.tally.mitigate(now);
            self.mark(
                || {
                    if first {
                        "new version serves under 1% of traffic".into()
                    } else {
                        "mitigated: the old version serves the recovered schema".into()
                    }
                },
                Moment::Mitigated,
            );
        } else if first {
            self.note(|| {
                "new version serves under 1% of traffic, but the old version fails against the schema"
                    .into()
            });
        }
    }

    fn log_routing(&mut self) {
        let (now, share) = (self.now(), self.share_new());
        self.tally.log_routing(now, share);
    }

    fn note(&mut self, what: impl FnOnce() -> String) {
        self.push_trace(what, None);
    }

    fn mark(&mut self, what: impl FnOnce() -> String, moment: Moment) {
        self.push_trace(what, Some(moment));
    }

    fn push_trace(&mut self, what: impl FnOnce() -> String, moment: Option<Moment>) {
        if !self.narration.is_kept() {
            return;
        }
        let stamp = Stamp {
            at: self.now(),
            old_ready: self.world.counts(Version::Old).ready,
            new_ready: self.world.counts(Version::New).ready,
            share_new: self.share_new(),
        };
        self.narration.push(stamp, what(), moment);
    }
}

/// The world a strategy runs in: the scenario's service and traffic, the
/// strategy's environment, the release's defect and schema change.
fn world_params(
    scenario: &Scenario,
    strategy: &StrategySpec,
    env: &Environment,
    release: &Release,
    (seed, replication): (u64, u64),
) -> WorldParams {
    let t = &scenario.traffic;
    let database = match (&scenario.database, release.schema) {
        (Some(model), Some(change)) => {
            let mut model = model.clone();
            model.practice = strategy.schema_practice.unwrap_or(model.practice);
            Some(Database::new(
                model,
                change,
                stream(seed, replication, Purpose::Database),
            ))
        }
        _ => None,
    };
    WorldParams {
        replicas: scenario.service.instances,
        capacity_rps_per_instance: scenario.service.capacity_rps_per_instance,
        curve: t.curve(),
        users: t.users,
        baseline_error_rate: scenario.release.baseline_error_rate,
        startup_s: scenario.infra.startup_s,
        progress_deadline: scenario.monitoring.progress_deadline,
        teardown: TeardownParams {
            prestop: strategy
                .prestop_sleep
                .unwrap_or(scenario.infra.prestop_sleep),
            endpoint_propagation: scenario.infra.endpoint_propagation,
            drain: scenario.infra.drain,
            deregistration_delay: env.routing.deregistration_delay,
        },
        min_ready: env.min_ready,
        initial_route: env.initial_route,
        switch: env.routing.switch.clone(),
        sticky: env.sticky,
        settle_below: env.routing.teardown_below,
        settle_max_wait: env.routing.max_wait,
        long_lived_connections: t.long_lived_connections,
        long_lived_share: t.long_lived_share,
        connection_lifetime_s: t.connection_lifetime_s,
        session_user_share: t.session_user_share,
        sessions_in_shared_store: t.sessions_in_shared_store,
        defect: release.defect.clone(),
        database,
    }
}

/// Runs one replication of one strategy.
pub fn simulate(
    scenario: &Scenario,
    strategy: &StrategySpec,
    release: &Release,
    seed: u64,
    replication: u64,
) -> Result<Outcome> {
    Simulation::new(scenario, strategy, release, seed, replication).run()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Metric;
    use crate::strategies::StrategyConfig;
    use std::sync::{Arc, Mutex};

    /// In-place, recording every observation it is given.
    #[derive(Debug, Default)]
    struct Recording {
        seen: Arc<Mutex<Vec<Observation>>>,
    }

    struct RecordingController {
        seen: Arc<Mutex<Vec<Observation>>>,
        replicas: u32,
    }

    impl Strategy for RecordingController {
        fn on(&mut self, observation: &Observation, view: &View) -> Vec<Action> {
            self.seen.lock().unwrap().push(observation.clone());
            match observation {
                Observation::Start => vec![
                    Action::StartAnalysis(crate::strategies::AnalysisRun::ON_USERS),
                    Action::Scale {
                        version: Version::Old,
                        replicas: 0,
                    },
                    Action::Scale {
                        version: Version::New,
                        replicas: self.replicas,
                    },
                ],
                Observation::Ready(Version::New) if view.new.ready == self.replicas => {
                    vec![Action::Promoted]
                }
                _ => vec![],
            }
        }
    }

    impl StrategyConfig for Recording {
        fn kind(&self) -> &'static str {
            "recording"
        }
        fn controller(&self, replicas: u32) -> Box<dyn Strategy> {
            Box::new(RecordingController {
                seen: self.seen.clone(),
                replicas,
            })
        }
        fn environment(&self) -> Environment {
            Environment::default()
        }
    }

    /// Asks for a zero-length timer every time one fires: time stands still.
    #[derive(Debug)]
    struct Spinning;

    struct SpinningController;

    impl Strategy for SpinningController {
        fn on(&mut self, observation: &Observation, _: &View) -> Vec<Action> {
            match observation {
                Observation::Start | Observation::Timer(_) => vec![Action::Timer {
                    after: SimTime::ZERO,
                    tag: 0,
                }],
                _ => vec![],
            }
        }
    }

    impl StrategyConfig for Spinning {
        fn kind(&self) -> &'static str {
            "spinning"
        }
        fn controller(&self, _: u32) -> Box<dyn Strategy> {
            Box::new(SpinningController)
        }
        fn environment(&self) -> Environment {
            Environment::default()
        }
    }

    #[test]
    fn a_run_whose_time_stands_still_is_an_internal_error() {
        let scenario = Scenario::load(None).unwrap();
        let spec = StrategySpec {
            name: "spinning".into(),
            config: Arc::new(Spinning),
            judge: None,
            schema_practice: None,
            prestop_sleep: None,
            operations_usd_per_month: None,
        };
        let err = simulate(&scenario, &spec, &Release::healthy(), 1, 0).unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{err}");
        assert!(
            err.to_string().contains("stopped advancing at 0:00:00.000"),
            "{err}"
        );
    }

    #[test]
    fn the_controller_sees_instances_go_and_every_judged_interval() {
        let scenario = Scenario::load(None).unwrap();
        let config = Recording::default();
        let seen = config.seen.clone();
        let spec = StrategySpec {
            name: "recording".into(),
            config: Arc::new(config),
            judge: None,
            schema_practice: None,
            prestop_sleep: None,
            operations_usd_per_month: None,
        };
        let outcome = simulate(&scenario, &spec, &Release::healthy(), 1, 0).unwrap();
        assert_eq!(outcome.kind, Kind::Promoted);
        let seen = seen.lock().unwrap();
        let count = |o: &Observation| seen.iter().filter(|s| *s == o).count();
        let replicas = scenario.service.instances as usize;
        assert_eq!(count(&Observation::Start), 1);
        assert_eq!(count(&Observation::Gone(Version::Old)), replicas);
        assert_eq!(count(&Observation::Ready(Version::New)), replicas);
        // One verdict per interval of the analysis that ends before
        // promotion; then the watch restarts at promotion and measures every
        // interval until observation ends, at promotion plus the watch (the
        // measurement at that very moment comes after the end).
        let promoted = SimTime::from_secs_f64(outcome.get(Metric::DeployDuration).unwrap());
        let interval = scenario.monitoring.interval.0;
        let verdicts = seen
            .iter()
            .filter(|o| matches!(o, Observation::Verdict(_)))
            .count() as u64;
        assert_ne!(
            promoted.0 % interval,
            0,
            "promotion falls between measurements"
        );
        let watch = scenario.monitoring.watch_after_promotion.0 / interval;
        assert_eq!(verdicts, promoted.0 / interval + watch - 1);
    }
}
