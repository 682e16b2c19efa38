"""The verdict an object deserves, computed from the schemas of schema.py.

`judge(obj)` walks the object against its kind's schema (then, for a CRD kind, checks the
CEL rules of its manifest) and returns a `Judgement`: the
violations (the object is bad: it must be rejected or marked invalid, and reported), the
unknown fields (pruned with a warning), and the nulls (the API server's handling of them
differs by field, so they decide nothing on their own). The walk is iterative, so a
deeply nested value cannot exhaust the stack of the oracle itself.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from controller.validation.cel import CelRule, rules_in
from fuzzing.schema import Schema, all_schemas, child, crd_schemas, manifest_schemas, schema_key

GOOD, BAD, WARN, ANY, UNPARSEABLE = "good", "bad", "warn", "any", "unparseable"
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}
MAX_ENVOY_SECONDS = 315_576_000_000  # google.protobuf.Duration's range
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_DURATION = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(\.{_LABEL})*\Z", re.IGNORECASE)
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_UNSAFE = re.compile(r"[\s\x00-\x1f\x7f]")
_REPEAT = re.compile(r"\{(\d+)(?:,\d*)?\}")
_RE2_UNSUPPORTED = ("(?=", "(?!", "(?<=", "(?<!", "\\1", "\\2")


@dataclass
class Judgement:
    violations: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    nulls: list[str] = field(default_factory=list)
    foreign: bool = False  # a kind the controller does not read: whatever it does is fine

    @property
    def verdict(self) -> str:
        if self.foreign:
            return ANY
        if self.violations:
            return BAD
        if self.nulls:
            return ANY
        return WARN if self.unknown else GOOD


def go_duration_seconds(text: str) -> float | None:
    """A Go duration (`1h30m`, `-2.5s`, `0`) in seconds; None when Go's ParseDuration
    refuses it, also for overflow: beyond 2**63-1 ns (~2562047h), so a parsable duration
    always fits Envoy's Duration and `99999999999999h` means "unparsable" (spec §3.6)."""
    body = text[1:] if text[:1] in "+-" else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total_ns, pos = 0.0, 0
    while pos < len(body):
        m = _GO_DURATION.match(body, pos)
        if m is None or m.group(1) in ("", "."):
            return None
        total_ns += float(m.group(1)) * _GO_UNITS[m.group(2)] * 1e9
        pos = m.end()
    if total_ns > 2**63 - 1:
        return None
    return -total_ns / 1e9 if text.startswith("-") else total_ns / 1e9


def _duration_ok(v: str) -> bool:
    """Unparsable durations mean "not set" or "infinite" (spec §3.6); a parsable one must
    fit Envoy's Duration."""
    seconds = go_duration_seconds(v)
    return seconds is None or abs(seconds) <= MAX_ENVOY_SECONDS


def _ip_ok(v: str) -> bool:
    if "%" in v:  # Python accepts IPv6 scope ids; the API server and Envoy do not
        return False
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return False
    return True


def _path_ok(v: str) -> bool:
    return v.startswith("/") and not _UNSAFE.search(v)


def _rewrite_ok(v: str) -> bool:
    return v == "" or _path_ok(v)


def _ingress_host_ok(v: str) -> bool:
    if v == "":
        return True  # the API server's "no host": every host
    host = v[2:] if v.startswith("*.") else v
    return _SUBDOMAIN.match(host) is not None and len(host) <= 253 and not _ip_ok(host)


_INVALID_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")


def ingress_path_problem(value: dict[str, Any]) -> str | None:
    """The API server's rule for an Ingress path, which depends on its pathType (an
    absolute path without `//`-like sequences for Exact and Prefix, empty or absolute
    otherwise), and the controller's: no whitespace or control characters, and a
    regex-looking ImplementationSpecific path must compile for RE2."""
    path, kind = value.get("path", ""), value.get("pathType")
    if not isinstance(path, str) or not isinstance(kind, str | None):
        return None  # a type error, reported by the walk
    if kind in ("Exact", "Prefix"):
        if not path.startswith("/") or any(s in path for s in _INVALID_SEQUENCES) \
                or path.endswith(("/..", "/.")):
            return f"{path!r:.40} is no absolute path a {kind} path may be"
        return None if not _UNSAFE.search(path) else f"{path!r:.40} holds whitespace"
    return None if path == "" or _ingress_path_ok(path) else \
        f"{path!r:.40} fails the ingress-path check"


def _ingress_path_ok(v: str) -> bool:
    if not _path_ok(v):
        return False
    if any(c in v for c in "^+*[]%"):  # a regex path (spec §2): it must compile for RE2
        if any(s in v for s in _RE2_UNSUPPORTED):
            return False
        if any(int(n) > 1000 for n in _REPEAT.findall(v)):  # RE2's repetition limit
            return False
        try:
            re.compile(v)
        except (re.error, RecursionError, OverflowError):
            return False
    return True


def _base64_ok(v: str) -> bool:
    try:
        base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


CHECKS: dict[str, Callable[[Any], bool]] = {
    "hostname": lambda v: _HOSTNAME.match(v) is not None,
    "path": _path_ok, "rewrite": _rewrite_ok, "duration": _duration_ok, "ip": _ip_ok,
    "ingress-host": _ingress_host_ok, "base64": _base64_ok,
}


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    """A Go (RE2) pattern as Python `re`: `$` is the end of the text, never before a
    trailing newline as in Python; `\\d`, `\\w`, `\\s` are ASCII, as in Go."""
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = re.compile(_end_anchors(pattern), re.ASCII)
    return _PATTERNS[pattern]


def _end_anchors(pattern: str) -> str:
    """Every `$` outside a character class and not escaped as `\\Z`."""
    out, escaped, in_class = [], False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "$" and not in_class:
            c = "\\Z"
        out.append(c)
    return "".join(out)


def judge(obj: Any) -> Judgement:
    """The judgement of a whole object, by the schema of its `kind` (an unknown or
    non-string kind: only metadata rules apply)."""
    j = Judgement()
    kind = obj.get("kind") if isinstance(obj, dict) else None
    if not isinstance(kind, str):
        j.violations.append(f"kind: must be a string, not {type(kind).__name__}")
        return j
    key = schema_key(obj)
    schema = all_schemas().get(key)
    if schema is None:
        j.foreign = True
        return j
    _walk(obj, schema, j)
    if key not in crd_schemas():
        j.unknown.clear()  # core kinds: the API server drops unknown fields, nobody warns
    elif not j.violations and not j.nulls:
        j.violations += [p for rule in cel_rules(key) for p in rule.problems(obj)]
    if schema.get("x-check") == "tls-secret":
        reason = tls_secret_problem(obj)
        if reason:
            j.violations.append(reason)
    return j


_CEL: dict[str, tuple[CelRule, ...]] = {}


def cel_rules(key: str) -> tuple[CelRule, ...]:
    """The CEL rules (`x-kubernetes-validations`) of a CRD kind's manifest schema, as the
    boundary reads them (controller/validation/cel.py: each rule text with its Python
    twin); checked, as the API server checks them, only on a schema-valid object."""
    if key not in _CEL:
        _CEL[key] = tuple(rules_in(manifest_schemas()[key]))
    return _CEL[key]


def _walk(root: Any, root_schema: Schema, j: Judgement) -> None:
    stack: list[tuple[str, Any, Schema]] = [("", root, root_schema)]
    while stack:
        path, value, schema = stack.pop()
        if value is None:
            j.nulls.append(path or ".")
            continue
        problem = _scalar_problem(value, schema)
        if problem:
            j.violations.append(f"{path or '.'}: {problem}")
            continue
        if isinstance(value, dict):
            _walk_object(path, value, schema, j, stack)
        elif isinstance(value, list):
            items = schema.get("items")
            for i, item in enumerate(value):
                if isinstance(items, dict):
                    stack.append((f"{path}[{i}]", item, items))


def _walk_object(path: str, value: dict[str, Any], schema: Schema, j: Judgement,
                 stack: list[tuple[str, Any, Schema]]) -> None:
    for req in schema.get("required", ()):
        if req not in value:
            j.violations.append(f"{path}.{req}: required")
    if len(value) < schema.get("minProperties", 0):
        j.violations.append(f"{path}: fewer than {schema['minProperties']} fields")
    if schema.get("x-check") == "ingress-http-path":
        problem = ingress_path_problem(value)
        if problem:
            j.violations.append(f"{path}.path: {problem}")
    known = schema.get("properties")
    for key, item in value.items():
        sub = child(schema, key) if isinstance(key, str) else None
        where = f"{path}.{key}"
        if sub is not None:
            stack.append((where, item, sub))
        elif known is not None and not schema.get("x-open") and "additionalProperties" \
                not in schema:
            j.unknown.append(where)


def _scalar_problem(value: Any, schema: Schema) -> str | None:
    """What is wrong with `value` itself (type, enum, pattern, bounds, check), or None."""
    types = schema.get("type")
    if types is not None:
        allowed = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, t) for t in allowed):
            return f"must be {' or '.join(allowed)}, not {type(value).__name__}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{value!r:.40} is not one of {schema['enum']}"
    if isinstance(value, str):
        return _string_problem(value, schema)
    if isinstance(value, int) and not isinstance(value, bool):
        if not -(2**63) <= value < 2**63:
            return f"{value} does not fit an int64 (the API server's integers)"
        return _int_problem(value, schema)
    if isinstance(value, list) and len(value) < schema.get("minItems", 0):
        return f"needs at least {schema['minItems']} items"
    if isinstance(value, list) and len(value) > schema.get("maxItems", 1 << 62):
        return f"has more than {schema['maxItems']} items"
    return None


INT_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _int_problem(value: int, schema: Schema) -> str | None:
    """Bounds (`exclusiveMinimum`/`exclusiveMaximum` are draft-4 booleans, as in CRDs) and
    the range of an `int32`/`int64` format, which the API server cannot decode beyond."""
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if (lo is not None and value < lo) or (hi is not None and value > hi) or \
            (schema.get("exclusiveMinimum") and value == lo) or \
            (schema.get("exclusiveMaximum") and value == hi):
        return f"{value} is out of range [{lo}, {hi}]"
    flo, fhi = INT_FORMATS.get(schema.get("format", ""), (lo, hi))
    if (flo is not None and value < flo) or (fhi is not None and value > fhi):
        return f"{value} does not fit an {schema['format']}"
    return None


def _string_problem(value: str, schema: Schema) -> str | None:
    if len(value) < schema.get("minLength", 0):
        return "is empty"
    if len(value) > schema.get("maxLength", 1 << 62):
        return f"is longer than {schema['maxLength']}"
    pattern = schema.get("pattern")
    if pattern and not _compiled(pattern).search(value):
        return f"{value!r:.40} does not match {pattern}"
    check = schema.get("x-check")
    if check in CHECKS and not CHECKS[check](value):
        return f"{value!r:.40} fails the {check} check"
    return None


def _is_type(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer" and isinstance(value, float):
        return False
    return isinstance(value, JSON_TYPES.get(name, (object,)))


def tls_secret_problem(obj: dict[str, Any]) -> str | None:
    """Why a kubernetes.io/tls Secret cannot be served (None when it can, or when it is
    not a TLS secret). The keys must exist (API server) and be a matching PEM pair."""
    from fuzzing.secrets import pem_pair_problem, secret_bytes

    if obj.get("type") != "kubernetes.io/tls":
        return None
    data = secret_bytes(obj)
    if data is None:
        return "data: not a map of base64 strings"
    missing = [k for k in ("tls.crt", "tls.key") if k not in data]
    if missing:
        return f"data: missing {', '.join(missing)}"
    return pem_pair_problem(data["tls.crt"], data["tls.key"])
