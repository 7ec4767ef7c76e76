"""Every generated CRD is a valid apiextensions.k8s.io/v1 CustomResourceDefinition.

Checked with PyPI kubernetes-validate (strict: unknown fields are errors) against the Kubernetes
version the Rust types are built for, and against the newest one it knows.
"""

import copy
import pathlib

import kubernetes_validate
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
MANIFESTS = sorted((ROOT / "crds" / "manifests").glob("*.yaml"))
KINDS = {"AcceleratorModel", "Tenant", "TrainingJob", "InferenceService", "SchedulingPolicy"}


def load(path):
    return yaml.safe_load(path.read_text())


def test_every_kind_has_a_manifest():
    assert {load(p)["spec"]["names"]["kind"] for p in MANIFESTS} == KINDS


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
@pytest.mark.parametrize("version", ["1.34.0", kubernetes_validate.latest_version()])
def test_crd_passes_kubernetes_validate(path, version):
    kubernetes_validate.validate(load(path), version, strict=True)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_crd_lists_in_the_tidepool_category_with_columns(path):
    crd = load(path)
    assert crd["spec"]["group"] == "tidepool.dev"
    assert "tidepool" in crd["spec"]["names"]["categories"]
    assert crd["spec"]["names"]["shortNames"]
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1" and version["subresources"]["status"] == {}
    assert any(c["name"] == "Age" for c in version["additionalPrinterColumns"])


def test_a_broken_crd_is_rejected():
    crd = load(MANIFESTS[0])
    broken = copy.deepcopy(crd)
    broken["spec"]["scope"] = 7
    broken["spec"]["versions"][0]["servedd"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.34.0", strict=True)


def undocumented(schema, path=""):
    """Paths of properties without a description (what `kubectl explain` would show empty)."""
    missing = []
    for name, sub in (schema.get("properties") or {}).items():
        here = f"{path}.{name}"
        if not sub.get("description"):
            missing.append(here)
        missing += undocumented(sub, here)
    if "items" in schema:
        missing += undocumented(schema["items"], path + "[]")
    if isinstance(schema.get("additionalProperties"), dict):
        missing += undocumented(schema["additionalProperties"], path + "{}")
    return missing


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_every_field_is_documented_for_kubectl_explain(path):
    schema = load(path)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert undocumented(schema["properties"]["spec"], "spec") == []
    assert undocumented(schema["properties"]["status"], "status") == []
