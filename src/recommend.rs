//! The recommendation: the strategy with the lowest expected total monthly
//! cost (infrastructure plus incidents), and why, in words tied to the numbers.
//! Teams choose a release strategy by trading infrastructure money against
//! incident money; this puts both in the same unit.

use crate::format::{count, dollars, duration, percent};
use crate::monthly::MonthlyRow;

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
        "{} has the lowest expected total: {} a month ({} infrastructure + {} expected incident cost; \
         a bad month (p95) of incidents costs {}).",
        winner.strategy,
        dollars(winner.expected_total_monthly_usd),
        dollars(winner.monthly_infra_usd),
        dollars(winner.monthly_incident_cost_usd),
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
        "Against {} ({role}): {} {infra} and {incidents}.",
        other.strategy, winner.strategy
    )
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
            expected_total_monthly_usd: infra + incident,
            rollback_time_s_mean: Some(incident),
            rollback_failed_share: None,
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
