"""The scenario format's entries, checked strictly (../shared/scenarios/README.md and
../shared/scenarios-httpproxy/README.md).

Every function here takes one parsed YAML value and either returns nothing or raises
:class:`ScenarioError` naming the entry (`where`) and what is wrong with it: an unknown
key or a malformed value is never ignored, so a scenario the harness cannot execute
fails instead of passing vacuously.
"""

from __future__ import annotations

import re
from typing import Any

CAPABILITIES = frozenset({
    "backend_control", "backend_observation", "websocket", "tls_versions", "tls_backend",
    "http10", "raw_path", "external_backend", "slow",
})

CONTROLLER_KEYS = {
    "ingressroute_root_namespaces", "disable_permit_insecure", "ingress_class_name",
    "tls_minimum_protocol_version", "root_namespaces", "tls_fallback_certificate",
}
REQUEST_INPUT_KEYS = {
    "host", "path", "scheme", "method", "headers", "host_header", "http_version", "raw_path",
    "tls_min_version", "tls_max_version", "websocket", "backend_delay", "backend_fail_first",
    "backend_fail_status", "n", "tolerance",
}
REPEATED_EXPECT_KEYS = {"expect_split", "expect_same_backend", "expect_some_status"}
"""Expectations about all `n` responses of an entry (exactly one of them when `n` is set)."""
REQUEST_EXPECT_KEYS = {
    "expect_backend", "expect_status", "expect_location", "expect_header",
    "expect_header_seen_by_backend", "expect_path_seen_by_backend", "expect_tls_failure",
    "expect_websocket", "expect_cert_cn", "expect_min_elapsed", "expect_max_elapsed",
    "expect_body",
} | REPEATED_EXPECT_KEYS
STATUS_KINDS = {"IngressRoute", "HTTPProxy"}
STATUS_BASE_KEYS = {"currentStatus", "description_contains"}
CONDITION_KEYS = {"valid", "reason", "errors_contain", "warnings_contain", "no_errors"}
"""Status keys about the `Valid` condition; HTTPProxy entries only."""
STATUS_KEYS = {"kind", "namespace", "name"} | STATUS_BASE_KEYS | CONDITION_KEYS
SUBCONDITION_KEYS = {"type", "reason", "message_contains"}
CURRENT_STATUSES = {"valid", "invalid", "orphaned"}
OBSERVED_KEYS = {"backend", "path", "host", "within", "from_client"}

# which request keys need which capability
KEY_CAPABILITY = {
    "backend_delay": "backend_control",
    "backend_fail_first": "backend_control",
    "backend_fail_status": "backend_control",
    "tls_min_version": "tls_versions",
    "tls_max_version": "tls_versions",
    "websocket": "websocket",
    "raw_path": "raw_path",
}

REFUSED_HEADERS = frozenset({
    # the client writes Host itself (`host`/`host_header`); hop-by-hop headers belong to
    # one connection, not to the request Envoy forwards; the client sends no body
    "host", "connection", "keep-alive", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length",
})
HARNESS_HEADER_PREFIX = "x-harness-"  # the runner's own control headers (backends.py)

_ID_RE = re.compile(r"^([a-z0-9][-a-z0-9.]*)/([a-z0-9][-a-z0-9.]*):(\d+)$")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # a namespace or object name
_TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")


class ScenarioError(Exception):
    """The scenario file is malformed or uses something the harness cannot do."""


def parse_duration(v: Any) -> float:
    """`200ms`, `3s`, `0.9s`, `1m` (or a bare number of seconds) -> seconds."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    m = _DURATION_RE.match(str(v).strip())
    if not m:
        raise ScenarioError(f"bad duration {v!r} (want e.g. 200ms, 3s, 0.9s, 1m)")
    n = float(m.group(1))
    return {"ms": n / 1000, "s": n, "m": n * 60}[m.group(2)]


def parse_backend_id(s: Any) -> tuple[str, str, int]:
    """`ns/svc:port` -> (ns, svc, port)."""
    m = _ID_RE.match(str(s))
    if not m:
        raise ScenarioError(f"bad backend identity {s!r} (want ns/svc:port)")
    return m.group(1), m.group(2), int(m.group(3))


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _need(where: str, ok: bool, what: str) -> None:
    if not ok:
        raise ScenarioError(f"{where}: {what}")


# ---------------------------------------------------------------- controller


def _check_namespace_list(where: str, key: str, v: Any) -> None:
    _need(where, isinstance(v, list) and bool(v)
          and all(isinstance(n, str) and _NAME_RE.match(n) for n in v),
          f"{key} must be a non-empty list of namespace names, got {v!r}")


def check_controller(where: str, c: Any) -> None:
    """The `controller` mapping: known settings with well-formed values."""
    _need(where, isinstance(c, dict), f"controller must be a mapping, got {c!r}")
    unknown = set(c) - CONTROLLER_KEYS
    _need(where, not unknown, f"unknown controller settings {sorted(unknown)}")
    for key in ("ingressroute_root_namespaces", "root_namespaces"):
        if key in c:
            _check_namespace_list(where, key, c[key])
    _need(where, not {"ingressroute_root_namespaces", "root_namespaces"} <= set(c),
          "root_namespaces and ingressroute_root_namespaces are exclusive")
    if "disable_permit_insecure" in c:
        _need(where, isinstance(c["disable_permit_insecure"], bool),
              f"disable_permit_insecure must be true/false, got {c['disable_permit_insecure']!r}")
    if "ingress_class_name" in c:
        _need(where, isinstance(c["ingress_class_name"], str) and bool(c["ingress_class_name"]),
              f"ingress_class_name must be a non-empty string, got {c['ingress_class_name']!r}")
    if "tls_minimum_protocol_version" in c:
        v = c["tls_minimum_protocol_version"]
        _need(where, isinstance(v, str) and v in _TLS_VERSIONS,
              f"tls_minimum_protocol_version must be a quoted version {_TLS_VERSIONS}, got {v!r}")
    if "tls_fallback_certificate" in c:
        parse_secret_ref(where, c["tls_fallback_certificate"])


def parse_secret_ref(where: str, v: Any) -> tuple[str, str]:
    """`ns/name` -> (ns, name)."""
    parts = v.split("/") if isinstance(v, str) else []
    _need(where, len(parts) == 2 and all(_NAME_RE.match(p) for p in parts),
          f"tls_fallback_certificate must be namespace/name, got {v!r}")
    return parts[0], parts[1]


# ---------------------------------------------------------------- requests


def check_headers(where: str, headers: Any) -> None:
    """Request `headers`: {token name: quoted string value}, none the client owns."""
    _need(where, isinstance(headers, dict) and bool(headers),
          f"headers must be a non-empty mapping, got {headers!r}")
    for name, value in headers.items():
        _need(where, isinstance(name, str) and bool(_TOKEN_RE.match(name)),
              f"bad header name {name!r}")
        low = name.lower()
        _need(where, low not in REFUSED_HEADERS, f"header {name!r} may not be set "
              f"(Host: use host_header; hop-by-hop and Content-Length belong to the client)")
        _need(where, not low.startswith(HARNESS_HEADER_PREFIX),
              f"header {name!r} is one of the harness's own control headers")
        _need(where, isinstance(value, str) and not re.search(r"[\r\n\x00]", value),
              f"header {name!r}: the value must be a quoted string without CR/LF, "
              f"got {value!r}")


def _check_repeated(where: str, r: dict[str, Any]) -> None:
    """`n` and the expectations about all n responses."""
    rep = set(r) & REPEATED_EXPECT_KEYS
    _need(where, len(rep) <= 1, f"at most one of {sorted(REPEATED_EXPECT_KEYS)}, got "
          f"{sorted(rep)}")
    _need(where, "tolerance" not in r or "expect_split" in r, "tolerance without expect_split")
    if "n" not in r:
        _need(where, not rep, f"{sorted(rep)} without n")
        return
    n = r["n"]
    _need(where, _is_int(n) and n >= 1, f"n must be a positive integer, got {n!r}")
    _need(where, bool(rep), f"n without any of {sorted(REPEATED_EXPECT_KEYS)}")
    if "expect_split" in r:
        split = r["expect_split"]
        _need(where, isinstance(split, dict) and bool(split),
              "expect_split must be a non-empty mapping")
        for b, ratio in split.items():
            parse_backend_id(b)
            _need(where, isinstance(ratio, (int, float)) and not isinstance(ratio, bool)
                  and 0 <= ratio <= 1, f"expect_split ratio {ratio!r} not in [0, 1]")
        tol = r.get("tolerance", 0.0)
        _need(where, isinstance(tol, (int, float)) and not isinstance(tol, bool)
              and 0 <= tol <= 1, f"tolerance {tol!r} not in [0, 1]")
    if "expect_same_backend" in r:
        _need(where, r["expect_same_backend"] is True, "expect_same_backend must be true")
        _need(where, n >= 2, "expect_same_backend needs n >= 2")
    if "expect_some_status" in r:
        s = r["expect_some_status"]
        _need(where, _is_int(s) and 100 <= s <= 599, f"bad expect_some_status {s!r}")
        _need(where, n >= 2, "expect_some_status needs n >= 2")
        others = set(r) & REQUEST_EXPECT_KEYS - {"expect_some_status"}
        _need(where, not others, f"expect_some_status with other expectations {sorted(others)}")


def _check_request_values(where: str, r: dict[str, Any], requires: set[str]) -> None:
    scheme = r.get("scheme", "http")
    _need(where, scheme in ("http", "https"), f"bad scheme {scheme!r}")
    hv = str(r.get("http_version", "1.1"))
    _need(where, hv in ("1.0", "1.1", "2"), f"bad http_version {hv!r}")
    _need(where, hv != "2" or scheme == "https", "http_version 2 needs scheme https")
    _need(where, hv != "1.0" or "http10" in requires,
          "http_version 1.0 used without requires: [http10]")
    for k in ("tls_min_version", "tls_max_version"):
        _need(where, k not in r or str(r[k]) in _TLS_VERSIONS, f"bad {k} {r.get(k)!r}")
    for k, cap in KEY_CAPABILITY.items():
        _need(where, k not in r or cap in requires, f"{k} used without requires: [{cap}]")
    for k in ("backend_delay", "expect_min_elapsed", "expect_max_elapsed"):
        if k in r:
            parse_duration(r[k])
    if "method" in r:
        _need(where, isinstance(r["method"], str) and bool(_TOKEN_RE.match(r["method"])),
              f"bad method {r['method']!r}")
    if "headers" in r:
        check_headers(where, r["headers"])


def _check_expectation_values(where: str, r: dict[str, Any]) -> None:
    if "expect_backend" in r:
        parse_backend_id(r["expect_backend"])
    if "expect_status" in r:
        s = r["expect_status"]
        _need(where, _is_int(s) and 100 <= s <= 599, f"bad expect_status {s!r}")
    if "expect_body" in r:
        _need(where, isinstance(r["expect_body"], str),
              f"expect_body must be a string, got {r['expect_body']!r}")
    for k in ("expect_header", "expect_header_seen_by_backend"):
        if k in r:
            _need(where, isinstance(r[k], dict), f"{k} must be a mapping")
            for v in r[k].values():
                if v is not None:
                    try:
                        re.compile(str(v))
                    except re.error as e:
                        raise ScenarioError(f"{where}: {k}: bad regex {v!r}: {e}") from e


def check_request(where: str, r: Any, requires: set[str]) -> None:
    """One request entry (of `expect.requests` or a `requests` step)."""
    _need(where, isinstance(r, dict), f"request must be a mapping, got {r!r}")
    unknown = set(r) - REQUEST_INPUT_KEYS - REQUEST_EXPECT_KEYS
    _need(where, not unknown, f"unknown request keys {sorted(unknown)}")
    _need(where, "host" in r, "request without host")
    _need(where, bool(set(r) & REQUEST_EXPECT_KEYS), "request without any expectation")
    _check_request_values(where, r, requires)
    _check_expectation_values(where, r)
    _check_repeated(where, r)


# ---------------------------------------------------------------- statuses


def _check_subconditions(where: str, key: str, v: Any) -> None:
    _need(where, isinstance(v, list) and bool(v), f"{key} must be a non-empty list")
    for e in v:
        _need(where, isinstance(e, dict) and not set(e) - SUBCONDITION_KEYS and "type" in e,
              f"{key} entry {e!r}: keys {sorted(SUBCONDITION_KEYS)}, type required")
        _need(where, all(isinstance(x, str) and x for x in e.values()),
              f"{key} entry {e!r}: values must be non-empty strings")


def _check_condition_keys(where: str, s: dict[str, Any]) -> None:
    keys = set(s) & CONDITION_KEYS
    _need(where, not keys or s["kind"] == "HTTPProxy",
          f"{sorted(keys)} are HTTPProxy status keys, not {s['kind']}")
    _need(where, "valid" not in s or isinstance(s["valid"], bool),
          f"valid must be true/false, got {s.get('valid')!r}")
    _need(where, "reason" not in s or (isinstance(s["reason"], str) and bool(s["reason"])),
          f"reason must be a non-empty string, got {s.get('reason')!r}")
    _need(where, "no_errors" not in s or s["no_errors"] is True, "no_errors must be true")
    _need(where, not {"no_errors", "errors_contain"} <= keys,
          "no_errors contradicts errors_contain")
    for key in ("errors_contain", "warnings_contain"):
        if key in s:
            _check_subconditions(where, key, s[key])


def check_status(where: str, s: Any) -> None:
    """One status entry (of `expect.status` or a `status` step)."""
    _need(where, isinstance(s, dict) and not set(s) - STATUS_KEYS
          and {"kind", "namespace", "name"} <= set(s),
          f"bad status entry {s!r} (keys {sorted(STATUS_KEYS)})")
    _need(where, s["kind"] in STATUS_KINDS, f"status kind must be one of "
          f"{sorted(STATUS_KINDS)}, got {s['kind']!r}")
    _need(where, all(isinstance(s[k], str) and s[k] for k in ("namespace", "name")),
          f"namespace and name must be non-empty strings in {s!r}")
    _need(where, bool(set(s) & (STATUS_BASE_KEYS | CONDITION_KEYS)),
          f"status entry without expectation {s!r}")
    _need(where, "currentStatus" not in s or s["currentStatus"] in CURRENT_STATUSES,
          f"currentStatus must be one of {sorted(CURRENT_STATUSES)}, got "
          f"{s.get('currentStatus')!r}")
    _need(where, "description_contains" not in s or isinstance(s["description_contains"], str),
          "description_contains must be a string")
    _check_condition_keys(where, s)


# ---------------------------------------------------------------- backend observations


def check_observed(where: str, o: Any) -> None:
    """One `expect.backend_observed` entry."""
    _need(where, isinstance(o, dict) and not set(o) - OBSERVED_KEYS and "backend" in o,
          f"bad entry {o!r} (keys {sorted(OBSERVED_KEYS)}, backend required)")
    parse_backend_id(o["backend"])
    if "within" in o:
        parse_duration(o["within"])
    _need(where, "from_client" not in o or isinstance(o["from_client"], bool),
          f"from_client must be true/false, got {o.get('from_client')!r}")
