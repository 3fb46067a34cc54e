//! The tally: what happened during one run, recorded as it happens (traffic
//! that failed or was dropped, exposure, the rollback decision, mitigation,
//! the switch being measured, routing over time) and turned into the
//! [`Outcome`] at the end.

use crate::engine::{Schedule, SimTime};
use crate::outcome::{Kind, Metric, Outcome};
use crate::world::cost::{self, Impact, IncidentPrices};
use crate::world::{SWITCHED_AT, Span, World};

/// How long after the switch to all-new began `stale_share_after_5min` is measured.
pub const STALE_CHECK_AFTER: SimTime = SimTime(300_000);

/// The tally's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TallyEvent {
    /// Five minutes after the switch to all-new began.
    FiveMinutesAfterSwitch,
}

/// Why the rollback was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionReason {
    Monitor,
    ProgressDeadline,
    SmokeTests,
    /// People noticed the defect without the judge (reports, dashboards).
    Noticed,
}

/// What the outcome needs besides what was recorded.
#[derive(Debug, Clone, Copy)]
pub struct TallyParams {
    pub replicas: u32,
    pub price_usd_per_hour: f64,
    pub prices: IncidentPrices,
    /// The share of requests failing at or above which a span is downtime.
    pub outage_error_share: f64,
    pub defective: bool,
    /// The scenario has a shared database (its metrics apply).
    pub database: bool,
}

pub struct Tally {
    params: TallyParams,
    /// Failures the defect caused.
    failed_requests: u64,
    /// Failures against the schema, of either version.
    schema_failed_requests: u64,
    /// The rollback could not mitigate: the old version failed against the schema.
    rollback_failed: bool,
    /// The rollback's routing was done (the new version under 1%).
    routed_back_at: Option<SimTime>,
    dropped_requests: u64,
    exposure_start: Option<SimTime>,
    peak_exposure: f64,
    decision: Option<(SimTime, DecisionReason)>,
    mitigated_at: Option<SimTime>,
    completed: Option<(SimTime, Kind)>,
    /// (from, share of requests on the new version), for cost states.
    routing_log: Vec<(SimTime, f64)>,
    /// Downtime and the failures outside it, for incident money.
    impact: Impact,
    switch_started: Option<SimTime>,
    time_to_switch_s: Option<f64>,
    stale_after_5min: Option<f64>,
}

impl Tally {
    pub fn new(params: TallyParams) -> Tally {
        Tally {
            params,
            failed_requests: 0,
            schema_failed_requests: 0,
            rollback_failed: false,
            routed_back_at: None,
            dropped_requests: 0,
            exposure_start: None,
            peak_exposure: 0.0,
            decision: None,
            mitigated_at: None,
            completed: None,
            routing_log: Vec::new(),
            impact: Impact::default(),
            switch_started: None,
            time_to_switch_s: None,
            stale_after_5min: None,
        }
    }

    /// When defective code first served a request, if it has.
    pub fn exposure_start(&self) -> Option<SimTime> {
        self.exposure_start
    }

    pub fn decided(&self) -> bool {
        self.decision.is_some()
    }

    /// The rollback is complete (the strategy said so).
    pub fn rolled_back(&self) -> bool {
        matches!(self.completed, Some((_, Kind::RolledBack)))
    }

    pub fn mitigated(&self) -> bool {
        self.mitigated_at.is_some()
    }

    /// Records one span of traffic.
    pub fn record(&mut self, span: &Span) {
        self.impact.record(
            span.duration_s,
            span.failing_requests(),
            span.requests(),
            self.params.outage_error_share,
        );
        self.dropped_requests += span.old.dropped + span.new.dropped;
        self.schema_failed_requests += span.schema_failures;
        if let Some(failures) = span.defect_failures {
            self.exposure_start.get_or_insert(span.from);
            self.peak_exposure = self.peak_exposure.max(span.share_new);
            self.failed_requests += failures;
        }
    }

    pub fn decide(&mut self, at: SimTime, reason: DecisionReason) {
        self.decision = Some((at, reason));
    }

    pub fn mitigate(&mut self, at: SimTime) {
        self.mitigated_at = Some(at);
    }

    /// The rollback's routing is done at `at`; true the first time.
    pub fn routed_back(&mut self, at: SimTime) -> bool {
        let first = self.routed_back_at.is_none();
        self.routed_back_at.get_or_insert(at);
        first
    }

    /// The rollback returns traffic to a version that fails against the schema.
    pub fn rollback_cannot_mitigate(&mut self) {
        self.rollback_failed = true;
    }

    pub fn complete(&mut self, at: SimTime, kind: Kind) {
        self.completed = Some((at, kind));
    }

    /// A route change aimed the new version at `target`: a switch to all-new
    /// starts being measured (once).
    pub fn route_changed(&mut self, target: Option<f64>, q: &mut impl Schedule<TallyEvent>) {
        if target == Some(1.0) && self.switch_started.is_none() {
            self.switch_started = Some(q.now());
            q.after(STALE_CHECK_AFTER, TallyEvent::FiveMinutesAfterSwitch);
        }
    }

    pub fn handle(&mut self, event: TallyEvent, share_new: f64) {
        match event {
            // Only a switch still going forward is measured; a rollback
            // decided before then sends traffic back on purpose.
            TallyEvent::FiveMinutesAfterSwitch if self.decision.is_none() => {
                self.stale_after_5min = Some(1.0 - share_new);
            }
            TallyEvent::FiveMinutesAfterSwitch => {}
        }
    }

    /// Measures the switch to all-new: until 99% of requests reach the new version.
    pub fn track_switch(&mut self, now: SimTime, share_new: f64) {
        if let Some(started) = self.switch_started
            && self.time_to_switch_s.is_none()
            && share_new >= SWITCHED_AT
        {
            self.time_to_switch_s = Some((now - started).as_secs_f64());
        }
    }

    /// Records the share on the new version whenever it changes (for cost states and timelines).
    pub fn log_routing(&mut self, now: SimTime, share: f64) {
        if self
            .routing_log
            .last()
            .is_none_or(|&(_, last)| last != share)
        {
            match self.routing_log.last_mut() {
                Some(entry) if entry.0 == now => entry.1 = share,
                _ => self.routing_log.push((now, share)),
            }
        }
    }

    /// The outcome of the run that ended at `now`; `stuck` when it never
    /// completed or ran past the horizon.
    pub fn outcome(&self, world: &mut World, now: SimTime, past_horizon: bool) -> Outcome {
        let (completed_at, kind) = self.completed.unwrap_or((now, Kind::Stuck));
        let kind = if past_horizon { Kind::Stuck } else { kind };
        let defective = self.params.defective;
        let mut o = Outcome::new(kind, defective);
        let secs = |t: SimTime| Some(t.as_secs_f64());
        let fleet = world.fleet();
        let window_end = fleet
            .instances()
            .iter()
            .filter_map(|i| i.gone_at)
            .fold(completed_at, SimTime::max);
        if kind != Kind::Stuck {
            o.set(Metric::DeployDuration, secs(completed_at));
        }
        o.set(Metric::LeadTime, secs(completed_at));
        let failed = self.failed_requests + self.schema_failed_requests;
        o.set(Metric::FailedRequests, Some(failed as f64));
        o.set(Metric::DroppedRequests, Some(self.dropped_requests as f64));
        o.set(
            Metric::TimeToSwitch,
            self.time_to_switch_s.filter(|t| t.is_finite()),
        );
        o.set(Metric::StaleAfter5Min, self.stale_after_5min);
        o.set(
            Metric::ConnectionsCut,
            Some(world.connections().cut.round()),
        );
        o.set(Metric::SessionsLost, Some(world.sessions().lost.round()));
        let rolled_back = self.decision.is_some();
        let by_tooling = matches!(self.decision, Some((_, r)) if r != DecisionReason::Noticed);
        let flag = |b: bool| Some(if b { 1.0 } else { 0.0 });
        if defective {
            o.set(Metric::Detected, flag(by_tooling));
            o.set(
                Metric::MissedDefect,
                flag(kind != Kind::Stuck && !by_tooling),
            );
            o.set(
                Metric::CaughtBeforeUsers,
                flag(rolled_back && self.failed_requests == 0),
            );
            o.set(Metric::PeakExposure, Some(self.peak_exposure));
        } else {
            o.set(Metric::FalseRollback, flag(rolled_back));
        }
        if let (Some(start), Some((decided, _))) = (self.exposure_start, self.decision)
            && defective
        {
            o.set(Metric::TimeToDetect, secs(decided.saturating_sub(start)));
        }
        if let (Some((decided, _)), Some(routed_back)) = (self.decision, self.routed_back_at) {
            o.set(Metric::RollbackTime, secs(routed_back - decided));
        }
        if let (Some(start), Some(mitigated)) = (self.exposure_start, self.mitigated_at)
            && self.decision.is_some()
        {
            o.set(Metric::TimeToMitigate, secs(mitigated - start));
        }
        if self.params.database {
            o.set(
                Metric::SchemaFailedRequests,
                Some(self.schema_failed_requests as f64),
            );
            if kind == Kind::RolledBack {
                o.set(Metric::RollbackFailed, flag(self.rollback_failed));
            }
            let db = world.database();
            o.set(
                Metric::WritesLost,
                Some(db.map_or(0, |d| d.writes_lost()) as f64),
            );
            if let (Some(db), Some((decided, _))) = (db, self.decision) {
                o.set(
                    Metric::TimeToRecover,
                    db.time_to_recover(decided).map(|t| t.as_secs_f64()),
                );
            }
        }
        let price = self.params.price_usd_per_hour;
        let states = cost::instance_hours(fleet, &self.routing_log, window_end);
        let hours = fleet.instance_seconds(window_end) / 3600.0;
        o.set(Metric::InstanceHours, Some(hours));
        o.set(Metric::ProvisioningHours, Some(states.provisioning));
        o.set(Metric::ServingHours, Some(states.serving));
        o.set(Metric::IdleHours, Some(states.idle));
        o.set(Metric::DrainingHours, Some(states.draining));
        o.set(Metric::OldVersionHours, Some(states.old_version));
        o.set(Metric::NewVersionHours, Some(states.new_version));
        o.set(Metric::InfraCost, Some(hours * price));
        let unchanged_hours = self.params.replicas as f64 * window_end.as_secs_f64() / 3600.0;
        o.set(Metric::ExtraInstanceHours, Some(hours - unchanged_hours));
        o.set(Metric::ExtraCost, Some((hours - unchanged_hours) * price));
        o.set(
            Metric::IncidentCost,
            Some(cost::incident_cost_usd(self.params.prices, self.impact)),
        );
        o.set(Metric::Downtime, Some(self.impact.downtime_s));
        o.set(
            Metric::FailedOutsideDowntime,
            Some(self.impact.failed_outside_downtime as f64),
        );
        o.set(Metric::PeakInstances, Some(fleet.peak_instances() as f64));
        o.set(
            Metric::UsersAffected,
            Some(world.draw_users_affected() as f64),
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EventQueue;
    use crate::world::traffic::VersionSpan;

    fn tally() -> Tally {
        Tally::new(TallyParams {
            replicas: 2,
            price_usd_per_hour: 0.1,
            prices: IncidentPrices {
                cost_per_failed_request_usd: 0.0,
                downtime_cost_per_minute_usd: 0.0,
            },
            outage_error_share: 0.5,
            defective: true,
            database: false,
        })
    }

    /// 10 s of 100 requests: the old version serves its share, the new one
    /// serves the rest but `dropped`, and `failures` of those fail.
    fn span(from_s: u64, share_new: f64, dropped: u64, failures: Option<u64>) -> Span {
        let on_new = (100.0 * share_new).round() as u64;
        Span {
            from: SimTime::from_secs(from_s),
            duration_s: 10.0,
            offered_requests: 100.0,
            share_new,
            old: VersionSpan {
                served: 100 - on_new,
                ..VersionSpan::default()
            },
            new: VersionSpan {
                served: on_new - dropped,
                dropped,
                defect_errors: failures.unwrap_or(0),
                ..VersionSpan::default()
            },
            defect_failures: failures,
            schema_failures: 0,
        }
    }

    #[test]
    fn exposure_starts_with_the_first_span_defective_code_handled() {
        let mut t = tally();
        t.record(&span(0, 0.05, 3, None));
        assert_eq!((t.exposure_start, t.failed_requests), (None, 0));
        t.record(&span(10, 0.05, 0, Some(4)));
        t.record(&span(20, 0.25, 0, Some(6)));
        t.record(&span(30, 0.10, 0, Some(0)));
        assert_eq!(t.exposure_start, Some(SimTime::from_secs(10)));
        assert_eq!(t.peak_exposure, 0.25);
        assert_eq!(t.failed_requests, 10);
        assert_eq!(t.dropped_requests, 3);
        // No span reached the outage share: every failure is priced per request.
        assert_eq!(
            t.impact,
            Impact {
                downtime_s: 0.0,
                failed_outside_downtime: 3 + 4 + 6
            }
        );
    }

    #[test]
    fn a_span_at_the_outage_share_is_downtime_and_its_failures_are_not_counted_again() {
        let mut t = tally();
        // A crash-on-start defect: the 60 requests routed to the new version
        // are dropped, and those drops are its failures (counted once).
        let crash = Span {
            new: VersionSpan {
                dropped: 60,
                ..VersionSpan::default()
            },
            ..span(0, 0.6, 0, Some(60))
        };
        assert_eq!((crash.failing_requests(), crash.requests()), (60, 100));
        t.record(&crash);
        t.record(&span(10, 0.05, 0, Some(2)));
        assert_eq!(
            t.impact,
            Impact {
                downtime_s: 10.0,
                failed_outside_downtime: 2
            }
        );
    }

    #[test]
    fn the_routing_log_keeps_one_entry_per_change() {
        let mut t = tally();
        t.log_routing(SimTime(0), 0.0);
        t.log_routing(SimTime(5), 0.0);
        t.log_routing(SimTime(5), 0.5);
        t.log_routing(SimTime(9), 0.5);
        t.log_routing(SimTime(9), 1.0);
        t.log_routing(SimTime(9), 0.7);
        assert_eq!(
            t.routing_log,
            vec![(SimTime(0), 0.0), (SimTime(5), 0.5), (SimTime(9), 0.7)]
        );
    }

    #[test]
    fn the_switch_is_timed_to_99_percent_and_its_stale_share_after_five_minutes() {
        let mut t = tally();
        let mut q: EventQueue<TallyEvent> = EventQueue::new();
        t.route_changed(Some(0.5), &mut q);
        assert!(q.is_empty(), "a weight below 100% is not the switch");
        t.route_changed(Some(1.0), &mut q);
        t.track_switch(SimTime::from_secs(3), 0.98);
        t.track_switch(SimTime::from_secs(7), 0.99);
        t.track_switch(SimTime::from_secs(9), 1.0);
        assert_eq!(t.time_to_switch_s, Some(7.0));
        let (at, e) = q.pop().unwrap();
        assert_eq!(at, STALE_CHECK_AFTER);
        t.handle(e, 0.9);
        assert_eq!(t.stale_after_5min, Some(1.0 - 0.9));
        // A rollback decided first makes the five-minute share meaningless.
        let mut rolled_back = tally();
        rolled_back.decide(SimTime::from_secs(60), DecisionReason::Monitor);
        rolled_back.handle(TallyEvent::FiveMinutesAfterSwitch, 0.2);
        assert_eq!(rolled_back.stale_after_5min, None);
    }
}
