"""Which compiled schema an object is checked against: by kind, then apiVersion (then, for
an EndpointSlice, addressType). Built once at import: the CRD kinds from
crd_schemas.json (generated from manifests/), the core kinds from core.py, and one
envelope-only rule for every other kind.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.validation import formats
from controller.validation.cel import CelRule, CelTree, cel_tree, rules_in
from controller.validation.core import CORE_KINDS
from controller.validation.engine import Validator
from controller.validation.metadata import envelope
from controller.validation.prune import has_nullable
from controller.validation.structural import strict_schema

SCHEMAS_FILE = Path(__file__).resolve().parent / "crd_schemas.json"


@dataclass(frozen=True)
class Rule:
    """How one kind (at one apiVersion) is checked. `crd`: unknown fields are pruned;
    `fast`: a clean object may be admitted by `is_valid` alone (no nullable field);
    `cel`: the CRD's CEL rules, checked after the schema (cel.py)."""

    validator: Validator
    namespaced: bool = True
    crd: bool = False
    fast: bool = True
    variant_field: str = ""
    variants: dict[str, Validator] = field(default_factory=dict)
    cel: tuple[CelRule, ...] = ()
    cel_tree: CelTree = field(default_factory=CelTree)
    """`cel` arranged for one walk per object (cel.py)."""

    def validator_for(self, obj: dict[str, Any]) -> Validator:
        if self.variant_field:
            value = obj.get(self.variant_field)
            if isinstance(value, str) and value in self.variants:
                return self.variants[value]
        return self.validator


def _rule(schema: dict[str, Any], **options: Any) -> Rule:
    tree = cel_tree(options.get("cel", ()))
    return Rule(Validator(schema), fast=not has_nullable(schema), cel_tree=tree, **options)


def crd_rules(entries: list[dict[str, Any]]) -> dict[str, dict[str, Rule]]:
    """kind → apiVersion → Rule for the generated CRD entries."""
    versions: dict[str, list[str]] = {}
    for e in entries:
        versions.setdefault(e["kind"], []).append(e["apiVersion"])
    rules: dict[str, dict[str, Rule]] = {}
    for e in entries:
        schema = envelope(strict_schema(e["schema"]), formats.dns1123_subdomain(),
                          versions[e["kind"]], e["scope"] == "Namespaced")  # fmt: skip
        rule = _rule(schema, namespaced=e["scope"] == "Namespaced", crd=True,
                     cel=tuple(rules_in(e["schema"])))
        rules.setdefault(e["kind"], {})[e["apiVersion"]] = rule
    return rules


def core_rules() -> dict[str, dict[str, Rule]]:
    rules: dict[str, dict[str, Rule]] = {}
    for core in CORE_KINDS:
        variants = {
            value: Validator(envelope(schema, core.name_rule, core.api_versions,
                                      core.namespaced))
            for value, schema in core.variants.items()
        }
        schema = envelope(core.schema, core.name_rule, core.api_versions, core.namespaced)
        rule = _rule(schema, namespaced=core.namespaced, variant_field=core.variant_field,
                     variants=variants)  # fmt: skip
        rules[core.kind] = dict.fromkeys(core.api_versions, rule)
    return rules


def load_entries(path: Path = SCHEMAS_FILE) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(path.read_text())["kinds"]
    return entries


RULES = {**core_rules(), **crd_rules(load_entries())}
OTHER_KINDS = _rule(envelope({}, formats.path_segment_name()))


def rule_for(obj: object) -> Rule:
    """The rule of the object's kind at its apiVersion; a known kind at an apiVersion it
    does not have gets one of its rules (its apiVersion enum then rejects the object)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
        return OTHER_KINDS
    by_version = RULES.get(obj["kind"])
    if by_version is None:
        return OTHER_KINDS
    api_version = obj.get("apiVersion")
    if isinstance(api_version, str) and api_version in by_version:
        return by_version[api_version]
    return next(iter(by_version.values()))
