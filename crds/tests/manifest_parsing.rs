//! Property tests for the manifest reader: whatever a user feeds it — garbage, truncated files,
//! corrupted example manifests — it returns objects or an error naming the file and document,
//! and never panics.

use proptest::prelude::*;
use tidepool_crds::Validate;
use tidepool_crds::manifests::{self, ManifestError};

const EXAMPLE: &str = include_str!("../../examples/group-cloud/training-jobs.yaml");

fn check(text: &str) {
    match manifests::parse(text, "input.yaml") {
        Ok(objects) => {
            for o in objects {
                let _ = o.validate();
            }
        }
        Err(ManifestError::Invalid { file, document, message }) => {
            assert_eq!(file, "input.yaml");
            assert!(document >= 1 && !message.is_empty());
        }
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        check(&text);
    }

    #[test]
    fn corrupted_examples_never_panic(cut in 0usize..EXAMPLE.len(), insert in "[ :\\-\\[\\]{}'\"#0-9a-z\n]{0,8}", keep in 0usize..EXAMPLE.len()) {
        let mut text = EXAMPLE.to_owned();
        let at = text.floor_char_boundary(cut);
        text.insert_str(at, &insert);
        let end = text.floor_char_boundary(keep.max(at));
        text.truncate(end);
        check(&text);
    }
}

#[test]
fn errors_name_the_document_and_the_field() {
    let text = "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {name: a}\nspec: {}\n---\napiVersion: tidepool.dev/v1alpha1\nkind: TrainingJob\nmetadata: {name: b}\nspec:\n  replicas: {min: many}\n";
    let err = manifests::parse(text, "jobs.yaml").expect_err("min is not a number").to_string();
    assert!(err.starts_with("jobs.yaml, document 2: "), "{err}");
    assert!(err.contains("spec.replicas.min") || err.contains("spec.replicas"), "{err}");

    let err = manifests::parse("apiVersion: v1\nkind: Pod\n", "pod.yaml").expect_err("not ours").to_string();
    assert!(err.contains("apiVersion"), "{err}");
    let err = manifests::parse("apiVersion: tidepool.dev/v1alpha1\nkind: Job\n", "job.yaml")
        .expect_err("not a kind")
        .to_string();
    assert!(err.contains("kind: \"Job\""), "{err}");
}
