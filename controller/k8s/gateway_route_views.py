"""Typed views of HTTPRoute, GRPCRoute and TLSRoute (gateway.networking.k8s.io/v1, v1.6.3's
shape).

As in gateway_views.py, parsers never raise and fill in the CRD defaults: a rule without
matches matches `PathPrefix /`, a path match without type is `PathPrefix`, header and
query matches without type are `Exact`, a redirect's status code is 302.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from controller.k8s.gateway_views import ObjectRef, backend_ref, created_of, parent_refs
from controller.k8s.objects import Key, as_dict, as_int, as_list, as_str, key_of


@dataclass(frozen=True, slots=True)
class ValueMatch:
    """A header or query parameter match: `type` Exact | RegularExpression."""

    name: str
    value: str
    type: str = "Exact"


@dataclass(frozen=True, slots=True)
class HTTPMatchView:
    path_type: str = "PathPrefix"  # Exact | PathPrefix | RegularExpression
    path: str = "/"
    headers: tuple[ValueMatch, ...] = ()
    query: tuple[ValueMatch, ...] = ()
    method: str = ""


@dataclass(frozen=True, slots=True)
class HeaderFilterView:
    set: tuple[tuple[str, str], ...] = ()
    add: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PathModifier:
    type: str  # ReplaceFullPath | ReplacePrefixMatch
    value: str


@dataclass(frozen=True, slots=True)
class RedirectView:
    scheme: str = ""
    hostname: str = ""
    path: PathModifier | None = None
    port: int | None = None
    status_code: int = 302


@dataclass(frozen=True, slots=True)
class RewriteView:
    hostname: str = ""
    path: PathModifier | None = None


@dataclass(frozen=True, slots=True)
class FilterView:
    """One HTTPRoute filter; only the field its `type` names is set."""

    type: str
    request_headers: HeaderFilterView | None = None
    response_headers: HeaderFilterView | None = None
    redirect: RedirectView | None = None
    rewrite: RewriteView | None = None
    mirror: ObjectRef | None = None
    mirror_percent: int = 100


@dataclass(frozen=True, slots=True)
class HTTPBackendView:
    ref: ObjectRef
    filters: tuple[FilterView, ...] = ()


@dataclass(frozen=True, slots=True)
class HTTPRuleView:
    matches: tuple[HTTPMatchView, ...] = (HTTPMatchView(),)
    filters: tuple[FilterView, ...] = ()
    backends: tuple[HTTPBackendView, ...] = ()
    request_timeout: str = ""
    backend_timeout: str = ""


@dataclass(frozen=True, slots=True)
class RouteView:
    """An HTTPRoute (`rules`) or a TLSRoute (`backends` of its rules, flattened)."""

    kind: str
    key: Key
    parents: tuple[ObjectRef, ...]
    hostnames: tuple[str, ...]
    rules: tuple[HTTPRuleView, ...] = ()
    backends: tuple[ObjectRef, ...] = ()
    created: str = ""


def _value_matches(raw: object) -> tuple[ValueMatch, ...]:
    return tuple(ValueMatch(as_str(m.get("name")), as_str(m.get("value")),
                            as_str(m.get("type")) or "Exact")
                 for m in map(as_dict, as_list(raw)))


def match_view(raw: object) -> HTTPMatchView:
    d = as_dict(raw)
    path = as_dict(d.get("path"))
    return HTTPMatchView(
        path_type=as_str(path.get("type")) or "PathPrefix",
        path=as_str(path.get("value")) or "/",
        headers=_value_matches(d.get("headers")),
        query=_value_matches(d.get("queryParams")),
        method=as_str(d.get("method")),
    )


def _pairs(raw: object) -> tuple[tuple[str, str], ...]:
    return tuple((as_str(h.get("name")), as_str(h.get("value")))
                 for h in map(as_dict, as_list(raw)))


def header_filter(raw: object) -> HeaderFilterView:
    d = as_dict(raw)
    return HeaderFilterView(_pairs(d.get("set")), _pairs(d.get("add")),
                            tuple(as_str(r) for r in as_list(d.get("remove"))))


def _path_modifier(raw: object) -> PathModifier | None:
    d = as_dict(raw)
    if not d:
        return None
    kind = as_str(d.get("type"))
    field = "replaceFullPath" if kind == "ReplaceFullPath" else "replacePrefixMatch"
    return PathModifier(kind, as_str(d.get(field)))


def filter_view(raw: object, holder_ns: str) -> FilterView:
    d = as_dict(raw)
    kind = as_str(d.get("type"))
    out = FilterView(kind)
    if kind == "RequestHeaderModifier":
        out = FilterView(kind, request_headers=header_filter(d.get("requestHeaderModifier")))
    elif kind == "ResponseHeaderModifier":
        out = FilterView(kind, response_headers=header_filter(d.get("responseHeaderModifier")))
    elif kind == "RequestRedirect":
        r = as_dict(d.get("requestRedirect"))
        out = FilterView(kind, redirect=RedirectView(
            as_str(r.get("scheme")), as_str(r.get("hostname")), _path_modifier(r.get("path")),
            as_int(r.get("port")), as_int(r.get("statusCode")) or 302))
    elif kind == "URLRewrite":
        r = as_dict(d.get("urlRewrite"))
        out = FilterView(kind, rewrite=RewriteView(as_str(r.get("hostname")),
                                                   _path_modifier(r.get("path"))))
    elif kind == "RequestMirror":
        m = as_dict(d.get("requestMirror"))
        percent = as_int(m.get("percent"))
        out = FilterView(kind, mirror=backend_ref(m.get("backendRef"), holder_ns),
                         mirror_percent=100 if percent is None else percent)
    return out


def rule_view(raw: object, holder_ns: str) -> HTTPRuleView:
    d = as_dict(raw)
    matches = tuple(match_view(m) for m in as_list(d.get("matches"))) or (HTTPMatchView(),)
    backends = tuple(HTTPBackendView(backend_ref(b, holder_ns), _filters(as_dict(b), holder_ns))
                     for b in as_list(d.get("backendRefs")))
    timeouts = as_dict(d.get("timeouts"))
    return HTTPRuleView(matches, _filters(d, holder_ns), backends,
                        as_str(timeouts.get("request")), as_str(timeouts.get("backendRequest")))


def _filters(holder: dict[str, object], holder_ns: str) -> tuple[FilterView, ...]:
    return tuple(filter_view(f, holder_ns) for f in as_list(holder.get("filters")))


def grpc_match_view(raw: object) -> HTTPMatchView:
    """A GRPCRoute match as the HTTP match of its request path `/service/method` (gRPC's
    path form): both Exact → that path; a service alone → the prefix `/service/`; a method
    alone, or RegularExpression → a regex with `[^/]+` for the part not given."""
    d = as_dict(raw)
    m = as_dict(d.get("method"))
    service, method = as_str(m.get("service")), as_str(m.get("method"))
    headers = _value_matches(d.get("headers"))
    if not service and not method:
        return HTTPMatchView(headers=headers)
    if (as_str(m.get("type")) or "Exact") == "Exact":
        if service and method:
            return HTTPMatchView("Exact", f"/{service}/{method}", headers)
        if service:
            return HTTPMatchView("PathPrefix", f"/{service}/", headers)
        return HTTPMatchView("RegularExpression", f"/[^/]+/{re.escape(method)}", headers)
    return HTTPMatchView("RegularExpression", f"/{service or '[^/]+'}/{method or '[^/]+'}",
                         headers)


def grpc_rule_view(raw: object, holder_ns: str) -> HTTPRuleView:
    """A GRPCRoute rule in the HTTPRoute rule's shape (no redirect or rewrite filters)."""
    d = as_dict(raw)
    matches = tuple(grpc_match_view(m) for m in as_list(d.get("matches"))) or (HTTPMatchView(),)
    backends = tuple(HTTPBackendView(backend_ref(b, holder_ns), _filters(as_dict(b), holder_ns))
                     for b in as_list(d.get("backendRefs")))
    return HTTPRuleView(matches, _filters(d, holder_ns), backends)


def route_view(obj: object) -> RouteView:
    """An HTTPRoute's, GRPCRoute's or TLSRoute's view (kind from the object)."""
    raw = as_dict(obj)
    key = key_of(obj)
    spec = as_dict(raw.get("spec"))
    hostnames = tuple(as_str(h).lower() for h in as_list(spec.get("hostnames")))
    kind = as_str(raw.get("kind"))
    rules = as_list(spec.get("rules"))
    if kind == "TLSRoute":
        backends = tuple(backend_ref(b, key[0]) for r in rules
                         for b in as_list(as_dict(r).get("backendRefs")))
        return RouteView(kind, key, parent_refs(spec, key[0]), hostnames, backends=backends,
                         created=created_of(obj))
    parse = grpc_rule_view if kind == "GRPCRoute" else rule_view
    return RouteView(kind, key, parent_refs(spec, key[0]), hostnames,
                     tuple(parse(r, key[0]) for r in rules), created=created_of(obj))
