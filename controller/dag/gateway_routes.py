"""HTTPRoute rules → DAG routes (one per match), and the backend references they resolve.

In: one rule's view, the route's namespace and key, and the store's reads. Out: the
routes (without host: the processor puts them on each host the route attaches to) and the
ResolvedRefs problems found, as (reason, message) pairs with the spec's reasons.

Gateway API semantics kept here, once:
- PathPrefix matches whole segments (Route.segment_prefix); Exact and RegularExpression
  are Envoy's path and safe_regex; a method match is a `:method` header match;
- a rule whose backends are all invalid, missing or of weight 0, and that does not
  redirect, answers 500 (the spec's "MUST return 500"); invalid backends among valid ones
  are left out (a deviation: the spec wants their share of requests to get 500s);
- URLRewrite ReplacePrefixMatch to `/` uses a regex rewrite, as v1.33 does, since Envoy's
  prefix_rewrite would leave `//rest`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from controller.dag.ingress import re2_compatible
from controller.dag.model import (
    Cluster,
    DirectResponse,
    HeaderMatch,
    HeadersPolicy,
    Provenance,
    QueryMatch,
    Redirect,
    Route,
    ServicePort,
    Timeout,
)
from controller.k8s.gateway_route_views import (
    FilterView,
    HeaderFilterView,
    HTTPMatchView,
    HTTPRuleView,
    ValueMatch,
)
from controller.k8s.gateway_views import ObjectRef
from controller.k8s.objects import Key

SUPPORTED_FILTERS = frozenset({"RequestHeaderModifier", "ResponseHeaderModifier",
                               "RequestRedirect", "URLRewrite", "RequestMirror"})
_DURATION = re.compile(r"(\d+)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}

Problem = tuple[str, str]  # (reason, message)
ServiceLookup = Callable[[ObjectRef], tuple[ServicePort | None, Problem | None]]


@dataclass(slots=True)
class RuleRoutes:
    routes: list[Route] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    """What the rule asks for that cannot be served: filter types this controller does not
    implement, regexes RE2 refuses (Accepted False UnsupportedValue)."""


def gateway_duration(text: str) -> float | None:
    """A Gateway API duration (`1h2m3s4ms`) in seconds; "0s" is Timeout.INFINITE."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    return seconds if seconds > 0 else Timeout.INFINITE


def headers_policy(f: HeaderFilterView | None, host_rewrite: str = "") -> HeadersPolicy | None:
    if f is None and not host_rewrite:
        return None
    f = f or HeaderFilterView()
    remove = tuple(sorted(r.lower() for r in f.remove))
    return HeadersPolicy(set=tuple(sorted(f.set)), remove=remove, host_rewrite=host_rewrite,
                         add=tuple(sorted(f.add)))


def _value_match(m: ValueMatch) -> tuple[str, str, str]:
    return (m.name, "regex" if m.type == "RegularExpression" else "exact", m.value)


def match_route(match: HTTPMatchView) -> Route:
    """The path and conditions of one match (no action yet)."""
    headers = tuple(sorted(HeaderMatch(n.lower(), op, v)
                           for n, op, v in map(_value_match, match.headers)))
    if match.method:
        headers = tuple(sorted((*headers, HeaderMatch(":method", "exact", match.method))))
    query = tuple(sorted(QueryMatch(*_value_match(q)) for q in match.query))
    return Route(match.path, exact=match.path_type == "Exact",
                 regex=match.path_type == "RegularExpression",
                 segment_prefix=match.path_type == "PathPrefix", headers=headers,
                 query_params=query)


def _regexes(match: HTTPMatchView) -> list[str]:
    """The RE2 expressions of a match: its path and header/query values."""
    found = [match.path] if match.path_type == "RegularExpression" else []
    return found + [m.value for m in (*match.headers, *match.query)
                    if m.type == "RegularExpression"]


def _filter(filters: tuple[FilterView, ...], kind: str) -> FilterView | None:
    return next((f for f in filters if f.type == kind), None)


def _redirect(f: FilterView) -> Redirect:
    r = f.redirect
    assert r is not None
    path = r.path
    return Redirect(scheme=r.scheme, hostname=r.hostname, port=r.port or 0,
                    path=path.value if path and path.type == "ReplaceFullPath" else "",
                    prefix=path.value if path and path.type == "ReplacePrefixMatch" else "",
                    status_code=r.status_code)


def _rewrites(f: FilterView | None, route: Route) -> dict[str, Any]:
    """Route fields of a URLRewrite filter's path part."""
    path = f.rewrite.path if f is not None and f.rewrite is not None else None
    if path is None:
        return {}
    if path.type == "ReplaceFullPath":
        return {"regex_rewrite": ("^/.*$", path.value)}
    if path.value == "/" and route.match != "/":
        return {"regex_rewrite": (f"^{re.escape(route.match.rstrip('/'))}/*", "/")}
    return {"replace_prefix": ((route.match, path.value),)}


def rule_routes(rule: HTTPRuleView, kind: str, key: Key, service: ServiceLookup) -> RuleRoutes:
    """One route per match of `rule` of the HTTPRoute (or GRPCRoute) `key`."""
    out = RuleRoutes(unsupported=_unsupported(rule))
    clusters = _clusters(rule, service, out)
    mirrors = _mirrors(rule, service, out)
    redirect = _filter(rule.filters, "RequestRedirect")
    rewrite = _filter(rule.filters, "URLRewrite")
    req = _filter(rule.filters, "RequestHeaderModifier")
    resp = _filter(rule.filters, "ResponseHeaderModifier")
    host = rewrite.rewrite.hostname if rewrite is not None and rewrite.rewrite else ""
    common: dict[str, Any] = {
        "request_headers": headers_policy(req.request_headers if req else None, host),
        "response_headers": headers_policy(resp.response_headers if resp else None),
        "provenance": Provenance(kind, (key,)),
    }
    timeout = gateway_duration(rule.request_timeout or rule.backend_timeout)
    for match in rule.matches:
        base = match_route(match)
        action: dict[str, Any]
        if redirect is not None:
            action = {"redirect": _redirect(redirect)}
        elif clusters:
            action = {"clusters": clusters, "mirrors": mirrors, "timeout": timeout,
                      **_rewrites(rewrite, base)}
        else:
            action = {"direct_response": DirectResponse(500)}
        out.routes.append(replace(base, **common, **action))
    return out


def _unsupported(rule: HTTPRuleView) -> list[str]:
    """Filter types not implemented, and regexes RE2 refuses (Envoy would refuse the
    whole virtual host)."""
    filters = [f"filter {t}" for t in sorted({f.type for f in rule.filters} - SUPPORTED_FILTERS)]
    return filters + [f"regular expression {r!r}" for m in rule.matches for r in _regexes(m)
                      if not re2_compatible(r)]


def _clusters(rule: HTTPRuleView, service: ServiceLookup, out: RuleRoutes) -> tuple[Cluster, ...]:
    clusters = []
    for backend in rule.backends:
        port, problem = service(backend.ref)
        if problem is not None:
            out.problems.append(problem)
        if port is None or backend.ref.weight <= 0:
            continue
        req = _filter(backend.filters, "RequestHeaderModifier")
        resp = _filter(backend.filters, "ResponseHeaderModifier")
        clusters.append(Cluster(
            port, weight=backend.ref.weight,
            request_headers=headers_policy(req.request_headers if req else None),
            response_headers=headers_policy(resp.response_headers if resp else None)))
    return tuple(clusters)


def _mirrors(rule: HTTPRuleView, service: ServiceLookup, out: RuleRoutes) -> tuple[Cluster, ...]:
    mirrors = []
    for f in rule.filters:
        if f.mirror is None:
            continue
        port, problem = service(f.mirror)
        if problem is not None:
            out.problems.append(problem)
        if port is not None and f.mirror_percent > 0:  # Cluster weight 0 mirrors 100%
            mirrors.append(Cluster(port, weight=f.mirror_percent))
    return tuple(mirrors)
