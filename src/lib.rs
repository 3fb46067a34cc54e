//! cutover: a discrete-event simulator that compares release strategies
//! (in-place, rolling, blue-green, canary) by the blast radius of a bad
//! release, how long rollback takes, and what each costs.
//!
//! The pipeline reads off the modules: `scenario` → `experiment` →
//! `simulation` (= `engine` + `world` + `strategies`) → `outcome` → `stats` →
//! `export`.
//!
//! # Layers
//!
//! A module imports only modules of lower layers (tests/layers.rs checks it,
//! and that no files import each other in a circle). Bottom up:
//!
//! 1. `error`, `engine` (clock, queue, streams), `stats`, `outcome`
//! 2. `vocab` (Version, Counts, Route, Defect), `format` (numbers as text), `output`
//! 3. `input` (key locations, range checks, the key reader)
//! 4. `world` (fleet, router, connections, sessions, traffic, monitor, judge, cost)
//! 5. `strategies` (controllers; they may name the world's routing types)
//! 6. `scenario` (parses and validates; lists the strategies)
//! 7. `release` (the release a replication draws)
//! 8. `simulation` (the conductor: world + monitor + tally + one controller)
//! 9. `experiment` (replications in parallel)
//! 10. `economics` (a month's cost terms, linear in each money input)
//! 11. results: `monthly`, `sizing`, `trace`; then `breakeven` (what would
//!     change the answer); then `recommend`, `sizing_check`
//! 12. `export` (exporters read results; they never simulate)
//! 13. `cli`, then `commands`

pub mod breakeven;
pub mod cli;
pub mod commands;
pub mod economics;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod export;
pub mod format;
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
