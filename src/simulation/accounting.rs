//! The accounting side of a run: traffic drawn between events, what it did
//! to users, when the release counts as mitigated, and the outcome's metrics.

use super::{Event, HORIZON_CAP, Moment, Simulation};
use crate::engine::SimTime;
use crate::outcome::{Kind, Metric, Outcome};
use crate::scenario::DefectKind;
use crate::vocab::Version;
use crate::world::cost;
use crate::world::monitor;
use crate::world::traffic::{self, Offer, VersionSpan};

impl Simulation<'_> {
    /// Records the share on the new version whenever it changes (for cost states and timelines).
    pub(super) fn log_routing(&mut self) {
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

    /// Draws the traffic of [accounted_to, now) under the routing that held then.
    pub(super) fn account_traffic(&mut self, now: SimTime) {
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

    pub(super) fn record_span(
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
    pub(super) fn check_mitigated(&mut self) {
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

    pub(super) fn new_is_defective_now(&self) -> bool {
        self.release.defect.is_some() && self.defect_active
    }

    pub(super) fn outcome(&mut self) -> Outcome {
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
            .instances()
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
        o.set(Metric::OldVersionHours, Some(states.old_version));
        o.set(Metric::NewVersionHours, Some(states.new_version));
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
