//! The `[infra]` table: how instances start, what they cost, and how a
//! removed one leaves (its preStop sleep, its drain, and how long clients
//! still send it requests).

use super::raw::RawInfra;
use super::validate::SpreadOf;
use super::{DuplicateMode, Infra};
use crate::error::Result;
use crate::input::Validator;
use crate::input::limits;

impl Validator {
    pub(super) fn infra(&self, raw: RawInfra) -> Result<Infra> {
        Ok(Infra {
            startup_s: self.spread(
                "infra.startup_s",
                raw.startup_s,
                SpreadOf::Duration(limits::DURATION_S),
            )?,
            price_usd_per_hour: self.non_negative(
                "infra.price_usd_per_hour",
                raw.price_usd_per_hour,
                limits::PRICE_USD_PER_HOUR,
            )?,
            // Kubernetes terminationGracePeriodSeconds default: 30 s.
            drain: self.duration_s("infra.drain_s", raw.drain_s.unwrap_or(30.0))?,
            // Kubernetes runs no preStop hook unless the pod spec names one.
            prestop_sleep: self
                .duration_s("infra.prestop_sleep_s", raw.prestop_sleep_s.unwrap_or(0.0))?,
            // EndpointSlice updates reach kube-proxy in about a second or two
            // (R), as for the `selector` switch's propagation_s.
            endpoint_propagation: self.duration_s(
                "infra.endpoint_propagation_s",
                raw.endpoint_propagation_s.unwrap_or(2.0),
            )?,
            duplicate_mode: match raw.duplicate_mode.as_deref() {
                None | Some("on-demand") => DuplicateMode::OnDemand,
                Some("permanent") => DuplicateMode::Permanent,
                Some(other) => {
                    return Err(self.error(
                        "infra.duplicate_mode",
                        format!("expected \"on-demand\" or \"permanent\", got \"{other}\""),
                    ));
                }
            },
        })
    }
}
