//! The recommendation: among the strategies that ship, the one with the
//! lowest expected total monthly cost (infrastructure, incidents, false
//! rollbacks, lead time, operations and schema work), why, in words tied to
//! the numbers, and what would change it. Teams choose a release strategy by
//! trading these against each other; this puts them in the same unit.
//!
//! A strategy that rolls back healthy releases too often is never
//! recommended, however little it costs: a strategy that ships nothing fails
//! no request, and ranking it by money alone would reward that.

use crate::breakeven::{self, BreakEven, Input};
use crate::format::{count, dollars, duration, percent};
use crate::monthly::MonthlyRow;
use crate::scenario::Scenario;

/// What `recommend` decides: the ranking of the strategies that ship, the
/// ones left out and why, and what would change the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The strategies that ship, cheapest first.
    pub ranked: Vec<MonthlyRow>,
    /// The strategies that do not ship, in the scenario's order, each with its reason.
    pub excluded: Vec<(MonthlyRow, String)>,
    /// Every strategy's name in the scenario's order (what break-evens index).
    pub names: Vec<String>,
    /// For each money input (and the change failure rate), where the winner changes.
    pub break_evens: Vec<BreakEven>,
    /// The scenario's price of a minute of downtime, and each shipping
    /// strategy's total as a line in it: (strategy, total, slope).
    pub downtime_cost_now: f64,
    pub downtime_lines: Vec<breakeven::Line>,
}

impl Decision {
    pub fn winner(&self) -> Option<&MonthlyRow> {
        self.ranked.first()
    }

    /// Each strategy that does not ship, with its reason ("NAME: does not ship: ...").
    pub fn not_recommended(&self) -> Vec<String> {
        self.excluded
            .iter()
            .map(|(row, reason)| format!("{}: {reason}", row.strategy))
            .collect()
    }

    /// The break-evens as sentences, in input order.
    pub fn break_even_sentences(&self) -> Vec<String> {
        self.break_evens
            .iter()
            .map(|b| b.sentence(&self.names))
            .collect()
    }
}

/// Why a strategy does not ship, or None when it promotes at least
/// `floor` of the healthy releases (or the sample had none to judge by).
pub fn does_not_ship(row: &MonthlyRow, floor: f64) -> Option<String> {
    let promoted = row.healthy_promoted_share?;
    if promoted >= floor {
        return None;
    }
    let healthy = row.quantities.healthy?;
    let rolled_back = healthy.false_rollbacks;
    let stuck = (1.0 - promoted - rolled_back).max(0.0);
    let mut reason = format!(
        "does not ship: rolls back {} of healthy releases",
        percent(rolled_back)
    );
    if stuck > 0.0 {
        reason.push_str(&format!(" and leaves {} stuck", percent(stuck)));
    }
    reason.push_str(&format!(
        " (cost.min_healthy_promoted_share asks that {} be promoted)",
        percent(floor)
    ));
    Some(reason)
}

/// The decision over a scenario's monthly rows (in the scenario's order).
pub fn decide(scenario: &Scenario, rows: &[MonthlyRow]) -> Decision {
    let floor = scenario.cost.min_healthy_promoted_share;
    let mut excluded = Vec::new();
    let mut eligible = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        match does_not_ship(row, floor) {
            Some(reason) => excluded.push((row.clone(), reason)),
            None => eligible.push(i),
        }
    }
    let ranked = rank(
        &eligible
            .iter()
            .map(|&i| rows[i].clone())
            .collect::<Vec<_>>(),
    );
    let quantities: Vec<_> = rows.iter().map(|r| r.quantities.clone()).collect();
    let prices = crate::economics::Prices::of(scenario);
    let inputs = Input::all(rows.len(), scenario.database.is_some());
    Decision {
        ranked,
        excluded,
        names: rows.iter().map(|r| r.strategy.clone()).collect(),
        break_evens: breakeven::break_evens(&inputs, &quantities, &eligible, &prices),
        downtime_cost_now: prices.downtime_cost_per_minute_usd,
        downtime_lines: breakeven::lines(
            Input::DowntimeCostPerMinute,
            &quantities,
            &eligible,
            &prices,
        ),
    }
}

/// The strategies ranked by expected total monthly cost, cheapest first.
/// Ties keep the scenario's order (a stable sort), so the ranking is deterministic.
pub fn rank(rows: &[MonthlyRow]) -> Vec<MonthlyRow> {
    let mut ranked = rows.to_vec();
    ranked.sort_by(|a, b| {
        a.expected_total_monthly_usd
            .total_cmp(&b.expected_total_monthly_usd)
    });
    ranked
}

/// The plain-language rationale for a ranking (cheapest first): what the
/// winner costs, then the winner against the runner-up and against the
/// strategy with the cheapest infrastructure (when that is another one).
pub fn rationale(ranked: &[MonthlyRow]) -> Vec<String> {
    let Some(winner) = ranked.first() else {
        return vec![];
    };
    let mut lines = vec![format!(
        "{} has the lowest expected total: {} a month ({}; a bad month (p95) of incidents costs {}).",
        winner.strategy,
        dollars(winner.expected_total_monthly_usd),
        terms(winner),
        dollars(winner.monthly_incident_cost_p95_usd),
    )];
    if let Some(runner_up) = ranked.get(1) {
        lines.push(versus(winner, runner_up, "the runner-up"));
        lines.extend(near_tie(winner, runner_up));
    }
    let cheapest_infra = ranked.iter().skip(1).fold(winner, |best, r| {
        if r.monthly_infra_usd < best.monthly_infra_usd {
            r
        } else {
            best
        }
    });
    if cheapest_infra.strategy != winner.strategy
        && ranked
            .get(1)
            .is_none_or(|r| r.strategy != cheapest_infra.strategy)
    {
        lines.push(versus(
            winner,
            cheapest_infra,
            "the cheapest infrastructure",
        ));
    } else if cheapest_infra.strategy == winner.strategy && ranked.len() > 1 {
        lines.push(format!(
            "{} also has the cheapest infrastructure, so nothing is traded: it wins on both.",
            winner.strategy
        ));
    }
    lines.extend(ranked.iter().filter(|r| r.standing_duplicate).map(standing));
    lines
}

/// The total's terms as a sum: infrastructure and incidents always, the
/// others where they cost anything.
fn terms(row: &MonthlyRow) -> String {
    let mut parts = vec![
        format!("{} infrastructure", dollars(row.monthly_infra_usd)),
        format!(
            "{} expected incident cost",
            dollars(row.monthly_incident_cost_usd)
        ),
    ];
    for (usd, what) in [
        (row.monthly_false_rollback_usd, "false rollbacks"),
        (row.monthly_delay_usd, "lead time"),
        (row.monthly_operations_usd, "operations"),
        (row.monthly_schema_work_usd, "schema work"),
    ] {
        if dollars(usd) != dollars(0.0) {
            parts.push(format!("{} {what}", dollars(usd)));
        }
    }
    parts.join(" + ")
}

/// A margin under 1% of the total is within what the model leaves out: say so
/// rather than let a recommendation by cents look decisive.
fn near_tie(winner: &MonthlyRow, runner_up: &MonthlyRow) -> Option<String> {
    let margin = runner_up.expected_total_monthly_usd - winner.expected_total_monthly_usd;
    let share = margin
        / winner
            .expected_total_monthly_usd
            .abs()
            .max(f64::MIN_POSITIVE);
    (share < 0.01).then(|| {
        format!(
            "The two differ by {} a month ({:.2}% of the total): on money alone the choice \
             between them hardly matters.",
            dollars(margin),
            share * 100.0
        )
    })
}

/// What a standing second environment costs against renting it for deploys only.
fn standing(row: &MonthlyRow) -> String {
    format!(
        "{} pays for a standing second environment (duplicate_mode = \"permanent\"): {} a month \
         of infrastructure, against {} with the second environment rented only while it deploys.",
        row.strategy,
        dollars(row.monthly_infra_usd),
        dollars(row.on_demand_infra_usd),
    )
}

/// One comparison: "W costs $X more per month in duplicate capacity than O
/// and saves $Y in expected incident cost, because ...".
fn versus(winner: &MonthlyRow, other: &MonthlyRow, role: &str) -> String {
    let infra_delta = winner.monthly_infra_usd - other.monthly_infra_usd;
    let incident_saved = other.monthly_incident_cost_usd - winner.monthly_incident_cost_usd;
    let infra = if infra_delta > 0.0 {
        format!(
            "costs {} more per month in {}",
            dollars(infra_delta),
            capacity_word(winner)
        )
    } else if infra_delta < 0.0 {
        format!(
            "costs {} less per month in infrastructure",
            dollars(-infra_delta)
        )
    } else {
        "costs the same in infrastructure".to_string()
    };
    let incidents = if dollars(incident_saved.abs()) == dollars(0.0) {
        format!(
            "has the same expected incident cost to the cent ({})",
            drivers(winner, other)
        )
    } else if incident_saved > 0.0 {
        format!(
            "saves {} in expected incident cost, because {}",
            dollars(incident_saved),
            drivers(winner, other)
        )
    } else {
        format!(
            "expects {} more in incident cost ({})",
            dollars(-incident_saved),
            drivers(winner, other)
        )
    };
    format!(
        "Against {} ({role}): {} {infra} and {incidents}{}.",
        other.strategy,
        winner.strategy,
        team_costs(winner, other)
    )
}

/// The terms beyond infrastructure and incidents where the two differ:
/// "; it pays $400.00 more in operations and $98.33 more in lead time (its
/// releases take 31 min instead of 1 min)".
fn team_costs(winner: &MonthlyRow, other: &MonthlyRow) -> String {
    let healthy_rollbacks =
        |r: &MonthlyRow| r.quantities.healthy.map_or(0.0, |h| h.false_rollbacks);
    let terms = [
        (
            winner.monthly_operations_usd - other.monthly_operations_usd,
            "operations",
            String::new(),
        ),
        (
            winner.monthly_delay_usd - other.monthly_delay_usd,
            "lead time",
            format!(
                " (its releases take {} instead of {})",
                duration(winner.lead_time_s_mean),
                duration(other.lead_time_s_mean)
            ),
        ),
        (
            winner.monthly_false_rollback_usd - other.monthly_false_rollback_usd,
            "false rollbacks",
            format!(
                " (it rolls back {} of healthy releases instead of {})",
                percent(healthy_rollbacks(winner)),
                percent(healthy_rollbacks(other))
            ),
        ),
        (
            winner.monthly_schema_work_usd - other.monthly_schema_work_usd,
            "schema work",
            String::new(),
        ),
    ];
    let parts: Vec<String> = terms
        .iter()
        .filter(|(delta, _, _)| dollars(delta.abs()) != dollars(0.0))
        .map(|(delta, what, why)| {
            let more = if *delta > 0.0 { "more" } else { "less" };
            format!("{} {more} in {what}{why}", dollars(delta.abs()))
        })
        .collect();
    match parts.split_last() {
        None => String::new(),
        Some((last, [])) => format!("; it pays {last}"),
        Some((last, rest)) => format!("; it pays {} and {last}", rest.join(", ")),
    }
}

/// What drives incident cost, winner against other: failed requests, time
/// down and dropped requests a month, and how long a rollback takes. A
/// rollback that is slower for the winner is still named, as a "though", so
/// the text never hides it.
fn drivers(winner: &MonthlyRow, other: &MonthlyRow) -> String {
    let (w_failed, o_failed) = (
        count(winner.monthly_failed_requests),
        count(other.monthly_failed_requests),
    );
    let mut parts = vec![if w_failed == o_failed {
        format!("both fail about {w_failed} requests a month")
    } else {
        format!("it fails {w_failed} requests a month instead of {o_failed}")
    }];
    let (w_down, o_down) = (
        time_down(winner.monthly_downtime_s),
        time_down(other.monthly_downtime_s),
    );
    if w_down != o_down {
        parts.push(format!("is down {w_down} a month instead of {o_down}"));
    }
    if winner.monthly_dropped_requests.round() > 0.0 || other.monthly_dropped_requests.round() > 0.0
    {
        parts.push(format!(
            "drops {} for lack of ready capacity instead of {}",
            count(winner.monthly_dropped_requests),
            count(other.monthly_dropped_requests)
        ));
    }
    if let (Some(w), Some(o)) = (winner.rollback_failed_share, other.rollback_failed_share)
        && percent(w) != percent(o)
    {
        parts.push(format!(
            "{} of its rollbacks fail against the schema instead of {}",
            percent(w),
            percent(o)
        ));
    }
    let mut though = String::new();
    if let (Some(w), Some(o)) = (winner.rollback_time_s_mean, other.rollback_time_s_mean) {
        let (w_text, o_text) = (duration(w), duration(o));
        if w_text == o_text {
            // Equal as people read them: not a reason either way.
        } else if w < o {
            parts.push(format!("its rollback takes {w_text} instead of {o_text}"));
        } else {
            though = format!(
                ", though {}'s rollback takes {w_text} against {o_text}",
                winner.strategy
            );
        }
    }
    let last = parts.pop().unwrap_or_default();
    let listed = if parts.is_empty() {
        last
    } else {
        format!("{} and {last}", parts.join(", "))
    };
    format!("{listed}{though}")
}

/// Downtime as people say it: none at all is "0 s", and a little that
/// would print as "0.0 s" is "under 0.1 s".
fn time_down(seconds: f64) -> String {
    if seconds <= 0.0 {
        "0 s".into()
    } else if seconds < 0.05 {
        "under 0.1 s".into()
    } else {
        duration(seconds)
    }
}

/// What the winner's extra infrastructure buys, in operators' words (each
/// strategy names its own extra instances in its `Environment`).
fn capacity_word(row: &MonthlyRow) -> &'static str {
    if row.standing_duplicate {
        "a standing second environment"
    } else {
        row.extra_capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::{PerRelease, Quantities};

    /// A row whose extra instances are called what that kind calls them.
    fn row(name: &str, kind: &'static str, infra: f64, incident: f64) -> MonthlyRow {
        let extra_capacity = match kind {
            "blue-green" => "duplicate capacity",
            "canary" => "canary capacity",
            "rolling" => "surge capacity",
            _ => "capacity",
        };
        MonthlyRow {
            strategy: name.into(),
            extra_capacity,
            deploys_per_month: 20.0,
            monthly_infra_usd: infra,
            standing_duplicate: false,
            on_demand_infra_usd: infra,
            monthly_failed_requests: incident * 10.0,
            monthly_dropped_requests: 0.0,
            monthly_downtime_s: 0.0,
            monthly_incident_cost_usd: incident,
            monthly_incident_cost_p95_usd: incident * 3.0,
            monthly_false_rollback_usd: 0.0,
            monthly_delay_usd: 0.0,
            monthly_operations_usd: 0.0,
            monthly_schema_work_usd: 0.0,
            expected_total_monthly_usd: infra + incident,
            healthy_promoted_share: Some(1.0),
            lead_time_s_mean: 60.0,
            rollback_time_s_mean: Some(incident),
            rollback_failed_share: None,
            quantities: Quantities {
                defective: None,
                healthy: Some(PerRelease {
                    n: 10,
                    promoted: 1.0,
                    ..PerRelease::default()
                }),
                deploys_per_deploy: 1.0,
                expand_contract_changes_per_deploy: 0.0,
                standing_duplicate: false,
            },
        }
    }

    #[test]
    fn ranks_by_expected_total_and_keeps_order_on_ties() {
        let rows = [
            row("a", "in-place", 100.0, 50.0),
            row("b", "rolling", 110.0, 10.0),
            row("c", "canary", 100.0, 20.0),
        ];
        let names: Vec<_> = rank(&rows).into_iter().map(|r| r.strategy).collect();
        assert_eq!(names, ["b", "c", "a"]);
    }

    #[test]
    fn the_rationale_names_the_trade_in_dollars() {
        let ranked = rank(&[
            row("in-place", "in-place", 700.0, 400.0),
            row("blue-green", "blue-green", 705.0, 8.0),
            row("rolling", "rolling", 702.0, 300.0),
        ]);
        let text = rationale(&ranked).join("\n");
        assert!(
            text.starts_with("blue-green has the lowest expected total: $713.00 a month"),
            "{text}"
        );
        assert!(
            text.contains(
                "Against rolling (the runner-up): blue-green costs $3.00 more per month in \
                 duplicate capacity and saves $292.00 in expected incident cost, because it fails \
                 80 requests a month instead of 3,000 and its rollback takes 8 s instead of 5 min."
            ),
            "{text}"
        );
        assert!(text.contains("Against in-place (the cheapest infrastructure)"));
        assert!(!text.contains("hardly matters"), "a 43% margin is no tie");
    }

    #[test]
    fn downtime_is_named_beside_the_failed_requests() {
        let mut in_place = row("in-place", "in-place", 700.0, 400.0);
        in_place.monthly_downtime_s = 1800.0;
        let ranked = rank(&[in_place, row("canary", "canary", 703.0, 8.0)]);
        let text = rationale(&ranked).join("\n");
        assert!(
            text.contains(
                "because it fails 80 requests a month instead of 4,000, is down 0 s a month \
                 instead of 30 min and its rollback takes 8 s instead of 7 min."
            ),
            "{text}"
        );
    }

    #[test]
    fn a_margin_of_cents_is_called_a_near_tie() {
        let ranked = rank(&[
            row("rolling", "rolling", 210.26, 0.08),
            row("blue-green", "blue-green", 210.28, 0.08),
        ]);
        let text = rationale(&ranked).join("\n");
        assert!(
            text.contains("has the same expected incident cost to the cent"),
            "{text}"
        );
        assert!(
            text.contains(
                "The two differ by $0.02 a month (0.01% of the total): on money alone the \
                 choice between them hardly matters."
            ),
            "{text}"
        );
    }
}
