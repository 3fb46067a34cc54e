//! Statistics: summaries of a metric over the replications (`summary`),
//! random draws (`sampling`), and the hypothesis tests judges run
//! (`hypothesis`). A leaf: it imports nothing of the crate.

mod hypothesis;
mod sampling;
mod summary;

pub use hypothesis::{mann_whitney_u_p_value, normal_quantile, normal_sf, two_proportion_z};
pub use sampling::{Spread, binomial, poisson};
pub use summary::*;
