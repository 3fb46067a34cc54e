//! Smoke tests against the new version before it takes user traffic
//! (blue-green's idle green, a canary's preview step): the keys both read,
//! and the action that runs them.

use super::Action;
use crate::engine::SimTime;
use crate::error::Result;
use crate::input::KeyReader;

/// The keys this module reads.
pub const KEYS: [&str; 2] = ["smoke_test_s", "smoke_coverage"];

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmokeTests {
    /// How long the suite runs; zero skips it.
    pub duration: SimTime,
    /// Probability the suite catches a smoke-detectable defect.
    pub coverage: f64,
}

impl SmokeTests {
    /// No smoke tests.
    pub const NONE: SmokeTests = SmokeTests {
        duration: SimTime::ZERO,
        coverage: 1.0,
    };

    /// Reads `smoke_test_s` (default 0: none) and `smoke_coverage`.
    pub fn parse(keys: &mut KeyReader) -> Result<SmokeTests> {
        let duration = keys.duration_s("smoke_test_s", 0.0)?;
        // A smoke suite that covers the main paths (R).
        let coverage = keys.f64("smoke_coverage")?.unwrap_or(0.9);
        let coverage = keys
            .validator()
            .probability(&keys.path("smoke_coverage"), coverage)?;
        Ok(SmokeTests { duration, coverage })
    }

    pub fn enabled(&self) -> bool {
        self.duration > SimTime::ZERO
    }

    pub fn action(&self) -> Action {
        Action::SmokeTests {
            duration: self.duration,
            coverage: self.coverage,
        }
    }
}
