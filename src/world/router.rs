//! The router: which share of requests goes to the new version, given the
//! route a strategy asked for and the instances that are ready.

use crate::strategies::{Counts, Route, Version};

#[derive(Debug, Clone, Copy)]
pub struct Router {
    pub route: Route,
}

impl Router {
    pub fn new(route: Route) -> Router {
        Router { route }
    }

    /// Share of requests sent to the new version, in [0, 1].
    pub fn share_new(&self, old: Counts, new: Counts) -> f64 {
        match self.route {
            Route::ByReadyInstances => share_by_instances(old, new),
            Route::Weight(w) => w.clamp(0.0, 1.0),
            Route::All(Version::New) => 1.0,
            Route::All(Version::Old) => 0.0,
        }
    }
}

/// A load balancer spreads requests over ready targets. With none ready, the
/// requests still arrive and fail (503): they are charged to the version whose
/// instances the target group holds.
fn share_by_instances(old: Counts, new: Counts) -> f64 {
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
        let r = Router::new(Route::ByReadyInstances);
        assert_eq!(r.share_new(c(8, 8), c(3, 2)), 0.2);
        assert_eq!(
            r.share_new(c(0, 0), c(4, 0)),
            1.0,
            "nothing ready: requests fail on the new target group"
        );
        assert_eq!(
            Router::new(Route::Weight(0.05)).share_new(c(10, 10), c(1, 1)),
            0.05
        );
        assert_eq!(
            Router::new(Route::All(Version::Old)).share_new(c(10, 10), c(10, 10)),
            0.0
        );
    }
}
