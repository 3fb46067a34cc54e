//! The routing side of a run: route changes and how they settle, the switch
//! being measured, sessions and long-lived connections that do not move with
//! routing, and the capacity each version offers.

use super::{Event, Simulation};
use crate::engine::SimTime;
use crate::vocab::{Route, Version};

impl Simulation<'_> {
    /// Starts a route change: it settles when all but the strategy's settle
    /// share has moved (or after its maximum wait).
    pub(super) fn route(&mut self, route: Route) {
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
    pub(super) fn track_switch(&mut self) {
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
    pub(super) fn sessions_share(&self, version: Version) -> f64 {
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
    pub(super) fn remaining_on(&self, version: Version, routed_before: f64, t_s: f64) -> f64 {
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
    pub(super) fn instance_gone(&mut self, id: usize) {
        let v = self.fleet.instances()[id].version;
        if self.fleet.instances()[id].gone_at.is_some() {
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

    /// Requests per second `version` can serve: its ready instances for every
    /// request, and its draining instances for the long-lived connections
    /// still pinned to them (a draining instance takes no new requests).
    pub(super) fn capacity_rps(&self, version: Version, routed: f64, pinned: f64) -> f64 {
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
}

pub(super) fn version_name(v: Version) -> &'static str {
    match v {
        Version::Old => "old version",
        Version::New => "new version",
    }
}

pub(super) fn route_text(route: crate::vocab::Route) -> String {
    use crate::vocab::Route;
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
