"""Whether what the harness saw meets a scenario entry: pure functions, no I/O.

Each `check_*` takes an entry (already validated by schema.py) and an observation -
a client Response, the n Responses of a repeated entry, a status row, or the requests
a backend logged - and returns every way the observation differs from the entry (an
empty list: the entry holds), so a failure report can say exactly what did not match.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .backends import ATTEMPT_HEADER, ObservedRequest
from .client import Response
from .schema import parse_duration

# ---------------------------------------------------------------- one response


def _check_transport(spec: dict[str, Any], resp: Response) -> tuple[list[str], bool]:
    """TLS and connection outcome: (mismatches, whether the HTTP checks still apply)."""
    if "expect_tls_failure" in spec:
        want = bool(spec["expect_tls_failure"])
        m = [] if want == resp.tls_failed else [
            "TLS handshake: expected to fail" if want else "TLS handshake: expected to complete"]
        if want:
            return m, False
    if resp.tls_failed:
        return [f"TLS handshake did not complete ({resp.error})"], False
    if resp.status is None:
        if spec.get("expect_websocket") is False:
            return [], False  # a closed connection is also "no 101"
        return [f"no HTTP response ({resp.error})"], False
    return [], True


def _check_status_and_backend(spec: dict[str, Any], resp: Response) -> list[str]:
    m = []
    if "expect_status" in spec and resp.status != int(spec["expect_status"]):
        m.append(f"status: expected {spec['expect_status']}, got {resp.status}")
    if "expect_backend" in spec:
        want_status = 101 if spec.get("websocket") else 200
        if "expect_status" not in spec and resp.status != want_status:
            m.append(f"status: expected {want_status} from {spec['expect_backend']}, "
                     f"got {resp.status}")
        if resp.backend != spec["expect_backend"]:
            m.append(f"backend: expected {spec['expect_backend']}, got {resp.backend}")
    if "expect_websocket" in spec:
        if spec["expect_websocket"]:
            if resp.status != 101:
                m.append(f"websocket: expected 101, got {resp.status}")
            elif not resp.websocket_echo:
                m.append(f"websocket: 101 but no echo through Envoy ({resp.error})")
        elif resp.status == 101:
            m.append("websocket: expected no 101, got 101 Switching Protocols")
    return m


def _check_response_headers(spec: dict[str, Any], resp: Response) -> list[str]:
    m = []
    if "expect_location" in spec and resp.header("location") != spec["expect_location"]:
        m.append(f"Location: expected {spec['expect_location']!r}, got {resp.header('location')!r}")
    for name, rx in (spec.get("expect_header") or {}).items():
        vals = resp.header_all(name)
        if rx is None:
            if vals:
                m.append(f"header {name}: expected absent, got {vals}")
        elif not any(re.search(str(rx), v) for v in vals):
            m.append(f"header {name}: expected to match {rx!r}, got {vals}")
    return m


def _check_seen_by_backend(spec: dict[str, Any], resp: Response) -> list[str]:
    """What the backend echoed about the request it received (headers, path)."""
    if "expect_header_seen_by_backend" not in spec and "expect_path_seen_by_backend" not in spec:
        return []
    seen = resp.json()
    if seen is None or "backend" not in seen:
        return ["seen by backend: no backend echo in the response body"]
    m = []
    for name, rx in (spec.get("expect_header_seen_by_backend") or {}).items():
        v = (seen.get("headers") or {}).get(name.lower())
        if rx is None:
            if v is not None:
                m.append(f"header {name} seen by backend: expected absent, got {v!r}")
        elif v is None or not re.search(str(rx), v):
            m.append(f"header {name} seen by backend: expected to match {rx!r}, got {v!r}")
    want_path = spec.get("expect_path_seen_by_backend")
    if want_path is not None and seen.get("path") != want_path:
        m.append(f"path seen by backend: expected {want_path!r}, got {seen.get('path')!r}")
    return m


def _check_body_cert_timing(spec: dict[str, Any], resp: Response) -> list[str]:
    m = []
    if "expect_body" in spec:
        body = resp.body.decode("utf-8", "replace")
        if body != spec["expect_body"]:
            m.append(f"body: expected {spec['expect_body']!r}, got {body[:300]!r}")
    if "expect_cert_cn" in spec and resp.cert_cn != spec["expect_cert_cn"]:
        m.append(f"certificate CN: expected {spec['expect_cert_cn']!r}, got {resp.cert_cn!r}")
    if "expect_min_elapsed" in spec and resp.elapsed < parse_duration(spec["expect_min_elapsed"]):
        m.append(f"elapsed {resp.elapsed:.3f}s < minimum {spec['expect_min_elapsed']}")
    if "expect_max_elapsed" in spec and resp.elapsed > parse_duration(spec["expect_max_elapsed"]):
        m.append(f"elapsed {resp.elapsed:.3f}s > maximum {spec['expect_max_elapsed']}")
    return m


def check_response(spec: dict[str, Any], resp: Response) -> list[str]:
    """Every way `resp` differs from the single-response expectations in `spec`."""
    m, go_on = _check_transport(spec, resp)
    if not go_on:
        return m
    return (m + _check_status_and_backend(spec, resp) + _check_response_headers(spec, resp)
            + _check_seen_by_backend(spec, resp) + _check_body_cert_timing(spec, resp))


# ---------------------------------------------------------------- n responses


def repeated_problem(spec: dict[str, Any], resp: Response, first: str | None) -> str | None:
    """Why this one of an entry's n responses already fails it (None: keep going).

    `first` is the backend of the entry's first response. expect_split and
    expect_same_backend want every response to be a 200 (from a listed backend, from
    the first response's backend) that meets the entry's other expectations;
    expect_some_status (which has no others) is decided only by all n.
    """
    if "expect_some_status" in spec:
        return None
    single = check_response(spec, resp)  # expectations every one of the n must meet
    if single:
        return "; ".join(single)
    if resp.status != 200:
        return f"every response must be a 200 from a backend; got {resp.summary()}"
    split = spec.get("expect_split")
    if split is not None and resp.backend not in {str(k) for k in split}:
        return f"every response must come from one of {sorted(split)}; got {resp.backend}"
    if spec.get("expect_same_backend") and first is not None and resp.backend != first:
        return f"every response must come from {first} (the first one's); got {resp.backend}"
    return None


def _split_verdict(spec: dict[str, Any], counts: Counter[str], n: int) -> tuple[str, list[str]]:
    want = {str(k): float(v) for k, v in spec["expect_split"].items()}
    tol = float(spec.get("tolerance", 0.0))
    fr = {k: counts[k] / n for k in want}
    mism = [f"{k}: fraction {fr[k]:.3f} not within {tol} of {ratio}"
            for k, ratio in want.items() if abs(fr[k] - ratio) > tol + 1e-9]
    return "split over " + ", ".join(f"{k}={counts[k]} ({fr[k]:.3f})" for k in want), mism


def check_repeated(spec: dict[str, Any], responses: list[Response]) -> tuple[str, list[str]]:
    """(what was seen, mismatches) for an entry with `n` over the responses it got; fewer
    than n responses means the runner stopped at the first repeated_problem."""
    n = int(spec["n"])
    first = responses[0].backend if responses else None
    for i, resp in enumerate(responses):
        problem = repeated_problem(spec, resp, first)
        if problem is not None:
            return f"response {i + 1}/{n}: {resp.summary()}", [problem]
    if len(responses) < n:
        return f"{len(responses)}/{n} responses", [f"only {len(responses)} of {n} responses"]
    if "expect_some_status" in spec:
        want = int(spec["expect_some_status"])
        statuses = [r.status for r in responses]
        return (f"statuses {statuses}",
                [] if want in statuses else [f"none of {n} responses has status {want}"])
    counts = Counter(str(r.backend) for r in responses)
    if "expect_split" in spec:
        return _split_verdict(spec, counts, n)
    return f"all {n} from {first}", []


# ---------------------------------------------------------------- statuses


def status_summary(row: dict[str, Any]) -> str:
    """A status row as a failure report shows it."""
    out = f"currentStatus={row.get('currentStatus')!r} description={row.get('description')!r}"
    if "conditions" in row:
        out += f" conditions={row['conditions']!r}"
    return out


def _subcondition_mismatches(key: str, wants: list[dict[str, str]],
                             have: Any) -> list[str]:
    entries = [e for e in have if isinstance(e, dict)] if isinstance(have, list) else []
    m = []
    for w in wants:
        if not any(e.get("type") == w["type"]
                   and ("reason" not in w or e.get("reason") == w["reason"])
                   and str(w.get("message_contains", "")) in str(e.get("message", ""))
                   for e in entries):
            m.append(f"{key}: no entry matches {w} (have {entries})")
    return m


def _valid_condition(row: dict[str, Any]) -> dict[str, Any] | None:
    conds = row.get("conditions")
    if not isinstance(conds, list):
        return None
    return next((c for c in conds if isinstance(c, dict) and c.get("type") == "Valid"), None)


def _check_conditions(spec: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """The HTTPProxy keys, all about the row's `Valid` condition."""
    cond = _valid_condition(row)
    if cond is None:
        return [f"no Valid condition in conditions {row.get('conditions')!r}"]
    m = []
    if "valid" in spec:
        want = "True" if spec["valid"] else "False"
        if cond.get("status") != want:
            m.append(f"Valid condition status: expected {want!r}, got {cond.get('status')!r}")
    if "reason" in spec and cond.get("reason") != spec["reason"]:
        m.append(f"Valid condition reason: expected {spec['reason']!r}, "
                 f"got {cond.get('reason')!r}")
    if spec.get("no_errors") and cond.get("errors"):
        m.append(f"errors: expected none, got {cond['errors']!r}")
    for key, field in (("errors_contain", "errors"), ("warnings_contain", "warnings")):
        if key in spec:
            m += _subcondition_mismatches(key, spec[key], cond.get(field) or [])
    return m


def check_status_row(spec: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """Every way a status row (/debug/status shape) differs from a status entry."""
    m = []
    if "currentStatus" in spec and row.get("currentStatus") != spec["currentStatus"]:
        m.append(f"currentStatus: expected {spec['currentStatus']!r}, "
                 f"got {row.get('currentStatus')!r}")
    if "description_contains" in spec and \
            str(spec["description_contains"]) not in str(row.get("description", "")):
        m.append(f"description: expected to contain {spec['description_contains']!r}, "
                 f"got {row.get('description')!r}")
    if set(spec) & {"valid", "reason", "errors_contain", "warnings_contain", "no_errors"}:
        m += _check_conditions(spec, row)
    return m


# ---------------------------------------------------------------- backend observations


def observed_matches(spec: dict[str, Any], r: ObservedRequest) -> bool:
    """Whether a request a backend logged is what a backend_observed entry looks for:
    Envoy's own request (no client attempt id), or with from_client a copy of a client
    request (it carries one), with the entry's path and Host when given."""
    from_client = ATTEMPT_HEADER in r.headers
    return (from_client == bool(spec.get("from_client", False))
            and ("path" not in spec or r.path == spec["path"])
            and ("host" not in spec or r.host == spec["host"]))


def check_observed(spec: dict[str, Any],
                   requests: Iterable[ObservedRequest]) -> tuple[str, list[str]]:
    """(what was seen, mismatches) for a backend_observed entry over a backend's log."""
    reqs = list(requests)
    for r in reqs:
        if observed_matches(spec, r):
            return f"seen: {r.method} {r.path} Host={r.host}", []
    distinct = sorted({(r.path, r.host, ATTEMPT_HEADER in r.headers) for r in reqs})[:15]
    who = "a copy of a client request" if spec.get("from_client") else "a request of Envoy's own"
    return (f"{len(reqs)} requests, none matching; distinct (path, host, from client): "
            f"{distinct}",
            [f"no {who} with path={spec.get('path')!r} host={spec.get('host')!r}"])
