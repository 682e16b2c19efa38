"""crd_schemas.json is generated from manifests/ (the single source of truth) and is not
stale; the generator refuses CRDs it cannot use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from controller.validation import generate, kinds


def test_checked_in_schemas_match_the_manifests() -> None:
    expected = generate.render(generate.collect(generate.DEFAULT_MANIFESTS))
    assert generate.SCHEMAS_FILE.read_text() == expected, (
        "stale: run `python -m controller.validation.generate`"
    )
    assert generate.main(["--check"]) == 0


def test_every_manifest_crd_has_a_rule() -> None:
    docs = [d for p in sorted(generate.DEFAULT_MANIFESTS.glob("*.yaml"))
            for d in yaml.safe_load_all(p.read_text())]  # fmt: skip
    crds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"]
    assert len(crds) >= 2
    for crd in crds:
        kind = crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if not version.get("served", True):
                continue  # TLSRoute v1alpha2/v1alpha3: kept in the CRD, not served
            api_version = f"{crd['spec']['group']}/{version['name']}"
            assert kinds.RULES[kind][api_version].crd, (kind, api_version)


def _crd(tmp_path: Path, **version: object) -> Path:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Cluster",
                 "names": {"kind": "Widget", "plural": "widgets"},
                 "versions": [{"name": "v1", "served": True, "storage": True, **version}]},
    }  # fmt: skip
    (tmp_path / "crd.yaml").write_text(yaml.safe_dump(crd))
    return tmp_path


def test_a_changed_manifest_makes_the_file_stale(tmp_path: Path) -> None:
    schema = {"openAPIV3Schema": {"type": "object", "description": "docs are dropped",
                                  "properties": {"description": {"type": "string"}}}}  # fmt: skip
    entries = generate.collect(_crd(tmp_path, schema=schema))
    assert entries == [{
        "apiVersion": "example.com/v1", "kind": "Widget", "scope": "Cluster",
        "schema": {"type": "object", "properties": {"description": {"type": "string"}}},
    }]  # fmt: skip
    assert generate.render(entries) != generate.SCHEMAS_FILE.read_text()


def test_unserved_versions_are_left_out(tmp_path: Path) -> None:
    assert generate.collect(_crd(tmp_path, served=False)) == []


@pytest.mark.parametrize("version", [{}, {"schema": {"openAPIV3Schema": "x"}}])
def test_a_crd_version_without_schema_is_an_error(tmp_path: Path, version: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(generate.GenerateError, match="no openAPIV3Schema"):
        generate.collect(_crd(tmp_path, **version))


def test_an_old_crd_api_is_an_error(tmp_path: Path) -> None:
    path = _crd(tmp_path) / "crd.yaml"
    old_api = path.read_text().replace("apiextensions.k8s.io/v1", "apiextensions.k8s.io/v1beta1")
    path.write_text(old_api)
    with pytest.raises(generate.GenerateError, match="apiVersion must be"):
        generate.collect(tmp_path)
