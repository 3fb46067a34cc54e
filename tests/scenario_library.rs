//! The scenario library a trainer teaches from: every file opens with its
//! lesson, parses, and is listed in the README's Lessons section.

use cutover::scenario::Scenario;
use std::path::Path;

fn scenario_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_states_its_lesson_parses_and_is_listed() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    let lessons = &readme[readme.find("## Lessons").expect("a Lessons section")..];
    let files = scenario_files();
    assert!(
        files.len() >= 10,
        "the library holds the scenarios of every issue"
    );
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# Lesson:"),
            "{} must open with its lesson",
            path.display()
        );
        Scenario::parse(&text, &path).unwrap_or_else(|e| panic!("{e}"));
        let stem = path.file_stem().unwrap().to_str().unwrap();
        assert!(
            lessons.contains(&format!("| `{stem}` |"))
                && lessons.contains(&format!("scenarios/{stem}.toml")),
            "{stem} must be listed in the README's Lessons with its command"
        );
    }
}

#[test]
fn the_embedded_default_is_scenarios_default_toml() {
    let file = std::fs::read_to_string("scenarios/default.toml").unwrap();
    assert_eq!(cutover::scenario::DEFAULT_TOML, file);
    let embedded = Scenario::load(None).unwrap();
    let from_file = Scenario::load(Some(Path::new("scenarios/default.toml"))).unwrap();
    assert_eq!(embedded.source_toml, from_file.source_toml);
    let names: Vec<_> = embedded
        .strategies
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["in-place", "rolling", "blue-green", "canary"]);
}
