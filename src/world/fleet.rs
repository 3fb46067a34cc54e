//! The fleet: every instance that exists during the deployment, with the
//! moments it was asked for, became ready, and was torn down. Instance-seconds
//! (and so cost) come from these real states, not from a formula.

use crate::engine::SimTime;
use crate::strategies::{Counts, Version};

#[derive(Debug, Clone)]
pub struct Instance {
    pub version: Version,
    pub created: SimTime,
    /// When it passed readiness; None while starting (or forever, if it crashes on start).
    pub ready_at: Option<SimTime>,
    /// Ready for min_ready_s.
    pub available: bool,
    /// When it was told to stop: from then it takes no new requests.
    pub stopping_at: Option<SimTime>,
    /// When it is gone and no longer paid for.
    pub gone_at: Option<SimTime>,
}

impl Instance {
    pub fn is_live(&self) -> bool {
        self.stopping_at.is_none()
    }

    pub fn is_ready(&self) -> bool {
        self.is_live() && self.ready_at.is_some()
    }

    /// Seconds this instance is paid for within [0, end].
    pub fn billed_s(&self, end: SimTime) -> f64 {
        let until = self.gone_at.unwrap_or(end).min(end);
        until.saturating_sub(self.created).as_secs_f64()
    }
}

/// What the simulation must schedule after a fleet change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetEvent {
    /// Instance `id` asks for its readiness check at the given time.
    StartupDone(usize),
    /// Instance `id` finishes draining and disappears.
    Gone(usize),
}

#[derive(Debug, Default)]
pub struct Fleet {
    pub instances: Vec<Instance>,
    live: usize,
    peak: usize,
}

impl Fleet {
    /// A fleet already running `replicas` ready instances of the old version.
    pub fn running(replicas: u32) -> Fleet {
        let mut fleet = Fleet::default();
        for _ in 0..replicas {
            fleet.instances.push(Instance {
                version: Version::Old,
                created: SimTime::ZERO,
                ready_at: Some(SimTime::ZERO),
                available: true,
                stopping_at: None,
                gone_at: None,
            });
        }
        fleet.live = replicas as usize;
        fleet.peak = fleet.live;
        fleet
    }

    pub fn counts(&self, version: Version) -> Counts {
        let mut c = Counts::default();
        for i in self
            .instances
            .iter()
            .filter(|i| i.version == version && i.is_live())
        {
            c.spec += 1;
            c.ready += i.ready_at.is_some() as u32;
            c.available += i.available as u32;
        }
        c
    }

    /// Instances of `version` that may hold open connections: ready once, not yet gone.
    pub fn holding_connections(&self, version: Version) -> u32 {
        self.instances
            .iter()
            .filter(|i| i.version == version && i.ready_at.is_some() && i.gone_at.is_none())
            .count() as u32
    }

    pub fn peak_instances(&self) -> usize {
        self.peak
    }

    /// Scales `version` to `replicas`. New instances need `startup(k)` to pass
    /// readiness; removed ones drain for `drain`. Like a ReplicaSet, it removes
    /// instances that are not ready before ready ones, newest first.
    pub fn scale(
        &mut self,
        version: Version,
        replicas: u32,
        now: SimTime,
        drain: SimTime,
        mut startup: impl FnMut() -> SimTime,
    ) -> Vec<(SimTime, FleetEvent)> {
        let current = self.counts(version).spec;
        let mut events = Vec::new();
        if replicas > current {
            for _ in current..replicas {
                let id = self.instances.len();
                self.instances.push(Instance {
                    version,
                    created: now,
                    ready_at: None,
                    available: false,
                    stopping_at: None,
                    gone_at: None,
                });
                self.live += 1;
                events.push((now + startup(), FleetEvent::StartupDone(id)));
            }
            self.peak = self.peak.max(self.live);
        } else if replicas < current {
            let mut candidates: Vec<usize> = (0..self.instances.len())
                .filter(|&id| self.instances[id].version == version && self.instances[id].is_live())
                .collect();
            // Not ready first, then newest first (ReplicaSet ActivePodsWithRanks).
            candidates
                .sort_by_key(|&id| (self.instances[id].ready_at.is_some(), std::cmp::Reverse(id)));
            for &id in candidates.iter().take((current - replicas) as usize) {
                let inst = &mut self.instances[id];
                inst.stopping_at = Some(now);
                inst.available = false;
                if inst.ready_at.is_some() && drain > SimTime::ZERO {
                    events.push((now + drain, FleetEvent::Gone(id)));
                } else {
                    inst.gone_at = Some(now);
                    self.live -= 1;
                }
            }
        }
        events
    }

    /// Marks instance `id` ready (if it is still wanted). Returns whether it changed.
    pub fn mark_ready(&mut self, id: usize, now: SimTime) -> bool {
        let inst = &mut self.instances[id];
        if inst.is_live() && inst.ready_at.is_none() {
            inst.ready_at = Some(now);
            true
        } else {
            false
        }
    }

    pub fn mark_available(&mut self, id: usize) -> bool {
        let inst = &mut self.instances[id];
        if inst.is_ready() && !inst.available {
            inst.available = true;
            true
        } else {
            false
        }
    }

    pub fn mark_gone(&mut self, id: usize, now: SimTime) {
        let inst = &mut self.instances[id];
        if inst.gone_at.is_none() {
            inst.gone_at = Some(now);
            self.live -= 1;
        }
    }

    /// Instance-seconds paid within [0, end].
    pub fn instance_seconds(&self, end: SimTime) -> f64 {
        self.instances.iter().map(|i| i.billed_s(end)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_down_removes_unready_then_newest() {
        let mut f = Fleet::running(2);
        let ev = f.scale(Version::Old, 4, SimTime(10), SimTime::ZERO, || SimTime(5));
        assert_eq!(ev.len(), 2);
        f.mark_ready(2, SimTime(15));
        // Remove two: the unready #3 first, then the newest ready, #2.
        f.scale(Version::Old, 2, SimTime(20), SimTime::ZERO, || SimTime(5));
        assert!(f.instances[3].gone_at.is_some() && f.instances[2].gone_at.is_some());
        assert!(f.instances[0].is_live() && f.instances[1].is_live());
        assert_eq!(
            f.counts(Version::Old),
            Counts {
                spec: 2,
                ready: 2,
                available: 2
            }
        );
        assert_eq!(f.peak_instances(), 4);
    }

    #[test]
    fn billing_counts_from_creation_to_gone() {
        let mut f = Fleet::running(1);
        f.scale(
            Version::New,
            1,
            SimTime::from_secs(10),
            SimTime::ZERO,
            || SimTime::from_secs(30),
        );
        f.scale(
            Version::Old,
            0,
            SimTime::from_secs(40),
            SimTime::from_secs(20),
            || SimTime::ZERO,
        );
        f.mark_gone(0, SimTime::from_secs(60));
        // old: 0..60 s; new: 10..100 s at end = 100 s.
        assert_eq!(f.instance_seconds(SimTime::from_secs(100)), 60.0 + 90.0);
    }
}
