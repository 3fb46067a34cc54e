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

/// What the users of one deployment saw fail, split the way it is priced:
/// time the service was down for them, and the failures outside that time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Impact {
    /// Seconds of spans in which at least the outage share of requests failed.
    pub downtime_s: f64,
    /// Failed and dropped requests in the spans below that share.
    pub failed_outside_downtime: u64,
}

impl Impact {
    /// Adds one span of `duration_s` seconds in which `failing` of the
    /// `requests` offered failed (failed or dropped). A span at or above
    /// `outage_error_share` is downtime, so its requests are priced with its
    /// minutes, not one by one; a span without requests is never downtime.
    /// (The share is a division, so 3 of 10 reaches 0.3 exactly, as written.)
    pub fn record(
        &mut self,
        duration_s: f64,
        failing: u64,
        requests: u64,
        outage_error_share: f64,
    ) {
        if requests > 0 && failing as f64 / requests as f64 >= outage_error_share {
            self.downtime_s += duration_s;
        } else {
            self.failed_outside_downtime += failing;
        }
    }
}

/// Incident money for one deployment, each failed request priced once:
/// downtime minutes × `downtime_cost_per_minute_usd` + failed and dropped
/// requests outside downtime × `cost_per_failed_request_usd`. Linear in both
/// prices given the simulated counts.
pub fn incident_cost_usd(prices: IncidentPrices, impact: Impact) -> f64 {
    impact.downtime_s / 60.0 * prices.downtime_cost_per_minute_usd
        + impact.failed_outside_downtime as f64 * prices.cost_per_failed_request_usd
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

    const PRICES: IncidentPrices = IncidentPrices {
        cost_per_failed_request_usd: 0.5,
        downtime_cost_per_minute_usd: 100.0,
    };

    /// 60 s at 10 rps with every request failing, then 100 s at 10 rps with
    /// 1% failing (10 requests), at an outage share of 0.5.
    fn outage_then_trickle() -> Impact {
        let mut impact = Impact::default();
        impact.record(60.0, 600, 600, 0.5);
        impact.record(100.0, 10, 1000, 0.5);
        impact
    }

    #[test]
    fn a_full_outage_is_priced_by_the_minute_and_a_trickle_by_the_request() {
        let impact = outage_then_trickle();
        assert_eq!(
            impact,
            Impact {
                downtime_s: 60.0,
                failed_outside_downtime: 10
            }
        );
        // 1 minute × $100 + 10 requests × $0.50; the 600 requests inside the
        // outage are not priced again.
        assert_eq!(incident_cost_usd(PRICES, impact), 100.0 + 5.0);
    }

    #[test]
    fn no_request_is_priced_twice() {
        let impact = outage_then_trickle();
        let requests_only = IncidentPrices {
            downtime_cost_per_minute_usd: 0.0,
            ..PRICES
        };
        let downtime_only = IncidentPrices {
            cost_per_failed_request_usd: 0.0,
            ..PRICES
        };
        assert_eq!(incident_cost_usd(requests_only, impact), 10.0 * 0.5);
        assert_eq!(incident_cost_usd(downtime_only, impact), 1.0 * 100.0);
        // The two parts add up to the whole: each failure sits in exactly one.
        assert_eq!(
            incident_cost_usd(requests_only, impact) + incident_cost_usd(downtime_only, impact),
            incident_cost_usd(PRICES, impact)
        );
    }

    #[test]
    fn the_outage_share_is_a_threshold_reached_from_below() {
        let mut impact = Impact::default();
        impact.record(10.0, 49, 100, 0.5);
        impact.record(10.0, 50, 100, 0.5);
        impact.record(10.0, 0, 0, 0.5);
        impact.record(10.0, 3, 10, 0.3);
        assert_eq!(
            impact,
            Impact {
                downtime_s: 20.0,
                failed_outside_downtime: 49
            }
        );
    }
}
