//! report.html: one self-contained page that opens with the decision (the
//! recommendation, why, and what would change it). Inline CSS, plots embedded as
//! base64 `data:` URIs, the scenario TOML in a `<pre>`, and no reference to
//! anything on the network.
//!
//! A small inline script (nothing is fetched) records whether every image
//! decoded: once the page has loaded it sets `<body data-images-ok="K/N">`
//! and fills `<div id="render-check" data-status="ok|failed">`. Headless
//! Chromium's `--dump-dom` output can then be checked for that marker.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::plots::{describe_plot, png_files};
use super::{Exporter, OutputFile, Report, table};
use crate::breakeven::{BreakEven, Crossing};
use crate::error::Result;
use crate::experiment::Results;
use crate::monthly::MonthlyRow;
use crate::recommend::{self, Decision};

/// report.html: the comparison table and the monthly view with a note per
/// column, every PNG plot with its caption, and the scenario's TOML.
pub struct HtmlReport;

impl Exporter for HtmlReport {
    fn export(&self, report: &Report) -> Result<Vec<OutputFile>> {
        let settings = report.results.settings;
        let title = format!(
            "cutover: {} — {} releases per strategy, seed {}",
            report.scenario_name, settings.replications, settings.seed
        );
        let html = render_report_html(
            &title,
            Some(&lead(report)),
            &[
                ("Summary", &summary_table(&report.results)),
                ("Per month", &monthly_table(&report.monthly)),
            ],
            png_files(report)?,
            &report.scenario_toml,
        );
        Ok(vec![OutputFile {
            name: "report.html".into(),
            bytes: html.into_bytes(),
        }])
    }
}

/// What the report opens with: the recommendation, why, what does not ship,
/// and what would change the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lead {
    pub headline: String,
    pub why: Vec<String>,
    pub not_recommended: Vec<String>,
    pub break_evens: ReportTable,
}

/// The stem of the plot the lead shows beside its break-even table.
const LEAD_PLOT: &str = "cost_vs_downtime";

/// The lead of a report, from its decision.
pub fn lead(report: &Report) -> Lead {
    let d = &report.decision;
    Lead {
        headline: match d.winner() {
            Some(w) => format!("Recommended: {}", w.strategy),
            None => "No recommendation: no strategy ships".into(),
        },
        why: recommend::rationale(&d.ranked),
        not_recommended: d.not_recommended(),
        break_evens: break_even_table(d),
    }
}

/// The break-evens as a table: each input, its value now, and where the
/// winner changes below and above it.
pub fn break_even_table(d: &Decision) -> ReportTable {
    let show = |b: &BreakEven, c: &Option<Crossing>| match c {
        Some(c) => (b.input.show(c.value), d.names[c.next].clone()),
        None => ("-".into(), "-".into()),
    };
    ReportTable {
        columns: [
            "input",
            "now",
            "best now",
            "changes below",
            "to",
            "changes above",
            "to",
            "in words",
        ]
        .map(String::from)
        .to_vec(),
        rows: d
            .break_evens
            .iter()
            .map(|b| {
                let (lo, lo_next) = show(b, &b.below);
                let (hi, hi_next) = show(b, &b.above);
                vec![
                    b.input.key(&d.names),
                    b.input.show(b.current),
                    d.names[b.winner].clone(),
                    lo,
                    lo_next,
                    hi,
                    hi_next,
                    b.sentence(&d.names),
                ]
            })
            .collect(),
        notes: vec![
            "Each input is varied alone, every other as in the scenario. The totals are linear in \
             every money input given the simulated counts, so each break-even is exact: set the \
             key to it and the two strategies cost the same. The change failure rate reweights \
             defective and healthy releases over the same replications. breakeven.csv holds \
             the same numbers."
                .into(),
        ],
    }
}

/// A table as the report shows it: headings, rows and a note per column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// One paragraph per column explaining it.
    pub notes: Vec<String>,
}

/// The comparison table as the report shows it: the terminal table's rows
/// with every column's note.
pub fn summary_table(results: &Results) -> ReportTable {
    ReportTable {
        columns: table::COLUMNS.iter().map(|(h, _)| h.to_string()).collect(),
        rows: table::rows(results),
        notes: table::COLUMNS
            .iter()
            .map(|(_, n)| {
                if n.starts_with("mean") {
                    format!("{n}; ± the half-width of its 95% confidence interval")
                } else {
                    n.to_string()
                }
            })
            .collect(),
    }
}

/// The monthly view for the report, with a note per column.
pub fn monthly_table(rows: &[MonthlyRow]) -> ReportTable {
    ReportTable {
        columns: table::monthly_columns(rows)
            .iter()
            .map(|(h, _)| h.to_string())
            .collect(),
        rows: table::monthly_rows(rows),
        notes: table::monthly_columns(rows)
            .iter()
            .map(|(_, n)| n.to_string())
            .collect(),
    }
}

/// Escapes text for HTML element content and double- or single-quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Inline script that marks whether every `<img>` loaded (see module docs).
pub const RENDER_CHECK_SCRIPT: &str = r#"<script>
(function () {
  function check() {
    var imgs = Array.prototype.slice.call(document.images);
    var failed = [];
    imgs.forEach(function (img) {
      if (!(img.complete && img.naturalWidth > 0)) {
        failed.push(img.getAttribute('data-plot') || img.alt);
      }
    });
    var ok = imgs.length - failed.length;
    document.body.setAttribute('data-images-ok', ok + '/' + imgs.length);
    var el = document.getElementById('render-check');
    if (el) {
      el.setAttribute('data-status', failed.length === 0 ? 'ok' : 'failed');
      el.textContent = 'images loaded: ' + ok + '/' + imgs.length +
        (failed.length ? ' (failed: ' + failed.join(', ') + ')' : '');
    }
  }
  if (document.readyState === 'complete') { check(); }
  else { window.addEventListener('load', check); }
})();
</script>"#;

const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1240px; padding: 0 1.25rem; color: #1b1b1b; line-height: 1.45; background: #fff; }
h1 { font-size: 1.9rem; margin: 0 0 1.2rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 0.8rem; border-bottom: 1px solid #ddd; padding-bottom: 0.25rem; }
h3 { font-size: 1.1rem; margin: 1.2rem 0 0.4rem; }
ul { margin: 0.3rem 0 1rem; padding-left: 1.4rem; }
li { margin: 0.25rem 0; }
table { border-collapse: collapse; width: 100%; font-size: 0.95rem; }
th, td { border: 1px solid #d0d0d0; padding: 0.4rem 0.6rem; text-align: right; vertical-align: top; }
th { background: #f2f2f2; }
th:first-child, td:first-child { text-align: left; }
tbody tr:nth-child(even) { background: #fafafa; }
.notes p { margin: 0.35rem 0; font-size: 0.92rem; color: #333; }
figure { margin: 1.5rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e3e3e3; }
figcaption { font-size: 0.92rem; color: #444; margin-top: 0.5rem; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; padding: 0.8rem 1rem; overflow-x: auto; font-size: 0.88rem; }
#render-check { display: none; }
"#;

/// Content-Security-Policy that forbids every fetch except inline styles/scripts and data: images.
const CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

fn mime_for(file_name: &str) -> &'static str {
    match file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("svg") => "image/svg+xml",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        _ => "image/png",
    }
}

/// Builds the report HTML around the given plot images (PNG files, in order).
pub fn render_report_html(
    title: &str,
    lead: Option<&Lead>,
    tables: &[(&str, &ReportTable)],
    plots_png: &[OutputFile],
    scenario_toml: &str,
) -> String {
    let mut h = String::with_capacity(64 * 1024);
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
    ));
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    h.push_str(&format!("<title>{}</title>\n", escape_html(title)));
    h.push_str(&format!("<style>{CSS}</style>\n</head>\n<body>\n"));
    h.push_str(&format!("<h1>{}</h1>\n", escape_html(title)));

    let lead_plot = lead.and(plots_png.iter().find(|p| stem_of(p) == LEAD_PLOT));
    if let Some(lead) = lead {
        push_lead(&mut h, lead, lead_plot);
    }
    for (heading, table) in tables {
        push_table(&mut h, heading, table);
    }

    // Plots.
    let rest: Vec<&OutputFile> = plots_png
        .iter()
        .filter(|p| lead_plot.is_none_or(|l| l.name != p.name))
        .collect();
    if !rest.is_empty() {
        h.push_str("<h2>Plots</h2>\n");
    }
    for plot in rest {
        push_figure(&mut h, plot);
    }

    // Scenario.
    h.push_str("<h2>Scenario</h2>\n<pre>");
    h.push_str(&escape_html(scenario_toml));
    h.push_str("</pre>\n");

    h.push_str("<div id=\"render-check\" data-status=\"pending\">image check did not run</div>\n");
    h.push_str(RENDER_CHECK_SCRIPT);
    h.push_str("\n</body>\n</html>\n");
    h
}

/// A plot file's name without its extension.
fn stem_of(plot: &OutputFile) -> &str {
    plot.name
        .rsplit_once('.')
        .map_or(plot.name.as_str(), |(stem, _)| stem)
}

/// One plot as an embedded image with its caption.
fn push_figure(h: &mut String, plot: &OutputFile) {
    let stem = stem_of(plot).to_string();
    let (alt, caption) = match describe_plot(&stem) {
        Some(d) => (
            format!("{} — {}", d.title, d.alt),
            format!("{}. {}", d.title, d.caption),
        ),
        None => (format!("Plot {stem}"), stem.clone()),
    };
    h.push_str(&format!(
        "<figure>\n<img data-plot=\"{}\" alt=\"{}\" src=\"data:{};base64,{}\">\n<figcaption>{}</figcaption>\n</figure>\n",
        escape_html(&stem),
        escape_html(&alt),
        mime_for(&plot.name),
        BASE64.encode(&plot.bytes),
        escape_html(&caption)
    ));
}

/// The decision first: the recommendation, why, what does not ship, what
/// would change the answer, and the cost-against-downtime plot.
fn push_lead(h: &mut String, lead: &Lead, plot: Option<&OutputFile>) {
    h.push_str(&format!(
        "<h2 id=\"decision\">{}</h2>\n",
        escape_html(&lead.headline)
    ));
    let list = |h: &mut String, items: &[String]| {
        h.push_str("<ul>\n");
        for item in items {
            h.push_str(&format!("<li>{}</li>\n", escape_html(item)));
        }
        h.push_str("</ul>\n");
    };
    if !lead.why.is_empty() {
        h.push_str("<h3>Why</h3>\n");
        list(h, &lead.why);
    }
    if !lead.not_recommended.is_empty() {
        h.push_str("<h3>Not recommended</h3>\n");
        list(h, &lead.not_recommended);
    }
    if !lead.break_evens.rows.is_empty() {
        push_table(h, "What would change the answer", &lead.break_evens);
    }
    if let Some(plot) = plot {
        push_figure(h, plot);
    }
}

/// One headed table with a note per column under it.
fn push_table(h: &mut String, heading: &str, table: &ReportTable) {
    h.push_str(&format!(
        "<h2>{}</h2>\n<table>\n<thead><tr>",
        escape_html(heading)
    ));
    for c in &table.columns {
        h.push_str(&format!("<th scope=\"col\">{}</th>", escape_html(c)));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for row in &table.rows {
        h.push_str("<tr>");
        let width = row.len().max(table.columns.len());
        for k in 0..width {
            let cell = row.get(k).map(String::as_str).unwrap_or("");
            h.push_str(&format!("<td>{}</td>", escape_html(cell)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
    if !table.notes.is_empty() {
        h.push_str("<div class=\"notes\">\n");
        let paired = table.notes.len() == table.columns.len();
        for (k, note) in table.notes.iter().enumerate() {
            if paired {
                h.push_str(&format!(
                    "<p><strong>{}</strong>: {}</p>\n",
                    escape_html(&table.columns[k]),
                    escape_html(note)
                ));
            } else {
                h.push_str(&format!("<p>{}</p>\n", escape_html(note)));
            }
        }
        h.push_str("</div>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::plots::{PlotFormat, PlotInput, StrategySeries, render};
    use crate::trace::Timeline;

    fn small_input() -> PlotInput {
        let series = ["in-place", "canary"]
            .iter()
            .enumerate()
            .map(|(i, name)| StrategySeries {
                name: name.to_string(),
                failed_requests: (0..20).map(|k| Some((k * (10 - 4 * i)) as f64)).collect(),
                users_affected: (0..20).map(|k| Some(k as f64)).collect(),
                rollback_time_s: (0..20)
                    .map(|k| (k % 2 == 0).then_some(30.0 + k as f64))
                    .collect(),
                infra_cost_usd_mean: 10.0 + i as f64,
                failed_requests_p95: 180.0 - 60.0 * i as f64,
            })
            .collect();
        PlotInput {
            scenario_name: "report test".into(),
            series,
            timelines: vec![Timeline {
                strategy: "canary".into(),
                points: vec![(0.0, 0.0), (10.0, 0.1), (70.0, 0.0)],
                detected_s: Some(40.0),
                rollback_decision_s: Some(50.0),
                mitigated_s: Some(70.0),
            }],
            cost_curves: Default::default(),
        }
    }

    fn table() -> ReportTable {
        ReportTable {
            columns: vec!["strategy".into(), "failed requests p95".into()],
            rows: vec![
                vec!["in-place".into(), "180".into()],
                vec!["canary <b>".into(), "120 & more".into()],
            ],
            notes: vec![
                "Release strategy.".into(),
                "95th percentile of failed requests, <count>.".into(),
            ],
        }
    }

    #[test]
    fn report_is_self_contained_and_escaped() {
        let pngs = render(&small_input(), PlotFormat::Png).unwrap();
        assert_eq!(pngs.len(), 5);
        let scenario = "name = \"a<b & c>d\"\n# <script>alert(1)</script>\n";
        let html = render_report_html(
            "Cutover <report> & \"friends\"",
            None,
            &[("Summary", &table()), ("Per <month>", &table())],
            &pngs,
            scenario,
        );

        assert_eq!(html.matches("<img").count(), pngs.len());
        assert_eq!(
            html.matches("src=\"data:image/png;base64,").count(),
            pngs.len()
        );
        assert_eq!(html.matches("<figcaption>").count(), pngs.len());
        assert!(!html.contains("http://") && !html.contains("https://"));
        assert!(!html.contains("<link") && !html.contains("src=\"http"));
        assert!(html.contains("name = &quot;a&lt;b &amp; c&gt;d&quot;"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>alert"));
        assert!(html.contains("<title>Cutover &lt;report&gt; &amp; &quot;friends&quot;</title>"));
        assert!(html.contains("<td>canary &lt;b&gt;</td>"));
        assert!(html.contains("<h2>Summary</h2>") && html.contains("<h2>Per &lt;month&gt;</h2>"));
        assert_eq!(html.matches("<table>").count(), 2, "one table per section");
        assert!(html.contains("<strong>failed requests p95</strong>: 95th percentile of failed requests, &lt;count&gt;."));
        assert_eq!(
            html.matches("<script>").count(),
            1,
            "only the render-check script"
        );
        for d in [
            "timeline",
            "blast_radius",
            "cost_vs_risk",
            "rollback_time",
            "cost_vs_downtime",
        ] {
            assert!(html.contains(&format!("data-plot=\"{d}\"")));
        }
        // The embedded bytes round-trip.
        let start = html.find("base64,").unwrap() + "base64,".len();
        let end = start + html[start..].find('"').unwrap();
        let decoded = BASE64.decode(&html[start..end]).unwrap();
        assert_eq!(decoded, pngs[0].bytes);
    }

    #[test]
    fn report_without_plots() {
        let html = render_report_html("t", None, &[], &[], "");
        assert!(!html.contains("<img") && !html.contains("<h2>Plots</h2>"));
        assert!(html.contains("<pre></pre>"));
    }

    #[test]
    fn escape_html_covers_specials() {
        assert_eq!(
            escape_html("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }
}
