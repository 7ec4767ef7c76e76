//! The plots end to end: the hand-computed one-node scenario, compared under every policy, drawn
//! into a scratch directory.

#![allow(clippy::unwrap_used)]

mod common;

use common::{ONE_NODE, job};
use tidepool_sim::compare::compare;
use tidepool_sim::plots::write_plots;
use tidepool_sim::scenario::Scenario;
use tidepool_sim::sim::fleet::Fleet;
use tidepool_sim::sim::policies::PolicyKind;

/// The contents of every `<text>` element, trimmed.
fn texts(svg: &str) -> Vec<&str> {
    svg.split("<text").skip(1).filter_map(|t| Some(t.split_once('>')?.1.split_once("</text>")?.0.trim())).collect()
}

/// Two 8-device jobs on one 8-device node: the fleet is full for 3 hours, 14.000 CNY per
/// reference-device-hour and 336.00 CNY in all under every policy.
#[test]
fn the_one_node_scenario_plots_every_policy() {
    let scenario = Scenario::parse(ONE_NODE, "one-node.yaml").unwrap();
    let fleet = Fleet::build(&scenario).unwrap();
    let result =
        compare(&scenario, &fleet, &PolicyKind::ALL, None, None, || vec![job("a", 0, 8, 16.0), job("b", 0, 8, 8.0)]);
    let dir = std::env::temp_dir().join(format!("tidepool-sim-plots-{}", std::process::id()));
    let written = write_plots(&result, &fleet.devices_per_model(), &dir);
    let svgs: Vec<String> = written.iter().flatten().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    std::fs::remove_dir_all(&dir).ok();

    let paths = written.unwrap();
    let names: Vec<_> = paths.iter().map(|p| p.file_name().unwrap().to_str().unwrap()).collect();
    assert_eq!(names, ["utilisation.svg", "cost.svg"]);
    for (name, svg) in names.iter().zip(&svgs) {
        assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{name}: {svg:.80}");
        let texts = texts(svg);
        for policy in ["static", "pooled", "chip-aware"] {
            assert!(texts.contains(&policy), "{name}: no {policy} in {texts:?}");
        }
    }
    let cost = texts(&svgs[1]);
    assert_eq!(cost.iter().filter(|t| **t == "14.000").count(), 3, "{cost:?}");
    assert_eq!(cost.iter().filter(|t| **t == "336.00").count(), 3, "{cost:?}");
}
