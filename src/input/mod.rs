//! Reading checked input: where each key sits in its file (`locate`), the
//! range checks every value passes, with errors that name the file, line and
//! key (`Validator`), and the reader a strategy module takes its own keys with
//! (`KeyReader`). A leaf below `scenario` and `strategies`, so a strategy can
//! read its keys without importing the scenario that lists it.

pub mod limits;
pub mod locate;
pub mod scan;

use crate::engine::SimTime;
use crate::error::{Error, Result};
use limits::{DURATION_S, Limit, MIN_DURATION_S};
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
                format!("must be a probability in [0, 1], got {}", shown(value)),
            ))
        }
    }

    /// A number greater than 0 and at most `limit`.
    pub fn positive(&self, path: &str, value: f64, limit: Limit) -> Result<f64> {
        if !(value.is_finite() && value > 0.0) {
            return Err(self.error(
                path,
                format!("must be greater than 0, got {}", shown(value)),
            ));
        }
        self.at_most(path, value, limit)
    }

    /// A number from 0 to `limit`.
    pub fn non_negative(&self, path: &str, value: f64, limit: Limit) -> Result<f64> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(self.error(path, format!("must be 0 or more, got {}", shown(value))));
        }
        self.at_most(path, value, limit)
    }

    fn at_most(&self, path: &str, value: f64, limit: Limit) -> Result<f64> {
        if value <= limit.max {
            Ok(value)
        } else {
            Err(self.error(path, beyond(limit, value)))
        }
    }

    /// A duration in seconds, as simulated milliseconds: 0, or from 1 ms
    /// (the engine's tick: anything shorter would round to 0 ms) to a day.
    pub fn duration_s(&self, path: &str, seconds: f64) -> Result<SimTime> {
        if seconds.is_nan() {
            return Err(self.error(path, "must be a number of seconds, got nan"));
        }
        if seconds < 0.0 {
            return Err(self.error(
                path,
                format!("a duration cannot be negative, got {} s", shown(seconds)),
            ));
        }
        if seconds > 0.0 && seconds < MIN_DURATION_S {
            return Err(self.error(
                path,
                format!(
                    "must be 0 or at least 0.001 s: the engine counts whole milliseconds, \
                     so {} s would round to 0 ms",
                    shown(seconds)
                ),
            ));
        }
        self.at_most(path, seconds, DURATION_S)
            .map(SimTime::from_secs_f64)
    }

    /// A duration that must not be zero (a monitoring interval, a deadline):
    /// from 1 ms to a day. `why` says what a zero would do.
    pub fn positive_duration_s(&self, path: &str, seconds: f64, why: &str) -> Result<SimTime> {
        if seconds.is_finite() && (0.0..MIN_DURATION_S).contains(&seconds) {
            return Err(self.error(
                path,
                format!(
                    "must be at least 0.001 s (1 ms, the engine's clock tick): {why}; \
                     got {} s",
                    shown(seconds)
                ),
            ));
        }
        self.duration_s(path, seconds)
    }

    /// An hour of the day in [0, 24).
    pub fn hour(&self, path: &str, value: f64) -> Result<f64> {
        if (0.0..24.0).contains(&value) {
            Ok(value)
        } else {
            Err(self.error(
                path,
                format!(
                    "must be an hour of the day from 0 to 24 (exclusive), got {}",
                    shown(value)
                ),
            ))
        }
    }

    /// A whole number from `min` to `max`; `why` (if not empty) says where
    /// the maximum comes from.
    pub fn count(&self, path: &str, value: i64, min: i64, max: i64, why: &str) -> Result<u64> {
        if (min..=max).contains(&value) {
            return Ok(value as u64);
        }
        let because = if why.is_empty() || value < min {
            String::new()
        } else {
            format!(" ({why})")
        };
        Err(self.error(
            path,
            format!(
                "must be a whole number from {} to {}{because}, got {value}",
                thousands(min as f64),
                thousands(max as f64)
            ),
        ))
    }
}

/// "must be at most 10,000,000 rps: why; got 1e308".
fn beyond(limit: Limit, got: f64) -> String {
    format!(
        "must be at most {}{}: {}; got {}",
        thousands(limit.max),
        limit.unit,
        limit.why,
        shown(got)
    )
}

/// A number as a message shows it: as written for ordinary magnitudes, in
/// exponent form for huge and tiny ones (1e308, not 309 digits).
pub fn shown(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && magnitude != 0.0 && !(1e-6..1e15).contains(&magnitude) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A whole number with thousands separators (10,000,000); others as written.
pub fn thousands(value: f64) -> String {
    if value.fract() != 0.0 || value.abs() >= 1e18 {
        return format!("{value}");
    }
    let digits = format!("{}", value.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 {
        out.insert(0, '-');
    }
    out
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

    /// A reader whose table already passed the checks every strategy key
    /// shares, at any depth (a `dns` table, `steps`): every number finite,
    /// and every number under a key ending in `_s` a duration
    /// ([`Validator::duration_s`]). Keys a strategy module reads without
    /// the reader (a nested table it deserializes itself) are held to the
    /// same rules.
    pub fn checked(
        validator: &'a Validator,
        prefix: &str,
        table: toml::Table,
    ) -> Result<KeyReader<'a>> {
        for (key, value) in &table {
            check_nested(validator, &format!("{prefix}.{key}"), key, value)?;
        }
        Ok(KeyReader::new(validator, prefix, table))
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
            Some(toml::Value::Float(f)) if !f.is_finite() => {
                Err(self.error(key, format!("must be a finite number, got {f}")))
            }
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

    /// A duration whose absence means something of its own (None).
    pub fn optional_duration_s(&mut self, key: &str) -> Result<Option<SimTime>> {
        match self.f64(key)? {
            Some(seconds) => Ok(Some(self.validator.duration_s(&self.path(key), seconds)?)),
            None => Ok(None),
        }
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
                    "unknown key for a {kind} strategy; its keys are: name, kind, judge, \
                     schema_practice, prestop_sleep_s, {}",
                    known.join(", ")
                ),
            )),
        }
    }
}

/// The shared checks of [`KeyReader::checked`] on one value at `path`,
/// written under `key`.
fn check_nested(validator: &Validator, path: &str, key: &str, value: &toml::Value) -> Result<()> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => {
            Err(validator.error(path, format!("must be a finite number, got {f}")))
        }
        toml::Value::Float(f) if key.ends_with("_s") => validator.duration_s(path, *f).map(|_| ()),
        toml::Value::Integer(i) if key.ends_with("_s") => {
            validator.duration_s(path, *i as f64).map(|_| ())
        }
        toml::Value::Table(t) => t
            .iter()
            .try_for_each(|(k, v)| check_nested(validator, &format!("{path}.{k}"), k, v)),
        toml::Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_nested(validator, &format!("{path}[{i}]"), key, v)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validator(source: &str) -> Validator {
        Validator::new(PathBuf::from("t.toml"), KeyMap::new(source))
    }

    fn message(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn a_positive_duration_below_one_millisecond_is_refused_naming_the_limit() {
        let v = validator("[monitoring]\ninterval_s = 0.0004\n");
        for s in [0.0004, 0.000_999, 1e-300] {
            let e = message(v.duration_s("monitoring.interval_s", s).unwrap_err());
            assert!(
                e.starts_with("t.toml:2: key `monitoring.interval_s`: "),
                "{e}"
            );
            assert!(e.contains("at least 0.001 s"), "{e}");
        }
        assert_eq!(v.duration_s("x_s", 0.0).unwrap(), SimTime(0));
        assert_eq!(v.duration_s("x_s", 0.001).unwrap(), SimTime(1));
        assert_eq!(v.duration_s("x_s", 0.0015).unwrap(), SimTime(2));
    }

    #[test]
    fn a_zero_interval_is_refused_where_zero_is_meaningless() {
        let v = validator("");
        for s in [0.0, 0.0005] {
            let e = message(
                v.positive_duration_s("monitoring.interval_s", s, "it would never end")
                    .unwrap_err(),
            );
            assert!(e.contains("at least 0.001 s (1 ms"), "{e}");
            assert!(e.contains("it would never end"), "{e}");
        }
        assert_eq!(
            v.positive_duration_s("monitoring.interval_s", 0.001, "")
                .unwrap(),
            SimTime(1)
        );
    }

    #[test]
    fn a_duration_above_a_day_is_refused_with_the_reason() {
        let v = validator("");
        assert_eq!(v.duration_s("d_s", 86_400.0).unwrap(), SimTime(86_400_000));
        let e = message(v.duration_s("d_s", 86_400.5).unwrap_err());
        assert!(e.contains("at most 86,400 s (1 day)"), "{e}");
        assert!(e.contains("7 days"), "{e}");
        for bad in [f64::INFINITY, f64::NAN, -1.0] {
            assert!(v.duration_s("d_s", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bounded_numbers_name_their_limit() {
        let v = validator("");
        let e = message(
            v.positive("traffic.rate_rps", 1e308, limits::RATE_RPS)
                .unwrap_err(),
        );
        assert!(e.contains("at most 10,000,000 rps"), "{e}");
        assert!(e.contains("2^53"), "{e}");
        assert_eq!(
            v.positive("traffic.rate_rps", 1e7, limits::RATE_RPS)
                .unwrap(),
            1e7
        );
        assert!(v.non_negative("p", 0.0, limits::PRICE_USD_PER_HOUR).is_ok());
        assert!(
            v.non_negative("p", 1e308, limits::PRICE_USD_PER_HOUR)
                .is_err()
        );
        assert!(v.positive("p", 0.0, limits::RATE_RPS).is_err());
    }

    #[test]
    fn huge_and_tiny_numbers_are_shown_in_exponent_form() {
        assert_eq!(shown(1e308), "1e308");
        assert_eq!(shown(1e-300), "1e-300");
        assert_eq!(shown(0.0004), "0.0004");
        assert_eq!(shown(86_400.5), "86400.5");
        assert_eq!(shown(f64::INFINITY), "inf");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(10_000_000.0), "10,000,000");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(-1234.0), "-1,234");
        assert_eq!(thousands(0.5), "0.5");
    }

    #[test]
    fn nested_duration_keys_are_checked_at_any_depth() {
        let source = "[[strategies]]\nname = \"a\"\ndns = { ttl_s = 0.0001 }\nsteps = [{ weight = 100, pause_s = 1e9 }]\n";
        let v = validator(source);
        let mut table: toml::Table = toml::from_str("dns = { ttl_s = 0.0001 }").unwrap();
        let e = message(
            KeyReader::checked(&v, "strategies[0]", table.clone())
                .err()
                .unwrap(),
        );
        assert!(
            e.starts_with("t.toml:3: key `strategies[0].dns.ttl_s`"),
            "{e}"
        );
        table = toml::from_str("steps = [{ weight = 100, pause_s = 1e9 }]").unwrap();
        let e = message(
            KeyReader::checked(&v, "strategies[0]", table)
                .err()
                .unwrap(),
        );
        assert!(e.contains("`strategies[0].steps[0].pause_s`"), "{e}");
        assert!(e.contains("at most 86,400 s"), "{e}");
        let table: toml::Table = toml::from_str("smoke_coverage = nan").unwrap();
        let e = message(
            KeyReader::checked(&v, "strategies[0]", table)
                .err()
                .unwrap(),
        );
        assert!(e.contains("finite"), "{e}");
        let table: toml::Table = toml::from_str("dns = { ttl_s = 20 }").unwrap();
        assert!(KeyReader::checked(&v, "strategies[0]", table).is_ok());
    }
}
