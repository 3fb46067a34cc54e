//! The monthly view: per-deploy outcomes turned into what a team pays in a
//! month, so strategies can be compared the way a budget sees them.
//!
//! Infrastructure: the service's own instances all month (the same for every
//! strategy), plus what each deploy adds (`extra_cost_usd`) times the deploys
//! in a month. Pre-cloud (`duplicate_mode = "permanent"`) a strategy that needs
//! a duplicate environment (blue-green) pays a standing second environment all
//! month instead: exactly twice the base, the deploy window's extra instances
//! then being the standing environment that is paid for anyway.
//!
//! Incidents: the expected monthly cost is deploys × the expected per-deploy
//! incident cost; the bad month (p95) comes from resampling the simulated
//! releases into many months.
//!
//! Beside them, what else the team pays: false rollbacks, the hours releases
//! wait in the pipeline, running the strategy's tooling, and expand/contract's
//! engineering (`crate::economics` holds the terms). Every expectation weights
//! the defective and the healthy releases by the scenario's change failure
//! rate exactly.

use crate::economics::{self, PerRelease, Prices, Quantities};
use crate::experiment::Results;
use crate::outcome::{Kind, Metric};
use crate::scenario::StrategySpec;
use crate::scenario::{DuplicateMode, Practice, Scenario};
use crate::stats::{Summary, quantile};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use crate::economics::HOURS_PER_MONTH;

/// Months drawn to estimate the p95 monthly incident cost. 10,000 months put
/// the 95th percentile between the 9,500th and 9,501st sorted values, steady
/// to well under 1% for the distributions cutover produces.
pub const RESAMPLED_MONTHS: usize = 10_000;

/// Above this many deploys a month, resampling (months × deploys draws) is
/// slow and the monthly sum is close to normal anyway (central limit
/// theorem), so the p95 comes from the normal approximation instead.
pub const MAX_RESAMPLED_DEPLOYS: u64 = 1_000;

/// One strategy's month.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthlyRow {
    pub strategy: String,
    /// What the strategy's extra instances are, in operators' words.
    pub extra_capacity: &'static str,
    /// Deploys in a month: the scenario's, plus the expand and contract
    /// deploys each schema change needs under expand/contract.
    pub deploys_per_month: f64,
    /// Infrastructure paid in a month: base plus deploy extras, or the
    /// standing second environment.
    pub monthly_infra_usd: f64,
    /// Whether `monthly_infra_usd` includes a standing second environment.
    pub standing_duplicate: bool,
    /// What the infrastructure would cost with the second environment rented
    /// only for deploys (duplicate_mode on-demand); equals `monthly_infra_usd`
    /// unless `standing_duplicate`.
    pub on_demand_infra_usd: f64,
    pub monthly_failed_requests: f64,
    pub monthly_dropped_requests: f64,
    /// Seconds a month the service is down for its users (`downtime_s`).
    pub monthly_downtime_s: f64,
    pub monthly_incident_cost_usd: f64,
    /// 95th percentile of a month's incident cost (a bad month).
    pub monthly_incident_cost_p95_usd: f64,
    /// Healthy releases rolled back in a month × `cost.false_rollback_usd`.
    pub monthly_false_rollback_usd: f64,
    /// Hours releases held the pipeline in a month × `cost.delay_usd_per_hour`.
    pub monthly_delay_usd: f64,
    /// The strategy's `operations_usd_per_month`.
    pub monthly_operations_usd: f64,
    /// Expand/contract schema changes in a month × `cost.expand_contract_usd_per_change`.
    pub monthly_schema_work_usd: f64,
    /// The sum of the six terms above (infrastructure, incidents, false
    /// rollbacks, delay, operations, schema work).
    pub expected_total_monthly_usd: f64,
    /// Share of healthy releases promoted; None when the sample had no healthy release.
    pub healthy_promoted_share: Option<f64>,
    /// Expected seconds a release holds the pipeline (`lead_time_s`).
    pub lead_time_s_mean: f64,
    /// Mean rollback_time_s over releases that were rolled back; None when none was.
    pub rollback_time_s_mean: Option<f64>,
    /// Share of rollbacks that could not mitigate because the old version
    /// could not serve the schema; None without a `[database]` table or rollbacks.
    pub rollback_failed_share: Option<f64>,
    /// What the month is made of before money: what `crate::breakeven`
    /// reprices.
    pub quantities: Quantities,
}

/// Running the service unchanged for a month: every instance, every hour.
pub fn base_monthly_usd(scenario: &Scenario) -> f64 {
    scenario.service.instances as f64 * HOURS_PER_MONTH * scenario.infra.price_usd_per_hour
}

/// Whether a strategy needs a whole second environment beside production.
pub fn needs_duplicate_environment(spec: &StrategySpec) -> bool {
    spec.config.environment().duplicate_environment
}

/// The monthly view of every strategy, in the scenario's order.
pub fn rows(scenario: &Scenario, results: &Results) -> Vec<MonthlyRow> {
    let prices = Prices::of(scenario);
    scenario
        .strategies
        .iter()
        .enumerate()
        .map(|(i, spec)| row(scenario, &prices, results, i, spec))
        .collect()
}

/// Expand/contract schema changes per deploy of the scenario: the share of
/// releases that change the schema, when the strategy's team ships them
/// that way; 0 otherwise.
fn expand_contract_share(scenario: &Scenario, spec: &StrategySpec) -> f64 {
    match &scenario.database {
        Some(db) if spec.schema_practice.unwrap_or(db.practice) == Practice::ExpandContract => {
            db.schema_change_share
        }
        _ => 0.0,
    }
}

/// Deploys a month for one strategy: under expand/contract each schema
/// change takes two more deploys (the expand and the contract), each an
/// ordinary release priced like the simulated ones.
pub fn deploys_per_month(scenario: &Scenario, spec: &StrategySpec) -> f64 {
    scenario.cost.deploys_per_month * (1.0 + 2.0 * expand_contract_share(scenario, spec))
}

/// What one strategy's month is made of, before money: per-release means
/// over the defective and over the healthy replications.
pub fn quantities(
    scenario: &Scenario,
    results: &Results,
    i: usize,
    spec: &StrategySpec,
) -> Quantities {
    let mut classes = [PerRelease::default(); 2];
    for row in &results.outcomes {
        let o = &row[i];
        let c = &mut classes[o.defective as usize];
        let v = |m: Metric| o.get(m).unwrap_or(0.0);
        c.n += 1;
        c.extra_instance_hours += v(Metric::ExtraInstanceHours);
        c.downtime_s += v(Metric::Downtime);
        c.failed_outside_downtime += v(Metric::FailedOutsideDowntime);
        c.false_rollbacks += v(Metric::FalseRollback);
        c.lead_time_s += v(Metric::LeadTime);
        c.failed_requests += v(Metric::FailedRequests);
        c.dropped_requests += v(Metric::DroppedRequests);
        c.promoted += (o.kind == Kind::Promoted) as u8 as f64;
    }
    let share = expand_contract_share(scenario, spec);
    Quantities {
        healthy: PerRelease::mean_of_sums(&classes[0]),
        defective: PerRelease::mean_of_sums(&classes[1]),
        deploys_per_deploy: 1.0 + 2.0 * share,
        expand_contract_changes_per_deploy: share,
        standing_duplicate: scenario.infra.duplicate_mode == DuplicateMode::Permanent
            && needs_duplicate_environment(spec),
    }
}

fn row(
    scenario: &Scenario,
    prices: &Prices,
    results: &Results,
    i: usize,
    spec: &StrategySpec,
) -> MonthlyRow {
    let quantities = quantities(scenario, results, i, spec);
    let deploys = deploys_per_month(scenario, spec);
    let terms = economics::terms(&quantities, prices, i);
    let on_demand_infra_usd = economics::infra_usd(&quantities, prices, false);
    let release = quantities.per_release(prices.change_failure_rate);
    MonthlyRow {
        strategy: spec.name.clone(),
        extra_capacity: spec.config.environment().extra_capacity,
        deploys_per_month: deploys,
        monthly_infra_usd: terms.infra_usd,
        standing_duplicate: quantities.standing_duplicate,
        on_demand_infra_usd,
        monthly_failed_requests: deploys * release.failed_requests,
        monthly_dropped_requests: deploys * release.dropped_requests,
        monthly_downtime_s: deploys * release.downtime_s,
        monthly_incident_cost_usd: terms.incidents_usd,
        monthly_incident_cost_p95_usd: p95_monthly_incident_usd(
            &results.values(i, Metric::IncidentCost),
            deploys,
            results.settings.seed,
        ),
        monthly_false_rollback_usd: terms.false_rollbacks_usd,
        monthly_delay_usd: terms.delay_usd,
        monthly_operations_usd: terms.operations_usd,
        monthly_schema_work_usd: terms.schema_work_usd,
        expected_total_monthly_usd: terms.total_usd(),
        healthy_promoted_share: quantities.healthy.map(|h| h.promoted),
        lead_time_s_mean: release.lead_time_s,
        rollback_time_s_mean: results.summary(i, Metric::RollbackTime).map(|s| s.mean),
        rollback_failed_share: results.summary(i, Metric::RollbackFailed).map(|s| s.mean),
        quantities,
    }
}

/// Deploys in one resampled month: a month holds a whole number of deploys,
/// so a fractional `deploys_per_month` is rounded to the nearest (halves up).
pub fn resampled_deploys(deploys_per_month: f64) -> u64 {
    deploys_per_month.round().max(0.0) as u64
}

/// The 95th percentile of a month's incident cost: the sum of the month's
/// deploys, each an independent release. Estimated by drawing
/// [`RESAMPLED_MONTHS`] months, each deploy a simulated release picked
/// uniformly with replacement (a bootstrap of the replications).
///
/// The generator is ChaCha8 seeded from the run's seed alone, so the result is
/// deterministic, and every strategy's month k picks the same replications:
/// the same releases, as in the simulation (common random numbers).
pub fn p95_monthly_incident_usd(per_deploy_usd: &[f64], deploys_per_month: f64, seed: u64) -> f64 {
    let deploys = resampled_deploys(deploys_per_month);
    if per_deploy_usd.is_empty() || deploys == 0 {
        return 0.0;
    }
    if deploys > MAX_RESAMPLED_DEPLOYS {
        return normal_p95_of_sum(per_deploy_usd, deploys);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = per_deploy_usd.len() as u64;
    let mut months: Vec<f64> = (0..RESAMPLED_MONTHS)
        .map(|_| {
            (0..deploys)
                .map(|_| per_deploy_usd[rng.random_range(0..n) as usize])
                .sum()
        })
        .collect();
    months.sort_by(f64::total_cmp);
    quantile(&months, 0.95)
}

/// p95 of a sum of `deploys` independent draws by the central limit theorem:
/// d·mean + z(0.95)·std·√d.
fn normal_p95_of_sum(per_deploy_usd: &[f64], deploys: u64) -> f64 {
    const Z_95: f64 = 1.644_853_626_951_472_2;
    let Some(s) = Summary::of(per_deploy_usd) else {
        return 0.0;
    };
    let d = deploys as f64;
    d * s.mean + Z_95 * s.std * d.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_deploys_round_to_the_nearest_whole_deploy() {
        assert_eq!(resampled_deploys(4.4), 4);
        assert_eq!(resampled_deploys(4.5), 5);
        assert_eq!(resampled_deploys(0.2), 0);
    }

    #[test]
    fn a_constant_cost_gives_a_constant_month() {
        // Every release costs $3: every month of 20 deploys costs exactly $60.
        assert_eq!(p95_monthly_incident_usd(&[3.0; 50], 20.0, 1), 60.0);
        assert_eq!(p95_monthly_incident_usd(&[3.0; 50], 0.0, 1), 0.0);
    }

    #[test]
    fn rare_incidents_make_the_bad_month_worse_than_the_mean_month() {
        // One release in ten costs $100: a month of 20 deploys expects $200,
        // and its p95 is the Binomial(20, 0.1) p95 (4 incidents) × $100.
        let mut costs = vec![0.0; 90];
        costs.extend([100.0; 10]);
        let p95 = p95_monthly_incident_usd(&costs, 20.0, 7);
        assert_eq!(p95, 400.0);
        assert_eq!(
            p95,
            p95_monthly_incident_usd(&costs, 20.0, 7),
            "deterministic"
        );
    }

    #[test]
    fn many_deploys_use_the_normal_approximation() {
        let costs = [0.0, 2.0];
        // mean 1, std √2: 2000·1 + 1.645·√2·√2000.
        let expected = 2000.0 + 1.644_853_626_951_472_2 * 2f64.sqrt() * 2000f64.sqrt();
        assert!((p95_monthly_incident_usd(&costs, 2000.0, 1) - expected).abs() < 1e-9);
    }
}
