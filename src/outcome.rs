//! The record of one simulated release under one strategy: every metric, with
//! its unit in its name. A metric that does not apply (no defect, so no time
//! to detect) is None, written as an empty cell, never as zero.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Promoted,
    RolledBack,
    /// The deployment never finished within the simulated horizon.
    Stuck,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Promoted => "promoted",
            Kind::RolledBack => "rolled_back",
            Kind::Stuck => "stuck",
        })
    }
}

macro_rules! metrics {
    ($($variant:ident => $name:literal: $doc:literal,)*) => {
        /// Numeric metrics of an outcome, in CSV column order.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Metric { $($variant,)* }

        impl Metric {
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Metric::$variant => $name,)* }
            }

            /// The metrics a scenario reports: the shared database's only
            /// when it has a `[database]` table.
            pub fn reported(database: bool) -> Vec<Metric> {
                Metric::ALL
                    .iter()
                    .copied()
                    .filter(|m| database || !m.is_database())
                    .collect()
            }

            /// A metric of the shared database.
            pub fn is_database(self) -> bool {
                matches!(
                    self,
                    Metric::SchemaFailedRequests
                        | Metric::RollbackFailed
                        | Metric::WritesLost
                        | Metric::TimeToRecover
                )
            }

            /// What the number means, for the README and the report.
            pub fn meaning(self) -> &'static str {
                match self { $(Metric::$variant => $doc,)* }
            }
        }
    };
}

metrics! {
    DeployDuration => "deploy_duration_s": "start of the deployment to promotion complete, or to rollback complete",
    LeadTime => "lead_time_s": "time the release held the pipeline: deploy_duration_s, or until the simulation stopped for a stuck release (what cost.delay_usd_per_hour prices)",
    FailedRequests => "failed_requests": "requests that failed because of the defect (above the healthy baseline); 0 for a healthy release",
    UsersAffected => "users_affected": "distinct users who received at least one such failure",
    PeakExposure => "peak_exposure": "largest share of traffic served by the new version while it was defective (defective releases only)",
    TimeToDetect => "time_to_detect_s": "first request served by defective code to the rollback decision, by the tooling or by people noticing (defects that were exposed and rolled back)",
    RollbackTime => "rollback_time_s": "rollback decision to the new version serving under 1% of traffic (releases rolled back)",
    TimeToMitigate => "time_to_mitigate_s": "first defective request to the new version serving under 1% of traffic",
    Detected => "detected": "1 when a defective release was rolled back by a judge, smoke test or progress deadline, else 0 (defective releases only)",
    FalseRollback => "false_rollback": "1 when a healthy release was rolled back, else 0 (healthy releases only)",
    MissedDefect => "missed_defect": "1 when no judge, smoke test or deadline caught a defect (it was rolled back only once people noticed it, or never), else 0 (defective releases only)",
    CaughtBeforeUsers => "caught_before_users": "1 when a defect was rolled back with zero failed user requests, else 0 (defective releases only)",
    DroppedRequests => "dropped_requests": "requests refused because no ready instance had capacity for them, or sent to a terminating instance after its SIGTERM",
    TimeToSwitch => "time_to_switch_s": "start of the switch to all-new (blue-green's switch, the canary's last shift) until 99% of requests reach the new version",
    StaleAfter5Min => "stale_share_after_5min": "share of requests still reaching the old version 5 minutes after that switch began",
    ConnectionsCut => "connections_cut": "long-lived connections cut because their instance went away (after draining or the deregistration delay)",
    SessionsLost => "sessions_lost": "in-memory sessions lost because their user moved to another instance or environment",
    InstanceHours => "instance_hours": "instance-seconds of every instance that existed during the deployment window, / 3600",
    InfraCost => "infra_cost_usd": "instance_hours × price per instance-hour",
    PeakInstances => "peak_instances": "the most instances alive at once",
    ProvisioningHours => "provisioning_instance_hours": "instance-hours of instances asked for but not yet ready (booting or crash-looping)",
    ServingHours => "serving_instance_hours": "instance-hours of ready instances receiving requests",
    IdleHours => "idle_instance_hours": "instance-hours of ready instances receiving none (green before the switch, blue kept for its delay)",
    DrainingHours => "draining_instance_hours": "instance-hours of instances told to stop: preStop sleep, in-flight requests, connections a load balancer waits for",
    OldVersionHours => "old_version_instance_hours": "instance-hours of the old version's instances (blue, stable), every state",
    NewVersionHours => "new_version_instance_hours": "instance-hours of the new version's instances (green, canary), every state",
    ExtraInstanceHours => "extra_instance_hours": "instance_hours minus running the service unchanged for the same window",
    ExtraCost => "extra_cost_usd": "infra_cost_usd minus running the service unchanged for the same window",
    IncidentCost => "incident_cost_usd": "downtime_s / 60 × downtime_cost_per_minute_usd + failed_requests_outside_downtime × cost_per_failed_request_usd: each failed or dropped request priced once",
    SchemaFailedRequests => "schema_failed_requests": "requests of either version that failed because the schema no longer fitted it (part of failed_requests; with a [database] table)",
    RollbackFailed => "rollback_failed": "1 when a rollback could not mitigate because the old version could not serve the new schema, else 0 (rolled-back releases, with a [database] table)",
    WritesLost => "writes_lost": "writes lost by the schema's recovery: every write since the migration for a restore, the new version's writes in the new shape for a down-migration (with a [database] table)",
    TimeToRecover => "time_to_recover_s": "rollback decision to the schema's recovery complete (rollbacks that needed one, with a [database] table)",
    Downtime => "downtime_s": "seconds in which the service was down for its users: spans where at least outage_error_share of the requests offered failed or were dropped",
    FailedOutsideDowntime => "failed_requests_outside_downtime": "failed and dropped requests in the spans below outage_error_share (those inside downtime_s are priced with its minutes)",
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub kind: Kind,
    pub defective: bool,
    values: Vec<Option<f64>>,
}

impl Outcome {
    pub fn new(kind: Kind, defective: bool) -> Outcome {
        Outcome {
            kind,
            defective,
            values: vec![None; Metric::ALL.len()],
        }
    }

    pub fn get(&self, m: Metric) -> Option<f64> {
        self.values[m as usize]
    }

    pub fn set(&mut self, m: Metric, value: Option<f64>) {
        self.values[m as usize] = value;
    }
}
