r"""Kubernetes structural OpenAPI v3 schemas (a CRD's `openAPIV3Schema`) → JSON Schema
draft 4, the dialect the API server's validator speaks (boolean `exclusiveMinimum`).

`strict_schema(node)` is the schema an object must pass *after* pruning. It is strict: every
object that is not `x-kubernetes-preserve-unknown-fields` and declares no
`additionalProperties` gets `additionalProperties: false`, so an object passes it exactly
when pruning would remove nothing and validation would pass. That makes it the fast path:
a clean object is checked once and stored as is (boundary.py).

What the API server does and the conversion keeps:
- `nullable: true` adds "null" to the type (and to an `enum`); without it a null is pruned
  before validation (prune.py), so here it is a type error.
- `x-kubernetes-int-or-string: true` is `type: [integer, string]`.
- integers are bounded to int64 (int32 with `format: int32`): the API server cannot decode
  larger ones. Formats: `ipv4`, `ipv6`, `date-time` are checked, `byte` is base64; the
  API server ignores formats it does not know, and so do these schemas.
- patterns are Go RE2; the validator's `regex` engine is RE2 too, except that its `\d`,
  `\w`, `\s`, `\b` are Unicode-aware: go_pattern() makes them ASCII, as in Go. `$` is the
  end of the text and matching is a search, in both.
- the root's `apiVersion`, `kind` and `metadata` are implicit; metadata's rules are the
  API server's own (metadata.py), not the CRD's.
Not interpreted: `default` (no defaulting), list types. `x-kubernetes-validations` (CEL) are
not part of the draft-4 schema: cel.py checks them after it.
"""

from __future__ import annotations

from typing import Any

from controller.validation.formats import base64

Schema = dict[str, Any]

INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)
PATTERN = "x-pattern"  # the CRD's own pattern, for the reason text (engine.py)
_FORMATS = frozenset({"ipv4", "ipv6", "date-time"})

_COPIED = (
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "uniqueItems", "required",
)  # fmt: skip
_BRANCHES = ("allOf", "anyOf", "oneOf")
PRESERVE = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
EMBEDDED = "x-kubernetes-embedded-resource"


def types_of(node: Schema) -> list[str]:
    """The JSON Schema types a structural node allows; [] means any."""
    if node.get(INT_OR_STRING):
        types = ["integer", "string"]
    elif isinstance(node.get("type"), str):
        types = [node["type"]]
    else:
        types = []
    if types and node.get("nullable"):
        types.append("null")
    return types


def strict_schema(node: Schema, *, root: bool = True) -> Schema:
    """The draft-4 JSON Schema of a structural schema node (see the module docstring)."""
    out = _value_rules(node)
    if root:
        out["properties"] = {**out.get("properties", {}), **_implicit_root(node)}
    return out


def _value_rules(node: Schema, *, strict: bool = True) -> Schema:
    """One node and everything under it; `strict=False` inside anyOf/allOf/oneOf/not, whose
    branches only validate (the API server prunes by the node's own properties)."""
    out = _scalar_rules(node)
    if "items" in node:
        out["items"] = _value_rules(node["items"], strict=strict)
    if "not" in node:
        out["not"] = _value_rules(node["not"], strict=False)
    for branch in _BRANCHES:
        if branch in node:
            out[branch] = [_value_rules(b, strict=False) for b in node[branch]]
    if node.get("format") == "byte":
        out["allOf"] = [*out.get("allOf", []), base64()]
    out.update(_object_rules(node, strict=strict))
    return out


def _scalar_rules(node: Schema) -> Schema:
    """type, enum, pattern, format, bounds and lengths of one node."""
    out: Schema = {k: node[k] for k in _COPIED if k in node}
    types = types_of(node)
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    if "enum" in node:
        out["enum"] = [*node["enum"], *([None] if node.get("nullable") else [])]
    if "pattern" in node:
        out["pattern"] = go_pattern(node["pattern"])
        out[PATTERN] = node["pattern"]
    if node.get("format") in _FORMATS:
        out["format"] = node["format"]
    if "integer" in types:
        low, high = INT32 if node.get("format") == "int32" else INT64
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    return out


def _object_rules(node: Schema, *, strict: bool) -> Schema:
    """properties / additionalProperties; strict adds `additionalProperties: false` wherever
    the API server would prune unknown fields."""
    out: Schema = {}
    if "properties" in node:
        props = {k: _value_rules(v, strict=strict) for k, v in node["properties"].items()}
        out["properties"] = props
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = _value_rules(extra, strict=strict)
    elif isinstance(extra, bool):
        out["additionalProperties"] = extra
    elif strict and is_pruned_object(node):
        out["additionalProperties"] = False
    if node.get(EMBEDDED):
        out.setdefault("properties", {}).update(_implicit_root(node))
    return out


def is_pruned_object(node: Schema) -> bool:
    """An object node whose undeclared fields the API server drops."""
    return (
        node.get("type") == "object"
        and not node.get(PRESERVE)
        and "additionalProperties" not in node
    )


def _implicit_root(node: Schema) -> Schema:
    """apiVersion and kind (strings) and metadata (an object, checked by metadata.py)."""
    declared = node.get("properties", {})
    out = {k: _value_rules(declared.get(k, {"type": "string"})) for k in ("apiVersion", "kind")}
    out["metadata"] = {"type": "object"}
    return out


_ASCII_CLASSES = {"d": "0-9", "w": "0-9A-Za-z_", "s": "\\t\\n\\f\\r "}
_ASCII_NEGATED = {"D": "[:^digit:]", "W": "[:^word:]", "S": "[:^space:]"}


def go_pattern(pattern: str) -> str:
    """A Go RE2 pattern for the Rust `regex` engine, with Go's ASCII `\\d \\w \\s \\b`."""
    out, in_class, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(_escape(pattern[i + 1], in_class))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            if pattern[i + 1 : i + 2] == "^":
                char, i = "[^", i + 1
            if pattern[i + 1 : i + 2] == "]":  # a leading `]` is a literal
                char, i = char + "\\]", i + 1
        elif in_class and pattern.startswith("[:", i) and ":]" in pattern[i:]:
            end = pattern.index(":]", i) + 2  # [:alpha:] inside a class
            char, i = pattern[i:end], end - 1
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _escape(letter: str, in_class: bool) -> str:
    if letter in _ASCII_CLASSES:
        ascii_class = _ASCII_CLASSES[letter]
        return ascii_class if in_class else f"[{ascii_class}]"
    if letter in _ASCII_NEGATED:
        return _ASCII_NEGATED[letter] if in_class else f"[{_ASCII_NEGATED[letter]}]"
    if letter in "bB" and not in_class:
        return f"(?-u:\\{letter})"
    return "\\" + letter
