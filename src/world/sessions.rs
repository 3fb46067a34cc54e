//! In-memory sessions: a share of users hold server-side state on the
//! instance or environment that serves them. Moving a user elsewhere loses
//! it, unless sessions live in a shared store (Redis, a database).

#[derive(Debug, Clone)]
pub struct Sessions {
    /// Users holding a session; 0 when sessions are shared or absent.
    pub holders: f64,
    /// Share of session holders currently served by the new version.
    pub on_new: f64,
    pub lost: f64,
    /// Routing has already sprayed every user across both versions.
    sprayed: bool,
}

impl Sessions {
    pub fn new(users: u64, session_user_share: f64, shared_store: bool) -> Sessions {
        let holders = if shared_store {
            0.0
        } else {
            users as f64 * session_user_share
        };
        Sessions {
            holders,
            on_new: 0.0,
            lost: 0.0,
            sprayed: false,
        }
    }

    /// Routing moves to `share_new`. Sticky routing (a switch, a sticky canary)
    /// moves exactly the users whose side changed; without stickiness a split
    /// weight sends each user's requests to both versions, so every holder
    /// loses the session once.
    pub fn route_changed(&mut self, share_new: f64, sticky: bool) {
        if !sticky && share_new > 0.0 && share_new < 1.0 {
            if !self.sprayed {
                self.lost += self.holders;
                self.sprayed = true;
            }
        } else {
            self.lost += self.holders * (share_new - self.on_new).abs();
        }
        self.on_new = share_new;
    }

    /// `removed` ready instances of a version that served `share_of_holders`
    /// of the sessions over `ready_before` instances stop: their sessions are lost.
    pub fn instances_removed(&mut self, removed: u32, ready_before: u32, share_of_holders: f64) {
        if ready_before == 0 || removed == 0 {
            return;
        }
        self.lost += self.holders * share_of_holders * removed as f64 / ready_before as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_moves_every_session_and_a_shared_store_keeps_them() {
        let mut s = Sessions::new(1000, 0.4, false);
        s.route_changed(1.0, true);
        assert_eq!(s.lost, 400.0);
        let mut shared = Sessions::new(1000, 0.4, true);
        shared.route_changed(1.0, true);
        assert_eq!(shared.lost, 0.0);
    }

    #[test]
    fn a_sticky_canary_moves_only_its_weight() {
        let mut s = Sessions::new(1000, 1.0, false);
        s.route_changed(0.05, true);
        s.route_changed(0.25, true);
        assert!((s.lost - 250.0).abs() < 1e-9);
        let mut sprayed = Sessions::new(1000, 1.0, false);
        sprayed.route_changed(0.05, false);
        sprayed.route_changed(0.25, false);
        assert_eq!(sprayed.lost, 1000.0);
    }

    #[test]
    fn removing_instances_loses_their_share() {
        let mut s = Sessions::new(1000, 0.5, false);
        s.instances_removed(2, 10, 1.0);
        assert_eq!(s.lost, 100.0);
    }
}
