//! Finds where a key sits in a scenario file, so every error can name the
//! file, the line and the key. The serde structs lose positions; toml_edit's
//! document keeps a span for every key and value, so one walk over it maps
//! key paths to lines and byte offsets back to key paths.

use std::ops::Range;
use toml_edit::{Document, Item, Table, Value};

/// Every key in the file: its dotted path (`strategies[2].max_surge`), where
/// the key is written and where its whole entry (key and value) lies.
#[derive(Debug, Default)]
pub struct KeyMap {
    source_lines: Vec<usize>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    path: String,
    key_span: Range<usize>,
    whole_span: Range<usize>,
}

impl KeyMap {
    /// Builds the map; a file that toml_edit cannot parse gives an empty map
    /// (the parse error then carries its own position).
    pub fn new(source: &str) -> KeyMap {
        let mut map = KeyMap {
            source_lines: source
                .char_indices()
                .filter(|(_, c)| *c == '\n')
                .map(|(i, _)| i)
                .collect(),
            entries: Vec::new(),
        };
        if let Ok(doc) = Document::parse(source) {
            map.walk_table(doc.as_table(), "");
        }
        map
    }

    /// The 1-based line of a byte offset.
    pub fn line_of_offset(&self, offset: usize) -> usize {
        self.source_lines.partition_point(|&nl| nl < offset) + 1
    }

    /// The line where `path` is written, or where its nearest written parent is.
    pub fn line_of_path(&self, path: &str) -> Option<usize> {
        let mut candidate = path;
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.path == candidate) {
                return Some(self.line_of_offset(e.key_span.start));
            }
            let cut = candidate.rfind(['.', '['])?;
            candidate = &candidate[..cut];
        }
    }

    /// The innermost key whose entry contains `offset`.
    pub fn path_at(&self, offset: usize) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.whole_span.contains(&offset) || e.key_span.contains(&offset))
            .min_by_key(|e| e.whole_span.len())
            .map(|e| e.path.as_str())
    }

    fn push(
        &mut self,
        path: String,
        key_span: Option<Range<usize>>,
        item_span: Option<Range<usize>>,
    ) {
        let Some(key_span) = key_span.or_else(|| item_span.clone()) else {
            return;
        };
        let whole_span = match item_span {
            Some(v) => key_span.start.min(v.start)..key_span.end.max(v.end),
            None => key_span.clone(),
        };
        self.entries.push(Entry {
            path,
            key_span,
            whole_span,
        });
    }

    fn walk_table(&mut self, table: &Table, prefix: &str) {
        for (name, item) in table.iter() {
            let path = join(prefix, name);
            let key_span = table.key(name).and_then(|k| k.span());
            self.push(path.clone(), key_span, item.span());
            self.walk_item(item, &path);
        }
    }

    fn walk_item(&mut self, item: &Item, path: &str) {
        match item {
            Item::Table(t) => self.walk_table(t, path),
            Item::ArrayOfTables(array) => {
                for (i, t) in array.iter().enumerate() {
                    let element = format!("{path}[{i}]");
                    self.push(element.clone(), t.span(), t.span());
                    self.walk_table(t, &element);
                }
            }
            Item::Value(v) => self.walk_value(v, path),
            Item::None => {}
        }
    }

    fn walk_value(&mut self, value: &Value, path: &str) {
        match value {
            Value::InlineTable(t) => {
                for (name, v) in t.iter() {
                    let child = join(path, name);
                    let key_span = t.key(name).and_then(|k| k.span());
                    self.push(child.clone(), key_span, v.span());
                    self.walk_value(v, &child);
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let child = format!("{path}[{i}]");
                    self.push(child.clone(), v.span(), v.span());
                    self.walk_value(v, &child);
                }
            }
            _ => {}
        }
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "name = \"x\"\n[service]\ninstances = 3\n\n[[strategies]]\nname = \"a\"\n\n[[strategies]]\nname = \"b\"\nsteps = [ { weight = 5, pause_s = 1 } ]\n";

    #[test]
    fn lines_of_nested_keys() {
        let map = KeyMap::new(SRC);
        assert_eq!(map.line_of_path("service.instances"), Some(3));
        assert_eq!(map.line_of_path("strategies[1].name"), Some(9));
        assert_eq!(map.line_of_path("strategies[1].steps[0].weight"), Some(10));
        // A key that is not written falls back to its parent table.
        assert_eq!(
            map.line_of_path("service.capacity_rps_per_instance"),
            Some(2)
        );
    }

    #[test]
    fn offset_maps_back_to_innermost_key() {
        let map = KeyMap::new(SRC);
        let offset = SRC.find("pause_s").unwrap();
        assert_eq!(map.path_at(offset), Some("strategies[1].steps[0].pause_s"));
    }
}
