//! Plots of a [`Comparison`], as SVG files for people:
//!
//! - `utilisation.svg`: the fleet's utilisation over time, one line per policy (allocated devices
//!   ÷ the fleet's devices, sampled every simulated hour; x in days, y 0–100 %);
//! - `cost.svg`: two bar panels, cost per unit of work (`cost_per_work`, per reference-device-hour)
//!   and total cost per policy, each bar with its value written on it.
//!
//! Policies come in the order `static`, `pooled`, `chip-aware` (those in the comparison), each in
//! the same colour in every plot. Drawn with `plotters`' SVG backend and no font library: text is
//! written as SVG `<text>` elements the viewer renders, its size only estimated for layout.

use std::io;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive;

use crate::compare::Comparison;
use crate::sim::metrics::PolicyReport;
use crate::sim::policies::PolicyKind;

/// Width and height of each plot, in SVG pixels.
const UTILISATION_SIZE: (u32, u32) = (960, 540);
const COST_SIZE: (u32, u32) = (1100, 480);
const FONT: &str = "sans-serif";

/// Why plots could not be written; each names the file or directory.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The output directory cannot be created.
    #[error("{}: cannot create the plot directory: {source}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// `plotters` failed while drawing the plot (in memory, before anything is written).
    #[error("{}: cannot draw the plot: {message}", file.display())]
    Draw {
        /// The file the plot was for.
        file: PathBuf,
        /// What `plotters` said.
        message: String,
    },
    /// The SVG cannot be written.
    #[error("{}: cannot write: {source}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// Writes `utilisation.svg` and `cost.svg` for `comparison` into `dir` (created if missing) and
/// returns their paths, in that order. `capacity` is the fleet's devices per model
/// ([`Fleet::devices_per_model`](crate::sim::fleet::Fleet::devices_per_model)); only its total is
/// used, so utilisation is over the whole fleet (0 where the fleet has no devices).
pub fn write_plots(comparison: &Comparison, capacity: &[u32], dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::CreateDir { dir: dir.to_path_buf(), source })?;
    let reports = ordered(comparison);
    let total: u64 = capacity.iter().map(|&c| u64::from(c)).sum();

    let utilisation = dir.join("utilisation.svg");
    let svg =
        render(&utilisation, UTILISATION_SIZE, |root| draw_utilisation(root, &comparison.scenario, &reports, total))?;
    write(&utilisation, &svg)?;

    let cost = dir.join("cost.svg");
    let svg = render(&cost, COST_SIZE, |root| draw_cost(root, &comparison.scenario, &reports))?;
    write(&cost, &svg)?;

    Ok(vec![utilisation, cost])
}

/// The reports in the order `static`, `pooled`, `chip-aware`, skipping those not compared.
fn ordered(comparison: &Comparison) -> Vec<&PolicyReport> {
    PolicyKind::ALL.iter().filter_map(|k| comparison.policies.get(k.name())).collect()
}

/// The colour of a policy, the same in every plot.
fn colour(policy: &str) -> RGBColor {
    match policy {
        "static" => RGBColor(0x4c, 0x72, 0xb0),
        "pooled" => RGBColor(0xdd, 0x84, 0x52),
        "chip-aware" => RGBColor(0x55, 0xa8, 0x68),
        _ => RGBColor(0x80, 0x80, 0x80),
    }
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws into an in-memory SVG of `size` and returns its text; errors name `file`.
fn render(file: &Path, size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(Into::into).and_then(|()| draw(&root)).and_then(|()| Ok(root.present()?));
        drawn.map_err(|e| PlotError::Draw { file: file.to_path_buf(), message: e.to_string() })?;
    }
    Ok(svg)
}

fn write(file: &Path, svg: &str) -> Result<(), PlotError> {
    std::fs::write(file, svg).map_err(|source| PlotError::Write { file: file.to_path_buf(), source })
}

/// One line per policy: allocated devices ÷ `capacity`, in %, against the day of the sample.
fn draw_utilisation(root: &Area<'_>, scenario: &str, reports: &[&PolicyReport], capacity: u64) -> DrawResult {
    let series: Vec<(&str, Vec<(f64, f64)>)> = reports
        .iter()
        .map(|r| {
            let points = r
                .hourly
                .iter()
                .enumerate()
                .map(|(hour, allocated)| {
                    let used: u64 = allocated.iter().map(|&a| u64::from(a)).sum();
                    let percent = if capacity == 0 { 0.0 } else { 100.0 * used as f64 / capacity as f64 };
                    (hour as f64 / 24.0, percent)
                })
                .collect();
            (r.policy.as_str(), points)
        })
        .collect();
    let last_day = series.iter().flat_map(|(_, p)| p.last()).map(|&(day, _)| day).fold(0.0, f64::max);
    let days = if last_day > 0.0 { last_day } else { 1.0 };

    let mut chart = ChartBuilder::on(root)
        .caption(format!("Fleet utilisation — {scenario}"), (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..days, 0.0..100.0)?;
    chart
        .configure_mesh()
        .x_desc("day")
        .y_desc("allocated devices / fleet devices")
        .y_label_formatter(&|v| format!("{v:.0} %"))
        .x_label_formatter(&|v| format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string())
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    for (policy, points) in series {
        let style = colour(policy).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points, style))?
            .label(policy)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xaa, 0xaa, 0xaa))
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

/// Two panels: cost per reference-device-hour of work and total cost, one bar per policy.
fn draw_cost(root: &Area<'_>, scenario: &str, reports: &[&PolicyReport]) -> DrawResult {
    let root = root.titled(&format!("Cost — {scenario}"), (FONT, 22))?;
    let panels = root.split_evenly((1, 2));
    let per_work: Vec<(&str, f64, String)> =
        reports.iter().map(|r| (r.policy.as_str(), r.cost_per_work, format!("{:.3}", r.cost_per_work))).collect();
    let total: Vec<(&str, f64, String)> =
        reports.iter().map(|r| (r.policy.as_str(), r.cost.to_f64().unwrap_or(0.0), r.cost.to_string())).collect();
    bars(&panels[0], "cost per unit of work", "CNY per reference-device-hour", &per_work)?;
    bars(&panels[1], "total cost", "CNY", &total)?;
    Ok(())
}

/// A bar chart of `(policy, height, label)`, the label written above each bar.
fn bars(area: &Area<'_>, title: &str, y_desc: &str, bars: &[(&str, f64, String)]) -> DrawResult {
    let highest = bars.iter().map(|b| b.1).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let top = if highest > 0.0 { highest * 1.15 } else { 1.0 };
    let names: Vec<&str> = bars.iter().map(|b| b.0).collect();
    let label = |v: &SegmentValue<usize>| match v {
        SegmentValue::CenterOf(i) => names.get(*i).map_or_else(String::new, |n| (*n).to_string()),
        _ => String::new(),
    };

    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 17))
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(72)
        // An integer range holds both ends: `0..n - 1` is `n` segments.
        .build_cartesian_2d((0..bars.len().saturating_sub(1)).into_segmented(), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().max(1))
        .x_label_formatter(&label)
        .y_label_formatter(&|v| number(*v, top))
        .y_desc(y_desc)
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (policy, value, _))| {
        let height = if value.is_finite() { value.max(0.0) } else { 0.0 };
        let mut bar = Rectangle::new(
            [(SegmentValue::Exact(i), 0.0), (SegmentValue::Exact(i + 1), height)],
            colour(policy).filled(),
        );
        bar.set_margin(0, 0, 18, 18);
        bar
    }))?;
    let on_bar = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, value, text))| {
        let height = if value.is_finite() { value.max(0.0) } else { 0.0 };
        Text::new(text.clone(), (SegmentValue::CenterOf(i), height + top * 0.01), on_bar.clone())
    }))?;
    Ok(())
}

/// `v` with as many decimals as an axis up to `top` needs: none from 10 up, then one more per
/// decade below.
fn number(v: f64, top: f64) -> String {
    let decimals = if top >= 10.0 { 0 } else { (1.0 - top.log10().floor()).clamp(1.0, 6.0) as usize };
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use rust_decimal::Decimal;

    use super::*;
    use crate::sim::metrics::Outcomes;

    /// The contents of every `<text>` element, trimmed.
    fn texts(svg: &str) -> Vec<&str> {
        svg.split("<text").skip(1).filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim())).collect()
    }

    fn report(policy: &str, cost: i64, cost_per_work: f64, hourly: Vec<Vec<u32>>) -> PolicyReport {
        PolicyReport {
            policy: policy.into(),
            cost: Decimal::new(cost, 2),
            work: 24.0,
            cost_per_work,
            utilisation: BTreeMap::new(),
            utilisation_total: 0.5,
            queueing_delay: BTreeMap::new(),
            jct: BTreeMap::new(),
            preemptions: 0,
            lost_work: 0.0,
            jobs: Outcomes::default(),
            hours: hourly.len() as f64,
            hourly,
            models: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn writes_both_plots_with_every_policy_named() {
        let hourly = |n: u32| (0..48).map(|h| vec![h % (n + 1), 2]).collect::<Vec<_>>();
        let policies = [
            report("chip-aware", 30_000, 12.5, hourly(6)),
            report("static", 33_600, 14.0, hourly(4)),
            report("pooled", 31_000, 13.25, hourly(5)),
        ];
        let comparison = Comparison {
            scenario: "two-days & <more>".into(),
            policies: policies.into_iter().map(|r| (r.policy.clone(), r)).collect(),
        };
        let dir = std::env::temp_dir().join(format!(
            "tidepool-plots-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let written = write_plots(&comparison, &[8, 4], &dir);
        let files: Vec<(PathBuf, String)> = written
            .as_ref()
            .map(|paths| paths.iter().map(|p| (p.clone(), std::fs::read_to_string(p).unwrap_or_default())).collect())
            .unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();

        let paths = written.unwrap();
        assert_eq!(paths, vec![dir.join("utilisation.svg"), dir.join("cost.svg")]);
        for (path, svg) in &files {
            let start = svg.trim_start();
            assert!(start.starts_with("<svg") || start.starts_with("<?xml"), "{}: {start:.80}", path.display());
            assert!(svg.trim_end().ends_with("</svg>"), "{}", path.display());
            let texts = texts(svg);
            for name in ["static", "pooled", "chip-aware"] {
                assert!(texts.contains(&name), "{}: no label {name} in {texts:?}", path.display());
            }
            assert!(texts[0].ends_with("two-days &amp; &lt;more&gt;"), "{}: the title, escaped", path.display());
        }
        let cost = texts(&files[1].1);
        for value in ["14.000", "13.250", "12.500", "336.00", "310.00", "300.00"] {
            assert!(cost.contains(&value), "cost.svg: no value {value} in {cost:?}");
        }
        let at = |name: &str| cost.iter().position(|t| *t == name).unwrap();
        assert!(at("static") < at("pooled") && at("pooled") < at("chip-aware"), "static, pooled, chip-aware: {cost:?}");
    }

    #[test]
    fn a_missing_policy_is_skipped_and_an_unwritable_directory_is_named() {
        let comparison = Comparison {
            scenario: "one".into(),
            policies: [("pooled".to_string(), report("pooled", 100, 1.0, vec![]))].into_iter().collect(),
        };
        let dir = std::env::temp_dir().join(format!("tidepool-plots-missing-{}", std::process::id()));
        let written = write_plots(&comparison, &[], &dir);
        let cost = std::fs::read_to_string(dir.join("cost.svg")).unwrap_or_default();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(written.unwrap().len(), 2);
        let texts = texts(&cost);
        assert!(texts.contains(&"pooled") && !texts.contains(&"static"), "{texts:?}");

        let blocker = std::env::temp_dir().join(format!("tidepool-plots-file-{}", std::process::id()));
        std::fs::write(&blocker, "not a directory").unwrap();
        let err = write_plots(&comparison, &[1], &blocker.join("plots")).unwrap_err();
        std::fs::remove_file(&blocker).ok();
        assert!(matches!(err, PlotError::CreateDir { .. }), "{err}");
        assert!(err.to_string().contains("tidepool-plots-file-"), "{err}");
    }
}
