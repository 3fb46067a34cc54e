//! The release a replication faces: drawn once from the release stream and
//! shared by every strategy (common random numbers).

use crate::engine::{Purpose, SimTime, stream};
use crate::scenario::{DatabaseModel, Scenario, Spread};
pub use crate::vocab::Defect;
use crate::vocab::DefectKind;
pub use crate::world::database::SchemaChange;
use rand::RngExt;

#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub defect: Option<Defect>,
    /// The new environment differs from the old (config, data, scale): what
    /// smoke tests see there does not hold for live traffic.
    pub drift: bool,
    /// Uniform draw that decides whether smoke tests of a given coverage find
    /// a smoke-detectable defect (found when below the coverage).
    pub smoke_draw: f64,
    /// The schema change the release carries (only with a `[database]` table).
    pub schema: Option<SchemaChange>,
}

impl Release {
    pub fn healthy() -> Release {
        Release {
            defect: None,
            drift: false,
            smoke_draw: 1.0,
            schema: None,
        }
    }

    pub fn with_defect(defect: Defect) -> Release {
        Release {
            defect: Some(defect),
            drift: false,
            smoke_draw: 0.0,
            schema: None,
        }
    }

    /// Extra failure probability of synthetic load against the idle new
    /// environment: what smoke tests could find shows there too, unless
    /// the environment drifted; a traffic-only or latent defect does not.
    pub fn synthetic_load_error_rate(&self) -> f64 {
        match &self.defect {
            Some(d) if d.kind == DefectKind::SmokeDetectable && !self.drift => d.error_rate,
            _ => 0.0,
        }
    }

    /// Whether smoke tests of this coverage find the defect before users do.
    pub fn smoke_tests_find_defect(&self, coverage: f64) -> bool {
        matches!(&self.defect, Some(d) if d.kind == DefectKind::SmokeDetectable)
            && !self.drift
            && self.smoke_draw < coverage
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
        // Drawn even when unused, so every release takes the same draws.
        let onset_draw = class.onset_s.unwrap_or(Spread::fixed(0.0)).sample(&mut rng);
        let onset = class.onset_s.map(|_| SimTime::from_secs_f64(onset_draw));
        let drift = rng.random::<f64>() < r.p_drift;
        let smoke_draw = rng.random::<f64>();
        Release {
            defect: defective.then_some(Defect {
                kind: class.kind,
                error_rate,
                onset,
            }),
            drift,
            smoke_draw,
            schema: scenario
                .database
                .as_ref()
                .and_then(|db| draw_schema_change(db, seed, replication)),
        }
    }

    /// The same release with a schema change.
    pub fn with_schema(mut self, change: SchemaChange) -> Release {
        self.schema = Some(change);
        self
    }
}

/// Whether replication `replication`'s release changes the schema, drawn
/// from its own stream (independent of the defect): the same number of
/// draws whatever the outcome.
fn draw_schema_change(db: &DatabaseModel, seed: u64, replication: u64) -> Option<SchemaChange> {
    let mut rng = stream(seed, replication, Purpose::Schema);
    let changes = rng.random::<f64>() < db.schema_change_share;
    let migration = SimTime::from_secs_f64(db.migration_s.sample(&mut rng));
    let recovery = SimTime::from_secs_f64(db.recovery_s().sample(&mut rng));
    let contract_breaks = rng.random::<f64>() < db.contract_failure_rate;
    changes.then_some(SchemaChange {
        migration,
        recovery,
        contract_breaks,
    })
}
