//! One error type for the library. Bad input names the file, the line and the
//! key, so a user can go straight to the mistake; `main` maps it to exit code 2.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario (or a flag) is wrong: the user can fix it.
    #[error("{file}{line}: {key}{message}", file = .file.display(), line = fmt_line(*.line), key = fmt_key(.key))]
    Input {
        file: PathBuf,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
    /// A command-line value is wrong.
    #[error("{0}")]
    Usage(String),
    /// Writing results failed.
    #[error("cannot write {path}: {source}", path = .path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A bug: the simulation reached a state it should never reach.
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_line(line: Option<usize>) -> String {
    line.map(|l| format!(":{l}")).unwrap_or_default()
}

fn fmt_key(key: &Option<String>) -> String {
    key.as_ref()
        .map(|k| format!("key `{k}`: "))
        .unwrap_or_default()
}

impl Error {
    /// True when the user can fix the problem by changing the input (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Input { .. } | Error::Usage(_))
    }

    pub fn exit_code(&self) -> i32 {
        if self.is_bad_input() { 2 } else { 1 }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
