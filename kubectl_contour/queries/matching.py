"""Does a DAG route match a request, and if not, which condition failed?

The semantics are Envoy's, for the matchers the translator emits: a path is matched without
its query string (exact: the whole path; prefix: a string prefix; regex: RE2, here Python's
`re`, over the whole path); header conditions as Envoy's HeaderMatcher (a missing header
fails every operator but `notpresent`, unless `treat_missing_as_empty` makes it ""); query
conditions as Envoy's QueryParameterMatcher. All conditions are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl


def split_path(path: str) -> tuple[str, dict[str, str]]:
    """(path without the query, first value of each query parameter)."""
    bare, _, query = path.partition("?")
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(name, value)
    return bare or "/", params


def mismatch(route: Any, path: str, headers: Sequence[tuple[str, str]]) -> str:
    """"" when `route` matches the request, else the first failed condition in words."""
    bare, params = split_path(path)
    why = _path_mismatch(route, bare)
    if why:
        return why
    sent: dict[str, str] = {}
    for name, value in headers:
        sent.setdefault(name.lower(), value)
    for cond in getattr(route, "headers", ()):
        if not header_matches(cond, sent.get(cond.name.lower())):
            return f"header condition failed: {describe_header(cond)}"
    for q in getattr(route, "query_params", ()):
        if not query_matches(q, params.get(q.name)):
            return f"query condition failed: {describe_query(q)}"
    return ""


def _path_mismatch(route: Any, path: str) -> str:
    if route.regex:
        try:
            ok = re.fullmatch(route.match, path) is not None
        except re.error:
            ok = False
        return "" if ok else f"path does not match regex {route.match}"
    if getattr(route, "exact", False):
        return "" if path == route.match else f"path is not exactly {route.match}"
    return "" if path.startswith(route.match) else f"path does not start with {route.match}"


def header_matches(cond: Any, value: str | None) -> bool:
    """Envoy's HeaderMatcher for one condition; `value` None = header not sent."""
    if value is None and cond.treat_missing_as_empty:
        value = ""
    if cond.op == "notpresent":
        return value is None
    if value is None:
        return False
    return _compare(cond.op, value, cond.value, cond.ignore_case)


def query_matches(cond: Any, value: str | None) -> bool:
    if value is None:
        return False
    return cond.op == "present" or _compare(cond.op, value, cond.value, cond.ignore_case)


def _compare(op: str, have: str, want: str, ignore_case: bool) -> bool:
    if op == "regex":
        try:
            return re.fullmatch(want, have) is not None
        except re.error:
            return False
    if ignore_case:
        have, want = have.lower(), want.lower()
    tests = {"present": True, "exact": have == want, "notexact": have != want,
             "contains": want in have, "notcontains": want not in have,
             "prefix": have.startswith(want), "suffix": have.endswith(want)}
    return tests.get(op, False)


def describe_header(cond: Any) -> str:
    text = f"{cond.name} {cond.op}" + (f" {cond.value!r}" if cond.value else "")
    flags = [f for f, on in (("ignoreCase", cond.ignore_case),
                             ("treatMissingAsEmpty", cond.treat_missing_as_empty)) if on]
    return text + (f" ({', '.join(flags)})" if flags else "")


def describe_query(cond: Any) -> str:
    return f"?{cond.name} {cond.op}" + (f" {cond.value!r}" if cond.value else "") + (
        " (ignoreCase)" if cond.ignore_case else "")


def describe_match(route: Any) -> str:
    """The route's conditions in one line: `exact /a`, `prefix /`, `regex /x.*`, plus
    header and query conditions."""
    kind = "regex" if route.regex else "exact" if getattr(route, "exact", False) else "prefix"
    parts = [f"{kind} {route.match}"]
    parts += [f"header {describe_header(h)}" for h in getattr(route, "headers", ())]
    parts += [f"query {describe_query(q)}" for q in getattr(route, "query_params", ())]
    return ", ".join(parts)


def host_matches(pattern: str, host: str) -> bool:
    """Envoy's domain match for one vhost: exact, `*`, or a `*.suffix` wildcard (at least
    one more label)."""
    if pattern in ("*", host):
        return True
    return pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
