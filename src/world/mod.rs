//! What a strategy acts on: the fleet of instances, the router in front of
//! them, the traffic they serve and the monitor that watches it.

pub mod connections;
pub mod cost;
pub mod dns;
pub mod fleet;
pub mod judge;
pub mod monitor;
pub mod router;
pub mod sessions;
pub mod traffic;
