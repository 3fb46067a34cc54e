//! What a deployment costs: instance-seconds from the fleet's real states
//! (provisioning, serving, kept idle, draining) within the deployment window,
//! and the incident money its blast radius stands for.

use crate::engine::SimTime;
use crate::vocab::Version;
use crate::world::fleet::Fleet;

/// Instance-hours of the window, split by what the instances were doing.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceHours {
    /// Asked for, not yet ready (booting, or crash-looping).
    pub provisioning: f64,
    /// Ready and receiving requests.
    pub serving: f64,
    /// Ready but receiving none: green before the switch, blue kept for its
    /// scale-down delay, an old environment re-provisioned for a rollback.
    pub idle: f64,
    /// Told to stop, finishing in-flight requests.
    pub draining: f64,
    /// All states, by version: the old environment (blue, stable) and the new (green, canary).
    pub old_version: f64,
    pub new_version: f64,
}

impl InstanceHours {
    /// Sum of the states (the same instance-seconds as `Fleet::instance_seconds`,
    /// up to floating-point rounding).
    pub fn total(&self) -> f64 {
        self.provisioning + self.serving + self.idle + self.draining
    }
}

/// Splits every instance's life within [0, end] by state. `routing` holds
/// (from, share of requests on the new version), sorted by time, each share
/// holding until the next entry.
pub fn instance_hours(fleet: &Fleet, routing: &[(SimTime, f64)], end: SimTime) -> InstanceHours {
    // Sums in whole milliseconds, so the states add up exactly.
    let (mut provisioning, mut serving, mut idle, mut draining) = (0u64, 0u64, 0u64, 0u64);
    let mut by_version = [0u64; 2];
    let clip = |t: SimTime| t.min(end);
    for inst in fleet.instances() {
        let stop = clip(inst.stopping_at.unwrap_or(end));
        let gone = clip(inst.gone_at.unwrap_or(end));
        let ready = inst.ready_at.map(clip).unwrap_or(stop).min(stop);
        provisioning += (ready - inst.created).0;
        draining += (gone - stop).0;
        let (s, i) = split_by_routing(inst.version, ready, stop, routing);
        serving += s;
        idle += i;
        by_version[(inst.version == Version::New) as usize] += (gone - inst.created).0;
    }
    let hours = |ms: u64| ms as f64 / 3_600_000.0;
    InstanceHours {
        provisioning: hours(provisioning),
        serving: hours(serving),
        idle: hours(idle),
        draining: hours(draining),
        old_version: hours(by_version[0]),
        new_version: hours(by_version[1]),
    }
}

/// Milliseconds of [from, to) in which `version` received requests, and in which it did not.
fn split_by_routing(
    version: Version,
    from: SimTime,
    to: SimTime,
    routing: &[(SimTime, f64)],
) -> (u64, u64) {
    let (mut serving, mut idle) = (0, 0);
    for (i, &(start, share_new)) in routing.iter().enumerate() {
        let next = routing
            .get(i + 1)
            .map(|&(t, _)| t)
            .unwrap_or(SimTime(u64::MAX));
        let (a, b) = (start.max(from), next.min(to));
        if b <= a {
            continue;
        }
        let receives = match version {
            Version::New => share_new > 0.0,
            Version::Old => share_new < 1.0,
        };
        let seconds = (b - a).0;
        if receives {
            serving += seconds
        } else {
            idle += seconds
        }
    }
    (serving, idle)
}

/// Incident money for one deployment: each failed request costs
/// `cost_per_failed_request_usd`; and the requests users saw fail (failed and
/// dropped) count as equivalent minutes of full outage at
/// `downtime_cost_per_minute_usd`.
pub fn incident_cost_usd(
    prices: IncidentPrices,
    failed_requests: f64,
    dropped_requests: f64,
    mean_rate_rps: f64,
) -> f64 {
    let outage_minutes = if mean_rate_rps > 0.0 {
        (failed_requests + dropped_requests) / (mean_rate_rps * 60.0)
    } else {
        0.0
    };
    failed_requests * prices.cost_per_failed_request_usd
        + outage_minutes * prices.downtime_cost_per_minute_usd
}

/// What an incident costs (the scenario's `[cost]` table).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IncidentPrices {
    pub cost_per_failed_request_usd: f64,
    pub downtime_cost_per_minute_usd: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::fleet::Removal;

    #[test]
    fn blue_green_hours_split_into_states() {
        // Blue (2 instances) serves until the switch at 30 s, then idles until
        // scaled down at 60 s and drains 10 s; green boots 0..30 s and serves after.
        let mut f = Fleet::running(2);
        f.scale(
            Version::New,
            2,
            SimTime::ZERO,
            Removal::after(SimTime::ZERO),
            || SimTime::from_secs(30),
        );
        f.mark_ready(2, SimTime::from_secs(30));
        f.mark_ready(3, SimTime::from_secs(30));
        f.scale(
            Version::Old,
            0,
            SimTime::from_secs(60),
            Removal::after(SimTime::from_secs(10)),
            || SimTime::ZERO,
        );
        f.mark_gone(0, SimTime::from_secs(70));
        f.mark_gone(1, SimTime::from_secs(70));
        let routing = [(SimTime::ZERO, 0.0), (SimTime::from_secs(30), 1.0)];
        let h = instance_hours(&f, &routing, SimTime::from_secs(100));
        assert_eq!(h.provisioning * 3600.0, 60.0);
        assert_eq!(h.serving * 3600.0, 2.0 * 30.0 + 2.0 * 70.0);
        assert_eq!(h.idle * 3600.0, 2.0 * 30.0);
        assert_eq!(h.draining * 3600.0, 20.0);
        assert_eq!(h.old_version * 3600.0, 2.0 * 70.0);
        assert_eq!(h.new_version * 3600.0, 2.0 * 100.0);
        // The states add up to the fleet's billed seconds (up to f64 rounding of the sum).
        assert!((h.total() * 3600.0 - f.instance_seconds(SimTime::from_secs(100))).abs() < 1e-9);
    }

    #[test]
    fn incident_cost_adds_request_and_outage_money() {
        let prices = IncidentPrices {
            cost_per_failed_request_usd: 0.5,
            downtime_cost_per_minute_usd: 100.0,
        };
        // 600 failed + 600 dropped at 10 rps = 2 minutes of full outage.
        assert_eq!(incident_cost_usd(prices, 600.0, 600.0, 10.0), 300.0 + 200.0);
    }
}
