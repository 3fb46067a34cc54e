//! cutover: a discrete-event simulator that compares release strategies
//! (in-place, rolling, blue-green, canary) by the blast radius of a bad
//! release, how long rollback takes, and what each costs.
//!
//! The pipeline reads off the modules: `scenario` → `experiment` →
//! `simulation` (= `engine` + `world` + `strategies`) → `outcome` → `stats` →
//! `export`.

pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod export;
pub mod input;
pub mod monthly;
pub mod outcome;
pub mod output;
pub mod recommend;
pub mod release;
pub mod scenario;
pub mod simulation;
pub mod sizing;
pub mod sizing_check;
pub mod stats;
pub mod strategies;
pub mod trace;
pub mod vocab;
pub mod world;

pub use error::{Error, Result};
