"""Builders for OpenAPI v3 schema nodes: the compact description the CRDs of manifests/ are
written in (crd_*.py), and the core kinds' rules (core.py), whose draft-4 dialect agrees
with OpenAPI for every keyword used here.

Each builder returns a fresh dict. Limits are given as the schema keywords themselves
(`minLength=1`, `maximum=65535`), so a description reads like the CRD it produces.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}


def string(pattern: str = "", **limits: Any) -> Schema:
    """A string, optionally matching the Go RE2 `pattern`, with `limits` (minLength...)."""
    out: Schema = {"type": "string", **limits}
    if pattern:
        out["pattern"] = pattern
    return out


def integer(fmt: str = "", **limits: Any) -> Schema:
    """An integer; `fmt` "int32" or "int64" as controller-gen writes Go's integer types."""
    out: Schema = {"type": "integer", **limits}
    if fmt:
        out["format"] = fmt
    return out


def one_of(*values: str, **extra: Any) -> Schema:
    """A string enum."""
    return {"type": "string", "enum": list(values), **extra}


def obj(required: tuple[str, ...] = (), **properties: Schema) -> Schema:
    """An object with `properties`; `required` names the ones that must be present."""
    return fields(properties, required)


def fields(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    """`obj` for property names that are not Python identifiers (`global`)."""
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


def empty_object() -> Schema:
    """An object with no fields (a Go `struct{}`): anything in it is pruned."""
    return {"type": "object"}


def array(items: Schema, **limits: Any) -> Schema:
    return {"type": "array", "items": items, **limits}


def string_map(values: Schema | None = None) -> Schema:
    """An object of arbitrary keys, each value a string (or `values`)."""
    return {"type": "object", "additionalProperties": values or dict(STRING)}


def with_rule(node: Schema, rule: str, message: str) -> Schema:
    """`node` with one CEL rule (`x-kubernetes-validations`), as the API server runs it."""
    rules = [*node.get("x-kubernetes-validations", []), {"message": message, "rule": rule}]
    return {**node, "x-kubernetes-validations": rules}


def with_default(node: Schema, value: Any) -> Schema:
    """`node` with the value the API server fills in when the field is absent."""
    return {**node, "default": value}
