//! The optional `[database]` table: how often a release changes the shared
//! schema, how the change ships, and how a broken schema is recovered.
//! Absent, no release changes the schema and every output is as before.

use super::raw::{RawDatabase, RawSpread};
use super::validate::SpreadOf;
use crate::error::Result;
use crate::input::Validator;
use crate::input::limits::DURATION_S;
use crate::stats::Spread;
use crate::world::database::{DatabaseModel, MigrationTiming, Practice, Recovery};

impl Validator {
    pub(super) fn database(&self, raw: RawDatabase) -> Result<DatabaseModel> {
        let spread = |key: &str, raw: Option<RawSpread>, default: Spread| -> Result<Spread> {
            match raw {
                Some(r) => self.spread(
                    &format!("database.{key}"),
                    r,
                    SpreadOf::Duration(DURATION_S),
                ),
                None => Ok(default),
            }
        };
        let median_p95 = |median: f64, p95: f64| Spread { median, p95 };
        Ok(DatabaseModel {
            schema_change_share: self
                .probability("database.schema_change_share", raw.schema_change_share)?,
            practice: self.practice("database.practice", raw.practice.as_deref())?,
            // A migration Job before new pods start (Helm pre-upgrade hook,
            // Argo CD PreSync) is the common Kubernetes setup (D).
            migration_timing: match raw.migration_timing.as_deref() {
                None | Some("pre-deploy") => MigrationTiming::PreDeploy,
                Some("on-start") => MigrationTiming::OnStart,
                Some(other) => {
                    return Err(self.error(
                        "database.migration_timing",
                        format!("expected \"pre-deploy\" or \"on-start\", got \"{other}\""),
                    ));
                }
            },
            // An online migration of a few tables: half a minute typically,
            // minutes when a table is large (R).
            migration_s: spread("migration_s", raw.migration_s, median_p95(30.0, 300.0))?,
            // 80% of schema changes touch 20–30% of the tables (Qiu, Li, Su,
            // ESEC/FSE 2013): a quarter of requests (R).
            touched_share: self
                .probability("database.touched_share", raw.touched_share.unwrap_or(0.25))?,
            // Web services are read-heavy: one request in five writes (R).
            write_share: self
                .probability("database.write_share", raw.write_share.unwrap_or(0.2))?,
            // Most teams fix forward (R).
            recovery: match raw.recovery.as_deref() {
                None | Some("roll-forward") => Recovery::RollForward,
                Some("down-migration") => Recovery::DownMigration,
                Some("restore") => Recovery::Restore,
                Some(other) => {
                    return Err(self.error(
                        "database.recovery",
                        format!(
                            "expected \"roll-forward\", \"down-migration\" or \"restore\", got \"{other}\""
                        ),
                    ));
                }
            },
            // A hotfix through the pipeline: half an hour, two hours on a bad
            // day (R; DORA elite teams restore within an hour).
            roll_forward_s: spread(
                "roll_forward_s",
                raw.roll_forward_s,
                median_p95(1800.0, 7200.0),
            )?,
            // Reverting the schema is a migration too (R).
            down_migration_s: spread(
                "down_migration_s",
                raw.down_migration_s,
                median_p95(60.0, 600.0),
            )?,
            // A point-in-time restore of a production database takes tens of
            // minutes to hours (R).
            restore_s: spread("restore_s", raw.restore_s, median_p95(1800.0, 7200.0))?,
            // Contract a day later, once no rollback to the old code can happen (R).
            contract_after: self.duration_s(
                "database.contract_after_s",
                raw.contract_after_s.unwrap_or(86_400.0),
            )?,
            // A reader of the old column nobody found: rare (R).
            contract_failure_rate: self.probability(
                "database.contract_failure_rate",
                raw.contract_failure_rate.unwrap_or(0.02),
            )?,
        })
    }

    /// `"breaking"` or `"expand-contract"`.
    pub(super) fn practice(&self, path: &str, value: Option<&str>) -> Result<Practice> {
        match value {
            None | Some("breaking") => Ok(Practice::Breaking),
            Some("expand-contract") => Ok(Practice::ExpandContract),
            Some(other) => Err(self.error(
                path,
                format!("expected \"breaking\" or \"expand-contract\", got \"{other}\""),
            )),
        }
    }
}
