//! What would change the answer: for each money input, the value at which
//! the cheapest strategy changes, and to which.
//!
//! Given the simulated quantities every strategy's monthly total is a line in
//! each input (`crate::economics`): T_s(θ) = T_s(θ₀) + b_s (θ − θ₀). The winner
//! w at the scenario's value θ₀ stays best until the first other line crosses
//! it: going up, the smallest θ₀ + (T_s − T_w)/(b_w − b_s) over the strategies
//! with a smaller slope; going down, the largest θ₀ − (T_s − T_w)/(b_s − b_w)
//! over those with a larger one. These points are exact (no new simulation);
//! substituted back into the scenario they make the two totals equal.
//!
//! The change failure rate is an input like the others: the month weights
//! defective and healthy releases by it, over the same replications.

use crate::economics::{self, Prices, Quantities};
use crate::format::{dollars, percent};

/// One input of the month's cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    DowntimeCostPerMinute,
    CostPerFailedRequest,
    PricePerInstanceHour,
    DeploysPerMonth,
    FalseRollback,
    DelayPerHour,
    ExpandContractPerChange,
    ChangeFailureRate,
    /// One strategy's `operations_usd_per_month` (its index in the scenario).
    Operations(usize),
}

impl Input {
    /// The inputs of a scenario with `strategies` strategies; the schema's
    /// engineering only with a `[database]` table.
    pub fn all(strategies: usize, database: bool) -> Vec<Input> {
        let mut inputs = vec![
            Input::DowntimeCostPerMinute,
            Input::CostPerFailedRequest,
            Input::PricePerInstanceHour,
            Input::DeploysPerMonth,
            Input::FalseRollback,
            Input::DelayPerHour,
        ];
        if database {
            inputs.push(Input::ExpandContractPerChange);
        }
        inputs.push(Input::ChangeFailureRate);
        inputs.extend((0..strategies).map(Input::Operations));
        inputs
    }

    /// The scenario key, by its TOML path (strategies by name).
    pub fn key(self, names: &[String]) -> String {
        match self {
            Input::DowntimeCostPerMinute => "cost.downtime_cost_per_minute_usd".into(),
            Input::CostPerFailedRequest => "cost.cost_per_failed_request_usd".into(),
            Input::PricePerInstanceHour => "infra.price_usd_per_hour".into(),
            Input::DeploysPerMonth => "cost.deploys_per_month".into(),
            Input::FalseRollback => "cost.false_rollback_usd".into(),
            Input::DelayPerHour => "cost.delay_usd_per_hour".into(),
            Input::ExpandContractPerChange => "cost.expand_contract_usd_per_change".into(),
            Input::ChangeFailureRate => "release.change_failure_rate".into(),
            Input::Operations(i) => format!("strategies.{}.operations_usd_per_month", names[i]),
        }
    }

    pub fn unit(self) -> &'static str {
        match self {
            Input::DowntimeCostPerMinute => "USD per minute",
            Input::CostPerFailedRequest => "USD per request",
            Input::PricePerInstanceHour => "USD per instance-hour",
            Input::DeploysPerMonth => "deploys per month",
            Input::FalseRollback => "USD per false rollback",
            Input::DelayPerHour => "USD per hour",
            Input::ExpandContractPerChange => "USD per schema change",
            Input::ChangeFailureRate => "share of releases",
            Input::Operations(_) => "USD per month",
        }
    }

    pub fn get(self, p: &Prices) -> f64 {
        match self {
            Input::DowntimeCostPerMinute => p.downtime_cost_per_minute_usd,
            Input::CostPerFailedRequest => p.cost_per_failed_request_usd,
            Input::PricePerInstanceHour => p.price_usd_per_hour,
            Input::DeploysPerMonth => p.deploys_per_month,
            Input::FalseRollback => p.false_rollback_usd,
            Input::DelayPerHour => p.delay_usd_per_hour,
            Input::ExpandContractPerChange => p.expand_contract_usd_per_change,
            Input::ChangeFailureRate => p.change_failure_rate,
            Input::Operations(i) => p.operations_usd_per_month[i],
        }
    }

    pub fn set(self, p: &mut Prices, value: f64) {
        let slot = match self {
            Input::DowntimeCostPerMinute => &mut p.downtime_cost_per_minute_usd,
            Input::CostPerFailedRequest => &mut p.cost_per_failed_request_usd,
            Input::PricePerInstanceHour => &mut p.price_usd_per_hour,
            Input::DeploysPerMonth => &mut p.deploys_per_month,
            Input::FalseRollback => &mut p.false_rollback_usd,
            Input::DelayPerHour => &mut p.delay_usd_per_hour,
            Input::ExpandContractPerChange => &mut p.expand_contract_usd_per_change,
            Input::ChangeFailureRate => &mut p.change_failure_rate,
            Input::Operations(i) => &mut p.operations_usd_per_month[i],
        };
        *slot = value;
    }

    /// The values the input can take: a rate is a probability, money and
    /// deploys are 0 or more.
    fn upper_bound(self) -> f64 {
        match self {
            Input::ChangeFailureRate => 1.0,
            _ => f64::INFINITY,
        }
    }

    /// A value as a sentence says it.
    pub fn show(self, value: f64) -> String {
        match self {
            Input::ChangeFailureRate => percent_precise(value),
            Input::DeploysPerMonth => format!("{} times a month", deploys(value)),
            Input::Operations(_) => format!("{} a month", money(value)),
            _ => money(value),
        }
    }

    /// "a minute of downtime costs", "the change failure rate is", ...
    fn subject(self, names: &[String]) -> String {
        match self {
            Input::DowntimeCostPerMinute => "a minute of downtime costs".into(),
            Input::CostPerFailedRequest => "a failed request costs".into(),
            Input::PricePerInstanceHour => "an instance-hour costs".into(),
            Input::DeploysPerMonth => "the team deploys".into(),
            Input::FalseRollback => "a false rollback costs".into(),
            Input::DelayPerHour => "an hour of a release waiting costs".into(),
            Input::ExpandContractPerChange => {
                "an expand/contract schema change costs in engineering".into()
            }
            Input::ChangeFailureRate => "the change failure rate is".into(),
            Input::Operations(i) => format!("{}'s operations cost", names[i]),
        }
    }

    /// "whatever a minute of downtime costs", for an input that never changes the winner.
    fn noun(self, names: &[String]) -> String {
        match self {
            Input::DowntimeCostPerMinute => "downtime cost per minute".into(),
            Input::CostPerFailedRequest => "cost per failed request".into(),
            Input::PricePerInstanceHour => "price per instance-hour".into(),
            Input::DeploysPerMonth => "number of deploys a month".into(),
            Input::FalseRollback => "false-rollback cost".into(),
            Input::DelayPerHour => "delay cost per hour".into(),
            Input::ExpandContractPerChange => "expand/contract engineering cost".into(),
            Input::ChangeFailureRate => "change failure rate".into(),
            Input::Operations(i) => format!("operations cost of {}", names[i]),
        }
    }
}

/// Money with the digits a break-even needs: cents from $0.01, three
/// significant digits below ("$0.000312").
fn money(usd: f64) -> String {
    if usd == 0.0 || usd.abs() >= 0.01 {
        dollars(usd)
    } else {
        let digits = (2.0 - usd.abs().log10().floor()).max(0.0) as usize;
        format!("${usd:.digits$}")
    }
}

fn deploys(n: f64) -> String {
    if n >= 10.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    }
}

/// A rate with a decimal more than `percent` gives, so nearby break-evens differ.
fn percent_precise(share: f64) -> String {
    let p = share * 100.0;
    if p > 0.0 && p < 10.0 && (p - p.round()).abs() >= 0.05 {
        format!("{p:.2}%")
    } else {
        percent(share)
    }
}

/// Where the winner changes, going one way from the scenario's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    /// The input's value at which the two totals are equal.
    pub value: f64,
    /// The strategy that wins past it.
    pub next: usize,
}

/// What one input does to the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct BreakEven {
    pub input: Input,
    /// The scenario's value.
    pub current: f64,
    /// The winner at the scenario's value.
    pub winner: usize,
    /// The nearest crossing below the scenario's value (down to 0), if any.
    pub below: Option<Crossing>,
    /// The nearest crossing above it (up to the input's bound), if any.
    pub above: Option<Crossing>,
}

/// A strategy's total at `prices`.
fn total(q: &Quantities, prices: &Prices, strategy: usize) -> f64 {
    economics::terms(q, prices, strategy).total_usd()
}

/// Every strategy's total as a line in one input, at the scenario's value:
/// (total, slope). Exact for a linear total; the slope is measured over a
/// step as large as the value itself, so rounding does not swamp it.
pub fn lines(
    input: Input,
    quantities: &[Quantities],
    eligible: &[usize],
    prices: &Prices,
) -> Vec<Line> {
    let current = input.get(prices);
    let step = current.abs().max(1.0);
    let mut moved = prices.clone();
    input.set(&mut moved, current + step);
    eligible
        .iter()
        .map(|&s| {
            let at = total(&quantities[s], prices, s);
            let slope = (total(&quantities[s], &moved, s) - at) / step;
            (s, at, slope)
        })
        .collect()
}

/// The break-evens of every input among the `eligible` strategies (indices
/// into `quantities`, which is in the scenario's order). Inputs whose
/// reweighting is impossible (the change failure rate without both kinds of
/// release in the sample) are left out; so is everything when fewer than two
/// strategies are eligible.
pub fn break_evens(
    inputs: &[Input],
    quantities: &[Quantities],
    eligible: &[usize],
    prices: &Prices,
) -> Vec<BreakEven> {
    if eligible.len() < 2 {
        return vec![];
    }
    inputs
        .iter()
        .filter(|input| {
            **input != Input::ChangeFailureRate
                || eligible.iter().all(|&s| quantities[s].both_classes())
        })
        .map(|&input| break_even(input, &lines(input, quantities, eligible, prices), prices))
        .collect()
}

/// One strategy's total as a line, at some value of the input: (strategy, total there, slope).
pub type Line = (usize, f64, f64);

/// The cheapest line: the lowest total, the earlier line on ties (as the
/// ranking's stable sort does). `Iterator::min_by` would keep the last.
pub fn cheapest(lines: &[Line]) -> Option<Line> {
    lines.iter().copied().fold(None, |best, l| match best {
        Some(b) if b.1 <= l.1 => Some(b),
        _ => Some(l),
    })
}

/// Where another line first reaches the winner `w` going up from `at` (up to
/// `bound`): a line with a smaller slope catches it.
pub fn crossing_above(lines: &[Line], w: Line, at: f64, bound: f64) -> Option<Crossing> {
    first_crossing(lines, w, at, |t_s, b_s| {
        (b_s < w.2).then(|| at + (t_s - w.1).max(0.0) / (w.2 - b_s))
    })
    .filter(|c| c.value <= bound)
}

/// The same going down from `at`, to no lower than 0: a line with a larger slope.
pub fn crossing_below(lines: &[Line], w: Line, at: f64) -> Option<Crossing> {
    first_crossing(lines, w, at, |t_s, b_s| {
        (b_s > w.2).then(|| at - (t_s - w.1).max(0.0) / (b_s - w.2))
    })
    .filter(|c| c.value >= 0.0)
}

/// The other line that meets the winner nearest to `at` (`meets` gives a
/// line's meeting point from its total and slope, None when it never meets
/// the winner that way); at a shared point, the one diverging fastest.
fn first_crossing(
    lines: &[Line],
    w: Line,
    at: f64,
    meets: impl Fn(f64, f64) -> Option<f64>,
) -> Option<Crossing> {
    let mut best: Option<(f64, f64, Crossing)> = None;
    for &(s, t_s, b_s) in lines.iter().filter(|l| l.0 != w.0) {
        let Some(value) = meets(t_s, b_s) else {
            continue;
        };
        let (distance, steepness) = ((value - at).abs(), (b_s - w.2).abs());
        if best
            .as_ref()
            .is_none_or(|(d, st, _)| distance < *d || (distance == *d && steepness > *st))
        {
            best = Some((distance, steepness, Crossing { value, next: s }));
        }
    }
    best.map(|(_, _, c)| c)
}

fn break_even(input: Input, lines: &[Line], prices: &Prices) -> BreakEven {
    let current = input.get(prices);
    let w = cheapest(lines).expect("at least two lines");
    BreakEven {
        input,
        current,
        winner: w.0,
        below: crossing_below(lines, w, current),
        above: crossing_above(lines, w, current, input.upper_bound()),
    }
}

impl BreakEven {
    /// The break-even as a sentence: "canary stays best while a minute of
    /// downtime costs more than $1.35 (now $8,851); below that, rolling."
    pub fn sentence(&self, names: &[String]) -> String {
        let (i, w) = (self.input, &names[self.winner]);
        let now = i.show(self.current);
        let subject = i.subject(names);
        match (&self.below, &self.above) {
            (None, None) => format!("{w} stays best whatever the {} (now {now}).", i.noun(names)),
            (Some(lo), None) => format!(
                "{w} stays best while {subject} more than {} (now {now}); below that, {}.",
                i.show(lo.value),
                names[lo.next]
            ),
            (None, Some(hi)) => format!(
                "{w} stays best while {subject} less than {} (now {now}); above that, {}.",
                i.show(hi.value),
                names[hi.next]
            ),
            (Some(lo), Some(hi)) => format!(
                "{w} stays best while {subject} between {} and {} (now {now}); below, {}; above, {}.",
                i.show(lo.value),
                i.show(hi.value),
                names[lo.next],
                names[hi.next]
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::economics::PerRelease;

    /// A strategy with `downtime_s` of downtime per release, every release
    /// defective, and `operations` a month.
    fn strategy(downtime_s: f64) -> Quantities {
        let release = PerRelease {
            n: 10,
            downtime_s,
            ..PerRelease::default()
        };
        Quantities {
            defective: Some(release),
            healthy: Some(release),
            deploys_per_deploy: 1.0,
            expand_contract_changes_per_deploy: 0.0,
            standing_duplicate: false,
        }
    }

    fn prices(operations: Vec<f64>) -> Prices {
        Prices {
            instances: 0.0,
            price_usd_per_hour: 0.0,
            cost_per_failed_request_usd: 0.0,
            downtime_cost_per_minute_usd: 10.0,
            deploys_per_month: 10.0,
            false_rollback_usd: 0.0,
            delay_usd_per_hour: 0.0,
            expand_contract_usd_per_change: 0.0,
            change_failure_rate: 0.5,
            operations_usd_per_month: operations,
        }
    }

    fn names() -> Vec<String> {
        ["cheap", "safe"].map(String::from).to_vec()
    }

    #[test]
    fn the_winner_changes_where_the_lines_cross() {
        // cheap: 10 deploys × 6 min down = 60 min a month, no operations.
        // safe: 6 min down a month, $270 of operations. At $10/min: cheap
        // $600, safe $330; equal at 60D = 6D + 270, D = $5.
        let q = [strategy(360.0), strategy(36.0)];
        let p = prices(vec![0.0, 270.0]);
        let found = break_evens(&[Input::DowntimeCostPerMinute], &q, &[0, 1], &p);
        let b = &found[0];
        assert_eq!(b.winner, 1);
        assert!(b.above.is_none());
        let lo = b.below.as_ref().expect("a crossing below");
        assert!((lo.value - 5.0).abs() < 1e-9, "{lo:?}");
        assert_eq!(lo.next, 0);
        assert_eq!(
            b.sentence(&names()),
            "safe stays best while a minute of downtime costs more than $5.00 (now $10.00); \
             below that, cheap."
        );
    }

    #[test]
    fn an_operations_cost_moves_only_its_own_strategy() {
        let q = [strategy(360.0), strategy(36.0)];
        let p = prices(vec![0.0, 270.0]);
        let found = break_evens(
            &[Input::Operations(0), Input::Operations(1)],
            &q,
            &[0, 1],
            &p,
        );
        // safe's own operations may rise by $600 − $330 = $270 before cheap wins.
        let hi = found[1].above.as_ref().expect("safe's operations can rise");
        assert!((hi.value - 540.0).abs() < 1e-9 && hi.next == 0, "{hi:?}");
        // cheap already pays nothing for operations: it cannot win on them.
        assert_eq!(found[0].below, None);
        assert_eq!(
            found[0].sentence(&names()),
            "safe stays best whatever the operations cost of cheap (now $0.00 a month)."
        );
    }

    #[test]
    fn a_single_eligible_strategy_has_nothing_to_change_to() {
        let q = [strategy(360.0), strategy(36.0)];
        assert!(
            break_evens(
                &[Input::DowntimeCostPerMinute],
                &q,
                &[1],
                &prices(vec![0.0, 0.0])
            )
            .is_empty()
        );
    }

    #[test]
    fn small_money_keeps_three_significant_digits() {
        assert_eq!(money(0.000_312_4), "$0.000312");
        assert_eq!(money(1.354), "$1.35");
        assert_eq!(money(8851.0), "$8,851");
    }
}
