//! How a removed instance leaves, as the platforms document it.
//!
//! Kubernetes terminates a pod on two tracks at once (Kubernetes docs, "Pod
//! Lifecycle: Termination of Pods"): the kubelet runs the preStop hook and
//! then sends SIGTERM, while the EndpointSlice change travels to every
//! kube-proxy and ingress controller. Until it arrives, clients still send
//! the pod its share of requests; once the pod has had SIGTERM it stops
//! accepting them and they fail. A preStop sleep at least as long as the
//! propagation keeps the pod accepting until nobody sends it anything.
//!
//! An AWS load balancer completes a deregistration at once when the target
//! has no in-flight requests and no active connections, and otherwise at the
//! end of the deregistration delay (AWS ELB docs, "Deregistration delay"):
//! the instance is kept, and paid for, only as long as that.

use crate::engine::SimTime;

/// A connection count under this rounds to none (the fluid model of
/// `world::connections` holds expected counts).
const NO_CONNECTION_BELOW: f64 = 0.5;

/// The platform's teardown rules for one strategy's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeardownParams {
    /// preStop sleep: a terminating instance keeps accepting requests this
    /// long before it gets SIGTERM.
    pub prestop: SimTime,
    /// How long a terminating instance stays listed in its version's
    /// endpoints (EndpointSlice propagation to kube-proxy and ingresses).
    pub endpoint_propagation: SimTime,
    /// After SIGTERM, the instance finishes its in-flight requests this long.
    pub drain: SimTime,
    /// Behind a load balancer: the deregistration delay, which caps how long
    /// a deregistered target is kept for its in-flight requests and open
    /// connections.
    pub deregistration_delay: Option<SimTime>,
}

impl TeardownParams {
    /// How long after it is told to stop a ready instance holding
    /// `connections` long-lived connections (mean lifetime `lifetime_s`) is
    /// gone. On its own it is gone after its preStop sleep and its drain of
    /// in-flight requests; a load balancer keeps the target until that is
    /// done and its connections have closed, or until the deregistration
    /// delay, whichever comes first.
    pub fn gone_after(&self, connections: f64, lifetime_s: f64) -> SimTime {
        let own = self.prestop + self.drain;
        match self.deregistration_delay {
            None => own,
            Some(delay) => own
                .max(connections_closed_after(connections, lifetime_s))
                .min(delay),
        }
    }

    /// What a removed instance does while still listed: it accepts requests
    /// through its preStop sleep, then refuses them. None when it is never
    /// listed after removal (no propagation delay).
    pub fn listed(&self) -> Option<Listed> {
        (self.endpoint_propagation > SimTime::ZERO).then_some(if self.prestop > SimTime::ZERO {
            Listed::Accepting
        } else {
            Listed::Refusing
        })
    }

    /// When a listed instance stops accepting, if that happens before it is
    /// delisted (after that nobody sends it requests, so it does not matter).
    pub fn stops_accepting_after(&self) -> Option<SimTime> {
        (self.prestop > SimTime::ZERO && self.prestop < self.endpoint_propagation)
            .then_some(self.prestop)
    }
}

/// A stopping instance that clients still send requests to, because the
/// change removing it has not reached them yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    /// Inside its preStop sleep: it serves what it is sent.
    Accepting,
    /// It has had SIGTERM (or is gone): what it is sent fails.
    Refusing,
}

/// Seconds until `connections` long-lived connections with exponential
/// lifetimes (mean `lifetime_s`) on an instance nobody routes new ones to
/// have closed: each closes at rate 1/lifetime, so n·e^(−t/lifetime) remain,
/// and they are all closed once under half a connection is left,
/// t = lifetime · ln(2n).
pub fn connections_closed_after(connections: f64, lifetime_s: f64) -> SimTime {
    if connections < NO_CONNECTION_BELOW || lifetime_s <= 0.0 {
        return SimTime::ZERO;
    }
    SimTime::from_secs_f64(lifetime_s * (connections / NO_CONNECTION_BELOW).ln())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(prestop_s: u64, drain_s: u64, delay_s: Option<u64>) -> TeardownParams {
        TeardownParams {
            prestop: SimTime::from_secs(prestop_s),
            endpoint_propagation: SimTime::from_secs(2),
            drain: SimTime::from_secs(drain_s),
            deregistration_delay: delay_s.map(SimTime::from_secs),
        }
    }

    #[test]
    fn a_target_without_connections_leaves_once_its_requests_are_done() {
        // ALB: no in-flight requests and no connections completes the
        // deregistration at once; here in-flight requests take the 30 s drain.
        assert_eq!(
            params(0, 30, Some(300)).gone_after(0.0, 1800.0),
            SimTime::from_secs(30)
        );
        assert_eq!(
            params(0, 0, Some(300)).gone_after(0.0, 1800.0),
            SimTime::ZERO
        );
        // The delay caps a drain longer than itself.
        assert_eq!(
            params(0, 30, Some(10)).gone_after(0.0, 1800.0),
            SimTime::from_secs(10)
        );
    }

    #[test]
    fn open_connections_hold_a_target_until_they_close_or_the_delay() {
        // 100 connections of mean lifetime 30 s: 30 · ln(200) = 158.950 s.
        assert_eq!(
            connections_closed_after(100.0, 30.0),
            SimTime::from_secs_f64(30.0 * 200f64.ln())
        );
        assert_eq!(connections_closed_after(100.0, 30.0), SimTime(158_950));
        assert_eq!(
            params(0, 30, Some(300)).gone_after(100.0, 30.0),
            SimTime(158_950)
        );
        // Mean lifetime 30 min: 1800 · ln(200) = 9,537 s, so the 300 s delay cuts them.
        assert_eq!(
            params(0, 30, Some(300)).gone_after(100.0, 1800.0),
            SimTime::from_secs(300)
        );
        // Under half a connection is none.
        assert_eq!(connections_closed_after(0.4, 30.0), SimTime::ZERO);
    }

    #[test]
    fn without_a_load_balancer_an_instance_leaves_after_its_sleep_and_drain() {
        // Kubernetes: the preStop sleep, then SIGTERM and the drain;
        // connections are cut when it goes.
        assert_eq!(
            params(5, 30, None).gone_after(1000.0, 1800.0),
            SimTime::from_secs(35)
        );
    }

    #[test]
    fn a_listed_instance_accepts_through_its_sleep_then_refuses() {
        let no_sleep = params(0, 30, None);
        assert_eq!(no_sleep.listed(), Some(Listed::Refusing));
        assert_eq!(no_sleep.stops_accepting_after(), None);
        let short = TeardownParams {
            prestop: SimTime::from_secs(1),
            ..no_sleep
        };
        assert_eq!(short.listed(), Some(Listed::Accepting));
        assert_eq!(short.stops_accepting_after(), Some(SimTime::from_secs(1)));
        // A sleep as long as the propagation covers it.
        let covering = params(2, 30, None);
        assert_eq!(covering.listed(), Some(Listed::Accepting));
        assert_eq!(covering.stops_accepting_after(), None);
        let instant = TeardownParams {
            endpoint_propagation: SimTime::ZERO,
            ..no_sleep
        };
        assert_eq!(instant.listed(), None);
    }
}
