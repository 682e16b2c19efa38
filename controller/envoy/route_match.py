"""RouteMatch constructors: the path (prefix, exact, regex), header and query parameter
matchers of a route (upstream v1.33 internal/envoy/v3/route.go RouteMatch)."""

from __future__ import annotations

from controller.dag import model
from controller.envoy import pb

# HTTPProxy's negative header ops are Envoy's positive matcher with invert_match.
_INVERTED = {"notpresent": "present", "notexact": "exact", "notcontains": "contains"}


def route_match(route: model.Route) -> pb.RouteMatch:
    """The path specifier (`path` for exact, RE2 `safe_regex`, `path_separated_prefix`
    for a segment prefix, or `prefix`), then the
    header and query parameter matchers in the route's (sorted) order."""
    return set_route_match(pb.RouteMatch(), route)


def set_route_match(match: pb.RouteMatch, route: model.Route) -> pb.RouteMatch:
    """`route_match()` written into `match`, an empty RouteMatch (a Route's, in place:
    perf, no copy of a finished match into its route); returns it."""
    if route.exact:
        match.path = route.match
    elif route.regex:
        match.safe_regex.regex = route.match
    elif route.segment_prefix and route.match != "/":
        match.path_separated_prefix = route.match.rstrip("/")
    else:
        match.prefix = route.match
    if route.headers:
        match.headers.extend(header_matcher(h) for h in route.headers)
    if route.query_params:
        match.query_parameters.extend(query_matcher(q) for q in route.query_params)
    return match


def string_matcher(op: str, value: str, ignore_case: bool) -> pb.StringMatcher:
    """A StringMatcher for `op` (exact, prefix, suffix, contains, regex); a regex ignores
    `ignore_case` (Envoy refuses the pair)."""
    if op == "regex":
        return pb.StringMatcher(safe_regex=pb.RegexMatcher(regex=value))
    matcher = pb.StringMatcher(ignore_case=ignore_case)
    setattr(matcher, op, value)
    return matcher


def header_matcher(h: model.HeaderMatch) -> pb.HeaderMatcher:
    """One header condition. treat_missing_header_as_empty only applies to an inverted
    match, as upstream sets it."""
    op = _INVERTED.get(h.op, h.op)
    invert = op != h.op
    out = pb.HeaderMatcher(
        name=h.name,
        invert_match=invert,
        treat_missing_header_as_empty=invert and h.treat_missing_as_empty,
    )
    if op == "present":
        out.present_match = True
    else:
        out.string_match.CopyFrom(string_matcher(op, h.value, h.ignore_case))
    return out


def query_matcher(q: model.QueryMatch) -> pb.QueryParameterMatcher:
    """One query parameter condition: present, or a string match."""
    out = pb.QueryParameterMatcher(name=q.name)
    if q.op == "present":
        out.present_match = True
    else:
        out.string_match.CopyFrom(string_matcher(q.op, q.value, q.ignore_case))
    return out
