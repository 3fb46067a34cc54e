//! Routing keys shared by the strategies that move traffic: weighted steps,
//! and the switch mechanism with its parameters.

use super::Action;
use super::timer::Timer;
use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;
use crate::world::dns::DnsParams;
use crate::world::router::Switch;
use serde::Deserialize;

/// One step: send `weight_pct` of requests to the new version, run an inline
/// analysis if `analysis`, then wait `pause`: a duration, or None for a
/// person (Argo `pause: {}`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficStep {
    pub weight_pct: u32,
    pub pause: Option<SimTime>,
    /// An inline analysis step (Argo `analysis` in `steps`): the release
    /// waits for it to complete before the pause.
    pub analysis: bool,
}

impl TrafficStep {
    /// A step of `weight_pct` that waits `pause_s` seconds.
    pub fn timed(weight_pct: u32, pause_s: u64) -> TrafficStep {
        TrafficStep {
            weight_pct,
            pause: Some(SimTime::from_secs(pause_s)),
            analysis: false,
        }
    }

    /// The action that waits out the step's pause.
    pub fn wait(&self, timer: &mut Timer) -> Action {
        match self.pause {
            Some(pause) => timer.start(pause),
            None => timer.person(),
        }
    }
}

/// Reads a list of `{ weight, pause_s, analysis }` steps at `key`: whole
/// percentages that never decrease and end at 100. A step without `pause_s`
/// waits for a person, unless it runs an inline analysis (allowed only when
/// `inline_analysis`). None when the key is absent.
pub fn steps(
    keys: &mut KeyReader,
    key_name: &str,
    inline_analysis: bool,
) -> Result<Option<Vec<TrafficStep>>> {
    let Some(value) = keys.take(key_name) else {
        return Ok(None);
    };
    let toml::Value::Array(items) = value else {
        return Err(keys.error(
            key_name,
            format!(
                "expected an array of {{ weight, pause_s }} tables, got {}",
                value.type_str()
            ),
        ));
    };
    if items.is_empty() {
        return Err(keys.error(key_name, "needs at least one step, ending at weight 100"));
    }
    let mut steps = Vec::with_capacity(items.len());
    let mut last_weight = 0;
    for (i, item) in items.into_iter().enumerate() {
        let key = format!("{key_name}[{i}]");
        let toml::Value::Table(mut t) = item else {
            return Err(keys.error(&key, "expected a table { weight = ..., pause_s = ... }"));
        };
        let weight = number(keys, &format!("{key}.weight"), t.remove("weight"))?;
        let pause_s = match t.remove("pause_s") {
            None => None,
            value => Some(number(keys, &format!("{key}.pause_s"), value)?),
        };
        let analysis = match t.remove("analysis") {
            None => false,
            Some(toml::Value::Boolean(b)) if inline_analysis || !b => b,
            Some(toml::Value::Boolean(_)) => {
                return Err(keys.error(
                    &format!("{key}.analysis"),
                    "inline analysis steps belong to a canary",
                ));
            }
            Some(other) => {
                return Err(keys.error(
                    &format!("{key}.analysis"),
                    format!("expected true or false, got {}", other.type_str()),
                ));
            }
        };
        if let Some(extra) = t.keys().next() {
            return Err(keys.error(
                &format!("{key}.{extra}"),
                "unknown key in a step; its keys are weight, pause_s and analysis",
            ));
        }
        if !(weight.fract() == 0.0 && (1.0..=100.0).contains(&weight)) {
            return Err(keys.error(
                &format!("{key}.weight"),
                format!("must be a whole percentage from 1 to 100, got {weight}"),
            ));
        }
        let weight_pct = weight as u32;
        if weight_pct < last_weight {
            return Err(keys.error(
                &format!("{key}.weight"),
                format!("weights must not decrease ({weight_pct} after {last_weight})"),
            ));
        }
        last_weight = weight_pct;
        let pause = match pause_s {
            Some(p) => Some(
                keys.validator()
                    .duration_s(&keys.path(&format!("{key}.pause_s")), p)?,
            ),
            None if analysis => Some(SimTime::ZERO),
            None => None,
        };
        steps.push(TrafficStep {
            weight_pct,
            pause,
            analysis,
        });
    }
    if last_weight != 100 {
        return Err(keys.error(
            key_name,
            format!("the last step must reach weight 100, got {last_weight}"),
        ));
    }
    Ok(Some(steps))
}

fn number(keys: &KeyReader, key: &str, value: Option<toml::Value>) -> Result<f64> {
    match value {
        Some(toml::Value::Integer(i)) => Ok(i as f64),
        Some(toml::Value::Float(f)) => Ok(f),
        Some(other) => Err(keys.error(key, format!("expected a number, got {}", other.type_str()))),
        None => Err(keys.error(key, "missing")),
    }
}

/// The switch mechanism named by `switch` (or `router`) and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SwitchKeys {
    pub switch: Switch,
    /// Load balancer only: how long a deregistered target keeps its open
    /// connections (AWS ALB deregistration_delay, default 300 s).
    pub deregistration_delay: Option<SimTime>,
    /// DNS only: the old environment is torn down once the stale share falls
    /// below this, or after `max_wait` at most.
    pub teardown_below: f64,
    pub max_wait: Option<SimTime>,
}

impl SwitchKeys {
    /// An idealised router: every change applies at once.
    pub fn instant() -> SwitchKeys {
        SwitchKeys {
            switch: Switch::Immediate,
            deregistration_delay: None,
            teardown_below: 0.0,
            max_wait: None,
        }
    }
}

/// Reads the mechanism's keys. `name` is the mechanism: "load-balancer",
/// "dns", "selector", "mesh" or "instant".
pub fn switch(keys: &mut KeyReader, key_name: &str, name: &str) -> Result<SwitchKeys> {
    // Propagation defaults are rules of thumb (R): an ALB listener rule change
    // applies within seconds; Kubernetes endpoint updates reach kube-proxy in
    // about a second or two; a mesh pushes new weights to its sidecars in a
    // second or two.
    let default_propagation_s = match name {
        "load-balancer" => 5.0,
        "selector" | "mesh" => 2.0,
        _ => 0.0,
    };
    let mut out = SwitchKeys {
        switch: Switch::Immediate,
        deregistration_delay: None,
        teardown_below: 0.0,
        max_wait: None,
    };
    match name {
        "instant" => {}
        "load-balancer" | "selector" | "mesh" => {
            let propagation = keys.duration_s("propagation_s", default_propagation_s)?;
            out.switch = Switch::Delay(propagation);
            if name == "load-balancer" {
                // AWS ALB target group attribute deregistration_delay: 300 s (0 to 3600).
                out.deregistration_delay = Some(keys.duration_s("deregistration_delay_s", 300.0)?);
            }
        }
        "dns" => {
            let params = match keys.take("dns") {
                None => DnsParams::default(),
                Some(value) => {
                    let p = DnsParams::deserialize(value)
                        .map_err(|e| keys.error("dns", e.message().to_string()))?;
                    p.validate()
                        .map_err(|(field, message)| keys.error(&format!("dns.{field}"), message))?;
                    p
                }
            };
            let below = keys.f64("dns_teardown_below")?.unwrap_or(0.01);
            out.teardown_below = keys
                .validator()
                .probability(&keys.path("dns_teardown_below"), below)?;
            // HikariCP maxLifetime (30 min): pooled connections re-resolve by then.
            out.max_wait = Some(keys.duration_s("dns_max_wait_s", 1800.0)?);
            out.switch = Switch::Dns(params);
        }
        other => {
            return Err(keys.error(
                key_name,
                format!("unknown switch `{other}`; expected load-balancer, dns, selector, mesh or instant"),
            ));
        }
    }
    Ok(out)
}
