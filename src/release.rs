//! The release a replication faces: drawn once from the release stream and
//! shared by every strategy (common random numbers).

use crate::engine::{Purpose, SimTime, stream};
use crate::scenario::{DefectKind, Scenario};
use rand::RngExt;

#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub defect: Option<Defect>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Defect {
    pub kind: DefectKind,
    /// Extra failure probability on every request the new version serves.
    pub error_rate: f64,
    /// For a latent defect: delay from the new version's first request to its onset.
    pub onset: Option<SimTime>,
}

impl Release {
    pub fn healthy() -> Release {
        Release { defect: None }
    }

    pub fn is_defective(&self) -> bool {
        self.defect.is_some()
    }

    /// Draws the release of replication `replication`. The number of draws is
    /// the same whatever the outcome, so later purposes never shift.
    pub fn draw(scenario: &Scenario, seed: u64, replication: u64) -> Release {
        let mut rng = stream(seed, replication, Purpose::Release);
        let r = &scenario.release;
        let defective = rng.random::<f64>() < r.change_failure_rate;
        let pick: f64 = rng.random();
        let mut acc = 0.0;
        let class = r
            .defects
            .iter()
            .find(|d| {
                acc += d.share;
                pick < acc
            })
            .unwrap_or(&r.defects[r.defects.len() - 1]);
        let error_rate = class.error_rate.sample(&mut rng).min(1.0);
        let onset = class
            .onset_s
            .map(|o| SimTime::from_secs_f64(o.sample(&mut rng)));
        Release {
            defect: defective.then_some(Defect {
                kind: class.kind,
                error_rate,
                onset,
            }),
        }
    }
}
