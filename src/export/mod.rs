//! Exporters: one module per format, all fed by the same [`Results`].

pub mod csv;
pub mod plots;
pub mod report;
pub mod table;

use crate::error::{Error, Result};
use std::path::Path;

/// Formats a number the same way on every platform and thread count: whole
/// numbers without a fraction, others with up to 6 decimals.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| Error::Output {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| Error::Output {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_stable_text() {
        assert_eq!(super::number(3.0), "3");
        assert_eq!(super::number(0.1 + 0.2), "0.3");
        assert_eq!(super::number(-0.0000001), "0");
        assert_eq!(super::number(f64::NAN), "");
    }
}
