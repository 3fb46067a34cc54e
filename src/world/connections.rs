//! Long-lived connections (websockets, pooled HTTP or database connections):
//! a share of requests rides connections that stay on the instance they
//! opened to. A route change moves new connections only; an open one moves
//! when it closes (lifetimes are exponential, so at rate 1/lifetime) or when
//! its instance goes away and cuts it (after connection draining or the load
//! balancer's deregistration delay).

/// Long-lived connections of the whole service.
#[derive(Debug, Clone)]
pub struct Connections {
    /// Connections open at any time.
    pub open: f64,
    /// Share of requests carried on them, in [0, 1].
    pub request_share: f64,
    /// Mean lifetime (s); a closed connection reopens where routing points.
    pub lifetime_s: f64,
    /// Share of the open connections that are on the new version.
    pub on_new: f64,
    /// Connections cut by an instance going away.
    pub cut: f64,
}

impl Connections {
    pub fn new(open: f64, request_share: f64, lifetime_s: f64) -> Connections {
        Connections {
            open,
            request_share,
            lifetime_s,
            on_new: 0.0,
            cut: 0.0,
        }
    }

    fn decay(&self, dt_s: f64) -> f64 {
        if self.lifetime_s > 0.0 {
            (-dt_s / self.lifetime_s).exp()
        } else {
            0.0
        }
    }

    /// Mean share on the new version over the next `dt_s` while routing sends
    /// new connections to the new version with share `routed`.
    pub fn mean_on_new(&self, dt_s: f64, routed: f64) -> f64 {
        if dt_s <= 0.0 || self.lifetime_s <= 0.0 {
            return if self.lifetime_s > 0.0 {
                self.on_new
            } else {
                routed
            };
        }
        let m = self.lifetime_s;
        routed + (self.on_new - routed) * m * (1.0 - self.decay(dt_s)) / dt_s
    }

    /// Advances `dt_s`: connections close and reopen where routing points.
    pub fn relax(&mut self, dt_s: f64, routed: f64) {
        self.on_new = routed + (self.on_new - routed) * self.decay(dt_s);
    }

    /// Share of requests on the new version, given the routed share of the rest.
    pub fn effective_share(&self, routed: f64) -> f64 {
        (1.0 - self.request_share) * routed + self.request_share * self.on_new
    }

    /// One instance of a version holding `share_on_version` of the connections,
    /// spread over `instances` instances, goes away: its connections are cut
    /// and reopen where routing points (`routed` share to new). Returns the cut.
    pub fn instance_gone(&mut self, on_new_version: bool, instances: u32, routed: f64) -> f64 {
        let cut = self.move_off(on_new_version, instances, routed) * self.open;
        self.cut += cut;
        cut
    }

    /// One instance goes away after its connections closed on their own (a
    /// load balancer completed its deregistration): what the expected
    /// counts still hold on it, under half a connection, moves without
    /// being counted as cut.
    pub fn instance_emptied(&mut self, on_new_version: bool, instances: u32, routed: f64) {
        self.move_off(on_new_version, instances, routed);
    }

    /// Moves one instance's share of its version's connections to where
    /// routing points; returns the share moved.
    fn move_off(&mut self, on_new_version: bool, instances: u32, routed: f64) -> f64 {
        if instances == 0 || self.open <= 0.0 {
            return 0.0;
        }
        let share_on_version = if on_new_version {
            self.on_new
        } else {
            1.0 - self.on_new
        };
        let moved = share_on_version / instances as f64;
        // The connections reconnect at once, split by routing.
        if on_new_version {
            self.on_new += -moved + moved * routed;
        } else {
            self.on_new += moved * routed;
        }
        self.on_new = self.on_new.clamp(0.0, 1.0);
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_connections_follow_a_switch_at_their_lifetime() {
        let mut c = Connections::new(1000.0, 0.3, 100.0);
        c.relax(100.0, 1.0);
        assert!((c.on_new - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // Mean over a span equals the integral of the exponential.
        let mut fresh = Connections::new(1000.0, 0.3, 100.0);
        let mean = fresh.mean_on_new(100.0, 1.0);
        assert!((mean - (1.0 - (1.0 - (-1.0f64).exp()))).abs() < 1e-12);
        fresh.relax(0.0, 1.0);
        assert_eq!(
            fresh.effective_share(1.0),
            0.7,
            "routed requests move, long-lived ones not yet"
        );
    }

    #[test]
    fn an_instance_going_away_cuts_its_share_of_connections() {
        let mut c = Connections::new(1000.0, 0.5, 600.0);
        // All on old, 4 old instances, routing now all to new.
        let cut = c.instance_gone(false, 4, 1.0);
        assert_eq!(cut, 250.0);
        assert_eq!(c.on_new, 0.25);
        assert_eq!(c.cut, 250.0);
    }
}
