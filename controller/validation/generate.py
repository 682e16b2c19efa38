"""Generate crd_schemas.json from every CustomResourceDefinition in manifests/*.yaml.

The CRDs are the single source of truth of the custom kinds' rules; an installed wheel has
no manifests/, so their structural schemas are copied here, one entry per served version:
`{"apiVersion": "group/version", "kind", "scope", "schema"}`, sorted by (apiVersion, kind).
tests/controller/validation/test_crd_schemas.py fails when the checked-in file is stale.

    python -m controller.validation.generate [--manifests DIR] [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from controller.validation.cel import UnknownRule, rules_in
from controller.validation.structural import strict_schema

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMAS_FILE = PACKAGE_DIR / "crd_schemas.json"
DEFAULT_MANIFESTS = PACKAGE_DIR.parent.parent / "manifests"
CRD_API_VERSION = "apiextensions.k8s.io/v1"


class GenerateError(ValueError):
    """A manifest CRD this generator cannot use (says which and why)."""


def crd_entries(crd: dict[str, Any]) -> list[dict[str, Any]]:
    """One entry per served version of one CRD (apiextensions.k8s.io/v1)."""
    name = crd.get("metadata", {}).get("name", "?")
    if crd.get("apiVersion") != CRD_API_VERSION:
        raise GenerateError(f"CRD {name}: apiVersion must be {CRD_API_VERSION}")
    spec = crd["spec"]
    entries = []
    for version in spec["versions"]:
        if not version.get("served", True):
            continue
        schema = version.get("schema", {}).get("openAPIV3Schema")
        if not isinstance(schema, dict):
            raise GenerateError(f"CRD {name} {version['name']}: no openAPIV3Schema")
        strict_schema(schema)  # fails here, not at import, on a pattern Python cannot read
        try:
            rules_in(schema)
        except UnknownRule as err:
            raise GenerateError(f"CRD {name} {version['name']}: {err}") from err
        entries.append({
            "apiVersion": f"{spec['group']}/{version['name']}",
            "kind": spec["names"]["kind"],
            "scope": spec["scope"],
            "schema": without_docs(schema),
        })
    return entries


_DOCS = ("description", "example", "externalDocs")


def without_docs(node: dict[str, Any]) -> dict[str, Any]:
    """A schema node without its documentation keywords (upstream CRDs are mostly
    descriptions); a *property* named `description` is kept."""
    out = {k: v for k, v in node.items() if k not in _DOCS}
    if isinstance(node.get("properties"), dict):
        out["properties"] = {k: without_docs(v) for k, v in node["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(node.get(key), dict):
            out[key] = without_docs(node[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            out[key] = [without_docs(b) for b in node[key]]
    return out


def collect(manifests: Path) -> list[dict[str, Any]]:
    """Every CRD entry of every manifests/*.yaml document, sorted."""
    entries = []
    for path in sorted(manifests.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                entries.extend(crd_entries(doc))
    return sorted(entries, key=lambda e: (e["apiVersion"], e["kind"]))


def render(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"kinds": entries}, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifests", type=Path, default=DEFAULT_MANIFESTS)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    return write_or_check(SCHEMAS_FILE, render(collect(args.manifests)), check=args.check)


def write_or_check(path: Path, text: str, *, check: bool) -> int:
    """A generated file: written (0), or with `check` compared (0 current, 1 stale)."""
    if check:
        stale = not path.exists() or path.read_text() != text
        print(f"{path}: {'stale' if stale else 'up to date'}")
        return 1 if stale else 0
    path.write_text(text)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
