//! The router: which share of requests goes to the new version, given the
//! route a strategy asked for, how the switch mechanism propagates a change,
//! and the instances that are ready.
//!
//! "The quality of the switch depends entirely on the routing layer": a
//! service mesh applies a weight within seconds, a load balancer moves new
//! requests after its listener change propagates, a Kubernetes Service after
//! its endpoints propagate, and DNS only as fast as every client's cache lets
//! go of the old answer.

use crate::engine::SimTime;
use crate::vocab::{Counts, Route, Version};
use crate::world::dns::DnsParams;

/// How a route change reaches clients.
#[derive(Debug, Clone, PartialEq)]
pub enum Switch {
    /// Applied at once.
    Immediate,
    /// New requests move after a propagation delay (load balancer listener
    /// rule, Kubernetes Service selector endpoints, mesh configuration push).
    Delay(SimTime),
    /// Clients move as their DNS caches expire (`world::dns`).
    Dns(DnsParams),
}

impl Switch {
    /// Share of a change not yet applied `elapsed_s` after it began.
    pub fn remaining(&self, elapsed_s: f64) -> f64 {
        match self {
            Switch::Immediate => 0.0,
            Switch::Delay(d) => (elapsed_s < d.as_secs_f64()) as u8 as f64,
            Switch::Dns(p) => p.stale_share(elapsed_s),
        }
    }

    /// Mean of `remaining` over [a_s, b_s] after the change began.
    pub fn mean_remaining(&self, a_s: f64, b_s: f64) -> f64 {
        match self {
            Switch::Immediate => 0.0,
            Switch::Delay(d) => {
                let d = d.as_secs_f64();
                if b_s <= a_s {
                    self.remaining(a_s)
                } else {
                    ((d.min(b_s) - a_s).max(0.0)) / (b_s - a_s)
                }
            }
            Switch::Dns(p) => p.mean_stale_share(a_s, b_s),
        }
    }

    /// Seconds until at most `share` of the change remains (infinite if never).
    pub fn time_to_remaining(&self, share: f64) -> f64 {
        match self {
            Switch::Immediate => 0.0,
            Switch::Delay(d) => {
                if share >= 1.0 {
                    0.0
                } else {
                    d.as_secs_f64()
                }
            }
            Switch::Dns(p) => p.time_to_share(share),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Router {
    pub switch: Switch,
    target: Route,
    /// Routed share on the new version when the last change began.
    from_share: f64,
    changed_at: SimTime,
}

impl Router {
    pub fn new(route: Route, switch: Switch) -> Router {
        let from_share = match route {
            Route::Weight(w) => w,
            Route::All(Version::New) => 1.0,
            _ => 0.0,
        };
        Router {
            switch,
            target: route,
            from_share,
            changed_at: SimTime::ZERO,
        }
    }

    pub fn target(&self) -> Route {
        self.target
    }

    /// Starts moving towards `route` at `now`, from wherever routing stands.
    pub fn set(&mut self, route: Route, now: SimTime, old: Counts, new: Counts) {
        self.from_share = self.routed_share(now, old, new);
        self.target = route;
        self.changed_at = now;
    }

    /// Share of new requests routed to the new version at `now`, in [0, 1].
    pub fn routed_share(&self, now: SimTime, old: Counts, new: Counts) -> f64 {
        let elapsed = (now - self.changed_at).as_secs_f64();
        self.towards(old, new, self.switch.remaining(elapsed))
    }

    /// Mean routed share over [from, to] (routing and counts fixed otherwise).
    pub fn mean_routed_share(&self, from: SimTime, to: SimTime, old: Counts, new: Counts) -> f64 {
        let a = (from - self.changed_at).as_secs_f64();
        let b = (to - self.changed_at).as_secs_f64();
        self.towards(old, new, self.switch.mean_remaining(a, b))
    }

    /// The target share, less the part of the change not yet applied.
    fn towards(&self, old: Counts, new: Counts, remaining: f64) -> f64 {
        let target = match self.target {
            Route::ByReadyInstances => return share_by_instances(old, new),
            Route::Weight(w) => w.clamp(0.0, 1.0),
            Route::All(Version::New) => 1.0,
            Route::All(Version::Old) => 0.0,
        };
        target + (self.from_share - target) * remaining
    }

    /// Seconds after the last change until it has settled for all but `share`.
    pub fn settle_s(&self, share: f64) -> f64 {
        match self.target {
            Route::ByReadyInstances => 0.0,
            _ => self.switch.time_to_remaining(share),
        }
    }
}

/// A load balancer spreads requests over ready targets. With none ready, the
/// requests still arrive and fail (503): they are charged to the version whose
/// instances the target group holds.
pub fn share_by_instances(old: Counts, new: Counts) -> f64 {
    let ready = old.ready + new.ready;
    if ready > 0 {
        return new.ready as f64 / ready as f64;
    }
    let spec = old.spec + new.spec;
    if spec > 0 {
        new.spec as f64 / spec as f64
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(spec: u32, ready: u32) -> Counts {
        Counts {
            spec,
            ready,
            available: ready,
        }
    }

    #[test]
    fn shares_follow_ready_instances_or_exact_weights() {
        let r = Router::new(Route::ByReadyInstances, Switch::Immediate);
        assert_eq!(r.routed_share(SimTime::ZERO, c(8, 8), c(3, 2)), 0.2);
        assert_eq!(
            r.routed_share(SimTime::ZERO, c(0, 0), c(4, 0)),
            1.0,
            "nothing ready: requests fail on the new target group"
        );
        let w = Router::new(Route::Weight(0.05), Switch::Immediate);
        assert_eq!(w.routed_share(SimTime::ZERO, c(10, 10), c(1, 1)), 0.05);
    }

    #[test]
    fn a_load_balancer_switch_moves_after_its_propagation_delay() {
        let mut r = Router::new(
            Route::All(Version::Old),
            Switch::Delay(SimTime::from_secs(5)),
        );
        r.set(
            Route::All(Version::New),
            SimTime::from_secs(100),
            c(10, 10),
            c(10, 10),
        );
        assert_eq!(
            r.routed_share(SimTime::from_secs(104), c(10, 10), c(10, 10)),
            0.0
        );
        assert_eq!(
            r.routed_share(SimTime::from_secs(105), c(10, 10), c(10, 10)),
            1.0
        );
        // Half of [100, 110] s is before the change applies.
        assert_eq!(
            r.mean_routed_share(
                SimTime::from_secs(100),
                SimTime::from_secs(110),
                c(10, 10),
                c(10, 10)
            ),
            0.5
        );
        assert_eq!(r.settle_s(0.01), 5.0);
    }

    #[test]
    fn a_dns_switch_follows_the_stale_share_both_ways() {
        let dns = DnsParams::default();
        let mut r = Router::new(Route::All(Version::Old), Switch::Dns(dns.clone()));
        r.set(
            Route::All(Version::New),
            SimTime::ZERO,
            c(10, 10),
            c(10, 10),
        );
        let at60 = r.routed_share(SimTime::from_secs(60), c(10, 10), c(10, 10));
        assert!((at60 - (1.0 - dns.stale_share(60.0))).abs() < 1e-12);
        // Rolling back at 900 s starts from where routing stands then.
        let before = r.routed_share(SimTime::from_secs(900), c(10, 10), c(10, 10));
        r.set(
            Route::All(Version::Old),
            SimTime::from_secs(900),
            c(10, 10),
            c(10, 10),
        );
        let after60 = r.routed_share(SimTime::from_secs(960), c(10, 10), c(10, 10));
        assert!((after60 - before * dns.stale_share(60.0)).abs() < 1e-12);
    }
}
