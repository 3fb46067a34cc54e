//! Reading a scenario file: only a regular file, only up to
//! [`MAX_SCENARIO_BYTES`], and only UTF-8 text, each refusal naming the file
//! (and, for bytes that are not UTF-8, the line and the key they sit in).
//! A FIFO or a device given as the scenario would otherwise block the read
//! forever or feed it without end.

use crate::error::{Error, Result};
use crate::input::limits::MAX_SCENARIO_BYTES;
use crate::input::{scan, thousands};
use std::io::Read;
use std::path::Path;

/// The text of the scenario file at `path`.
pub fn read(path: &Path) -> Result<String> {
    let refuse = |message: String| Error::Input {
        file: path.to_path_buf(),
        line: None,
        key: None,
        message,
    };
    // Metadata first: opening a FIFO for reading blocks until a writer comes.
    let meta = std::fs::metadata(path)
        .map_err(|e| refuse(format!("cannot read the scenario file: {e}")))?;
    if !meta.is_file() {
        return Err(refuse(format!(
            "the scenario must be a regular file, and this is {}",
            kind_of(&meta)
        )));
    }
    let too_big = |size: u64| {
        refuse(format!(
            "the scenario file is {} bytes; a scenario may be at most {} bytes (1 MiB)",
            thousands(size as f64),
            thousands(MAX_SCENARIO_BYTES as f64)
        ))
    };
    if meta.len() > MAX_SCENARIO_BYTES {
        return Err(too_big(meta.len()));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| refuse(format!("cannot read the scenario file: {e}")))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte more than allowed tells a file that grew after the check.
    file.take(MAX_SCENARIO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("cannot read the scenario file: {e}")))?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    decode(path, bytes)
}

/// The bytes as text, or an error at the first byte that is not UTF-8.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = &bytes[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |p| p + 1)
            + 1;
        let lossy = String::from_utf8_lossy(bytes);
        Error::Input {
            file: path.to_path_buf(),
            line: Some(line),
            key: scan::path_on_line(&lossy, line),
            message: format!(
                "the file is not UTF-8 text (TOML must be): byte 0x{:02X} at column {column} \
                 is not a valid character",
                bytes[offset]
            ),
        }
    })
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_names_line_column_and_key() {
        let bytes = b"name = \"x\"\n[service]\ninstances = 1\xff0\n".to_vec();
        let e = decode(Path::new("s.toml"), bytes).unwrap_err().to_string();
        assert_eq!(
            e,
            "s.toml:3: key `service.instances`: the file is not UTF-8 text (TOML must be): \
             byte 0xFF at column 14 is not a valid character"
        );
    }

    #[test]
    fn garbage_on_the_first_line_still_has_a_line() {
        let e = decode(Path::new("g.bin"), vec![0x80, 0, 1, 2])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("g.bin:1: the file is not UTF-8"), "{e}");
    }
}
