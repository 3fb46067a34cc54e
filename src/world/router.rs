//! The router: which share of requests goes to the new version, given the
//! route a strategy asked for, how the switch mechanism propagates a change,
//! and the instances that are ready.
//!
//! "The quality of the switch depends entirely on the routing layer": a
//! service mesh applies a weight within seconds, a load balancer moves new
//! requests after its listener change propagates, a Kubernetes Service after
//! its endpoints propagate, and DNS only as fast as every client's cache lets
//! go of the old answer. A DNS rollback is no faster: a client that
//! re-resolved just before it holds the new answer for its whole cache
//! lifetime (`Course::FollowUp`).

use crate::engine::SimTime;
use crate::vocab::{Counts, Route, Version};
use crate::world::dns::{DnsParams, Reversal, first_time_at_or_below};

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
    /// Share of a change from a settled route not yet applied `elapsed_s`
    /// after it began.
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
    course: Course,
}

/// How the last change plays out.
#[derive(Debug, Clone, PartialEq)]
enum Course {
    /// The route the router started with: settled, not a change.
    Initial,
    /// The switch's own law from `from_share`, taken as settled.
    Fresh,
    /// A DNS change that followed a fresh one (`Router::course_of`).
    FollowUp(Box<FollowUp>),
}

/// The share of requests a route aims at the new version, if it names one.
fn aimed_share(route: Route) -> Option<f64> {
    match route {
        Route::ByReadyInstances => None,
        Route::Weight(w) => Some(w.clamp(0.0, 1.0)),
        Route::All(Version::New) => Some(1.0),
        Route::All(Version::Old) => Some(0.0),
    }
}

impl Router {
    pub fn new(route: Route, switch: Switch) -> Router {
        Router {
            switch,
            target: route,
            from_share: aimed_share(route).unwrap_or(0.0),
            changed_at: SimTime::ZERO,
            course: Course::Initial,
        }
    }

    pub fn target(&self) -> Route {
        self.target
    }

    /// Starts moving towards `route` at `now`, from wherever routing stands.
    pub fn set(&mut self, route: Route, now: SimTime, old: Counts, new: Counts) {
        let after_s = (now - self.changed_at).as_secs_f64();
        let course = self.course_of(route, after_s);
        self.from_share = self.routed_share(now, old, new);
        self.course = course;
        self.target = route;
        self.changed_at = now;
    }

    /// How a change to `route`, `after_s` into the last one, plays out.
    ///
    /// Through DNS, a change that follows a fresh one is a follow-up: a
    /// client that moved in the fresh change holds its answer until it
    /// renews its cache, and one that had not moved moves once, to the
    /// answer the record gives when it acts. Clients of a weighted record
    /// draw their answer when they act, so with w0 the settled share, w1
    /// the fresh change's target and w2 the new one, at `after_s` + t
    ///
    /// share = w2 + (w1 - w2) H(after_s, t) + (w0 - w2) S(after_s + t),
    ///
    /// with S the stale share and H the share still holding what it moved
    /// to (`DnsParams::reversal`). A rollback (w0 = w2 = 0, w1 = 1) gives H
    /// alone. It takes the fresh change's start as settled, so a change
    /// after a follow-up starts fresh again, from the share routing has
    /// reached; so does one that would move the two groups in opposite
    /// directions, where the share would not be monotone.
    fn course_of(&self, route: Route, after_s: f64) -> Course {
        let Switch::Dns(p) = &self.switch else {
            return Course::Fresh;
        };
        let (Some(previous), Some(next)) = (aimed_share(self.target), aimed_share(route)) else {
            return Course::Fresh;
        };
        let settled = self.from_share;
        let (held_weight, stale_weight) = (previous - next, settled - next);
        if self.course != Course::Fresh || previous == settled || held_weight * stale_weight < 0.0 {
            return Course::Fresh;
        }
        let stale_then = p.stale_share(after_s);
        Course::FollowUp(Box::new(FollowUp {
            after_s,
            reversal: p.reversal(after_s),
            held_weight,
            stale_weight,
            start: held_weight * (1.0 - stale_then) + stale_weight * stale_then,
        }))
    }

    /// Share of the last change not yet applied `elapsed_s` after it began:
    /// 1 at the start, falling to 0.
    pub fn remaining(&self, elapsed_s: f64) -> f64 {
        match (&self.course, &self.switch) {
            (Course::FollowUp(f), Switch::Dns(p)) => {
                let t = elapsed_s.max(0.0);
                f.share_of(f.reversal.held(t), p.stale_share(f.after_s + t))
            }
            _ => self.switch.remaining(elapsed_s),
        }
    }

    /// Mean of `remaining` over [a_s, b_s] after the last change began.
    pub fn mean_remaining(&self, a_s: f64, b_s: f64) -> f64 {
        match (&self.course, &self.switch) {
            (Course::FollowUp(f), Switch::Dns(p)) if b_s > a_s => {
                let (a, b) = (a_s.max(0.0), b_s.max(0.0));
                if b <= a {
                    return 1.0; // all before the change
                }
                let before = (a - a_s) / (b_s - a_s);
                let held = f.reversal.mean_held(a, b);
                let stale = p.mean_stale_share(f.after_s + a, f.after_s + b);
                before + (1.0 - before) * f.share_of(held, stale)
            }
            (Course::FollowUp(_), _) => self.remaining(a_s),
            _ => self.switch.mean_remaining(a_s, b_s),
        }
    }

    /// Seconds after the last change until at most `share` of it remains
    /// (infinite if never).
    pub fn time_to_remaining(&self, share: f64) -> f64 {
        match &self.course {
            Course::FollowUp(_) => first_time_at_or_below(|t| self.remaining(t), share),
            _ => self.switch.time_to_remaining(share),
        }
    }

    /// Share of new requests routed to the new version at `now`, in [0, 1].
    pub fn routed_share(&self, now: SimTime, old: Counts, new: Counts) -> f64 {
        let elapsed = (now - self.changed_at).as_secs_f64();
        self.towards(old, new, self.remaining(elapsed))
    }

    /// Mean routed share over [from, to] (routing and counts fixed otherwise).
    pub fn mean_routed_share(&self, from: SimTime, to: SimTime, old: Counts, new: Counts) -> f64 {
        let a = (from - self.changed_at).as_secs_f64();
        let b = (to - self.changed_at).as_secs_f64();
        self.towards(old, new, self.mean_remaining(a, b))
    }

    /// The target share, less the part of the change not yet applied.
    fn towards(&self, old: Counts, new: Counts, remaining: f64) -> f64 {
        let Some(target) = aimed_share(self.target) else {
            return share_by_instances(old, new);
        };
        target + (self.from_share - target) * remaining
    }

    /// Seconds after the last change until it has settled for all but `share`.
    pub fn settle_s(&self, share: f64) -> f64 {
        match self.target {
            Route::ByReadyInstances => 0.0,
            _ => self.time_to_remaining(share),
        }
    }
}

/// A follow-up's terms: the share off target is
/// `held_weight` H + `stale_weight` S, which is `start` when it begins.
#[derive(Debug, Clone, Copy, PartialEq)]
struct FollowUp {
    after_s: f64,
    reversal: Reversal,
    held_weight: f64,
    stale_weight: f64,
    start: f64,
}

impl FollowUp {
    /// The part of the follow-up not yet applied, given H and S (or their means).
    fn share_of(&self, held: f64, stale: f64) -> f64 {
        if self.start == 0.0 {
            return 0.0;
        }
        ((self.held_weight * held + self.stale_weight * stale) / self.start).clamp(0.0, 1.0)
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
    fn a_dns_switch_follows_the_stale_share() {
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
        assert_eq!(r.settle_s(0.01), dns.time_to_share(0.01));
    }

    /// The worked example of `world::dns`, through the router: TTL 20 s,
    /// TTL-respecting clients only, rolled back 10 s into the switch. Half
    /// had moved; each holds the new answer 20 s from its move.
    #[test]
    fn a_dns_rollback_holds_clients_that_just_moved_for_a_full_ttl() {
        let dns = DnsParams {
            jvm_cache_share: 0.0,
            http_client_cache_share: 0.0,
            violator_share: 0.0,
            ..DnsParams::default()
        };
        let (old, new) = (c(10, 10), c(10, 10));
        let at = SimTime::from_secs_f64;
        let mut r = Router::new(Route::All(Version::Old), Switch::Dns(dns));
        r.set(Route::All(Version::New), SimTime::ZERO, old, new);
        r.set(Route::All(Version::Old), at(10.0), old, new);
        for (t, expected) in [
            (10.0, 0.5),
            (15.0, 0.5),
            (20.0, 0.5),
            (25.0, 0.25),
            (30.0, 0.0),
        ] {
            let got = r.routed_share(at(t), old, new);
            assert!((got - expected).abs() < 1e-12, "at {t} s: {got}");
        }
        // The curve with the roles swapped would be 0.375 at 15 s.
        let mean = r.mean_routed_share(at(10.0), at(30.0), old, new);
        assert!((mean - 7.5 / 20.0).abs() < 1e-12, "{mean}");
        // All but 1% of the change applied: (20 - t) / 20 = 0.01 * 0.5.
        assert!(
            (r.settle_s(0.01) - 19.9).abs() < 1e-6,
            "{}",
            r.settle_s(0.01)
        );
    }

    #[test]
    fn a_change_after_a_dns_follow_up_starts_from_where_routing_stands() {
        let dns = DnsParams::default();
        let (old, new) = (c(10, 10), c(10, 10));
        let at = SimTime::from_secs;
        let mut r = Router::new(Route::All(Version::Old), Switch::Dns(dns.clone()));
        r.set(Route::All(Version::New), SimTime::ZERO, old, new);
        r.set(Route::All(Version::Old), at(120), old, new);
        let before = r.routed_share(at(300), old, new);
        // A change after a follow-up starts fresh from where routing
        // stands, so nothing jumps.
        r.set(Route::All(Version::Old), at(300), old, new);
        let after = r.routed_share(at(300), old, new);
        assert!((after - before).abs() < 1e-12, "{before} -> {after}");
        // A fresh change from there follows the switch's own law.
        let later = r.routed_share(at(360), old, new);
        assert!((later - before * dns.stale_share(60.0)).abs() < 1e-12);
    }

    #[test]
    fn re_issuing_a_dns_switch_continues_its_curve() {
        let dns = DnsParams::default();
        let (old, new) = (c(10, 10), c(10, 10));
        let at = SimTime::from_secs;
        let mut r = Router::new(Route::All(Version::Old), Switch::Dns(dns.clone()));
        r.set(Route::All(Version::New), SimTime::ZERO, old, new);
        r.set(Route::All(Version::New), at(100), old, new);
        let got = r.routed_share(at(400), old, new);
        assert!(
            (got - (1.0 - dns.stale_share(400.0))).abs() < 1e-12,
            "{got}"
        );
    }
}
