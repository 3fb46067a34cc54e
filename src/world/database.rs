//! The shared database: the state that is neither duplicated nor switched.
//! Blue and green, the old and new ReplicaSets, stable and canary all use
//! it, so a release that changes its schema changes it under both versions.
//!
//! A breaking change (rename or drop a column, change a type, add a NOT NULL
//! column without a default) leaves the old version unable to serve the
//! requests that touch the changed tables once the migration is applied; a
//! rollback then routes traffic back to a version that fails too, and only a
//! recovery (ship a fix, run the down-migration, restore the backup) ends
//! it. Expand/contract (ParallelChange, martinfowler.com/bliki/ParallelChange.html)
//! keeps both versions working: the expand is additive, and the contract
//! runs later, once no rollback to the old code can happen; if it runs while
//! the old version still serves, it breaks the old version's touched
//! requests, and with some probability it breaks a reader nobody found.

use crate::engine::{Schedule, SimTime};
use crate::stats::{Spread, binomial};
use crate::vocab::Version;
use rand_chacha::ChaCha8Rng;

/// How the schema change ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Practice {
    /// In one step with the release.
    Breaking,
    /// Additive expand with the release; contract later.
    ExpandContract,
}

/// When the migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationTiming {
    /// A migration Job or hook that must finish before new instances start
    /// (Helm pre-upgrade, Argo CD PreSync, a pipeline step).
    PreDeploy,
    /// The first new instance runs it once it is up (Flyway, Liquibase,
    /// Rails at boot); the new version serves meanwhile.
    OnStart,
}

/// How a broken schema is recovered after a rollback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Ship a fix that works with the new schema.
    RollForward,
    /// Revert the schema; writes made in the new shape since the migration are lost.
    DownMigration,
    /// Restore the backup taken before the migration; every write since is lost.
    Restore,
}

impl Recovery {
    pub fn name(self) -> &'static str {
        match self {
            Recovery::RollForward => "roll-forward",
            Recovery::DownMigration => "down-migration",
            Recovery::Restore => "restore",
        }
    }
}

/// The scenario's `[database]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseModel {
    /// Share of releases that change the schema.
    pub schema_change_share: f64,
    pub practice: Practice,
    pub migration_timing: MigrationTiming,
    pub migration_s: Spread,
    /// Share of requests that touch the changed tables.
    pub touched_share: f64,
    /// Share of requests that write.
    pub write_share: f64,
    pub recovery: Recovery,
    pub roll_forward_s: Spread,
    pub down_migration_s: Spread,
    pub restore_s: Spread,
    /// Expand/contract: the contract step runs this long after promotion.
    pub contract_after: SimTime,
    /// Expand/contract: probability the contract breaks a reader nobody found.
    pub contract_failure_rate: f64,
}

impl DatabaseModel {
    /// The time the configured recovery takes, drawn.
    pub fn recovery_s(&self) -> Spread {
        match self.recovery {
            Recovery::RollForward => self.roll_forward_s,
            Recovery::DownMigration => self.down_migration_s,
            Recovery::Restore => self.restore_s,
        }
    }
}

/// The schema change a release carries, drawn once per replication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SchemaChange {
    pub migration: SimTime,
    pub recovery: SimTime,
    /// Expand/contract: the contract breaks a reader nobody found.
    pub contract_breaks: bool,
}

/// The database's own events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseEvent {
    /// The migration finished: the new schema is in place.
    MigrationApplied,
    /// The recovery after a rollback finished.
    Recovered,
    /// Expand/contract: the contract step runs.
    Contract,
}

/// What a database event did, for the narration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DatabaseChange {
    Nothing,
    /// The migration is applied; the old version fails `old_fails` of requests.
    MigrationApplied {
        old_fails: f64,
    },
    Recovered(Recovery),
    /// The contract ran; the old and new versions fail these shares of requests.
    Contracted {
        old_fails: f64,
        new_fails: f64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Schema {
    /// The schema the old version was written for.
    Old,
    /// A migration is running.
    Migrating,
    /// The release's schema is in place.
    New,
    /// Expand/contract after its contract step.
    Contracted,
    /// Recovered after a rollback: back to a schema the old version serves
    /// (after a down-migration or restore), or fixed forward.
    Recovered,
}

#[derive(Debug, Clone)]
pub struct Database {
    model: DatabaseModel,
    change: SchemaChange,
    schema: Schema,
    /// The schema was reverted (down-migration, restore): the new version's
    /// touched requests fail again.
    reverted: bool,
    recovery_started: Option<SimTime>,
    recovered_at: Option<SimTime>,
    /// Writes that a recovery will lose, counted since the migration.
    writes_at_risk: u64,
    writes_lost: u64,
    rng: ChaCha8Rng,
}

impl Database {
    pub fn new(model: DatabaseModel, change: SchemaChange, rng: ChaCha8Rng) -> Database {
        Database {
            model,
            change,
            schema: Schema::Old,
            reverted: false,
            recovery_started: None,
            recovered_at: None,
            writes_at_risk: 0,
            writes_lost: 0,
            rng,
        }
    }

    pub fn timing(&self) -> MigrationTiming {
        self.model.migration_timing
    }

    /// Starts the migration (before the deployment, or when the first new
    /// instance is up); once only. A migration that takes no time is applied
    /// at once (true), with nothing scheduled.
    pub fn start_migration(&mut self, q: &mut impl Schedule<DatabaseEvent>) -> bool {
        if self.schema != Schema::Old {
            return false;
        }
        if self.change.migration == SimTime::ZERO {
            self.schema = Schema::New;
            return true;
        }
        self.schema = Schema::Migrating;
        q.after(self.change.migration, DatabaseEvent::MigrationApplied);
        false
    }

    pub fn migration_pending(&self) -> bool {
        self.schema == Schema::Old
    }

    pub fn is_migrating(&self) -> bool {
        self.schema == Schema::Migrating
    }

    /// The release was promoted: an expand/contract change schedules its
    /// contract, if it falls within the `watch` that follows (a contract
    /// after it is outside the simulated window).
    pub fn promoted(&mut self, watch: SimTime, q: &mut impl Schedule<DatabaseEvent>) {
        if self.model.practice == Practice::ExpandContract
            && self.schema == Schema::New
            && self.model.contract_after <= watch
        {
            q.after(self.model.contract_after, DatabaseEvent::Contract);
        }
    }

    /// A rollback was decided: a breaking schema in place (or being put in
    /// place) must be recovered. Returns whether the old version cannot
    /// serve the schema, i.e. the rollback alone will not mitigate.
    pub fn rollback_decided(&mut self, q: &mut impl Schedule<DatabaseEvent>) -> bool {
        let broken = match self.schema {
            Schema::Migrating | Schema::New => self.model.practice == Practice::Breaking,
            Schema::Contracted => true,
            Schema::Old | Schema::Recovered => false,
        };
        if broken && self.recovery_started.is_none() {
            let now = q.now();
            self.recovery_started = Some(now);
            let at = match self.schema {
                // A running migration finishes first; recovery follows it.
                Schema::Migrating => now + self.change.migration + self.change.recovery,
                _ => now + self.change.recovery,
            };
            q.at(at, DatabaseEvent::Recovered);
        }
        broken
    }

    pub fn handle(&mut self, event: DatabaseEvent, now: SimTime) -> DatabaseChange {
        match event {
            DatabaseEvent::MigrationApplied if self.schema == Schema::Migrating => {
                self.schema = Schema::New;
                DatabaseChange::MigrationApplied {
                    old_fails: self.fails_on(Version::Old),
                }
            }
            DatabaseEvent::MigrationApplied => DatabaseChange::Nothing,
            DatabaseEvent::Recovered => {
                let lost = match self.model.recovery {
                    Recovery::RollForward => 0,
                    Recovery::DownMigration | Recovery::Restore => self.writes_at_risk,
                };
                self.writes_lost += lost;
                self.reverted = self.model.recovery != Recovery::RollForward;
                self.schema = Schema::Recovered;
                self.recovered_at = Some(now);
                DatabaseChange::Recovered(self.model.recovery)
            }
            DatabaseEvent::Contract if matches!(self.schema, Schema::New) => {
                self.schema = Schema::Contracted;
                DatabaseChange::Contracted {
                    old_fails: self.fails_on(Version::Old),
                    new_fails: self.fails_on(Version::New),
                }
            }
            DatabaseEvent::Contract => DatabaseChange::Nothing,
        }
    }

    /// Share of `version`'s requests that fail against the schema as it stands.
    pub fn fails_on(&self, version: Version) -> f64 {
        let touched = self.model.touched_share;
        let breaking = self.model.practice == Practice::Breaking;
        match (self.schema, version) {
            (Schema::Old, _) => 0.0,
            // The new code expects tables the migration has not finished.
            (Schema::Migrating, Version::New) if breaking => touched,
            (Schema::Migrating, _) => 0.0,
            (Schema::New, Version::Old) if breaking => touched,
            (Schema::New, _) => 0.0,
            // The contract removes what the old version reads; a reader
            // nobody found breaks on both.
            (Schema::Contracted, Version::Old) => touched,
            (Schema::Contracted, Version::New) if self.change.contract_breaks => touched,
            (Schema::Contracted, Version::New) => 0.0,
            (Schema::Recovered, Version::New) if self.reverted && breaking => touched,
            (Schema::Recovered, _) => 0.0,
        }
    }

    /// The old version serves every request it is offered.
    pub fn old_version_serves(&self) -> bool {
        self.fails_on(Version::Old) == 0.0
    }

    /// Counts the writes of a span that a recovery from the migration would
    /// lose: a restore loses every write since the migration, a
    /// down-migration the new version's writes in the new shape.
    pub fn count_writes(&mut self, old_served: u64, new_served: u64) {
        // A restore loses everything written since the backup taken before
        // the migration started; a down-migration what was written in the
        // new shape once it was applied.
        let at_risk_now = match self.model.recovery {
            Recovery::RollForward => false,
            Recovery::Restore => matches!(
                self.schema,
                Schema::Migrating | Schema::New | Schema::Contracted
            ),
            Recovery::DownMigration => matches!(self.schema, Schema::New | Schema::Contracted),
        };
        if !at_risk_now || self.model.practice != Practice::Breaking {
            return;
        }
        let w = self.model.write_share;
        let at_risk = match self.model.recovery {
            Recovery::RollForward => 0,
            Recovery::Restore => binomial(&mut self.rng, old_served + new_served, w),
            Recovery::DownMigration => {
                binomial(&mut self.rng, new_served, w * self.model.touched_share)
            }
        };
        self.writes_at_risk += at_risk;
    }

    pub fn writes_lost(&self) -> u64 {
        self.writes_lost
    }

    /// Rollback decision to recovery complete, when a recovery ran.
    pub fn time_to_recover(&self, decided: SimTime) -> Option<SimTime> {
        self.recovered_at.map(|at| at - decided)
    }

    pub fn recovery(&self) -> Recovery {
        self.model.recovery
    }
}
