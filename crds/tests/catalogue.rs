//! The built-in catalogue: broad enough to plan a mixed fleet, every figure sourced, every entry
//! acceptable to the API server, and overridable by a cluster's own objects.

mod common;

use std::collections::BTreeSet;

use common::api_server_errors;
use kube::ResourceExt;
use rust_decimal::Decimal;
use tidepool_crds::accelerator_model::Confidence;
use tidepool_crds::catalogue::REFERENCE_MODEL;
use tidepool_crds::{Catalogue, Family, Validate, WorkloadClass};

#[test]
fn covers_at_least_twenty_models_across_eight_families() {
    let catalogue = Catalogue::builtin();
    let families: BTreeSet<Family> = catalogue.iter().map(|m| m.spec.family).collect();
    assert!(catalogue.len() >= 20, "{} models", catalogue.len());
    assert!(families.len() >= 8, "{families:?}");
    for name in ["nvidia-t4", "nvidia-p100", "nvidia-v100-32g", "ascend-910b", "cambricon-mlu370-x8", "hygon-k100-ai"] {
        assert!(catalogue.get(name).is_some(), "{name} missing");
    }
}

#[test]
fn every_entry_is_valid_for_rust_and_for_the_api_server() {
    for m in Catalogue::builtin().iter() {
        if let Err(v) = m.validate() {
            panic!("{}: {v}", m.name_any());
        }
        let server = api_server_errors("AcceleratorModel", m);
        assert!(server.is_empty(), "{}: {}", m.name_any(), server.join("\n"));
    }
}

#[test]
fn every_figure_has_a_source_and_a_confidence() {
    for m in Catalogue::builtin().iter() {
        let figures: BTreeSet<String> = m.spec.figures().into_iter().collect();
        let sourced: BTreeSet<String> = m.spec.provenance.keys().cloned().collect();
        let unsourced: Vec<_> = figures.difference(&sourced).collect();
        assert!(unsourced.is_empty(), "{}: figures without provenance: {unsourced:?}", m.name_any());
        for (figure, p) in &m.spec.provenance {
            assert!(p.source.len() >= 10, "{}: {figure} has a vague source {:?}", m.name_any(), p.source);
        }
    }
}

#[test]
fn every_model_has_a_throughput_for_every_workload_class() {
    let catalogue = Catalogue::builtin();
    for m in catalogue.iter() {
        for class in WorkloadClass::ALL {
            let t = m.spec.throughput_for(class).unwrap_or_else(|| panic!("{}: no {class} figure", m.name_any()));
            assert!(t > Decimal::ZERO);
        }
    }
    for class in WorkloadClass::ALL {
        assert_eq!(
            catalogue.throughput(REFERENCE_MODEL, class),
            Some(Decimal::ONE),
            "reference chip is 1.0 for {class}"
        );
    }
}

/// Figures the facts mark uncertain must not claim high confidence; spot-check the ones named there.
#[test]
fn uncertain_figures_say_so() {
    let catalogue = Catalogue::builtin();
    let cases = [
        ("ascend-910c", "peak.fp16Tflops"),
        ("cambricon-mlu590", "peak.fp16Tflops"),
        ("hygon-z100", "peak.fp16Tflops"),
        ("kunlunxin-r300", "peak.fp16Tflops"),
        ("nvidia-a100-80g", "prices.list"),
    ];
    for (model, figure) in cases {
        let m = catalogue.get(model).unwrap_or_else(|| panic!("{model} missing"));
        if let Some(p) = m.spec.provenance.get(figure) {
            assert!(p.confidence >= Confidence::Uncertain, "{model} {figure} is {:?}", p.confidence);
        }
    }
    for m in catalogue.iter() {
        for class in WorkloadClass::ALL {
            if m.name_any() == REFERENCE_MODEL {
                continue;
            }
            let key = format!("relativeThroughput.{class}");
            let p = &m.spec.provenance[&key];
            assert_ne!(
                p.confidence,
                Confidence::High,
                "{} {key}: relative throughput is never a datasheet figure",
                m.name_any()
            );
        }
    }
}

#[test]
fn json_lists_one_object_per_model_with_name_family_and_memory() {
    let catalogue = Catalogue::builtin();
    let json = catalogue.to_json();
    let entries = json.as_array().expect("an array");
    assert_eq!(entries.len(), catalogue.len());
    for e in entries {
        assert!(e["name"].is_string() && e["family"].is_string() && e["memoryGiB"].is_u64(), "{e}");
    }
}

#[test]
fn a_cluster_object_overrides_the_builtin_entry_of_the_same_name() {
    let yaml = tidepool_crds::catalogue::BUILTIN_YAML;
    let mut ascend =
        Catalogue::from_yaml(yaml, "builtin").expect("parses").get("ascend-910b").cloned().expect("present");
    ascend.spec.prices.transfer = "9.99".into();
    ascend.spec.relative_throughput.insert("llm-training".into(), "0.55".into());
    let catalogue = Catalogue::builtin().with_overrides([ascend]);
    let entry = catalogue.get("ascend-910b").expect("present");
    assert_eq!(entry.spec.prices.transfer, "9.99");
    assert_eq!(catalogue.throughput("ascend-910b", WorkloadClass::LlmTraining), Some(Decimal::new(55, 2)));
    assert_eq!(catalogue.len(), Catalogue::builtin().len(), "an override replaces, never duplicates");
}
