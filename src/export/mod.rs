//! Exporters: one module per format, each an [`Exporter`] that turns the one
//! [`Report`] of a comparison into the files it produces. Exporters read
//! results and never simulate; [`write`] runs them in order and writes their
//! files.
//!
//! | exporter | files |
//! |---|---|
//! | [`csv::SummaryCsv`] | summary.csv |
//! | [`csv::ReplicationsCsv`] | replications.csv |
//! | [`csv::MonthlyCsv`] | monthly.csv, breakeven.csv |
//! | [`plots::Plots`] | timeline, blast_radius, cost_vs_risk, rollback_time, cost_vs_downtime (.png or .svg) |
//! | [`html::HtmlReport`] | report.html |
//!
//! The terminal table ([`table`]) is not an exporter: it is printed, not
//! written, and `compare` prints it with the list of files the exporters wrote.

pub mod csv;
pub mod html;
pub mod plots;
pub mod table;

use crate::error::{Error, Result};
use crate::experiment::Results;
use crate::monthly::{self, MonthlyRow};
use crate::recommend::{self, Decision};
use crate::scenario::Scenario;
use crate::trace::{self, Timeline};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// Everything a comparison reports, built once from the experiment; every
/// exporter reads it.
#[derive(Debug)]
pub struct Report {
    pub scenario_name: String,
    /// The scenario file exactly as written (report.html shows it).
    pub scenario_toml: String,
    pub results: Results,
    /// The monthly view, one row per strategy in the scenario's order.
    pub monthly: Vec<MonthlyRow>,
    /// The recommendation made of it (report.html leads with it).
    pub decision: Decision,
    /// The timeline replication under every strategy, in the scenario's
    /// order; empty when the experiment recorded none.
    pub timelines: Vec<Timeline>,
    /// The plots as PNG, drawn once by [`plots::png_files`] for both the PNG
    /// files and report.html, which embeds them.
    png_plots: OnceCell<std::result::Result<Vec<OutputFile>, String>>,
}

impl Report {
    /// The report of one experiment: its monthly view and the timelines of
    /// the traced replication, if any, worked out once here.
    pub fn new(scenario: &Scenario, results: Results) -> Report {
        let timelines = results
            .timeline
            .as_ref()
            .map(|t| {
                results
                    .strategy_names
                    .iter()
                    .zip(&t.traces)
                    .map(|(name, events)| trace::timeline(name, events))
                    .collect()
            })
            .unwrap_or_default();
        let monthly = monthly::rows(scenario, &results);
        Report {
            scenario_name: scenario.name.clone(),
            scenario_toml: scenario.source_toml.clone(),
            decision: recommend::decide(scenario, &monthly),
            monthly,
            results,
            timelines,
            png_plots: OnceCell::new(),
        }
    }
}

/// One file an exporter produces: its name in the output folder and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// One output format.
pub trait Exporter {
    /// The files this format makes of the report, in the order they are written.
    fn export(&self, report: &Report) -> Result<Vec<OutputFile>>;
}

/// Runs each exporter in turn and writes its files into `dir` before the
/// next one runs; returns every path written, in order.
pub fn write(dir: &Path, report: &Report, exporters: &[&dyn Exporter]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for exporter in exporters {
        for file in exporter.export(report)? {
            let path = dir.join(&file.name);
            write_file(&path, &file.bytes)?;
            written.push(path);
        }
    }
    Ok(written)
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

/// A fresh folder name under the system temp dir for one unit test.
#[cfg(test)]
pub(crate) fn test_dir(tag: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!("cutover-{tag}-{}-{nanos}", std::process::id()))
}
