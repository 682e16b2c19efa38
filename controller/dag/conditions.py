"""HTTPProxy match conditions (v1.33 internal/dag/conditions.go): merging an include chain's
conditions with a route's, and the validity rules with their exact error texts.

Conditions come in as `MatchConditionView`s, parents' first. A path merge concatenates
every prefix/exact/regex in order, collapses runs of '/', and the last path condition
decides the kind (any regex makes it a regex). Header and query conditions are ANDed:
they are simply collected (sorted, so that equal sets compare equal).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from controller.dag.ingress import re2_compatible
from controller.dag.model import HeaderMatch, QueryMatch
from controller.k8s.httpproxy_parts import HeaderConditionView, MatchConditionView

PREFIX, EXACT, REGEX = "prefix", "exact", "regex"
PathMatch = tuple[str, str]
"""(kind, path): kind is PREFIX, EXACT or REGEX."""

_SLASHES = re.compile(r"//+")
_GO_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
SINGLE_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?"
IGNORE_PORT = "(:[0-9]+)?"


def merge_path(conds: Sequence[MatchConditionView]) -> PathMatch:
    """v1.33 mergePathMatchConditions: no path at all is prefix '/'."""
    merged, is_regex = "", False
    for c in conds:
        part = c.prefix or c.exact or c.regex
        merged += part
        is_regex = is_regex or (not c.prefix and not c.exact and bool(c.regex))
    merged = _SLASHES.sub("/", merged)
    if not merged:
        return PREFIX, "/"
    if is_regex:
        return REGEX, merged
    last = conds[-1]
    return (EXACT if not last.prefix and last.exact else PREFIX), merged


def path_error(conds: Sequence[MatchConditionView]) -> str | None:
    """v1.33 pathMatchConditionsValid: each path starts with '/', a regex compiles, and a
    block names at most one path."""
    count = 0
    for c in conds:
        for kind, value in ((PREFIX, c.prefix), (EXACT, c.exact), (REGEX, c.regex)):
            if not value:
                continue
            count += 1
            if not value.startswith("/"):
                return f"{kind} conditions must start with /, {value} was supplied"
            if kind == REGEX and not re2_compatible(value):
                return f"supplied regex: {value} invalid. error: not a valid RE2 expression"
    if count > 1:
        return "more than one prefix, exact or regex is not allowed in a condition block"
    return None


def include_error(conds: Sequence[MatchConditionView]) -> str | None:
    """v1.33 includeMatchConditionsValid: includes take prefixes only."""
    for c in conds:
        if c.exact:
            return "exact conditions are not allowed in includes block"
        if c.regex:
            return "regex conditions are not allowed in includes block"
    return None


# -- headers -----------------------------------------------------------------------------------


def _header_match(h: HeaderConditionView) -> HeaderMatch | None:
    if h.present:
        return HeaderMatch(h.name, "present")
    if h.notpresent:
        return HeaderMatch(h.name, "notpresent")
    for op, value in (("contains", h.contains), ("notcontains", h.notcontains),
                      ("exact", h.exact), ("notexact", h.notexact)):
        if value:
            missing = h.treat_missing_as_empty and op.startswith("not")
            return HeaderMatch(h.name, op, value, h.ignore_case, missing)
    if h.regex:
        return HeaderMatch(h.name, "regex", h.regex)
    return None


def merge_headers(conds: Sequence[MatchConditionView]) -> tuple[HeaderMatch, ...]:
    out = (_header_match(c.header) for c in conds if c.header is not None)
    return tuple(sorted(m for m in out if m is not None))


_CONTRADICTION = ("cannot specify contradictory '{0}' and 'not{0}' conditions for the same route "
                  "and header")


def header_error(conds: Sequence[MatchConditionView]) -> str | None:
    """v1.33 headerMatchConditionsValid: names compare case-insensitively; a contradiction
    is found only against an earlier opposite condition without ignoreCase and
    treatMissingAsEmpty (v1.33 looks up the bare struct)."""
    seen: set[tuple[str, str, str, bool, bool]] = set()
    exact_names: set[str] = set()
    for c in conds:
        m = _header_match(c.header) if c.header is not None else None
        if m is None:
            continue
        name = m.name.lower()
        if m.op == "regex" and not re2_compatible(m.value):
            return "invalid regular expression specified for 'regex' condition"
        if m.op == "exact":
            if name in exact_names:
                return "cannot specify duplicate header 'exact match' conditions in the same route"
            exact_names.add(name)
        if m.op != "regex" and (name, _opposite(m.op), m.value, False, False) in seen:
            return _CONTRADICTION.format(m.op.removeprefix("not"))
        seen.add((name, m.op, m.value, m.ignore_case, m.treat_missing_as_empty))
    return None


def _opposite(op: str) -> str:
    return op.removeprefix("not") if op.startswith("not") else "not" + op


# -- query parameters --------------------------------------------------------------------------


def _query_values(c: MatchConditionView) -> list[tuple[str, str]]:
    q = c.query
    assert q is not None
    found = [(op, v) for op, v in (("exact", q.exact), ("prefix", q.prefix), ("suffix", q.suffix),
                                   ("regex", q.regex), ("contains", q.contains)) if v]
    return found + ([("present", "")] if q.present else [])


def merge_query(conds: Sequence[MatchConditionView]) -> tuple[QueryMatch, ...]:
    out = []
    for c in conds:
        if c.query is None or not _query_values(c):
            continue
        op, value = _query_values(c)[0]
        ignore = c.query.ignore_case and op not in ("regex", "present")
        out.append(QueryMatch(c.query.name, op, value, ignore))
    return tuple(sorted(out))


def query_error(conds: Sequence[MatchConditionView]) -> str | None:
    """v1.33 queryParameterMatchConditionsValid."""
    exact_names: set[str] = set()
    for c in conds:
        if c.query is None:
            continue
        values = _query_values(c)
        if not values:
            return "must specify at least one query parameter condition"
        if len(values) > 1:
            return "cannot specify more than one condition in the same match condition branch"
        op, value = values[0]
        if op == "exact":
            if c.query.name.lower() in exact_names:
                return ("cannot specify duplicate query parameter 'exact match' conditions in "
                        "the same route")
            exact_names.add(c.query.name.lower())
        if op == "regex" and not re2_compatible(value):
            return "invalid regular expression specified for 'regex' condition"
    return None


# -- includes and wildcard hosts ----------------------------------------------------------------

SeenIncludes = set[tuple[str, tuple[HeaderMatch, ...], tuple[QueryMatch, ...]]]


def include_duplicate(conds: Sequence[MatchConditionView], seen: SeenIncludes) -> bool:
    """v1.33 includeMatchConditionsIdentical: True when an earlier include of the same proxy
    had the same prefix, headers and query conditions (a bare '/' never conflicts); records
    the include otherwise."""
    kind, path = merge_path(conds)
    if kind != PREFIX:
        return True
    entry = (path, merge_headers(conds), merge_query(conds))
    if path == "/" and not entry[1] and not entry[2]:
        return False
    if entry in seen:
        return True
    seen.add(entry)
    return False


def wildcard_host_match(fqdn: str) -> HeaderMatch:
    """For `*.example.com`: Envoy's wildcard domains match several labels, v1.33 limits the
    match to one label with an :authority regex (port ignored)."""
    return HeaderMatch(":authority", "regex", SINGLE_LABEL + _GO_META.sub(r"\\\1", fqdn[1:])
                       + IGNORE_PORT)
