//! What a strategy costs a team a month, as a sum of terms that are each
//! linear in one money input given the simulated counts.
//!
//! The simulation measures quantities (instance-hours, minutes of downtime,
//! failed requests, false rollbacks, hours in the pipeline); [`Prices`] holds
//! every money input of the scenario; [`terms`] multiplies the two. Because
//! nothing the simulation does depends on money, changing a price needs no
//! new simulation, and the price at which two strategies cost the same is
//! exact (see `crate::breakeven`).
//!
//! The change failure rate enters the same way. Every per-release quantity is
//! kept apart for defective and healthy releases, and a month's expectation is
//! `cfr × E[· | defective] + (1 − cfr) × E[· | healthy]` (post-stratification:
//! the release mix is the scenario's rate exactly, not the share of defective
//! releases the draw happened to give). With common random numbers the same
//! replications stand behind every strategy and every rate.

use crate::scenario::Scenario;

/// Hours in a month as cloud price lists count them (365 × 24 / 12; AWS bills
/// a month as 730 hours).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// Means over one class of releases (defective or healthy) of what money
/// multiplies, per deploy.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PerRelease {
    /// Releases averaged.
    pub n: u64,
    /// Instance-hours beyond the unchanged service for the deploy's window.
    pub extra_instance_hours: f64,
    /// Seconds the service was down for its users.
    pub downtime_s: f64,
    /// Failed and dropped requests outside downtime (priced one by one).
    pub failed_outside_downtime: f64,
    /// Healthy releases rolled back, per release (0 for defective ones).
    pub false_rollbacks: f64,
    /// Seconds the release held the pipeline.
    pub lead_time_s: f64,
    /// Requests failed because of the defect, and requests dropped (shown,
    /// not priced again: their money is in downtime and the failures outside it).
    pub failed_requests: f64,
    pub dropped_requests: f64,
    /// Share of releases promoted.
    pub promoted: f64,
}

impl PerRelease {
    /// Field by field `f(a, b)` over the means (`n` is not a mean: it adds).
    fn zip(a: &PerRelease, b: &PerRelease, f: impl Fn(f64, f64) -> f64) -> PerRelease {
        PerRelease {
            n: a.n + b.n,
            extra_instance_hours: f(a.extra_instance_hours, b.extra_instance_hours),
            downtime_s: f(a.downtime_s, b.downtime_s),
            failed_outside_downtime: f(a.failed_outside_downtime, b.failed_outside_downtime),
            false_rollbacks: f(a.false_rollbacks, b.false_rollbacks),
            lead_time_s: f(a.lead_time_s, b.lead_time_s),
            failed_requests: f(a.failed_requests, b.failed_requests),
            dropped_requests: f(a.dropped_requests, b.dropped_requests),
            promoted: f(a.promoted, b.promoted),
        }
    }

    /// `share × a + (1 − share) × b`, field by field.
    fn mix(a: &PerRelease, b: &PerRelease, share: f64) -> PerRelease {
        PerRelease::zip(a, b, |x, y| share * x + (1.0 - share) * y)
    }

    /// Sums over `n` releases turned into means; None when there were none.
    pub fn mean_of_sums(sums: &PerRelease) -> Option<PerRelease> {
        let n = sums.n as f64;
        (sums.n > 0).then(|| PerRelease {
            n: sums.n,
            ..PerRelease::zip(sums, &PerRelease::default(), |x, _| x / n)
        })
    }
}

/// Everything about one strategy's month that does not depend on money.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantities {
    /// Means over the defective releases; None when the sample had none.
    pub defective: Option<PerRelease>,
    /// Means over the healthy releases; None when the sample had none.
    pub healthy: Option<PerRelease>,
    /// The strategy's deploys per deploy of the scenario: 1, or under
    /// expand/contract 1 + 2 × schema_change_share (each schema change takes
    /// an expand and a contract deploy, priced like the simulated ones).
    pub deploys_per_deploy: f64,
    /// Schema changes shipped as expand/contract per deploy of the scenario.
    pub expand_contract_changes_per_deploy: f64,
    /// The strategy pays a standing second environment all month.
    pub standing_duplicate: bool,
}

impl Quantities {
    /// The expected release at change failure rate `cfr`: the two classes
    /// weighted by it. With only one class sampled, that class stands for
    /// every release (the other's weight cannot be estimated).
    pub fn per_release(&self, cfr: f64) -> PerRelease {
        match (&self.defective, &self.healthy) {
            (Some(d), Some(h)) => PerRelease::mix(d, h, cfr),
            (Some(only), None) | (None, Some(only)) => *only,
            (None, None) => PerRelease::default(),
        }
    }

    /// Whether both classes were sampled, so the change failure rate can be reweighted.
    pub fn both_classes(&self) -> bool {
        self.defective.is_some() && self.healthy.is_some()
    }
}

/// Every money input of a scenario, and the change failure rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Prices {
    /// The service's instances (paid all month by every strategy).
    pub instances: f64,
    pub price_usd_per_hour: f64,
    pub cost_per_failed_request_usd: f64,
    pub downtime_cost_per_minute_usd: f64,
    pub deploys_per_month: f64,
    pub false_rollback_usd: f64,
    pub delay_usd_per_hour: f64,
    pub expand_contract_usd_per_change: f64,
    pub change_failure_rate: f64,
    /// Each strategy's operations cost a month, in the scenario's order.
    pub operations_usd_per_month: Vec<f64>,
}

impl Prices {
    pub fn of(scenario: &Scenario) -> Prices {
        let c = &scenario.cost;
        Prices {
            instances: scenario.service.instances as f64,
            price_usd_per_hour: scenario.infra.price_usd_per_hour,
            cost_per_failed_request_usd: c.cost_per_failed_request_usd,
            downtime_cost_per_minute_usd: c.downtime_cost_per_minute_usd,
            deploys_per_month: c.deploys_per_month,
            false_rollback_usd: c.false_rollback_usd,
            delay_usd_per_hour: c.delay_usd_per_hour,
            expand_contract_usd_per_change: c.expand_contract_usd_per_change,
            change_failure_rate: scenario.release.change_failure_rate,
            operations_usd_per_month: scenario
                .strategies
                .iter()
                .map(|s| s.operations_usd_per_month())
                .collect(),
        }
    }
}

/// One strategy's month in money, term by term; their sum is the total.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Terms {
    /// The service's instances all month, plus each deploy's extra
    /// instance-hours (or a standing second environment).
    pub infra_usd: f64,
    /// Downtime by the minute plus failures outside downtime by the request.
    pub incidents_usd: f64,
    /// Healthy releases rolled back × `cost.false_rollback_usd`.
    pub false_rollbacks_usd: f64,
    /// Hours releases held the pipeline × `cost.delay_usd_per_hour`.
    pub delay_usd: f64,
    /// The strategy's `operations_usd_per_month`.
    pub operations_usd: f64,
    /// Expand/contract schema changes × `cost.expand_contract_usd_per_change`.
    pub schema_work_usd: f64,
}

impl Terms {
    pub fn total_usd(&self) -> f64 {
        self.infra_usd
            + self.incidents_usd
            + self.false_rollbacks_usd
            + self.delay_usd
            + self.operations_usd
            + self.schema_work_usd
    }
}

/// A month's infrastructure: the service's instances all month, plus each
/// deploy's extra instance-hours, or with a `standing` second environment
/// twice the base (the deploy window's extra instances are that
/// environment, paid for anyway).
pub fn infra_usd(q: &Quantities, prices: &Prices, standing: bool) -> f64 {
    let base_hours = prices.instances * HOURS_PER_MONTH;
    let hours = if standing {
        2.0 * base_hours
    } else {
        let release = q.per_release(prices.change_failure_rate);
        base_hours + prices.deploys_per_month * q.deploys_per_deploy * release.extra_instance_hours
    };
    hours * prices.price_usd_per_hour
}

/// The month of strategy `strategy` (its index in the scenario) at `prices`.
pub fn terms(q: &Quantities, prices: &Prices, strategy: usize) -> Terms {
    let release = q.per_release(prices.change_failure_rate);
    let deploys = prices.deploys_per_month * q.deploys_per_deploy;
    Terms {
        infra_usd: infra_usd(q, prices, q.standing_duplicate),
        incidents_usd: deploys
            * (release.downtime_s / 60.0 * prices.downtime_cost_per_minute_usd
                + release.failed_outside_downtime * prices.cost_per_failed_request_usd),
        false_rollbacks_usd: deploys * release.false_rollbacks * prices.false_rollback_usd,
        delay_usd: deploys * release.lead_time_s / 3600.0 * prices.delay_usd_per_hour,
        operations_usd: prices
            .operations_usd_per_month
            .get(strategy)
            .copied()
            .unwrap_or(0.0),
        schema_work_usd: prices.deploys_per_month
            * q.expand_contract_changes_per_deploy
            * prices.expand_contract_usd_per_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(downtime_s: f64, failed: f64, false_rollbacks: f64) -> PerRelease {
        PerRelease {
            n: 10,
            extra_instance_hours: 0.5,
            downtime_s,
            failed_outside_downtime: failed,
            false_rollbacks,
            lead_time_s: 1800.0,
            failed_requests: failed,
            dropped_requests: 0.0,
            promoted: 1.0 - false_rollbacks,
        }
    }

    fn prices() -> Prices {
        Prices {
            instances: 10.0,
            price_usd_per_hour: 0.1,
            cost_per_failed_request_usd: 0.01,
            downtime_cost_per_minute_usd: 100.0,
            deploys_per_month: 20.0,
            false_rollback_usd: 200.0,
            delay_usd_per_hour: 10.0,
            expand_contract_usd_per_change: 400.0,
            change_failure_rate: 0.25,
            operations_usd_per_month: vec![800.0],
        }
    }

    fn quantities() -> Quantities {
        Quantities {
            defective: Some(release(120.0, 1000.0, 0.0)),
            healthy: Some(release(0.0, 0.0, 0.1)),
            deploys_per_deploy: 1.0,
            expand_contract_changes_per_deploy: 0.0,
            standing_duplicate: false,
        }
    }

    #[test]
    fn each_term_is_its_quantity_times_its_price() {
        let t = terms(&quantities(), &prices(), 0);
        // 10 instances × 730 h + 20 deploys × 0.5 h, at $0.10.
        assert!((t.infra_usd - (7300.0 + 10.0) * 0.1).abs() < 1e-9);
        // A quarter of the releases are down 2 min ($200) and fail 1,000 ($10).
        assert!((t.incidents_usd - 20.0 * 0.25 * (200.0 + 10.0)).abs() < 1e-9);
        // Three quarters are healthy, one in ten of those rolled back at $200.
        assert!((t.false_rollbacks_usd - 20.0 * 0.75 * 0.1 * 200.0).abs() < 1e-9);
        // Every release holds the pipeline half an hour at $10 an hour.
        assert!((t.delay_usd - 20.0 * 0.5 * 10.0).abs() < 1e-9);
        assert_eq!(t.operations_usd, 800.0);
        assert_eq!(t.schema_work_usd, 0.0);
        assert!(
            (t.total_usd()
                - (t.infra_usd + t.incidents_usd + t.false_rollbacks_usd + t.delay_usd + 800.0))
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn expand_contract_pays_its_extra_deploys_and_its_engineering() {
        let q = Quantities {
            deploys_per_deploy: 1.6,
            expand_contract_changes_per_deploy: 0.3,
            ..quantities()
        };
        let plain = terms(&quantities(), &prices(), 0);
        let t = terms(&q, &prices(), 0);
        assert!((t.delay_usd - 1.6 * plain.delay_usd).abs() < 1e-9);
        // 20 deploys × 30% schema changes × $400.
        assert!((t.schema_work_usd - 20.0 * 0.3 * 400.0).abs() < 1e-9);
    }

    #[test]
    fn a_standing_second_environment_pays_twice_the_base_and_no_extra_hours() {
        let q = Quantities {
            standing_duplicate: true,
            ..quantities()
        };
        assert!((terms(&q, &prices(), 0).infra_usd - 2.0 * 7300.0 * 0.1).abs() < 1e-9);
    }

    #[test]
    fn with_one_class_sampled_it_stands_for_every_release() {
        let q = Quantities {
            defective: None,
            ..quantities()
        };
        assert!(!q.both_classes());
        assert_eq!(q.per_release(0.9), release(0.0, 0.0, 0.1));
    }
}
