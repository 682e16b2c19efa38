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


def _gateway_api_module() -> Path | None:
    """The pinned sigs.k8s.io/gateway-api module in the Go module cache, if it is there
    (scripts/gateway-api-crds.sh downloads it)."""
    import os
    import shutil
    import subprocess

    from controller.validation import gateway_crds

    cache = os.environ.get("GOMODCACHE")
    go = shutil.which("go") or "/usr/local/go/bin/go"
    if not cache and Path(go).exists():
        cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True,
                               check=False).stdout.strip()
    name = f"{gateway_crds.MODULE}@{gateway_crds.VERSION}"
    folder = Path(cache or Path.home() / "go/pkg/mod") / name
    return folder if (folder / "config" / "crd" / "standard").is_dir() else None


def test_the_gateway_api_manifest_is_the_pinned_modules() -> None:
    from controller.validation import gateway_crds

    module = _gateway_api_module()
    # scripts/test.sh downloads it (gateway-api-crds.sh --check): missing is a failure
    assert module is not None, ("sigs.k8s.io/gateway-api not in the Go module cache: "
                                "scripts/gateway-api-crds.sh --dir downloads it")
    assert gateway_crds.MANIFEST.read_text() == gateway_crds.render(
        gateway_crds.crd_documents(module)), "stale: run scripts/gateway-api-crds.sh"


def test_gateway_api_cel_rules_are_checked_at_the_boundary() -> None:
    http_route = kinds.RULES["HTTPRoute"]["gateway.networking.k8s.io/v1"]
    assert len(http_route.cel) == 89  # test_validation_gateway.py: what they refuse
