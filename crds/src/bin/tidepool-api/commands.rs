//! The `crds`, `catalogue` and `validate` subcommands.

use std::path::{Path, PathBuf};

use kube::ResourceExt;
use tidepool_crds::accelerator_model::Confidence;
use tidepool_crds::manifests::{self, ApiObject};
use tidepool_crds::tenant::validate_tenant_tree;
use tidepool_crds::{Catalogue, Validate, WorkloadClass, crdgen};

use crate::table::Table;

pub fn write_crds(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for crd in crdgen::all() {
        let path = out.join(crdgen::file_name(&crd));
        let yaml = crdgen::to_yaml(&crd).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::write(&path, yaml).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The built-in catalogue with the AcceleratorModels found in `overrides` applied.
pub fn load_catalogue(overrides: &[PathBuf]) -> Result<Catalogue, String> {
    let mut models = Vec::new();
    for path in overrides {
        for object in manifests::read_file(path).map_err(|e| e.to_string())? {
            if let ApiObject::AcceleratorModel(m) = object {
                models.push(m);
            }
        }
    }
    Ok(Catalogue::builtin().with_overrides(models))
}

pub fn print_catalogue(json: bool, overrides: &[PathBuf]) -> Result<(), String> {
    let catalogue = load_catalogue(overrides)?;
    if json {
        let text = serde_json::to_string_pretty(&catalogue.to_json()).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        print!("{}", catalogue_table(&catalogue));
    }
    Ok(())
}

/// The catalogue as a table: one row per model, the weakest confidence among its figures last.
pub fn catalogue_table(catalogue: &Catalogue) -> String {
    let mut t = Table::new(&[
        "model",
        "family",
        "name",
        "mem GiB",
        "FP16 TF",
        "link",
        "group",
        "list/h",
        "transfer/h",
        "llm-train",
        "llm-infer",
        "weakest figure",
    ]);
    for m in catalogue.iter() {
        let s = &m.spec;
        let weakest = s
            .provenance
            .iter()
            .max_by_key(|(_, p)| p.confidence)
            .map(|(figure, p)| format!("{:?} ({figure})", p.confidence))
            .unwrap_or_else(|| format!("{:?}", Confidence::Estimated));
        let factor =
            |class: WorkloadClass| s.relative_throughput.get(class.as_str()).cloned().unwrap_or_else(|| "-".into());
        t.row(vec![
            m.name_any(),
            s.family.to_string(),
            s.model.clone(),
            s.memory_gib.to_string(),
            s.peak.fp16_tflops.clone().unwrap_or_else(|| "-".into()),
            s.interconnect.kind.clone(),
            s.interconnect.group_size.to_string(),
            s.prices.list.clone(),
            s.prices.transfer.clone(),
            factor(WorkloadClass::LlmTraining),
            factor(WorkloadClass::LlmInference),
            weakest,
        ]);
    }
    t.render()
}

/// Reads every file and validates every object and the tenant tree; returns the objects, or every
/// problem found.
pub fn load_valid(files: &[PathBuf]) -> Result<Vec<ApiObject>, String> {
    let mut objects = Vec::new();
    let mut problems = Vec::new();
    for path in files {
        match manifests::read_file(path) {
            Ok(found) => {
                for object in found {
                    if let Err(violations) = object.validate() {
                        for v in violations.0 {
                            problems.push(format!("{}: {}: {v}", path.display(), object.reference()));
                        }
                    }
                    objects.push(object);
                }
            }
            Err(e) => problems.push(e.to_string()),
        }
    }
    let tenants: Vec<_> = objects
        .iter()
        .filter_map(|o| match o {
            ApiObject::Tenant(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    if let Err(violations) = validate_tenant_tree(&tenants) {
        problems.extend(violations.0.iter().map(ToString::to_string));
    }
    if problems.is_empty() { Ok(objects) } else { Err(problems.join("\n")) }
}

pub fn validate_files(files: &[PathBuf]) -> Result<(), String> {
    let objects = load_valid(files)?;
    println!("{} objects valid", objects.len());
    Ok(())
}
