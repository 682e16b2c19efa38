"""The slow path's first step: what the API server does to an object before it validates
it, guided by the (converted, draft-4) schema the object will be validated against.

- a null at a declared field that is not nullable is dropped (CRDs: the API server prunes
  it; core kinds: a JSON null decodes to the Go zero value, omitted when read back);
- CRDs only (`crd=True`): an undeclared field of an object that prunes
  (`additionalProperties: false`, see structural.py) is dropped, and an integral float
  where an integer is declared becomes that integer (the API server's float64 80.0 reads
  back as 80); each change is a warning naming the path;
- a non-finite number (YAML `.nan`, `.inf`; JSON `NaN`) where the schema looks is a
  problem: the validator would read it as null.

Containers the walk descends into are copied, never changed in place; the walk goes only
as deep as the schema, so cycles and deep nesting elsewhere do not matter here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from controller.validation.engine import format_path, types_text

Schema = dict[str, Any]
Path = tuple[object, ...]  # keys and indices; YAML keys need not be strings


@dataclass
class Pruning:
    crd: bool
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def walk(self, value: object, node: Schema, path: Path = ()) -> object:
        """`value` as the API server would validate it (see the module docstring)."""
        if isinstance(value, dict) and ("properties" in node or "additionalProperties" in node):
            return self.prune_object(value, node, path)
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            return [self.walk(item, node["items"], (*path, i)) for i, item in enumerate(value)]
        if isinstance(value, float):
            return self._number(value, node, path)
        return value

    def prune_object(self, value: dict[Any, Any], node: Schema, path: Path = ()) -> dict[Any, Any]:
        """A copy of an object without what the API server prunes from it."""
        properties = node.get("properties", {})
        extra = node.get("additionalProperties")
        out: dict[Any, Any] = {}
        for key, item in value.items():
            where = (*path, key)
            declared = properties.get(key) if isinstance(key, str) else None
            if declared is not None:
                if item is None and not allows_null(declared):
                    self.warnings.append(f"{format_path(where)}: null, pruned")
                    continue
                out[key] = self.walk(item, declared, where)
            elif extra is False and self.crd:
                self.warnings.append(f"{format_path(where)}: unknown field, pruned")
            elif isinstance(extra, dict):
                out[key] = self.walk(item, extra, where)
            else:
                out[key] = item
        return out

    def _number(self, value: float, node: Schema, path: Path) -> object:
        types = _as_list(node.get("type"))
        if not math.isfinite(value):
            numeric = "number" in types or "integer" in types
            reason = types_text(types) if types and not numeric else "a finite number"
            self.problems.append(f"{format_path(path)}: must be {reason}")
            return value
        integer_only = "integer" in types and "number" not in types
        if self.crd and integer_only and value.is_integer():
            self.warnings.append(f"{format_path(path)}: {value!r} stored as {int(value)}")
            return int(value)
        return value


def _as_list(types: object) -> list[object]:
    return types if isinstance(types, list) else [types] if types else []


_BRANCHES = ("anyOf", "allOf", "oneOf")


def allows_null(node: Schema) -> bool:
    """Whether a null passes `node`: "null" among its types, or no rule at all."""
    types = node.get("type")
    if types is None:
        return not any(b in node for b in _BRANCHES)
    return "null" in _as_list(types)


def has_nullable(node: object) -> bool:
    """Whether a schema has a nullable node anywhere. The validator reads NaN as null, so a
    kind with one always takes the slow path, where the walk sees NaN for what it is."""
    if isinstance(node, dict):
        types = node.get("type")
        return (isinstance(types, list) and "null" in types) or any(
            has_nullable(v) for v in node.values()
        )
    if isinstance(node, list):
        return any(has_nullable(v) for v in node)
    return False
