//! What a strategy acts on: the fleet of instances, the router in front of
//! them, the long-lived connections and sessions that do not move with
//! routing, and the traffic they serve. [`World`] owns them all and answers
//! the simulation's questions (how much traffic is on the new version? has
//! the rollback taken effect?) and its commands (scale, route, account the
//! traffic of a span).
//!
//! A world component is one file here plus its registration in this file: a
//! field of [`World`], its parameters in [`WorldParams`] and, if it schedules
//! anything, a variant of [`WorldEvent`]. Strategies that do not use it are
//! not touched.
//!
//! Layering: `world` imports only `engine`, `stats` and `vocab`; it never
//! imports the scenario, the strategies or the simulation.

pub mod connections;
pub mod cost;
pub mod database;
pub mod dns;
pub mod fleet;
pub mod judge;
pub mod monitor;
pub mod people;
pub mod router;
pub mod sessions;
pub mod teardown;
pub mod traffic;

use crate::engine::{Schedule, SimTime};
use crate::stats::Spread;
use crate::vocab::{Counts, Defect, DefectKind, Route, Version};
use connections::Connections;
use database::{Database, DatabaseChange, DatabaseEvent, MigrationTiming};
use fleet::{Fleet, FleetEvent, Removal};
use rand_chacha::ChaCha8Rng;
use router::{Router, Switch};
use sessions::Sessions;
use teardown::TeardownParams;
use traffic::{DailyCurve, Offer, UserExposure, VersionSpan};

/// A rollback has taken effect once the new version serves under this share
/// of requests (the definition of `rollback_time_s` and `time_to_mitigate_s`).
pub const MITIGATED_BELOW: f64 = 0.01;
/// ... and the old version's ready instances can serve this share of what it is offered.
pub const OLD_CAPACITY_ENOUGH: f64 = 0.99;
/// A switch to the new version is complete once it serves this share.
pub const SWITCHED_AT: f64 = 0.99;
/// A route change away from a version is re-checked when, barring cuts, the
/// version's share will have fallen just under [`MITIGATED_BELOW`].
const RECHECK_AT: f64 = 0.0099;
/// How far ahead a route change's re-check is searched for (about 116 days).
const RECHECK_SEARCH_S: f64 = 1e7;

/// Everything the world needs to know, resolved by the simulation from the
/// scenario, the strategy's environment and the drawn release.
#[derive(Debug, Clone)]
pub struct WorldParams {
    pub replicas: u32,
    pub capacity_rps_per_instance: f64,
    pub curve: DailyCurve,
    pub users: u64,
    pub baseline_error_rate: f64,
    pub startup_s: Spread,
    /// A new instance not ready by then fails the deployment.
    pub progress_deadline: SimTime,
    /// How a removed ready instance leaves: preStop sleep, endpoint
    /// propagation, drain, and a load balancer's deregistration.
    pub teardown: TeardownParams,
    pub min_ready: SimTime,
    pub initial_route: Route,
    pub switch: Switch,
    /// A user stays on one version while traffic is split.
    pub sticky: bool,
    /// A route change counts as settled once all but this share has moved,
    /// or after `settle_max_wait` at most.
    pub settle_below: f64,
    pub settle_max_wait: Option<SimTime>,
    pub long_lived_connections: f64,
    pub long_lived_share: f64,
    pub connection_lifetime_s: f64,
    pub session_user_share: f64,
    pub sessions_in_shared_store: bool,
    /// The release's defect, if it has one.
    pub defect: Option<Defect>,
    /// The shared database, when the release changes its schema.
    pub database: Option<Database>,
}

/// The world's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorldEvent {
    Fleet(FleetEvent),
    /// A route change has settled; ignored unless it is the latest change.
    RouteSettled(u32),
    /// A moment when a routing change should have brought a version under 1%
    /// of traffic: nothing to do but let the simulation look again.
    Recheck,
    /// A latent defect starts failing requests.
    DefectOnset,
    Database(DatabaseEvent),
}

impl From<DatabaseEvent> for WorldEvent {
    fn from(e: DatabaseEvent) -> WorldEvent {
        WorldEvent::Database(e)
    }
}

/// What a world event did, for the simulation to narrate and pass on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Happened {
    Nothing,
    /// Instance `id` of `version` passed readiness; `ready` are ready now.
    Ready {
        id: usize,
        version: Version,
        ready: u32,
    },
    /// One more instance of `version` has been ready for min_ready_s.
    Available(Version),
    /// An instance of `version` finished draining; `cut` connections were cut.
    Gone {
        version: Version,
        cut: f64,
    },
    /// A new instance was not ready by the progress deadline.
    ProgressDeadlineExceeded,
    /// The latest route change has reached every client.
    RouteSettled,
    DefectOnset,
    Database(DatabaseChange),
}

/// One span of traffic between two events, as the world drew it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub from: SimTime,
    pub duration_s: f64,
    /// Requests offered over the span (the rate integrated, not drawn).
    pub offered_requests: f64,
    /// Share of requests on the new version over the span.
    pub share_new: f64,
    pub old: VersionSpan,
    pub new: VersionSpan,
    /// Failures defective code caused, when it handled a request in this span.
    pub defect_failures: Option<u64>,
    /// Requests of either version that failed against the schema.
    pub schema_failures: u64,
}

impl Span {
    /// Requests offered to either version (served or dropped).
    pub fn requests(&self) -> u64 {
        self.old.requests() + self.new.requests()
    }

    /// Requests users saw fail in the span, each once: the defect's and the
    /// schema's failures and every dropped request. A crash-on-start defect's
    /// failures are the new version's dropped requests, so they are not
    /// added again; the healthy baseline's errors are not the release's.
    pub fn failing_requests(&self) -> u64 {
        self.new.defect_errors + self.schema_failures + self.old.dropped + self.new.dropped
    }
}

pub struct World {
    replicas: u32,
    capacity_rps_per_instance: f64,
    curve: DailyCurve,
    baseline_error_rate: f64,
    startup_s: Spread,
    progress_deadline: SimTime,
    teardown: TeardownParams,
    min_ready: SimTime,
    sticky: bool,
    settle_below: f64,
    settle_max_wait: Option<SimTime>,
    defect: Option<Defect>,
    /// The defect fails requests now (a latent one only after its onset).
    defect_active: bool,
    onset_scheduled: bool,
    fleet: Fleet,
    router: Router,
    connections: Connections,
    sessions: Sessions,
    users: UserExposure,
    database: Option<Database>,
    route_generation: u32,
    /// Traffic has been drawn up to here.
    accounted_to: SimTime,
    startup_rng: ChaCha8Rng,
    traffic_rng: ChaCha8Rng,
}

impl World {
    /// The service running `replicas` ready instances of the old version.
    pub fn new(p: WorldParams, startup_rng: ChaCha8Rng, traffic_rng: ChaCha8Rng) -> World {
        let defect_active = !matches!(p.defect.as_ref().map(|d| d.kind), Some(DefectKind::Latent));
        World {
            replicas: p.replicas,
            capacity_rps_per_instance: p.capacity_rps_per_instance,
            curve: p.curve,
            baseline_error_rate: p.baseline_error_rate,
            startup_s: p.startup_s,
            progress_deadline: p.progress_deadline,
            teardown: p.teardown,
            min_ready: p.min_ready,
            sticky: p.sticky,
            settle_below: p.settle_below,
            settle_max_wait: p.settle_max_wait,
            defect: p.defect,
            defect_active,
            onset_scheduled: false,
            fleet: Fleet::running(p.replicas),
            router: Router::new(p.initial_route, p.switch),
            connections: Connections::new(
                p.long_lived_connections,
                p.long_lived_share,
                p.connection_lifetime_s,
            ),
            sessions: Sessions::new(p.users, p.session_user_share, p.sessions_in_shared_store),
            users: UserExposure::new(p.users),
            database: p.database,
            route_generation: 0,
            accounted_to: SimTime::ZERO,
            startup_rng,
            traffic_rng,
        }
    }

    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub fn connections(&self) -> &Connections {
        &self.connections
    }

    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    pub fn counts(&self, version: Version) -> Counts {
        self.fleet.counts(version)
    }

    /// The service's desired instance count (spec.replicas).
    pub fn replicas(&self) -> u32 {
        self.replicas
    }

    pub fn min_ready(&self) -> SimTime {
        self.min_ready
    }

    fn defect_kind(&self) -> Option<DefectKind> {
        self.defect.as_ref().map(|d| d.kind)
    }

    /// Instance counts as the router spreads requests over them: stopping
    /// instances still listed in their version's endpoints count as ready.
    fn endpoints(&self, version: Version) -> Counts {
        let mut counts = self.fleet.counts(version);
        counts.ready += self.fleet.listed(version).total();
        counts
    }

    /// Share of requests routed to the new version at `now` (before long-lived connections).
    pub fn routed_share(&self, now: SimTime) -> f64 {
        self.router.routed_share(
            now,
            self.endpoints(Version::Old),
            self.endpoints(Version::New),
        )
    }

    /// Share of all requests reaching the new version at `now`, long-lived
    /// connections included.
    pub fn share_new(&self, now: SimTime) -> f64 {
        self.connections.effective_share(self.routed_share(now))
    }

    /// Mitigation: the new version serves under 1% of traffic and the old
    /// version's ready instances can serve the rest (an in-place redeploy is
    /// not mitigated while nothing is up to serve).
    /// Defective code takes requests now: a defect (a latent one past its
    /// onset) on a new version with ready instances that receive traffic (a
    /// crash-on-start version never has any).
    pub fn defect_serves(&self, now: SimTime) -> bool {
        self.defect.is_some()
            && self.defect_active
            && self.fleet.counts(Version::New).ready > 0
            && self.share_new(now) > 0.0
    }

    pub fn new_version_is_out(&self, now: SimTime) -> bool {
        let share_new = self.share_new(now);
        let old_capacity =
            self.fleet.counts(Version::Old).ready as f64 * self.capacity_rps_per_instance;
        let old_offered = self.curve.rate_at(now.as_secs_f64()) * (1.0 - share_new);
        share_new < MITIGATED_BELOW && old_capacity >= OLD_CAPACITY_ENOUGH * old_offered
    }

    /// Handles one of the world's own events.
    pub fn handle(&mut self, event: WorldEvent, q: &mut impl Schedule<WorldEvent>) -> Happened {
        match event {
            WorldEvent::Fleet(FleetEvent::StartupDone(id)) => self.startup_done(id, q.now()),
            WorldEvent::Fleet(FleetEvent::Available(id)) => self.available(id),
            WorldEvent::Fleet(FleetEvent::Gone(id)) => self.instance_gone(id, q.now()),
            WorldEvent::Fleet(FleetEvent::StopsAccepting(id)) => {
                self.fleet.stops_accepting(id);
                Happened::Nothing
            }
            WorldEvent::Fleet(FleetEvent::Delisted(id)) => {
                self.fleet.delisted(id);
                Happened::Nothing
            }
            WorldEvent::Fleet(FleetEvent::ProgressCheck(id)) => {
                let inst = &self.fleet.instances()[id];
                if inst.version == Version::New && inst.is_live() && inst.ready_at.is_none() {
                    Happened::ProgressDeadlineExceeded
                } else {
                    Happened::Nothing
                }
            }
            WorldEvent::RouteSettled(generation) if generation == self.route_generation => {
                Happened::RouteSettled
            }
            WorldEvent::RouteSettled(_) | WorldEvent::Recheck => Happened::Nothing,
            WorldEvent::DefectOnset => {
                self.defect_active = true;
                Happened::DefectOnset
            }
            WorldEvent::Database(e) => match self.database.as_mut() {
                Some(db) => Happened::Database(db.handle(e, q.now())),
                None => Happened::Nothing,
            },
        }
    }

    pub fn database(&self) -> Option<&Database> {
        self.database.as_ref()
    }

    /// Starts the release's migration if it runs at `timing` and has not
    /// run; returns the change when it is applied at once (a migration
    /// that takes no time).
    pub fn start_migration(
        &mut self,
        timing: MigrationTiming,
        q: &mut impl Schedule<WorldEvent>,
    ) -> Option<DatabaseChange> {
        let db = self.database.as_mut()?;
        if db.timing() != timing || !db.migration_pending() {
            return None;
        }
        let mut q = Scoped(q);
        db.start_migration(&mut q)
            .then(|| DatabaseChange::MigrationApplied {
                old_fails: db.fails_on(Version::Old),
            })
    }

    /// The release was promoted (an expand/contract change schedules its
    /// contract within the `watch`).
    pub fn promoted(&mut self, watch: SimTime, q: &mut impl Schedule<WorldEvent>) {
        if let Some(db) = self.database.as_mut() {
            db.promoted(watch, &mut Scoped(q));
        }
    }

    /// A rollback was decided; true when the old version cannot serve the
    /// schema, so the rollback alone will not mitigate.
    pub fn rollback_decided(&mut self, q: &mut impl Schedule<WorldEvent>) -> bool {
        match self.database.as_mut() {
            Some(db) => db.rollback_decided(&mut Scoped(q)),
            None => false,
        }
    }

    /// The old version serves every request against the schema as it stands.
    pub fn old_version_serves(&self) -> bool {
        self.database
            .as_ref()
            .is_none_or(|db| db.old_version_serves())
    }

    fn schema_fails_on(&self, version: Version) -> f64 {
        self.database
            .as_ref()
            .map_or(0.0, |db| db.fails_on(version))
    }

    fn startup_done(&mut self, id: usize, now: SimTime) -> Happened {
        let version = self.fleet.instances()[id].version;
        let crashes =
            version == Version::New && self.defect_kind() == Some(DefectKind::CrashOnStart);
        if crashes || !self.fleet.mark_ready(id, now) {
            return Happened::Nothing;
        }
        Happened::Ready {
            id,
            version,
            ready: self.fleet.counts(version).ready,
        }
    }

    /// Instance `id` has been ready for min_ready_s.
    pub fn available(&mut self, id: usize) -> Happened {
        if self.fleet.mark_available(id) {
            Happened::Available(self.fleet.instances()[id].version)
        } else {
            Happened::Nothing
        }
    }

    /// An instance finished draining: its long-lived connections are cut,
    /// unless a load balancer let it go before the deregistration delay,
    /// which it does only once they have closed.
    fn instance_gone(&mut self, id: usize, now: SimTime) -> Happened {
        let inst = &self.fleet.instances()[id];
        let version = inst.version;
        if inst.gone_at.is_some() {
            return Happened::Nothing;
        }
        let stopped_for = now.saturating_sub(inst.stopping_at.unwrap_or(now));
        let closed = self
            .teardown
            .deregistration_delay
            .is_some_and(|delay| stopped_for < delay);
        let holding = self.fleet.holding_connections(version);
        let routed = self.routed_share(now);
        let on_new = version == Version::New;
        let cut = if closed {
            self.connections.instance_emptied(on_new, holding, routed);
            0.0
        } else {
            self.connections.instance_gone(on_new, holding, routed)
        };
        self.fleet.mark_gone(id, now);
        Happened::Gone { version, cut }
    }

    /// How the ready instances of `version` removed now leave. Clients keep
    /// sending requests to them only if the router sends the version any
    /// now. This ignores a route back to the version within the propagation
    /// delay: the strategies route back only once new instances of it are
    /// ready, and those take the requests.
    fn removal(&self, version: Version, now: SimTime) -> Removal {
        let t = self.teardown;
        let holding = self.fleet.holding_connections(version);
        let per_instance = if holding > 0 && t.deregistration_delay.is_some() {
            let share = match version {
                Version::New => self.connections.on_new,
                Version::Old => 1.0 - self.connections.on_new,
            };
            self.connections.open * share / holding as f64
        } else {
            0.0
        };
        let routed_new = self.routed_share(now);
        let receives = match (self.router.target(), version) {
            (Route::ByReadyInstances, _) => true,
            (_, Version::New) => routed_new > 0.0,
            (_, Version::Old) => routed_new < 1.0,
        };
        Removal {
            gone_after: t.gone_after(per_instance, self.connections.lifetime_s),
            listed_for: t.endpoint_propagation,
            listed: t.listed().filter(|_| receives),
            stops_accepting_after: t.stops_accepting_after(),
        }
    }

    /// Scales `version` to `replicas` spec instances; false when it already
    /// has that many (nothing changes).
    pub fn scale(
        &mut self,
        version: Version,
        replicas: u32,
        q: &mut impl Schedule<WorldEvent>,
    ) -> bool {
        if replicas == self.fleet.counts(version).spec {
            return false;
        }
        let now = q.now();
        let ready_before = self.fleet.counts(version).ready;
        let sessions_share = self.sessions_share(version, now);
        let removal = self.removal(version, now);
        let (startup, rng) = (self.startup_s, &mut self.startup_rng);
        let events = self.fleet.scale(version, replicas, now, removal, || {
            SimTime::from_secs_f64(startup.sample(rng))
        });
        let removed = ready_before.saturating_sub(self.fleet.counts(version).ready);
        self.sessions
            .instances_removed(removed, ready_before, sessions_share);
        for (at, e) in events {
            q.at(at, WorldEvent::Fleet(e));
            if let FleetEvent::StartupDone(id) = e
                && version == Version::New
            {
                q.after(
                    self.progress_deadline,
                    WorldEvent::Fleet(FleetEvent::ProgressCheck(id)),
                );
            }
        }
        true
    }

    /// Starts a route change: it settles when all but the settle share has
    /// moved (or after its maximum wait). Returns the share the route aims
    /// the new version at, if it names one.
    pub fn route(&mut self, route: Route, q: &mut impl Schedule<WorldEvent>) -> Option<f64> {
        let now = q.now();
        let (old, new) = (self.endpoints(Version::Old), self.endpoints(Version::New));
        let routed_before = self.routed_share(now);
        self.router.set(route, now, old, new);
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
        let mut settle_s = self.router.settle_s(self.settle_below);
        if let Some(max) = self.settle_max_wait {
            settle_s = settle_s.min(max.as_secs_f64());
        }
        self.route_generation += 1;
        q.at(
            now + SimTime::from_secs_f64(settle_s),
            WorldEvent::RouteSettled(self.route_generation),
        );
        // Shares move continuously (DNS caches, connections closing): look
        // again when, barring cuts, the change will have reached 99%.
        let away_from = match target {
            Some(t) if t >= 1.0 => Some(Version::Old),
            Some(t) if t <= 0.0 => Some(Version::New),
            _ => None,
        };
        if let Some(version) = away_from {
            let remaining = |t: f64| self.remaining_on(version, routed_before, t);
            let at = time_until(remaining, RECHECK_AT);
            if at.is_finite() {
                // One millisecond past the crossing, so the share is under it.
                q.at(
                    now + SimTime::from_secs_f64(at) + SimTime(1),
                    WorldEvent::Recheck,
                );
            }
        }
        target
    }

    /// Share of session holders served by `version`: with a switch or weights
    /// they sit where routing last sent them; behind a load balancer that
    /// spreads over instances, they follow the instance counts.
    fn sessions_share(&self, version: Version, now: SimTime) -> f64 {
        let on_new = match self.router.target() {
            Route::ByReadyInstances => self.routed_share(now),
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
        (1.0 - c.request_share) * routed_left * self.router.remaining(t_s)
            + c.request_share * conn_left * decay
    }

    /// What `version` does with the requests it is offered: the requests
    /// per second it can serve (its ready and still-accepting listed
    /// instances for every request, its other draining instances for the
    /// long-lived connections still pinned to them, since a draining instance
    /// takes no new requests), and the share of its requests that reach a
    /// listed instance that refuses them (SIGTERM before the endpoint change
    /// reached the client).
    fn serving(&self, version: Version, routed: f64, pinned: f64) -> (f64, f64) {
        let ready = self.fleet.counts(version).ready as f64;
        let listed = self.fleet.listed(version);
        let (accepting, refusing) = (listed.accepting as f64, listed.refusing as f64);
        let draining = self.fleet.holding_connections(version) as f64 - ready - accepting;
        let l = self.connections.request_share;
        let short = (1.0 - l) * routed;
        let offered = short + l * pinned;
        let (pinned_part, refused_share) = if offered > 0.0 {
            let endpoints = ready + accepting + refusing;
            let refused = if refusing > 0.0 {
                short * refusing / endpoints
            } else {
                0.0
            };
            (l * pinned / offered, refused / offered)
        } else {
            (0.0, 0.0)
        };
        let capacity =
            (ready + accepting + draining.max(0.0) * pinned_part) * self.capacity_rps_per_instance;
        (capacity, refused_share)
    }

    /// Draws the traffic of [last accounted, now) under the routing that held
    /// then. Connections move whether or not anyone is observing; requests
    /// are drawn only while `observing`.
    pub fn account(&mut self, observing: bool, q: &mut impl Schedule<WorldEvent>) -> Option<Span> {
        let now = q.now();
        let from = self.accounted_to;
        self.accounted_to = now;
        if now <= from {
            return None;
        }
        let duration_s = (now - from).as_secs_f64();
        let new = self.fleet.counts(Version::New);
        let routed = self.router.mean_routed_share(
            from,
            now,
            self.endpoints(Version::Old),
            self.endpoints(Version::New),
        );
        let conn_mean = self.connections.mean_on_new(duration_s, routed);
        self.connections.relax(duration_s, routed);
        if !observing {
            return None;
        }
        let l = self.connections.request_share;
        let share_new = (1.0 - l) * routed + l * conn_mean;
        let rate = self.curve.mean_rate(from.as_secs_f64(), now.as_secs_f64());
        if share_new > 0.0
            && new.ready > 0
            && let Some(defect) = &self.defect
            && defect.kind == DefectKind::Latent
            && !self.onset_scheduled
        {
            self.onset_scheduled = true;
            q.at(
                from + defect.onset.unwrap_or_default(),
                WorldEvent::DefectOnset,
            );
        }
        let defective = self.defect.is_some() && self.defect_active;
        let defect_rate = match &self.defect {
            Some(d) if defective => d.error_rate,
            _ => 0.0,
        };
        let (old_schema, new_schema) = (
            self.schema_fails_on(Version::Old),
            self.schema_fails_on(Version::New),
        );
        let (old_capacity, old_refused) = self.serving(Version::Old, 1.0 - routed, 1.0 - conn_mean);
        let (new_capacity, new_refused) = self.serving(Version::New, routed, conn_mean);
        let old_span = traffic::draw(
            &mut self.traffic_rng,
            Offer {
                rate_rps: rate * (1.0 - share_new),
                capacity_rps: old_capacity,
                refused_share: old_refused,
                schema_error_rate: old_schema,
                defect_error_rate: 0.0,
                baseline_error_rate: self.baseline_error_rate,
            },
            duration_s,
        );
        let new_span = traffic::draw(
            &mut self.traffic_rng,
            Offer {
                rate_rps: rate * share_new,
                capacity_rps: new_capacity,
                refused_share: new_refused,
                schema_error_rate: new_schema,
                defect_error_rate: defect_rate,
                baseline_error_rate: self.baseline_error_rate,
            },
            duration_s,
        );
        let defect_failures = defective
            .then(|| self.defect_failures(share_new, &new_span))
            .flatten();
        let schema_failures = self.schema_failures(share_new, &old_span, &new_span);
        Some(Span {
            from,
            duration_s,
            offered_requests: rate * duration_s,
            share_new,
            old: old_span,
            new: new_span,
            defect_failures,
            schema_failures,
        })
    }

    /// The failures defective code caused in a span, landed on users; None
    /// when it handled no request. Exposure starts with the first request
    /// defective code handles: a served request, or for a crash-on-start
    /// defect one routed to its instances (which fails).
    fn defect_failures(&mut self, share_new: f64, new: &VersionSpan) -> Option<u64> {
        let crash = self.defect_kind() == Some(DefectKind::CrashOnStart);
        let reached_defect = new.served > 0 || (crash && new.dropped > 0);
        if share_new <= 0.0 || !reached_defect {
            return None;
        }
        let failures = new.defect_errors + if crash { new.dropped } else { 0 };
        if self.sticky {
            self.users.add_sticky_failures(failures, share_new);
        } else {
            self.users.add_failures(failures);
        }
        Some(failures)
    }

    /// Failures against the schema in a span, landed on users (a sticky
    /// canary's on its side of the split); writes a recovery would lose
    /// are counted.
    fn schema_failures(&mut self, share_new: f64, old: &VersionSpan, new: &VersionSpan) -> u64 {
        let Some(db) = self.database.as_mut() else {
            return 0;
        };
        db.count_writes(old.served, new.served);
        if self.sticky {
            self.users.add_sticky_failures(new.schema_errors, share_new);
            self.users
                .add_failures_beside_sticky(old.schema_errors, share_new);
        } else {
            self.users
                .add_failures(old.schema_errors + new.schema_errors);
        }
        old.schema_errors + new.schema_errors
    }

    /// Distinct users who met at least one failure caused by the release (drawn once, at the end).
    pub fn draw_users_affected(&mut self) -> u64 {
        self.users.draw_affected(&mut self.traffic_rng)
    }
}

/// A database's view of the world's queue.
struct Scoped<'q, Q>(&'q mut Q);

impl<Q: Schedule<WorldEvent>> Schedule<DatabaseEvent> for Scoped<'_, Q> {
    fn now(&self) -> SimTime {
        self.0.now()
    }
    fn at(&mut self, at: SimTime, event: DatabaseEvent) {
        self.0.at(at, WorldEvent::Database(event));
    }
}

/// The first time in [0, RECHECK_SEARCH_S] at which the non-increasing
/// `remaining` falls to `share` or below (bisection to the millisecond);
/// infinite if never.
fn time_until(remaining: impl Fn(f64) -> f64, share: f64) -> f64 {
    if remaining(0.0) <= share {
        return 0.0;
    }
    let (mut lo, mut hi) = (0.0, RECHECK_SEARCH_S);
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

#[cfg(test)]
mod tests;
