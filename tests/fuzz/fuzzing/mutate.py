"""Mutations of a valid object: wrong types at every path the schemas type, missing and null
fields, out-of-range numbers, hostile strings (unicode, control characters, huge), unknown
fields, huge lists, malformed metadata, hostile IPs and durations, broken TLS secrets,
regexes RE2 refuses, HTTPProxy includes that are missing, cyclic or point at a root.

`mutate(obj, rnd)` returns the mutated copy and a one-line description; the verdict is not
assumed by the operator but computed by the oracle (oracle.judge) from the result.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from fuzzing.schema import Schema, all_schemas, child, schema_key
from fuzzing.secrets import b64, leaves

Obj = dict[str, Any]
Path = tuple[str | int, ...]
Location = tuple[Path, Schema | None]

HOSTILE_STRINGS = (
    "", " ", "a b", "a\nb", "\t", "\x00", "\x7f", "\x1b[31m", "é", "ünïcode.example", "😀",
    "\u202e", "\ufeff", "\u0000x", "-a-", "UPPER", "a..b", "../etc", "/a b", "/\x00",
    "/a\nb", "*", "*.x", "%", "/(", "/[a", "/(?=x)*", "/a{99999}*", "\\", "'", '"', "${x}",
    "{{x}}", "0", "true", "null", "~", "&a", "!!binary", "/" + "a" * 300,
)
HOSTILE_INTS = (-1, 0, 65536, 70000, 2**31, 2**32, 2**63, -(2**63), 2**64, 10**30)
HOSTILE_IPS = ("999.1.1.1", 12345, "host.example", " 1.2.3.4", "1.2.3.4 ", "::zz", "1.2.3",
               "", "fe80::1%eth0", "1.2.3.4/32", "0x7f.0.0.1", "01.2.3.4", "1.2.3.4\n")
HOSTILE_DURATIONS = ("99999999999999h", "-1s", "1e9h", "1h1h", "9223372036854775807ns",
                     "2562048h", "abc", "", "1.5.3s", "87600000h", "-99999999999999h",
                     "2562047h", "0.000000001ns", "1.h", ".5s", "1hh", "infinity", "infinite",
                     "0", "9999999999999999999999s")
RE2_REFUSED = ("(?=x)", "(?!x)", "(?<=a)b", "a(?<!b)", "(a)\\1", "[", "(", "a{1001}",
               "a{2,1}", "(?P<n>a)(?P=n)", "x**", "\\", "(?i", "a{99999}", "[z-a]",
               "\\p{Nope}", "(?#comment)")
"""Patterns RE2 does not compile (lookaround, backreferences, bad repetitions, bad classes):
a regex condition or header match with one must never reach Envoy (a NACK)."""
INCLUDE_TARGETS = ("missing", "self", "control", "other-namespace")
WRONG_TYPES: dict[str, tuple[Any, ...]] = {
    "string": (5, 1.5, True, ["x"], {"a": "b"}),
    "integer": ("3", "abc", 1.5, True, [1], {"a": 1}),
    "boolean": ("yes", "true", 1, 0, ["x"], {}),
    "object": ("x", 3, True, ["x"], []),
    "array": ("str", 3, True, {"a": "b"}),
}
NESTED_PREFIX = "nested "
ENUM_JUNK = ("roundrobin", "", "1.0", "TLSv1.2", "Foo", "tcp", "prefix", "IPV4")


def locations(obj: Any, schema: Schema | None) -> list[Location]:
    """Every node of `obj` (as a key/index path) with the sub-schema describing it."""
    out: list[Location] = []
    stack: list[tuple[Path, Any, Schema | None]] = [((), obj, schema)]
    while stack:
        path, value, sub = stack.pop()
        out.append((path, sub))
        if isinstance(value, dict):
            for k, v in value.items():
                stack.append(((*path, k), v, child(sub, k)))
        elif isinstance(value, list):
            for i, v in enumerate(value[:50]):
                stack.append(((*path, i), v, child(sub, i)))
    return sorted(out, key=lambda loc: tuple(map(str, loc[0])))


def get_at(obj: Any, path: Path) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def set_at(obj: Any, path: Path, value: Any) -> None:
    get_at(obj, path[:-1])[path[-1]] = value


def _type_of(schema: Schema | None) -> str | None:
    t = (schema or {}).get("type")
    return t if isinstance(t, str) else None


def _pick(rnd: random.Random, locs: list[Location], ok: Callable[[Location], bool]
          ) -> Location | None:
    found = [loc for loc in locs if loc[0] and ok(loc)]
    return rnd.choice(found) if found else None


Operator = Callable[[Obj, list[Location], random.Random], str | None]


def wrong_type(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs, lambda loc: _type_of(loc[1]) in WRONG_TYPES)
    if loc is None:
        return None
    value = copy.deepcopy(rnd.choice(WRONG_TYPES[_type_of(loc[1]) or "string"]))
    set_at(obj, loc[0], value)
    return f"wrong type at {_fmt(loc[0])}: {value!r}"


def hostile_string(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs, lambda loc: isinstance(get_at(obj, loc[0]), str))
    if loc is None:
        return None
    roll = rnd.random()
    if roll < 0.1:
        value = rnd.choice("aé😀") * rnd.choice((64, 254, 5000, 100_000))
    elif roll < 0.2:
        value = get_at(obj, loc[0]) + rnd.choice(HOSTILE_STRINGS)
    else:
        value = rnd.choice(HOSTILE_STRINGS)
    set_at(obj, loc[0], value)
    return f"string at {_fmt(loc[0])}: {value!r:.80}"


def _replace(obj: Obj, locs: list[Location], rnd: random.Random,
             ok: Callable[[Location], bool], pool: tuple[Any, ...], what: str) -> str | None:
    """Set one location that `ok` accepts to a value of `pool`."""
    loc = _pick(rnd, locs, ok)
    if loc is None:
        return None
    value = rnd.choice(pool)
    set_at(obj, loc[0], value)
    return f"{what} at {_fmt(loc[0])}: {value!r}"


def _checked(name: str) -> Callable[[Location], bool]:
    """Locations whose schema carries the check `name` (or the fuzzer's mark of it)."""
    return lambda loc: name in ((loc[1] or {}).get("x-check"), (loc[1] or {}).get("x-fuzz"))


def hostile_int(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    return _replace(obj, locs, rnd, lambda loc: _type_of(loc[1]) == "integer", HOSTILE_INTS,
                    "number")


def enum_junk(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    return _replace(obj, locs, rnd, lambda loc: "enum" in (loc[1] or {}), ENUM_JUNK, "enum")


def drop_field(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs, lambda loc: isinstance(loc[0][-1], str))
    if loc is None:
        return None
    del get_at(obj, loc[0][:-1])[loc[0][-1]]
    return f"missing {_fmt(loc[0])}"


def null_field(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs, lambda loc: True)
    if loc is None:
        return None
    set_at(obj, loc[0], None)
    return f"null at {_fmt(loc[0])}"


def unknown_field(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs + [((), None)], lambda loc: isinstance(get_at(obj, loc[0]), dict)
                and "properties" in (loc[1] or {}) and not (loc[1] or {}).get("x-open"))
    if loc is None:
        return None
    name = rnd.choice(("fuzzUnknown", "secretname", "Match", "x-extra"))
    get_at(obj, loc[0])[name] = rnd.choice(("x", 1, {"deep": ["x"]}))
    return f"unknown field {_fmt((*loc[0], name))}"


def huge_list(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    loc = _pick(rnd, locs, lambda loc: bool(_nonempty_list(obj, loc[0])))
    if loc is None:
        return None
    items = get_at(obj, loc[0])
    n = rnd.choice((100, 1000, 5000))
    set_at(obj, loc[0], [copy.deepcopy(items[i % len(items)]) for i in range(n)])
    return f"{n} items at {_fmt(loc[0])}"


def _nonempty_list(obj: Obj, path: Path) -> bool:
    v = get_at(obj, path)
    return isinstance(v, list) and bool(v)


def nested(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    """A value nested a few hundred levels deep (whole documents nested 100,000 levels
    deep are documents.py's)."""
    loc = _pick(rnd, locs, lambda loc: True)
    if loc is None:
        return None
    depth = rnd.choice((50, 200, 400))
    value: Any = "x"
    for _ in range(depth):
        value = [value] if rnd.random() < 0.5 else {"a": value}
    set_at(obj, loc[0], value)
    return f"{NESTED_PREFIX}{depth} levels at {_fmt(loc[0])}"


def bad_metadata(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    choices: tuple[tuple[Path, Any], ...] = (
        (("kind",), 5), (("kind",), ["IngressRoute"]), (("metadata", "name"), ["a", "b"]),
        (("metadata", "name"), {"n": 1}), (("metadata", "namespace"), ["fz-a"]),
        (("metadata", "namespace"), 7), (("metadata",), "x"), (("metadata",), ["x"]),
        (("metadata", "name"), "UPPER_case"), (("metadata", "name"), "a" * 300),
        (("metadata", "annotations"), {"a": 5}), (("metadata", "annotations"), "x"),
        (("metadata", "labels"), ["x"]), (("apiVersion",), 5), (("metadata", "name"), ""),
        (("metadata", "namespace"), "Bad Namespace"),
    )
    path, value = rnd.choice(choices)
    if path[0] == "metadata" and len(path) > 1 and not isinstance(obj.get("metadata"), dict):
        return None
    set_at(obj, path, copy.deepcopy(value))
    return f"metadata: {_fmt(path)} = {value!r:.60}"


def hostile_ip(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    return _replace(obj, locs, rnd, _checked("ip"), HOSTILE_IPS, "ip")


def hostile_duration(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    return _replace(obj, locs, rnd, _checked("duration"), HOSTILE_DURATIONS, "duration")


def bad_regex(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    return _replace(obj, locs, rnd, _checked("regex"), RE2_REFUSED, "regex")


def broken_include(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    """An HTTPProxy include pointed at a proxy that does not exist, at itself (a cycle), at
    a control vhost's IngressRoute (includes name HTTPProxies only), or across namespaces
    to a name nobody has."""
    includes = (obj.get("spec") or {}).get("includes") if isinstance(obj.get("spec"), dict) \
        else None
    meta = obj.get("metadata")
    if obj.get("kind") != "HTTPProxy" or not isinstance(includes, list) or not includes or \
            not isinstance(meta, dict) or not all(isinstance(i, dict) for i in includes):
        return None
    inc = includes[rnd.randrange(len(includes))]
    how = rnd.choice(INCLUDE_TARGETS)
    name, ns = str(meta.get("name")), str(meta.get("namespace", "default"))
    if how == "missing":
        inc["name"] = f"{name}-missing"
    elif how == "self":
        inc.update(name=name, namespace=ns)
    elif how == "control":
        inc.update(name="c1", namespace="fuzz-control")
    else:
        inc["namespace"] = f"{ns}-nowhere"
    return f"include: {how} ({inc.get('namespace', ns)}/{inc['name']})"


def broken_secret(obj: Obj, locs: list[Location], rnd: random.Random) -> str | None:
    data = obj.get("data")
    if obj.get("kind") != "Secret" or not isinstance(data, dict):
        return None
    how = rnd.choice(("garbage cert", "other key", "not base64", "no key", "cert only"))
    if how == "garbage cert":
        data["tls.crt"] = b64(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    elif how == "other key":
        data["tls.key"] = b64(leaves()[1].key_pem)
    elif how == "not base64":
        data["tls.crt"] = "!!!not base64!!!"
    elif how == "no key":
        data.pop("tls.key", None)
    else:
        data["tls.key"] = data.get("tls.crt", "")
    return f"secret: {how}"


OPERATORS: tuple[tuple[Operator, float], ...] = (
    (wrong_type, 5), (hostile_string, 4), (hostile_int, 3), (enum_junk, 1), (drop_field, 2),
    (null_field, 1.5), (unknown_field, 1), (huge_list, 0.3), (nested, 0.5),
    (bad_metadata, 1.5), (hostile_ip, 3), (hostile_duration, 1), (broken_secret, 2),
    (bad_regex, 2), (broken_include, 1.5),
)

KIND_BOOSTS: dict[str, dict[str, float]] = {
    "HTTPProxy": {"bad_regex": 6, "broken_include": 5, "hostile_duration": 4},
}
"""Weights raised for a kind whose own hazards the generic operators rarely reach (they
apply only where the object has a regex, an include, a duration)."""


def mutate(obj: Obj, rnd: random.Random) -> tuple[Obj, str]:
    """A mutated deep copy of `obj` and what was done (operators that do not apply to this
    object are skipped; wrong_type applies to every kind)."""
    out = copy.deepcopy(obj)
    locs = locations(out, all_schemas().get(schema_key(obj)))
    boost = KIND_BOOSTS.get(schema_key(obj), {})
    ops = [op for op, _ in OPERATORS]
    weights = [boost.get(op.__name__, w) for op, w in OPERATORS]
    for _ in range(8):
        op = rnd.choices(ops, weights)[0]
        what = op(out, locs, rnd)
        if what is not None and out != obj:
            return out, what
        out = copy.deepcopy(obj)  # an operator may leave the value as it was: start over
        locs = locations(out, all_schemas().get(schema_key(obj)))
    for op in (wrong_type, hostile_string, null_field):  # these apply to (nearly) anything
        what = op(out, locs, rnd)
        if what is not None and out != obj:
            return out, what
    return out, "unchanged"


def _fmt(path: Path) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out or "."
