//! The fleet: every instance that exists during the deployment, with the
//! moments it was asked for, became ready, and was torn down. Instance-seconds
//! (and so cost) come from these real states, not from a formula.

use crate::engine::SimTime;
use crate::vocab::{Counts, Version};
use crate::world::teardown::Listed;

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
    /// Stopping, but clients still send it requests (the change removing it
    /// from its version's endpoints has not reached them yet).
    pub listed: Option<Listed>,
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

/// The fleet's events: what happens to one instance (by id) at a scheduled time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetEvent {
    /// Instance `id` asks for its readiness check at the given time.
    StartupDone(usize),
    /// Instance `id` has been ready for min_ready_s.
    Available(usize),
    /// Instance `id` finishes draining and disappears.
    Gone(usize),
    /// Listed instance `id` ends its preStop sleep: SIGTERM, it stops accepting requests.
    StopsAccepting(usize),
    /// The change removing instance `id` from its version's endpoints has reached every client.
    Delisted(usize),
    /// The progress deadline of new instance `id` has passed.
    ProgressCheck(usize),
}

/// How the ready instances a scale-down removes leave: when they are gone,
/// and how long clients still send them requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Removal {
    /// Gone (no longer paid for) this long after being told to stop.
    pub gone_after: SimTime,
    /// Still listed in its version's endpoints this long after being told to stop,
    pub listed_for: SimTime,
    /// starting in this state; None: clients drop it at once.
    pub listed: Option<Listed>,
    /// A listed instance that starts accepting stops (SIGTERM) after this
    /// long, when that comes before it is delisted.
    pub stops_accepting_after: Option<SimTime>,
}

impl Removal {
    /// Gone after `drain`, never listed once told to stop.
    #[cfg(test)]
    pub fn after(drain: SimTime) -> Removal {
        Removal {
            gone_after: drain,
            listed_for: SimTime::ZERO,
            listed: None,
            stops_accepting_after: None,
        }
    }
}

/// Stopping instances of one version that clients still send requests to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListedCounts {
    pub accepting: u32,
    pub refusing: u32,
}

impl ListedCounts {
    pub fn total(&self) -> u32 {
        self.accepting + self.refusing
    }

    fn slot(&mut self, state: Listed) -> &mut u32 {
        match state {
            Listed::Accepting => &mut self.accepting,
            Listed::Refusing => &mut self.refusing,
        }
    }
}

/// Every instance ever asked for, with running counts per version kept in
/// step with each change, so the many per-event questions (how many ready?)
/// never walk the instance list.
#[derive(Debug, Default)]
pub struct Fleet {
    instances: Vec<Instance>,
    live: usize,
    peak: usize,
    /// Per version (old, new): spec, ready and available counts.
    counts: [Counts; 2],
    /// Per version: instances ready once and not yet gone (serving or draining).
    holding: [u32; 2],
    /// Per version: stopping instances still listed.
    listed: [ListedCounts; 2],
}

fn slot(version: Version) -> usize {
    match version {
        Version::Old => 0,
        Version::New => 1,
    }
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
                listed: None,
            });
        }
        fleet.live = replicas as usize;
        fleet.peak = fleet.live;
        fleet.counts[slot(Version::Old)] = Counts {
            spec: replicas,
            ready: replicas,
            available: replicas,
        };
        fleet.holding[slot(Version::Old)] = replicas;
        fleet
    }

    /// Every instance asked for so far, in order of creation (its id).
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    pub fn counts(&self, version: Version) -> Counts {
        self.counts[slot(version)]
    }

    /// Instances of `version` that may hold open connections: ready once, not yet gone.
    pub fn holding_connections(&self, version: Version) -> u32 {
        self.holding[slot(version)]
    }

    /// Stopping instances of `version` that clients still send requests to.
    pub fn listed(&self, version: Version) -> ListedCounts {
        self.listed[slot(version)]
    }

    pub fn peak_instances(&self) -> usize {
        self.peak
    }

    /// Scales `version` to `replicas`. New instances need `startup(k)` to pass
    /// readiness; removed ready ones leave as `removal` says (unready ones at
    /// once). Like a ReplicaSet, it removes instances that are not ready
    /// before ready ones, newest first.
    pub fn scale(
        &mut self,
        version: Version,
        replicas: u32,
        now: SimTime,
        removal: Removal,
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
                    listed: None,
                });
                self.live += 1;
                self.counts[slot(version)].spec += 1;
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
            let counts = &mut self.counts[slot(version)];
            for &id in candidates.iter().take((current - replicas) as usize) {
                let inst = &mut self.instances[id];
                let was_ready = inst.ready_at.is_some();
                counts.spec -= 1;
                counts.ready -= was_ready as u32;
                counts.available -= inst.available as u32;
                inst.stopping_at = Some(now);
                inst.available = false;
                let gone_now = !(was_ready && removal.gone_after > SimTime::ZERO);
                if was_ready && let Some(state) = removal.listed {
                    // Gone at once, it can only refuse what it is still sent.
                    let state = if gone_now { Listed::Refusing } else { state };
                    inst.listed = Some(state);
                    *self.listed[slot(version)].slot(state) += 1;
                    events.push((now + removal.listed_for, FleetEvent::Delisted(id)));
                    if state == Listed::Accepting
                        && let Some(after) = removal.stops_accepting_after
                    {
                        events.push((now + after, FleetEvent::StopsAccepting(id)));
                    }
                }
                if gone_now {
                    inst.gone_at = Some(now);
                    self.live -= 1;
                    self.holding[slot(version)] -= was_ready as u32;
                } else {
                    events.push((now + removal.gone_after, FleetEvent::Gone(id)));
                }
            }
        }
        events
    }

    /// A listed instance that was accepting refuses from now on.
    fn refuse_if_accepting(&mut self, id: usize) {
        let inst = &mut self.instances[id];
        if inst.listed == Some(Listed::Accepting) {
            inst.listed = Some(Listed::Refusing);
            let counts = &mut self.listed[slot(inst.version)];
            counts.accepting -= 1;
            counts.refusing += 1;
        }
    }

    /// Instance `id`'s preStop sleep ended: it gets SIGTERM and refuses new requests.
    pub fn stops_accepting(&mut self, id: usize) {
        self.refuse_if_accepting(id);
    }

    /// Clients no longer send instance `id` requests.
    pub fn delisted(&mut self, id: usize) {
        let inst = &mut self.instances[id];
        if let Some(state) = inst.listed.take() {
            *self.listed[slot(inst.version)].slot(state) -= 1;
        }
    }

    /// Marks instance `id` ready (if it is still wanted). Returns whether it changed.
    pub fn mark_ready(&mut self, id: usize, now: SimTime) -> bool {
        let inst = &mut self.instances[id];
        if inst.is_live() && inst.ready_at.is_none() {
            inst.ready_at = Some(now);
            self.counts[slot(inst.version)].ready += 1;
            self.holding[slot(inst.version)] += 1;
            true
        } else {
            false
        }
    }

    pub fn mark_available(&mut self, id: usize) -> bool {
        let inst = &mut self.instances[id];
        if inst.is_ready() && !inst.available {
            inst.available = true;
            self.counts[slot(inst.version)].available += 1;
            true
        } else {
            false
        }
    }

    /// A stopping instance finished draining. A live one cannot just vanish.
    /// One that is gone while still listed refuses what it is sent.
    pub fn mark_gone(&mut self, id: usize, now: SimTime) {
        let inst = &mut self.instances[id];
        if inst.gone_at.is_none() && inst.stopping_at.is_some() {
            inst.gone_at = Some(now);
            self.live -= 1;
            self.holding[slot(inst.version)] -= inst.ready_at.is_some() as u32;
            self.refuse_if_accepting(id);
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

    /// The counts the running tallies must equal, by walking every instance.
    fn recount(f: &Fleet, v: Version) -> (Counts, u32, ListedCounts) {
        let mut c = Counts::default();
        let mut holding = 0;
        let mut listed = ListedCounts::default();
        for i in f.instances().iter().filter(|i| i.version == v) {
            if i.is_live() {
                c.spec += 1;
                c.ready += i.ready_at.is_some() as u32;
                c.available += i.available as u32;
            }
            holding += (i.ready_at.is_some() && i.gone_at.is_none()) as u32;
            listed.accepting += (i.listed == Some(Listed::Accepting)) as u32;
            listed.refusing += (i.listed == Some(Listed::Refusing)) as u32;
        }
        (c, holding, listed)
    }

    #[test]
    fn running_counts_match_a_recount_after_any_sequence_of_changes() {
        use rand::RngExt;
        let mut rng = crate::engine::stream(5, 0, crate::engine::Purpose::Startup);
        let mut f = Fleet::running(4);
        for step in 0..2000u64 {
            let now = SimTime(step);
            let v = if rng.random::<bool>() {
                Version::Old
            } else {
                Version::New
            };
            let n = f.instances().len();
            match rng.random_range(0..6) {
                0 => {
                    let listed = [None, Some(Listed::Accepting), Some(Listed::Refusing)]
                        [rng.random_range(0..3)];
                    let removal = Removal {
                        gone_after: SimTime(rng.random_range(0..2)),
                        listed_for: SimTime(2),
                        listed,
                        stops_accepting_after: Some(SimTime(1)),
                    };
                    f.scale(v, rng.random_range(0..8), now, removal, || SimTime(1));
                }
                1 if n > 0 => {
                    f.mark_ready(rng.random_range(0..n), now);
                }
                2 if n > 0 => {
                    f.mark_available(rng.random_range(0..n));
                }
                3 if n > 0 => f.stops_accepting(rng.random_range(0..n)),
                4 if n > 0 => f.delisted(rng.random_range(0..n)),
                _ if n > 0 => f.mark_gone(rng.random_range(0..n), now),
                _ => {}
            }
            for v in [Version::Old, Version::New] {
                assert_eq!(
                    (f.counts(v), f.holding_connections(v), f.listed(v)),
                    recount(&f, v),
                    "step {step}"
                );
            }
        }
    }

    #[test]
    fn scale_down_removes_unready_then_newest() {
        let mut f = Fleet::running(2);
        let ev = f.scale(
            Version::Old,
            4,
            SimTime(10),
            Removal::after(SimTime::ZERO),
            || SimTime(5),
        );
        assert_eq!(ev.len(), 2);
        f.mark_ready(2, SimTime(15));
        // Remove two: the unready #3 first, then the newest ready, #2.
        f.scale(
            Version::Old,
            2,
            SimTime(20),
            Removal::after(SimTime::ZERO),
            || SimTime(5),
        );
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
            Removal::after(SimTime::ZERO),
            || SimTime::from_secs(30),
        );
        f.scale(
            Version::Old,
            0,
            SimTime::from_secs(40),
            Removal::after(SimTime::from_secs(20)),
            || SimTime::ZERO,
        );
        f.mark_gone(0, SimTime::from_secs(60));
        // old: 0..60 s; new: 10..100 s at end = 100 s.
        assert_eq!(f.instance_seconds(SimTime::from_secs(100)), 60.0 + 90.0);
    }

    #[test]
    fn a_removed_instance_stays_listed_accepting_then_refusing() {
        let mut f = Fleet::running(2);
        let removal = Removal {
            gone_after: SimTime::from_secs(35),
            listed_for: SimTime::from_secs(2),
            listed: Some(Listed::Accepting),
            stops_accepting_after: Some(SimTime::from_secs(1)),
        };
        let events = f.scale(Version::Old, 1, SimTime::ZERO, removal, || SimTime::ZERO);
        assert_eq!(
            events,
            vec![
                (SimTime::from_secs(2), FleetEvent::Delisted(1)),
                (SimTime::from_secs(1), FleetEvent::StopsAccepting(1)),
                (SimTime::from_secs(35), FleetEvent::Gone(1)),
            ]
        );
        let listed = |accepting, refusing| ListedCounts {
            accepting,
            refusing,
        };
        assert_eq!(f.listed(Version::Old), listed(1, 0));
        assert_eq!(
            f.counts(Version::Old).ready,
            1,
            "a listed instance is not ready"
        );
        f.stops_accepting(1);
        assert_eq!(f.listed(Version::Old), listed(0, 1));
        f.delisted(1);
        assert_eq!(f.listed(Version::Old), listed(0, 0));
        // Never-ready instances are not listed.
        f.scale(Version::New, 1, SimTime::ZERO, removal, || SimTime(5));
        f.scale(Version::New, 0, SimTime(1), removal, || SimTime(5));
        assert_eq!(f.listed(Version::New), listed(0, 0));
    }
}
