"""One compiled JSON Schema (draft 4) and its reasons: `Validator.is_valid(obj)` for the fast
path, `Validator.reasons(obj)` → sorted `<path>: <reason>` strings for the slow one.

The library is jsonschema-rs (Rust; RE2 patterns through its `regex` engine): at 10k
objects it validates an IngressRoute in ~1.3 µs against ~8 µs for fastjsonschema's
generated Python on the same schema (bench/bench_validation.py, BENCHMARKS.md
"Validation boundary").
Reasons are written here from the error's kind, never taken from the library's messages;
a node's `x-reason` (formats.py) replaces them for the rules of a name or an address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import jsonschema_rs

from controller.validation.formats import REASON
from controller.validation.structural import PATTERN

Schema = dict[str, Any]
Kind = jsonschema_rs.ValidationErrorKind

_ARTICLES = {
    "integer": "an integer", "string": "a string", "boolean": "a boolean",
    "object": "an object", "array": "an array", "number": "a number", "null": "null",
}  # fmt: skip


class Validator:
    """A compiled schema. Neither method raises for any JSON/YAML value: one the library
    cannot read (a non-string key, a date, a cycle, excessive depth) is not valid and its
    reason is found by a walk of our own (`json_problem`)."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self._compiled = jsonschema_rs.Draft4Validator(
            schema, validate_formats=True, pattern_options=jsonschema_rs.RegexOptions()
        )

    def is_valid(self, obj: object) -> bool:
        try:
            return bool(self._compiled.is_valid(obj))
        except (ValueError, TypeError, OverflowError, RecursionError):
            return False

    def reasons(self, obj: object) -> list[str]:
        """Every error as `<path>: <reason>`, sorted; [] when the object is valid."""
        try:
            errors = list(self._compiled.iter_errors(obj))
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            return [json_problem(obj) or f"(root): cannot be read: {e}"]
        # a value of the wrong type fails its other rules too (enum, pattern): say it once
        typed = {format_path(e.instance_path) for e in errors if isinstance(e.kind, Kind.Type)}
        reasons = {
            self._reason(e) for e in errors
            if isinstance(e.kind, Kind.Type) or format_path(e.instance_path) not in typed
        }  # fmt: skip
        return sorted(reasons)

    def _reason(self, error: jsonschema_rs.ValidationError) -> str:
        kind, path = error.kind, list(error.instance_path)
        if isinstance(kind, Kind.Required):
            return f"{format_path([*path, kind.property])}: is required"
        if isinstance(kind, Kind.AdditionalProperties):
            reason = _node_at(self.schema, error.schema_path).get(REASON, "unknown field")
            fields = sorted(str(k) for k in kind.unexpected)
            return "; ".join(f"{format_path([*path, f])}: {reason}" for f in fields)
        node = None if isinstance(kind, Kind.Type) else _reason_node(self.schema, error.schema_path)
        if node is not None:
            return f"{format_path(path)}: {node[REASON]}"
        return f"{format_path(path)}: {reason_of(kind, _node_at(self.schema, error.schema_path))}"


def _nodes_on(schema: Schema, schema_path: Sequence[str | int]) -> list[Schema]:
    """The schema nodes from the root to the one holding the failed keyword (the last
    step of the path); it stops early at a step it cannot follow."""
    nodes: list[Schema] = [schema]
    node: Any = schema
    for step in schema_path[:-1]:
        child = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, list) and isinstance(step, int) and step < len(node):
            child = node[step]
        if not isinstance(child, dict | list):
            break
        node = child
        if isinstance(node, dict):
            nodes.append(node)
    return nodes


def _node_at(schema: Schema, schema_path: Sequence[str | int]) -> Schema:
    return _nodes_on(schema, schema_path)[-1]


def _reason_node(schema: Schema, schema_path: Sequence[str | int]) -> Schema | None:
    """The deepest node on the error's schema path with an `x-reason`, if any."""
    return next((n for n in reversed(_nodes_on(schema, schema_path)) if REASON in n), None)


def reason_of(kind: Any, node: Schema) -> str:
    """The reason for one error kind (see the module docstring)."""
    if isinstance(kind, Kind.Type):
        return "must be " + types_text(node.get("type"))
    if isinstance(kind, Kind.Enum):
        return "must be one of " + _enum_text(kind.options)
    if isinstance(kind, Kind.Pattern):
        return f"must match pattern {node.get(PATTERN, kind.pattern)}"
    return _limit_reason(kind) or f"must satisfy {kind.name}"


def _limit_reason(kind: Any) -> str | None:
    texts = {
        Kind.Minimum: "must be at least {}", Kind.Maximum: "must be at most {}",
        Kind.ExclusiveMinimum: "must be greater than {}",
        Kind.ExclusiveMaximum: "must be less than {}",
        Kind.MinLength: "must be at least {} characters long",
        Kind.MaxLength: "must be at most {} characters long",
        Kind.MinItems: "must have at least {} items", Kind.MaxItems: "must have at most {} items",
        Kind.MinProperties: "must have at least {} fields",
        Kind.MaxProperties: "must have at most {} fields",
    }  # fmt: skip
    limited: Any = kind  # every kind in `texts` has a `limit`
    for kind_class, text in texts.items():
        if isinstance(kind, kind_class):
            return text.format(limited.limit)
    if isinstance(kind, Kind.MultipleOf):
        return f"must be a multiple of {kind.multiple_of}"
    if isinstance(kind, Kind.UniqueItems):
        return "must not contain duplicates"
    if isinstance(kind, Kind.Format):
        return f"must be a valid {kind.format}"
    return None


def types_text(types: object) -> str:
    """"integer" → "an integer"; ["integer", "string"] → "an integer or a string"."""
    names = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
    return " or ".join(_ARTICLES.get(str(t), str(t)) for t in names) or "of another type"


def _enum_text(options: Sequence[object]) -> str:
    return "[" + ", ".join(sorted(json.dumps(o) for o in options)) + "]"


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: Sequence[object]) -> str:
    """["spec", "routes", 0, "weight"] → "spec.routes[0].weight"; a key that is not plain
    is bracketed, as the API server writes it: "data[tls.crt]"; [] → "(root)"."""
    out = ""
    for step in path:
        if not isinstance(step, str) or not _PLAIN_KEY.fullmatch(step):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else step
    return out or "(root)"


def json_problem(obj: object, path: tuple[str | int, ...] = (), depth: int = 0) -> str | None:
    """The first place where `obj` is not plain JSON, as `<path>: <reason>`, or None."""
    return _JsonWalk().first(obj, path, depth)


class _JsonWalk:
    """Depth-first, visiting each container once; finds non-string keys, non-JSON scalars,
    non-finite numbers, cycles and nesting deeper than MAX_DEPTH."""

    MAX_DEPTH = 100

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.ancestors: set[int] = set()

    def first(self, obj: object, path: tuple[str | int, ...], depth: int) -> str | None:
        where = format_path(path)
        if isinstance(obj, dict | list):
            return self._container(obj, path, depth)
        if obj is None or isinstance(obj, str | bool | int):
            return None
        if isinstance(obj, float):
            return None if obj - obj == 0 else f"{where}: must be a finite number"
        return f"{where}: must be a JSON value, not {type(obj).__name__}"

    def _container(self, obj: dict[Any, Any] | list[Any], path: tuple[str | int, ...],
                   depth: int) -> str | None:  # fmt: skip
        where = format_path(path)
        if id(obj) in self.ancestors:
            return f"{where}: must not contain itself (a YAML alias cycle)"
        if depth >= self.MAX_DEPTH:
            return f"{where}: must not be nested deeper than {self.MAX_DEPTH} levels"
        if id(obj) in self.seen:
            return None
        self.seen.add(id(obj))
        self.ancestors.add(id(obj))
        if isinstance(obj, dict):
            for key in obj:
                if not isinstance(key, str):
                    return f"{where}: keys must be strings, not {type(key).__name__}"
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for key, value in items:
            problem = self.first(value, (*path, key), depth + 1)
            if problem:
                return problem
        self.ancestors.discard(id(obj))
        return None
