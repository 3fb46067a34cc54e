//! The keys of a flagger strategy, checked and resolved into its analysis:
//! Flagger's `stepWeight`, `stepWeights`, `maxWeight` and `iterations`, the
//! load test that drives a blue/green analysis, and the routing layer.

use super::{Analysis, FlaggerConfig, Provider};
use crate::error::Result;
use crate::input::{KeyReader, limits};
use crate::strategies::{StrategyConfig, routing_keys};
use std::sync::Arc;

/// Flagger's `totalWeight`: weights are percentages.
const TOTAL_WEIGHT: u32 = 100;
/// The load-test webhook of Flagger's docs (how-it-works, the Kubernetes
/// blue/green tutorial): `hey -z 1m -q 10 -c 2`, 2 workers at 10 queries
/// per second each.
const DOCS_LOAD_TEST_RPS: f64 = 20.0;

/// The keys a flagger strategy reads.
const KEYS: &[&str] = &[
    "step_weight",
    "step_weights",
    "max_weight",
    "iterations",
    "load_test_rps",
    "switch",
    "propagation_s",
    "deregistration_delay_s",
];

/// The weights of a `stepWeight` analysis (`runCanary`): each passing check
/// adds the step, capped at 100, while the weight is below `maxWeight`, so
/// the last step may pass it (step 20, max 50: 20, 40, 60).
pub fn stepped_weights(step: u32, max_weight: u32) -> Vec<u32> {
    let mut weights = Vec::new();
    let mut weight = 0;
    while weight < max_weight {
        weight = (weight + step).min(TOTAL_WEIGHT);
        weights.push(weight);
    }
    weights
}

pub fn parse(keys: &mut KeyReader, _replicas: u32) -> Result<Arc<dyn StrategyConfig>> {
    let switch_name = keys.string("switch")?.unwrap_or_else(|| "mesh".into());
    let provider = match switch_name.as_str() {
        "mesh" | "load-balancer" | "instant" => Provider::Router,
        "selector" => Provider::Kubernetes,
        other => {
            return Err(keys.error(
                "switch",
                format!(
                    "unknown switch `{other}` for Flagger; expected mesh (a service mesh), \
                     load-balancer (an ingress controller), selector (Kubernetes CNI, blue/green \
                     only) or instant"
                ),
            ));
        }
    };
    let switch = routing_keys::switch(keys, "switch", &switch_name)?;
    let step_weight = whole(keys, "step_weight", 1, 100, "")?;
    let step_weights = weight_list(keys, "step_weights")?;
    let max_weight = whole(keys, "max_weight", 1, 100, "")?;
    let iterations = whole(
        keys,
        "iterations",
        1,
        10_000,
        "each iteration is one analysis interval: 10,000 at the default 60 s is a week, the \
         engine's horizon",
    )?;
    let load_test_rps = keys.f64("load_test_rps")?;
    let analysis = match (iterations, step_weight, step_weights) {
        (Some(iterations), None, None) => {
            if max_weight.is_some() {
                return Err(keys.error(
                    "max_weight",
                    "applies to canary mode; blue/green (`iterations`) sends the canary no user \
                     traffic until promotion",
                ));
            }
            let rps = keys.validator().positive(
                &keys.path("load_test_rps"),
                load_test_rps.unwrap_or(DOCS_LOAD_TEST_RPS),
                limits::RATE_RPS,
            )?;
            Analysis::BlueGreen {
                iterations,
                load_test_rps: rps,
            }
        }
        (Some(_), _, _) => {
            return Err(keys.error(
                "iterations",
                "blue/green mode replaces step_weight and step_weights; give one or the other",
            ));
        }
        (None, Some(_), Some(_)) => {
            return Err(keys.error(
                "step_weights",
                "give step_weight or step_weights, not both (Flagger silently uses step_weight)",
            ));
        }
        (None, Some(step), None) => Analysis::Canary {
            weights: stepped_weights(step, max_weight.unwrap_or(TOTAL_WEIGHT)),
        },
        (None, None, Some(weights)) => {
            if max_weight.is_some() {
                return Err(keys.error(
                    "max_weight",
                    "does not apply with step_weights: the last weight is the maximum (Flagger \
                     maxWeight)",
                ));
            }
            Analysis::Canary { weights }
        }
        (None, None, None) => {
            return Err(keys.error(
                "step_weight",
                "missing: a Flagger canary needs step_weight (e.g. 10), step_weights (e.g. [5, \
                 10, 25, 50]) or, for blue/green, iterations; Flagger has no default step, and \
                 without one the canary never advances",
            ));
        }
    };
    if let Analysis::Canary { .. } = analysis {
        if load_test_rps.is_some() {
            return Err(keys.error(
                "load_test_rps",
                "only applies to blue/green (`iterations`): a canary's checks measure the users' \
                 traffic it receives",
            ));
        }
        if provider == Provider::Kubernetes {
            return Err(keys.error(
                "switch",
                "a Kubernetes Service cannot split traffic by weight (Flagger: progressive \
                 traffic is not supported with the kubernetes provider); use iterations \
                 (blue/green), or switch = \"mesh\" or \"load-balancer\"",
            ));
        }
    }
    keys.finish("flagger", KEYS)?;
    Ok(Arc::new(FlaggerConfig {
        analysis,
        provider,
        switch,
    }))
}

/// A whole number at `key` from `min` to `max`; None when absent.
fn whole(keys: &mut KeyReader, key: &str, min: i64, max: i64, why: &str) -> Result<Option<u32>> {
    match keys.take(key) {
        None => Ok(None),
        Some(toml::Value::Integer(n)) => {
            let n = keys.validator().count(&keys.path(key), n, min, max, why)?;
            Ok(Some(n as u32))
        }
        Some(other) => Err(keys.error(
            key,
            format!("expected a whole number, got {}", other.type_str()),
        )),
    }
}

/// `stepWeights`: whole percentages from 1 to 100 that rise.
fn weight_list(keys: &mut KeyReader, key: &str) -> Result<Option<Vec<u32>>> {
    let Some(value) = keys.take(key) else {
        return Ok(None);
    };
    let toml::Value::Array(items) = value else {
        return Err(keys.error(
            key,
            format!(
                "expected an array of whole percentages such as [5, 10, 25, 50], got {}",
                value.type_str()
            ),
        ));
    };
    if items.is_empty() {
        return Err(keys.error(key, "needs at least one weight"));
    }
    let mut weights: Vec<u32> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{key}[{i}]");
        let weight = match item {
            toml::Value::Integer(n) if (1..=100).contains(n) => *n as u32,
            other => {
                return Err(keys.error(
                    &at,
                    format!("must be a whole percentage from 1 to 100, got {other}"),
                ));
            }
        };
        if let Some(&last) = weights.last()
            && weight <= last
        {
            return Err(keys.error(&at, format!("weights must rise ({weight} after {last})")));
        }
        weights.push(weight);
    }
    Ok(Some(weights))
}
