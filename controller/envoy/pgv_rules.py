"""protoc-gen-validate rules (`validate.FieldRules`, carried as field options in the xds-protos
descriptors) compiled into value checks: `value -> reason | None`.

Only the rules' meaning lives here; which field a check applies to, and how messages are
walked, is controller/envoy/constraints.py. Semantics follow PGV's C++ validators, the ones
Envoy runs: a proto3 scalar is checked even when it holds its default value, `gt` above `lt`
means "outside the range", `ignore_empty` skips an empty value, and the well-known header
regexes are strict unless `strict: false`. Not checked (no Envoy field reachable from the
resources we send carries them; tests/controller/envoy/test_constraints.py keeps it so):
string `uri`/`uri_ref`, timestamp `lt_now`/`gt_now`/`within`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import Any

from google.protobuf.descriptor import EnumDescriptor
from validate import validate_pb2 as pgv

Check = Callable[[Any], "str | None"]

NUMERIC_KINDS = frozenset({
    "float", "double", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
    "fixed32", "fixed64", "sfixed32", "sfixed64",
})
UNCHECKED = frozenset({("string", "uri"), ("string", "uri_ref"), ("timestamp", "lt_now"),
                       ("timestamp", "gt_now"), ("timestamp", "within")})

# PGV's well-known regexes (validate.proto, KnownRegex), anchored by fullmatch. The
# `+-.` of the name class is a range in PGV's RE2 pattern too (it admits ","): kept as is,
# so this is exactly as strict as Envoy, not stricter.
_HEADER_NAME = re.compile(r":?[0-9a-zA-Z!#$%&'*+-.^_|~`]+")
_HEADER_VALUE = re.compile(r"[^\x00-\x08\x0A-\x1F\x7F]*")
_HEADER_STRING = re.compile(r"[^\x00\n\r]*")  # strict: false
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def value_check(rules: pgv.FieldRules, enum: EnumDescriptor | None = None) -> Check | None:
    """The check of one value (a scalar, a wrapper's value, a Duration, an Any...) under
    `rules`; None when the rules say nothing about single values (message/repeated/map)."""
    kind = rules.WhichOneof("type")
    if kind is None or kind in ("message", "repeated", "map"):
        return None
    typed = getattr(rules, kind)
    if kind in NUMERIC_KINDS:
        return _combine(_ordered(typed, _same, str))
    if kind == "enum":
        return _combine(_enum(typed, enum))
    return _combine(_BUILDERS[kind](typed))


def _combine(checks: list[Check], ignore_empty: bool = False) -> Check | None:
    """One check running `checks` in order (the first reason wins)."""
    if not checks:
        return None
    if len(checks) == 1 and not ignore_empty:
        return checks[0]

    def run(value: Any) -> str | None:
        if ignore_empty and not value:
            return None
        for check in checks:
            if (reason := check(value)) is not None:
                return reason
        return None

    return run


def _same(value: Any) -> Any:
    return value


def _ordered(rules: Any, key: Callable[[Any], Any], show: Callable[[Any], str]) -> list[Check]:
    """const, the gt/gte/lt/lte range (PGV: a lower bound above the upper one excludes the
    range between them) and in/not_in, on values compared through `key`."""
    out: list[Check] = []
    if rules.HasField("const"):
        const = key(rules.const)
        out.append(lambda v: None if key(v) == const else f"must equal {show(const)}")
    low = _bound(rules, "gt", "gte", key)
    high = _bound(rules, "lt", "lte", key)
    if low is not None or high is not None:
        out.append(_range_check(low, high, key, show))
    if (allowed := [key(v) for v in getattr(rules, "in", ())]):
        one_of = f"must be one of {_show_all(allowed, show)}"
        out.append(lambda v: None if key(v) in allowed else one_of)
    if (denied := [key(v) for v in getattr(rules, "not_in", ())]):
        none_of = f"must not be one of {_show_all(denied, show)}"
        out.append(lambda v: None if key(v) not in denied else none_of)
    return out


def _bound(rules: Any, strict: str, inclusive: str,
           key: Callable[[Any], Any]) -> tuple[Any, bool] | None:
    fields = rules.DESCRIPTOR.fields_by_name
    if strict in fields and rules.HasField(strict):
        return key(getattr(rules, strict)), False
    if inclusive in fields and rules.HasField(inclusive):
        return key(getattr(rules, inclusive)), True
    return None


def _range_check(low: tuple[Any, bool] | None, high: tuple[Any, bool] | None,
                 key: Callable[[Any], Any], show: Callable[[Any], str]) -> Check:
    def above(v: Any) -> bool:
        return low is None or (v >= low[0] if low[1] else v > low[0])

    def below(v: Any) -> bool:
        return high is None or (v <= high[0] if high[1] else v < high[0])

    words = []
    if low is not None:
        words.append(f"{'at least' if low[1] else 'greater than'} {show(low[0])}")
    if high is not None:
        words.append(f"{'at most' if high[1] else 'less than'} {show(high[0])}")
    if low is not None and high is not None and low[0] > high[0]:
        reason = "must be " + " or ".join(words)
        return lambda v: None if above(key(v)) or below(key(v)) else reason
    reason = "must be " + " and ".join(words)
    return lambda v: None if above(key(v)) and below(key(v)) else reason


def _show_all(values: Iterable[Any], show: Callable[[Any], str]) -> str:
    return "[" + ", ".join(show(v) for v in values) + "]"


def _enum(rules: pgv.EnumRules, enum: EnumDescriptor | None) -> list[Check]:
    out = _ordered(rules, _same, str)
    if rules.defined_only and enum is not None:
        defined = frozenset(enum.values_by_number)
        out.append(lambda v: None if v in defined else "must be a defined enum value")
    return out


def _bool(rules: pgv.BoolRules) -> list[Check]:
    if not rules.HasField("const"):
        return []
    const = rules.const
    return [lambda v: None if v == const else f"must be {str(const).lower()}"]


def _string(rules: pgv.StringRules) -> list[Check]:
    out = _lengths(rules, len, "characters")
    out += _lengths(rules, _utf8_size, "bytes", ("len_bytes", "min_bytes", "max_bytes"))
    out += _affixes(rules, _pgv_pattern)
    well_known = rules.WhichOneof("well_known")
    if well_known is not None:
        out.append(_well_known(rules, well_known))
    return [_combine(out, rules.ignore_empty)] if out and rules.ignore_empty else out  # type: ignore[list-item]


def _utf8_size(value: str) -> int:
    return len(value.encode())


def _bytes(rules: pgv.BytesRules) -> list[Check]:
    out = _lengths(rules, len, "bytes")
    out += _affixes(rules, lambda p: re.compile(p.encode()))
    sizes = {"ip": (4, 16), "ipv4": (4,), "ipv6": (16,)}.get(rules.WhichOneof("well_known") or "")
    if sizes is not None:
        out.append(lambda v: None if len(v) in sizes else "must be a valid IP address in byte form")
    return [_combine(out, rules.ignore_empty)] if out and rules.ignore_empty else out  # type: ignore[list-item]


def _lengths(rules: Any, size: Callable[[Any], int], unit: str,
             names: tuple[str, str, str] = ("len", "min_len", "max_len")) -> list[Check]:
    exact, low, high = names
    out: list[Check] = []
    if rules.HasField(exact):
        n = getattr(rules, exact)
        out.append(lambda v: None if size(v) == n else f"must be exactly {n} {unit} long")
    if rules.HasField(low):
        lo = getattr(rules, low)
        short = "must not be empty" if lo == 1 else f"must be at least {lo} {unit} long"
        out.append(lambda v: None if size(v) >= lo else short)
    if rules.HasField(high):
        hi = getattr(rules, high)
        out.append(lambda v: None if size(v) <= hi else f"must be at most {hi} {unit} long")
    return out


def _affixes(rules: Any, compile_pattern: Callable[[str], re.Pattern[Any]]) -> list[Check]:
    """const, pattern, prefix, suffix, contains, not_contains, in, not_in."""
    out: list[Check] = []
    if rules.HasField("const"):
        const = rules.const
        out.append(lambda v: None if v == const else f"must equal {const!r}")
    if rules.HasField("pattern"):
        pattern = compile_pattern(rules.pattern)
        out.append(lambda v: None if pattern.search(v) else f"must match {rules.pattern!r}")
    for name, test in (("prefix", _startswith), ("suffix", _endswith), ("contains", _contains)):
        if rules.HasField(name):
            out.append(_affix(getattr(rules, name), test, f"must {_VERB[name]} "))
    if rules.HasField("not_contains") if hasattr(rules, "not_contains") else False:
        part = rules.not_contains
        out.append(lambda v: None if part not in v else f"must not contain {part!r}")
    if (allowed := list(getattr(rules, "in"))):
        out.append(lambda v: None if v in allowed else f"must be one of {allowed!r}")
    if (denied := list(rules.not_in)):
        out.append(lambda v: None if v not in denied else f"must not be one of {denied!r}")
    return out


_VERB = {"prefix": "start with", "suffix": "end with", "contains": "contain"}


def _startswith(value: Any, part: Any) -> bool:
    return bool(value.startswith(part))


def _endswith(value: Any, part: Any) -> bool:
    return bool(value.endswith(part))


def _contains(value: Any, part: Any) -> bool:
    return part in value


def _affix(part: Any, test: Callable[[Any, Any], bool], words: str) -> Check:
    reason = f"{words}{part!r}"
    return lambda v: None if test(v, part) else reason


def _pgv_pattern(pattern: str) -> re.Pattern[str]:
    """RE2's `$` (no multi-line) is the end of the text; Python's also matches before a
    final newline, which would let "x\\n" through `^[^\\n]*$`."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def _well_known(rules: pgv.StringRules, name: str) -> Check:
    if name == "well_known_regex":
        strict = rules.strict if rules.HasField("strict") else True
        regex, what = _header_regex(rules.well_known_regex, strict)
        return lambda v: None if regex.fullmatch(v) else f"must be a valid {what}"
    test, what = _WELL_KNOWN.get(name, (_anything, name))
    return lambda v: None if test(v) else f"must be a valid {what}"


def _header_regex(known: int, strict: bool) -> tuple[re.Pattern[str], str]:
    if not strict:
        return _HEADER_STRING, "header string (no NUL, CR or LF)"
    if known == pgv.HTTP_HEADER_NAME:
        return _HEADER_NAME, "HTTP header name"
    if known == pgv.HTTP_HEADER_VALUE:
        return _HEADER_VALUE, "HTTP header value"
    return re.compile(r".*", re.S), "string"


def is_hostname(value: str) -> bool:
    """PGV's hostname: at most 253 characters, dot-separated labels of 1–63 letters, digits
    and inner hyphens (one trailing dot allowed)."""
    name = value[:-1] if value.endswith(".") else value
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))


def _ip(version: int | None) -> Callable[[str], bool]:
    def test(value: str) -> bool:
        try:
            found = ipaddress.ip_address(value)
        except ValueError:
            return False
        return version is None or found.version == version

    return test


def _email(value: str) -> bool:
    local, at, host = value.rpartition("@")
    return bool(at) and 0 < len(local) <= 64 and is_hostname(host)


def _anything(value: str) -> bool:
    return True


_WELL_KNOWN: dict[str, tuple[Callable[[str], bool], str]] = {
    "hostname": (is_hostname, "hostname"),
    "ip": (_ip(None), "IP address"),
    "ipv4": (_ip(4), "IPv4 address"),
    "ipv6": (_ip(6), "IPv6 address"),
    "address": (lambda v: is_hostname(v) or _ip(None)(v), "hostname or IP address"),
    "uuid": (lambda v: _UUID.fullmatch(v) is not None, "UUID"),
    "email": (_email, "email address"),
}


def _nanos(value: Any) -> int:
    """A Duration or Timestamp as an integer number of nanoseconds."""
    return int(value.seconds) * 1_000_000_000 + int(value.nanos)


def show_nanos(nanos: int) -> str:
    seconds, rest = divmod(nanos, 1_000_000_000)
    return f"{seconds}s" if not rest else f"{nanos / 1e9:.9f}".rstrip("0") + "s"


def _duration(rules: pgv.DurationRules) -> list[Check]:
    return _ordered(rules, _nanos, show_nanos)


def _timestamp(rules: pgv.TimestampRules) -> list[Check]:
    return _ordered(rules, _nanos, show_nanos)


def _any(rules: pgv.AnyRules) -> list[Check]:
    out: list[Check] = []
    if (allowed := list(getattr(rules, "in"))):
        out.append(lambda v: None if v.type_url in allowed else f"type must be one of {allowed}")
    if (denied := list(rules.not_in)):
        none_of = f"type must not be one of {denied}"
        out.append(lambda v: None if v.type_url not in denied else none_of)
    return out


_BUILDERS: dict[str, Callable[[Any], list[Check]]] = {
    "bool": _bool, "string": _string, "bytes": _bytes, "duration": _duration,
    "timestamp": _timestamp, "any": _any,
}


def _unique(values: Any) -> str | None:
    """PGV's `unique` (scalar items only; messages compare by their bytes)."""
    keys = [v.SerializeToString(deterministic=True) if hasattr(v, "SerializeToString") else v
            for v in values]
    return None if len(set(keys)) == len(keys) else "must have unique items"


def count_check(rules: Any, low: str, high: str, unit: str) -> Check | None:
    """min/max items (repeated) or pairs (map), on len(value)."""
    out: list[Check] = []
    if rules.HasField(low) and (lo := getattr(rules, low)):
        few = "must not be empty" if lo == 1 else f"must have at least {lo} {unit}"
        out.append(lambda v: None if len(v) >= lo else few)
    if rules.HasField(high):
        hi = getattr(rules, high)
        out.append(lambda v: None if len(v) <= hi else f"must have at most {hi} {unit}")
    if getattr(rules, "unique", False):
        out.append(_unique)
    return _combine(out)
