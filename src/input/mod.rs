//! Reading checked input: where each key sits in its file (`locate`), the
//! range checks every value passes, with errors that name the file, line and
//! key (`Validator`), and the reader a strategy module takes its own keys with
//! (`KeyReader`). A leaf below `scenario` and `strategies`, so a strategy can
//! read its keys without importing the scenario that lists it.

pub mod locate;

use crate::engine::SimTime;
use crate::error::{Error, Result};
use locate::KeyMap;
use std::path::PathBuf;

pub struct Validator {
    file: PathBuf,
    keys: KeyMap,
}

impl Validator {
    pub fn new(file: PathBuf, keys: KeyMap) -> Validator {
        Validator { file, keys }
    }

    /// An error at `path`, located in the file.
    pub fn error(&self, path: &str, message: impl Into<String>) -> Error {
        Error::Input {
            file: self.file.clone(),
            line: self.keys.line_of_path(path),
            key: Some(path.to_string()),
            message: message.into(),
        }
    }

    pub fn probability(&self, path: &str, value: f64) -> Result<f64> {
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(
                path,
                format!("must be a probability in [0, 1], got {value}"),
            ))
        }
    }

    pub fn positive(&self, path: &str, value: f64) -> Result<f64> {
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(self.error(path, format!("must be greater than 0, got {value}")))
        }
    }

    pub fn non_negative(&self, path: &str, value: f64) -> Result<f64> {
        if value.is_finite() && value >= 0.0 {
            Ok(value)
        } else {
            Err(self.error(path, format!("must be 0 or more, got {value}")))
        }
    }

    /// A duration in seconds (0 allowed), as simulated milliseconds.
    pub fn duration_s(&self, path: &str, seconds: f64) -> Result<SimTime> {
        if !seconds.is_finite() || seconds < 0.0 {
            return Err(self.error(
                path,
                format!("a duration cannot be negative, got {seconds} s"),
            ));
        }
        if seconds > 365.0 * 86_400.0 {
            return Err(self.error(path, format!("{seconds} s is longer than a year")));
        }
        Ok(SimTime::from_secs_f64(seconds))
    }

    /// An hour of the day in [0, 24).
    pub fn hour(&self, path: &str, value: f64) -> Result<f64> {
        if (0.0..24.0).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(
                path,
                format!("must be an hour of the day from 0 to 24 (exclusive), got {value}"),
            ))
        }
    }

    pub fn count(&self, path: &str, value: i64, min: i64, max: i64) -> Result<u64> {
        if (min..=max).contains(&value) {
            Ok(value as u64)
        } else {
            Err(self.error(
                path,
                format!("must be a whole number from {min} to {max}, got {value}"),
            ))
        }
    }
}

/// Reads one strategy's own keys from its table, so each strategy module
/// declares the keys it understands and anything else is rejected by name.
pub struct KeyReader<'a> {
    validator: &'a Validator,
    prefix: String,
    table: toml::Table,
}

impl<'a> KeyReader<'a> {
    pub fn new(validator: &'a Validator, prefix: &str, table: toml::Table) -> KeyReader<'a> {
        KeyReader {
            validator,
            prefix: prefix.to_string(),
            table,
        }
    }

    pub fn validator(&self) -> &Validator {
        self.validator
    }

    pub fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.prefix)
    }

    pub fn error(&self, key: &str, message: impl Into<String>) -> Error {
        self.validator.error(&self.path(key), message)
    }

    pub fn take(&mut self, key: &str) -> Option<toml::Value> {
        self.table.remove(key)
    }

    pub fn f64(&mut self, key: &str) -> Result<Option<f64>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::Float(f)) => Ok(Some(f)),
            Some(toml::Value::Integer(i)) => Ok(Some(i as f64)),
            Some(other) => {
                Err(self.error(key, format!("expected a number, got {}", other.type_str())))
            }
        }
    }

    pub fn bool(&mut self, key: &str) -> Result<Option<bool>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(b)),
            Some(other) => Err(self.error(
                key,
                format!("expected true or false, got {}", other.type_str()),
            )),
        }
    }

    pub fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => {
                Err(self.error(key, format!("expected a string, got {}", other.type_str())))
            }
        }
    }

    pub fn duration_s(&mut self, key: &str, default_s: f64) -> Result<SimTime> {
        let seconds = self.f64(key)?.unwrap_or(default_s);
        self.validator.duration_s(&self.path(key), seconds)
    }

    /// Every key must have been taken; the first one left is unknown.
    pub fn finish(&self, kind: &str, known: &[&str]) -> Result<()> {
        match self.table.keys().next() {
            None => Ok(()),
            // A key of the kind that the chosen switch or router does not read.
            Some(k) if known.contains(&k.as_str()) => Err(self.validator.error(
                &self.path(k),
                format!("does not apply to this {kind} strategy's switch or router; remove it"),
            )),
            Some(k) => Err(self.validator.error(
                &self.path(k),
                format!(
                    "unknown key for a {kind} strategy; its keys are: name, kind, judge, {}",
                    known.join(", ")
                ),
            )),
        }
    }
}
