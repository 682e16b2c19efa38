"""Python twins of the Gateway API CRDs' CEL rules (sigs.k8s.io/gateway-api v1.6.3), for
cel.py: `twin(rule)` is the predicate of one rule text, or None for a text it does not
know (the generator then refuses the CRD, so a new upstream rule cannot slip through).

Most rules come in families that differ only in a name (`!(has(self.urlRewrite) &&
self.type != 'URLRewrite')`, `self.filter(f, f.type == 'X').size() <= 1`, the path value
rules): each family is one pattern over the rule text and one predicate factory; the rest
are single texts. A predicate gets `self` (the value at the rule's place, already
schema-valid) and applies the CRD defaults the API server would have filled in before
evaluating (an absent rule `matches` is one `PathPrefix /` match, a path type
`PathPrefix`, a parentRef group `gateway.networking.k8s.io` and kind `Gateway`, a
backendRef group "" and kind `Service`, a TLS mode `Terminate`).

A transition rule (`self == oldSelf`) needs the previous version of the object, which only
the API server has: at the boundary it always holds.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

Predicate = Callable[[Any], bool]

_HOST = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_PATH_CHARS = re.compile(r"(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+")
_LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_GRPC_SERVICE = re.compile(r"\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*", re.IGNORECASE)
_GRPC_METHOD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_DURATION = re.compile(r"(\d+)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
GATEWAY_GROUP = "gateway.networking.k8s.io"


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _set(obj: Any, key: str) -> bool:
    """CEL `has(obj.key)`."""
    return isinstance(obj, dict) and obj.get(key) is not None


# -- families ----------------------------------------------------------------------------


def _one_of_a_type(m: re.Match[str]) -> Predicate:
    """`self.filter(f, f.type == 'T').size() <= 1`."""
    return lambda s: sum(_d(f).get("type") == m["type"] for f in _l(s)) <= 1


def _field_only_with_type(m: re.Match[str]) -> Predicate:
    """`!(has(self.f) && self.type != 'T')`: the field only with its type."""
    return lambda s: not (_set(s, m["field"]) and _d(s).get("type") != m["type"])


def _type_needs_field(m: re.Match[str]) -> Predicate:
    """`!(!has(self.f) && self.type == 'T')`, and `self.type == 'T' ? has(self.f) : true`."""
    return lambda s: not (not _set(s, m["field"]) and _d(s).get("type") == m["type"])


def _path_value(check: Callable[[str, str], bool]) -> Callable[[re.Match[str]], Predicate]:
    """`(self.type in ['Exact','PathPrefix']) ? <check of self.value (and the rule's
    quoted argument)> : true`."""
    def factory(m: re.Match[str]) -> Predicate:
        arg = m.groupdict().get("arg") or ""
        return lambda s: (_d(s).get("type") or "PathPrefix") not in ("Exact", "PathPrefix") or \
            check(str(_d(s).get("value") or "/"), arg)
    return factory


def _replace_prefix_needs_one_prefix_match(m: re.Match[str]) -> Predicate:
    """A rule whose (backendRefs') filters use `<filter>.path.replacePrefixMatch` has
    exactly one match, a PathPrefix one."""
    name, in_backends = m["filter"], bool(m["backends"])

    def uses(filters: Any) -> bool:
        if not filters:  # perf: most rules have no filters
            return False
        found = [f for f in map(_d, _l(filters)) if _d(_d(f.get(name)).get("path")).get(
            "type") == "ReplacePrefixMatch" and _set(_d(_d(f.get(name)).get("path")),
                                                   "replacePrefixMatch")]
        return len(found) == 1  # CEL exists_one

    def check(s: Any) -> bool:
        rule = _d(s)
        if in_backends:
            backends = map(_d, _l(rule.get("backendRefs")))
            hit = len([b for b in backends if uses(b.get("filters"))]) == 1
        else:
            hit = uses(rule.get("filters"))
        if not hit:
            return True
        matches = _l(rule.get("matches")) if "matches" in rule else [{}]
        # a match without path has the default one, `PathPrefix /`
        return len(matches) == 1 and (
            _d(_d(matches[0]).get("path")).get("type") or "PathPrefix") == "PathPrefix"
    return check


def _matches_total(m: re.Match[str]) -> Predicate:
    """At most 128 matches over the first 16 rules (a rule without `matches` has one:
    HTTPRoute's default; GRPCRoute's rule counts 0)."""
    default = 0 if m["grpc"] else 1
    return lambda s: sum(len(_l(r.get("matches"))) if "matches" in r else default
                         for r in map(_d, _l(s)[:16])) <= 128


def _parent_key(p: Any) -> tuple[str, str, str, str]:
    d = _d(p)
    group = d.get("group", GATEWAY_GROUP)
    return (group, d.get("kind") or "Gateway", d.get("name") or "", d.get("namespace") or "")


def _parents_name_sections(_: re.Match[str]) -> Predicate:
    """Two refs to one parent both name a sectionName, or neither does."""
    def check(s: Any) -> bool:
        seen: dict[tuple[str, str, str, str], set[bool]] = {}
        for p in _l(s):
            seen.setdefault(_parent_key(p), set()).add(bool(_d(p).get("sectionName")))
        return all(len(v) == 1 for v in seen.values())
    return check


def _parents_unique(_: re.Match[str]) -> Predicate:
    """No two refs to one parent with one sectionName."""
    def check(s: Any) -> bool:
        keys = [(*_parent_key(p), _d(p).get("sectionName") or "") for p in _l(s)]
        return len(keys) == len(set(keys))
    return check


def _unique_addresses(m: re.Match[str]) -> Predicate:
    def check(s: Any) -> bool:
        values = [a["value"] for a in map(_d, _l(s))
                  if a.get("type", "IPAddress") == m["type"] and _set(a, "value")]
        return len(values) == len(set(values))
    return check


def _hostname_address(m: re.Match[str]) -> Predicate:
    optional = bool(m["optional"])

    def check(s: Any) -> bool:
        d = _d(s)
        if d.get("type", "IPAddress") != "Hostname":
            return True
        if optional and not _set(d, "value"):
            return True
        return re.fullmatch(rf"(\*\.)?{_HOST}", str(d.get("value") or "")) is not None
    return check


def _duration(text: str) -> float:
    return sum(int(n) * _UNITS[u] for n, u in _DURATION.findall(text))


def _backend_not_longer(s: Any) -> bool:
    d = _d(s)
    if not (_set(d, "request") and _set(d, "backendRequest")):
        return True
    request = _duration(d["request"])
    return request == 0 or _duration(d["backendRequest"]) <= request


def _tls_hostnames(wildcard: bool) -> Predicate:
    def check(s: Any) -> bool:
        for h in map(str, _l(s)):
            if wildcard and "*" in h and not (h.startswith("*.") and re.fullmatch(_HOST, h[2:])):
                return False
            if not wildcard and "*" not in h and not re.fullmatch(_HOST, h):
                return False
        return True
    return check


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _unique(key: Callable[[dict[str, Any]], object]) -> Predicate:
    def check(s: Any) -> bool:
        keys = [key(x) for x in map(_d, _l(s))]
        return len(keys) == len(set(map(repr, keys)))
    return check


def _listeners(check: Callable[[dict[str, Any]], bool]) -> Predicate:
    return lambda s: all(check(li) for li in map(_d, _l(s)))


def _listener_key(li: dict[str, Any]) -> object:
    return (li.get("port"), li.get("protocol"), li.get("hostname"))


def _tls_mode(li: dict[str, Any]) -> str:
    return str(_d(li.get("tls")).get("mode") or "Terminate")


def _terminate_has_certificates(s: Any) -> bool:
    d = _d(s)
    return (d.get("mode") or "Terminate") != "Terminate" or bool(
        _l(d.get("certificateRefs")) or _d(d.get("options")))


def _grpc_name(field: str, pattern: re.Pattern[str]) -> Predicate:
    def check(s: Any) -> bool:
        d = _d(s)
        if (d.get("type") or "Exact") != "Exact" or not _set(d, field):
            return True
        return pattern.fullmatch(str(d[field])) is not None
    return check


_F = r"(?P<field>\w+)"
_T = r"'(?P<type>\w+)'"
_PATH = r"\(self\.type in \['Exact','PathPrefix'\]\) \? "
FAMILIES: list[tuple[str, Callable[[re.Match[str]], Predicate]]] = [
    (rf"self\.filter\(f, f\.type == {_T}\)\.size\(\) <= 1", _one_of_a_type),
    (rf"!\(has\(self\.{_F}\) && self\.type != {_T}\)", _field_only_with_type),
    (rf"!\(!has\(self\.{_F}\) && self\.type == {_T}\)", _type_needs_field),
    (rf"self\.type == {_T} \? has\(self\.{_F}\) : true", _type_needs_field),
    (rf"has\(self\.{_F}\) \? self\.type == {_T} : true", _field_only_with_type),
    (_PATH + r"self\.value\.startsWith\('/'\) : true", _path_value(lambda v, _: v.startswith("/"))),
    (_PATH + r"!self\.value\.contains\('(?P<arg>[^']+)'\) : true",
     _path_value(lambda v, a: a not in v)),
    (_PATH + r"!self\.value\.endsWith\('(?P<arg>[^']+)'\) : true",
     _path_value(lambda v, a: not v.endswith(a))),
    (_PATH + r"self\.value\.matches\(r\"\"\"\^\(\?:\[-A-Za-z0-9/\._~!\$&'\(\)\*\+,;=:@\]\|"
     r"\[%\]\[0-9a-fA-F\]\{2\}\)\+\$\"\"\"\) : true",
     _path_value(lambda v, _: _PATH_CHARS.fullmatch(v) is not None)),
    (r"\(has\(self\.(?P<backends>backendRefs\) && self\.backendRefs\.exists_one\(b, \(has\(b\.)?"
     r"filters\) && (?:self|b)\.filters\.exists_one\(f, has\(f\.(?P<filter>\w+)\) .*"
     r"self\.matches\[0\]\.path\.type != 'PathPrefix'\) \? false : true\) : true",
     _replace_prefix_needs_one_prefix_match),
    (r"\(self\.size\(\) > 0 \? (?P<grpc>\(has\(self\[0\]\.matches\) \? )?self\[0\]\.matches"
     r"\.size\(\).* <= 128", _matches_total),
    (r"self\.all\(p1, self\.all\(p2, p1\.group == p2\.group .*sectionName == ''\)\) : true\)\)",
     _parents_name_sections),
    (r"self\.all\(p1, self\.exists_one\(p2, p1\.group == p2\.group .*"
     r"p1\.sectionName == p2\.sectionName\)\)\)\)", _parents_unique),
    (rf"self\.all\(a1, a1\.type == {_T} +&& has\(a1\.value\) \? self\.exists_one\(a2, "
     r"a2\.type == a1\.type && has\(a2\.value\) && a2\.value == a1\.value\) : true \)",
     _unique_addresses),
    (r"self\.type == 'Hostname' \? (?P<optional>\(!has\(self\.value\) \|\| )?self\.value\."
     r"matches\(r\"\"\"\^\(\\\*\\\.\)\?\[a-z0-9\].*\"\"\"\)\)?: true", _hostname_address),
]
_COMPILED = [(re.compile(p), f) for p, f in FAMILIES]

SINGLES: dict[str, Predicate] = {
    "self == oldSelf": lambda s: True,
    "self.all(key, key.matches(r\"\"\"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
    "[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$\"\"\"))":
        lambda s: all(_LABEL_KEY.fullmatch(k) for k in _d(s)),
    "self.all(key, key.split(\"/\")[0].size() < 253)":
        lambda s: all(len(k.split("/")[0]) < 253 for k in _d(s)),
    "self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)":
        _listeners(lambda li: li.get("protocol") not in ("HTTP", "TCP", "UDP")
                   or not _set(li, "tls")),
    "self.all(l, (l.protocol == 'HTTPS' && has(l.tls)) ? (l.tls.mode == '' || l.tls.mode == "
    "'Terminate') : true)":
        _listeners(lambda li: li.get("protocol") != "HTTPS" or not _set(li, "tls")
                   or _tls_mode(li) == "Terminate"),
    "self.all(l, (l.protocol == 'TLS' ? has(l.tls) && has(l.tls.mode) && l.tls.mode != '' : "
    "true))": _listeners(lambda li: li.get("protocol") != "TLS" or _set(li, "tls")),
    "self.all(l, l.protocol in ['TCP', 'UDP']  ? (!has(l.hostname) || l.hostname == '') : "
    "true)": _listeners(lambda li: li.get("protocol") not in ("TCP", "UDP")
                        or not li.get("hostname")),
    "self.all(l1, self.exists_one(l2, l1.name == l2.name))": _unique(lambda li: li.get("name")),
    "self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && "
    "(has(l1.hostname) && has(l2.hostname) ? l1.hostname == l2.hostname : !has(l1.hostname) "
    "&& !has(l2.hostname))))": _unique(_listener_key),
    "self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : "
    "true": _terminate_has_certificates,
    "self.all(t1, self.exists_one(t2, t1.port == t2.port))": _unique(lambda t: t.get("port")),
    "(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || "
    "self.filters.all(f, !has(f.requestRedirect))): true":
        lambda s: not _l(_d(s).get("backendRefs")) or not any(
            _set(f, "requestRedirect") for f in _l(_d(s).get("filters"))),
    "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true":
        lambda s: bool(_d(s).get("group", "")) or _d(s).get("kind", "Service") != "Service"
        or _set(s, "port"),
    "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))":
        lambda s: not ({"RequestRedirect", "URLRewrite"} <= {_d(f).get("type") for f in _l(s)}),
    "!('*' in self && self.size() > 1)": lambda s: not ("*" in _l(s) and len(_l(s)) > 1),
    "!(has(self.percent) && has(self.fraction))":
        lambda s: not (_set(s, "percent") and _set(s, "fraction")),
    "self.numerator <= self.denominator":
        lambda s: _d(s).get("numerator", 0) <= _d(s).get("denominator", 100),
    "self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'":
        lambda s: (_d(s).get("type") or "PathPrefix") in ("Exact", "PathPrefix",
                                                          "RegularExpression"),
    "!(has(self.request) && has(self.backendRequest) && duration(self.request) != "
    "duration('0s') && duration(self.backendRequest) > duration(self.request))":
        _backend_not_longer,
    # `type` defaults to Exact, so after defaulting it is always there
    "has(self.type) ? has(self.service) || has(self.method) : true":
        lambda s: _set(s, "service") or _set(s, "method"),
    "(!has(self.type) || self.type == 'Exact') && has(self.service) ? self.service.matches("
    "r\"\"\"^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$\"\"\"): true":
        _grpc_name("service", _GRPC_SERVICE),
    "(!has(self.type) || self.type == 'Exact') && has(self.method) ? self.method.matches("
    "r\"\"\"^[A-Za-z_][A-Za-z_0-9]*$\"\"\"): true": _grpc_name("method", _GRPC_METHOD),
    "self.all(h, !isIP(h))": lambda s: not any(_is_ip(str(h)) for h in _l(s)),
    "self.all(h, !h.contains('*') ? h.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]"
    "([-a-z0-9]*[a-z0-9])?)*)$') : true)": _tls_hostnames(wildcard=False),
    "self.all(h, h.contains('*') ? (h.startsWith('*.') && h.substring(2).matches('^([a-z0-9]"
    "([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$')) : true)":
        _tls_hostnames(wildcard=True),
}


@lru_cache(maxsize=256)
def twin(rule: str) -> Predicate | None:
    """The predicate of a Gateway API rule text; None when it has none."""
    single = SINGLES.get(rule)
    if single is not None:
        return single
    for pattern, factory in _COMPILED:
        m = pattern.fullmatch(rule)
        if m is not None:
            return factory(m)
    return None
