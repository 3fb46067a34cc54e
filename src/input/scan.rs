//! Key paths from a plain line scan, for files that toml_edit cannot parse
//! (a duplicate key, an integer too large, a header nested thousands deep):
//! the [`KeyMap`](super::locate::KeyMap) is empty then, yet the message must
//! still name the full key path (`service.instances`, not `instances`). The
//! scan follows `[table]` and `[[array]]` headers and dotted keys, skips
//! comments and multi-line strings, and is only ever used to name a line the
//! parser already found wrong, so an odd construct it misreads costs a less
//! precise message, never a refused file.

use std::collections::HashMap;

/// What one line of a TOML file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// `[a.b]` or `[[a.b]]`, with the header's segments.
    Header { segments: Vec<String>, array: bool },
    /// `a.b = ...`, with the key's segments.
    Key(Vec<String>),
    /// Blank, a comment, inside a multi-line string, or unreadable.
    Other,
}

/// The full key path of what is written on `line` (1-based): the key with
/// its table (`service.instances`, `strategies[2].dns.ttl_s`), a header's own
/// path (`strategies[3]`), or for a line that holds no key the table it sits
/// in. None at the top level of a line that holds no key.
pub fn path_on_line(source: &str, line: usize) -> Option<String> {
    let mut tables = Tables::default();
    let mut current: Vec<String> = Vec::new();
    for (i, kind) in kinds(source).enumerate() {
        let this_line = i + 1 == line;
        match kind {
            LineKind::Header { segments, array } => {
                current = tables.open(&segments, array);
                if this_line {
                    return Some(join(&current));
                }
            }
            LineKind::Key(segments) if this_line => {
                let mut path = current.clone();
                path.extend(segments);
                return Some(join(&path));
            }
            _ if this_line => return (!current.is_empty()).then(|| join(&current)),
            _ => {}
        }
    }
    None
}

/// The first line (1-based) whose header or key is nested more than `depth`
/// levels, with its segments.
pub fn first_deeper_than(source: &str, depth: usize) -> Option<(usize, Vec<String>)> {
    kinds(source).enumerate().find_map(|(i, kind)| match kind {
        LineKind::Header { segments, .. } | LineKind::Key(segments) if segments.len() > depth => {
            Some((i + 1, segments))
        }
        _ => None,
    })
}

/// A path for a message: in full, or for one nested absurdly deep its first
/// levels and how many there are.
pub fn shorten(segments: &[String], depth: usize) -> String {
    if segments.len() <= depth {
        return segments.join(".");
    }
    format!(
        "{}.… ({} levels)",
        segments[..4.min(segments.len())].join("."),
        segments.len()
    )
}

/// Each line's kind, in order, one per line of `source`.
pub fn kinds(source: &str) -> impl Iterator<Item = LineKind> + '_ {
    let mut open_string: Option<&'static str> = None;
    source.split('\n').map(move |raw| {
        let line = raw.trim_end_matches('\r');
        if let Some(delimiter) = open_string {
            if line.matches(delimiter).count() % 2 == 1 {
                open_string = None;
            }
            return LineKind::Other;
        }
        for delimiter in ["\"\"\"", "'''"] {
            if line.matches(delimiter).count() % 2 == 1 {
                open_string = Some(delimiter);
            }
        }
        classify(line)
    })
}

fn classify(line: &str) -> LineKind {
    let text = line.trim_start();
    if let Some(rest) = text.strip_prefix("[[") {
        return match rest.find("]]") {
            Some(end) => LineKind::Header {
                segments: split_key(&rest[..end]),
                array: true,
            },
            None => LineKind::Other,
        };
    }
    if let Some(rest) = text.strip_prefix('[') {
        // An unclosed header (`[service`) still names its table.
        let end = close_of_header(rest).unwrap_or(rest.len());
        return match rest[..end].trim() {
            "" => LineKind::Other,
            key => LineKind::Header {
                segments: split_key(key),
                array: false,
            },
        };
    }
    if text.starts_with('#') {
        return LineKind::Other;
    }
    match equals_outside_quotes(text) {
        Some(eq) if !text[..eq].trim().is_empty() => LineKind::Key(split_key(&text[..eq])),
        // A key written without `= value`.
        None if is_bare_key(text.trim()) => LineKind::Key(split_key(text.trim())),
        _ => LineKind::Other,
    }
}

/// Letters, digits, `_`, `-` and dots: what a TOML bare (dotted) key holds.
fn is_bare_key(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The `]` closing a header, outside quotes.
fn close_of_header(rest: &str) -> Option<usize> {
    outside_quotes(rest)
        .find(|&(_, c)| c == ']')
        .map(|(i, _)| i)
}

fn equals_outside_quotes(text: &str) -> Option<usize> {
    outside_quotes(text)
        .find(|&(_, c)| c == '=')
        .map(|(i, _)| i)
}

/// The characters of `text` that are not inside a basic or literal string.
fn outside_quotes(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    text.char_indices().filter(move |&(_, c)| {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None => return true,
        }
        false
    })
}

/// `a . "b.c" . d` → [a, b.c, d].
fn split_key(key: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut start = 0;
    for (i, _) in outside_quotes(key).filter(|&(_, c)| c == '.') {
        segments.push(unquote(&key[start..i]));
        start = i + 1;
    }
    segments.push(unquote(&key[start..]));
    segments
}

fn unquote(segment: &str) -> String {
    let s = segment.trim();
    let quoted = s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')));
    if quoted {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// The arrays of tables opened so far, to give `[[strategies]]` its index
/// and `[strategies.dns]` the index of the last element it extends.
#[derive(Default)]
struct Tables {
    arrays: HashMap<String, usize>,
}

impl Tables {
    /// The resolved path of a header (indices included).
    fn open(&mut self, segments: &[String], array: bool) -> Vec<String> {
        let mut path: Vec<String> = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            path.push(segment.clone());
            let plain = join(&path);
            let last = i + 1 == segments.len();
            if last && array {
                let count = self.arrays.entry(plain).or_insert(0);
                *count += 1;
                let index = *count - 1;
                path.last_mut().unwrap().push_str(&format!("[{index}]"));
            } else if let Some(&count) = self.arrays.get(&plain) {
                path.last_mut()
                    .unwrap()
                    .push_str(&format!("[{}]", count - 1));
            }
        }
        path
    }
}

fn join(path: &[String]) -> String {
    path.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\n[service]\ninstances = 3\ninstances = 4\n\n[[strategies]]\nname = \"a\"\n[[strategies]]\nname = \"b\"\n[strategies.dns]\nttl_s = 5\n\"q.k\" = 1\ndescription = \"\"\"\n[not.a.header]\nx = 1\n\"\"\"\n# a = 1\n[service]\n";

    #[test]
    fn keys_get_their_table_and_array_index() {
        assert_eq!(path_on_line(SRC, 1).as_deref(), Some("name"));
        assert_eq!(path_on_line(SRC, 4).as_deref(), Some("service.instances"));
        assert_eq!(path_on_line(SRC, 9).as_deref(), Some("strategies[1].name"));
        assert_eq!(
            path_on_line(SRC, 11).as_deref(),
            Some("strategies[1].dns.ttl_s")
        );
        assert_eq!(
            path_on_line(SRC, 12).as_deref(),
            Some("strategies[1].dns.q.k")
        );
    }

    #[test]
    fn headers_name_themselves_and_blank_lines_their_table() {
        assert_eq!(path_on_line(SRC, 8).as_deref(), Some("strategies[1]"));
        assert_eq!(path_on_line(SRC, 18).as_deref(), Some("service"));
        assert_eq!(path_on_line(SRC, 5).as_deref(), Some("service"));
        assert_eq!(path_on_line("\n\nx = 1", 1), None);
    }

    #[test]
    fn multi_line_strings_and_comments_hold_no_keys() {
        // Lines 14 and 15 are inside the description's multi-line string.
        assert_eq!(path_on_line(SRC, 14).as_deref(), Some("strategies[1].dns"));
        assert_eq!(path_on_line(SRC, 15).as_deref(), Some("strategies[1].dns"));
        assert_eq!(path_on_line(SRC, 17).as_deref(), Some("strategies[1].dns"));
    }

    #[test]
    fn deep_headers_are_found_and_shortened() {
        let deep = format!("name = 1\n[{}]\n", vec!["a"; 10_000].join("."));
        let (line, segments) = first_deeper_than(&deep, 16).unwrap();
        assert_eq!(line, 2);
        assert_eq!(segments.len(), 10_000);
        assert_eq!(shorten(&segments, 16), "a.a.a.a.… (10000 levels)");
        assert_eq!(first_deeper_than(SRC, 16), None);
    }

    #[test]
    fn a_key_without_a_value_and_an_unclosed_header_are_named() {
        assert_eq!(
            path_on_line("[service]\ninstances\n", 2).as_deref(),
            Some("service.instances")
        );
        assert_eq!(path_on_line("[service\n", 1).as_deref(), Some("service"));
        assert_eq!(
            path_on_line("[service]\n}}}\n", 2).as_deref(),
            Some("service")
        );
    }

    #[test]
    fn quoted_segments_keep_their_dots() {
        assert_eq!(split_key(" a . \"b.c\" .'d'"), ["a", "b.c", "d"]);
        assert_eq!(classify("x = \"a = b\""), LineKind::Key(vec!["x".into()]));
    }
}
