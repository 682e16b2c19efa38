"""Gateway API through both builders (dagkit.build_both): GatewayClass and Gateway
selection, listeners, HTTPRoute matching/filters/backends, ReferenceGrants and the
statuses with the spec's reasons."""

from __future__ import annotations

from typing import Any

import pytest

from controller.config import BuilderSettings
from controller.dag.model import HeaderMatch, QueryMatch, Redirect, Timeout
from tests.controller.dag import gwkit as g
from tests.controller.dag.dagkit import build_both, http_vhost, https_vhost, secret, service

BASE = (g.gateway_class(), g.gateway(), service("s1"), service("s2"))


def _route(*rules: Any, **kw: Any) -> dict[str, Any]:
    return g.httproute("r", "default", *(rules or (g.rule(g.backend("s1")),)), **kw)


def test_gateway_class_of_this_controller_is_accepted_others_ignored() -> None:
    dag = build_both(g.gateway_class(), g.gateway_class("other", "example.com/x"))
    assert [s.name for s in dag.gateway_statuses] == ["contour"]
    assert g.conditions(dag.gateway_statuses[0]) == {"Accepted": ("True", "Accepted")}


def test_the_controller_name_is_a_setting() -> None:
    settings = BuilderSettings(gateway_controller_name="example.com/x")
    dag = build_both(g.gateway_class("other", "example.com/x"), settings=settings)
    assert [s.name for s in dag.gateway_statuses] == ["other"]


def test_every_gateway_of_an_accepted_class_is_served() -> None:
    """Static provisioning over one Envoy fleet: both Gateways are Accepted and Programmed,
    a route attached to each is served, and a route naming both has one parent each, in
    its parentRefs order."""
    newer = g.gateway("new", "default", created="2024-06-01T00:00:00Z")
    both = g.httproute("both", "default", g.rule(g.backend("s2")), hostnames=["b.com"],
                       parents=[{"name": "new"}, {"name": "gw"}])
    dag = build_both(*BASE, newer, _route(hostnames=["a.com"]), both)
    gateways = {s.name: g.conditions(s) for s in dag.gateway_statuses if s.kind == "Gateway"}
    assert set(gateways) == {"gw", "new"}
    assert all(c["Accepted"][0] == c["Programmed"][0] == "True" for c in gateways.values())
    assert http_vhost(dag, "a.com") is not None and http_vhost(dag, "b.com") is not None
    (status,) = [s for s in dag.gateway_statuses if s.name == "both"]
    assert [p.parent.name for p in status.parents] == ["new", "gw"]


def test_gateway_ref_names_the_served_gateway() -> None:
    settings = BuilderSettings(gateway_ref=("default", "new"))
    newer = g.gateway("new", "default", created="2024-06-01T00:00:00Z")
    route = g.httproute("r", "default", g.rule(g.backend("s1")), parents=[{"name": "new"}],
                        hostnames=["a.com"])
    dag = build_both(*BASE, newer, route, settings=settings)
    assert http_vhost(dag, "a.com") is not None
    assert ("Gateway", "gw") not in {(s.kind, s.name) for s in dag.gateway_statuses}


def test_a_gateway_of_another_class_is_not_served() -> None:
    dag = build_both(g.gateway_class(), g.gateway(cls="other"), service("s1"), _route())
    assert dag.http == ()
    assert [(s.kind, s.parents) for s in dag.gateway_statuses] == [("GatewayClass", ()),
                                                                   ("HTTPRoute", ())]


@pytest.mark.parametrize("listener, reason", [
    (g.listener(port=8080), ("Accepted", ("False", "PortUnavailable"))),
    (g.listener(protocol="UDP", port=53), ("Accepted", ("False", "UnsupportedProtocol"))),
    (g.listener(protocol="TLS", port=443, tls={"mode": "Terminate"}),
     ("Accepted", ("False", "UnsupportedValue"))),
    (g.listener(allowedRoutes={"kinds": [{"kind": "TLSRoute"}]}),
     ("ResolvedRefs", ("False", "InvalidRouteKinds"))),
    (g.https_listener(secret="missing"), ("ResolvedRefs", ("False", "InvalidCertificateRef"))),
    (g.https_listener(secret="tls", namespace="other"),
     ("ResolvedRefs", ("False", "RefNotPermitted"))),
    (g.https_listener(secret="tls", kind="ConfigMap"),
     ("ResolvedRefs", ("False", "InvalidCertificateRef"))),
], ids=["port", "protocol", "tls-terminate", "kinds", "missing-secret", "cross-ns-secret",
        "not-a-secret"])
def test_invalid_listeners(listener: dict[str, Any], reason: tuple[str, Any]) -> None:
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", listener),
                     secret("tls", "other"), service("s1"), _route())
    gw = g.status_of(dag, "Gateway", "default", "gw")
    ls = gw.listeners[0]
    got = {c.type: (c.status, c.reason) for c in ls.conditions}
    assert got[reason[0]] == reason[1]
    assert got["Programmed"] == ("False", "Invalid")
    assert g.conditions(gw) == {"Accepted": ("False", "ListenersNotValid"),
                                "Programmed": ("False", "Invalid")}
    assert dag.http == () and dag.https == ()


def test_listeners_with_one_port_and_hostname_conflict() -> None:
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", g.listener("a"),
                                                  g.listener("b")))
    gw = g.status_of(dag, "Gateway", "default", "gw")
    assert [{c.type: c.reason for c in ls.conditions}["Conflicted"] for ls in gw.listeners] == [
        "HostnameConflict", "HostnameConflict"]


def test_an_https_listener_terminates_tls_with_its_secret() -> None:
    gw = g.gateway("gw", "default", g.https_listener(hostname="*.example.com"))
    dag = build_both(g.gateway_class(), gw, secret("tls"), service("s1"),
                     _route(hostnames=["a.example.com", "other.org"]))
    svh = https_vhost(dag, "a.example.com")
    assert svh is not None and svh.secret is not None and svh.secret.name == "tls"
    assert svh.min_tls_version == "1.2"
    assert [r.match for r in svh.routes] == ["/"]
    assert dag.http == () and [s.host for s in dag.https] == ["a.example.com"]


def test_an_https_listener_without_hostname_terminates_any_sni() -> None:
    """Its certificate answers every SNI; a host no route serves gets Envoy's 404 instead of
    a reset connection (conformance HTTPRouteHTTPSListener)."""
    gw = g.gateway("gw", "default", g.https_listener())
    dag = build_both(g.gateway_class(), gw, secret("tls"), service("s1"),
                     _route(hostnames=["a.example.com"]))
    catch_all = https_vhost(dag, "*")
    assert catch_all is not None and catch_all.secret is not None and catch_all.routes == ()
    assert [s.host for s in dag.https] == ["*", "a.example.com"]


def test_a_reference_grant_lets_a_gateway_use_another_namespace_secret() -> None:
    gw = g.gateway("gw", "default", g.https_listener(secret="tls", namespace="certs"))
    objs = (g.gateway_class(), gw, secret("tls", "certs"), service("s1"), _route())
    assert build_both(*objs).https == ()
    dag = build_both(*objs, g.grant("certs", "default", "Gateway", "Secret"))
    assert [s.host for s in dag.https] == ["*"]


@pytest.mark.parametrize("listener_host, route_hosts, expected", [
    (None, None, ["*"]),
    (None, ["a.com", "b.com"], ["a.com", "b.com"]),
    ("a.com", None, ["a.com"]),
    ("*.example.com", ["x.example.com", "example.com", "*.sub.example.com"],
     ["*.sub.example.com", "x.example.com"]),
    ("x.example.com", ["*.example.com"], ["x.example.com"]),
], ids=["none", "route-only", "listener-only", "wildcard-listener", "wildcard-route"])
def test_hostnames_intersect(listener_host: str | None, route_hosts: list[str] | None,
                             expected: list[str]) -> None:
    li = g.listener(**({"hostname": listener_host} if listener_host else {}))
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), service("s1"),
                     _route(hostnames=route_hosts))
    assert [v.host for v in dag.http] == expected


def test_no_matching_listener_hostname() -> None:
    li = g.listener(hostname="a.com")
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), service("s1"),
                     _route(hostnames=["b.com"]))
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"] == ("False", "NoMatchingListenerHostname")
    assert g.status_of(dag, "Gateway", "default", "gw").listeners[0].attached_routes == 0


@pytest.mark.parametrize("allowed, labels, attached", [
    (None, {}, False),
    ({"namespaces": {"from": "All"}}, {}, True),
    ({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"team": "x"}}}},
     {"team": "x"}, True),
    ({"namespaces": {"from": "Selector", "selector": {"matchExpressions": [
        {"key": "team", "operator": "In", "values": ["y"]}]}}}, {"team": "x"}, False),
], ids=["same", "all", "selector", "selector-miss"])
def test_allowed_routes_namespaces(allowed: dict[str, Any] | None, labels: dict[str, str],
                                   attached: bool) -> None:
    li = g.listener(**({"allowedRoutes": allowed} if allowed else {}))
    route = g.httproute("r", "apps", g.rule(g.backend("s1")),
                        parents=[{"name": "gw", "namespace": "default"}])
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), service("s1", "apps"),
                     g.namespace("apps", **labels), route)
    st = g.status_of(dag, "HTTPRoute", "apps", "r")
    want = ("True", "Accepted") if attached else ("False", "NotAllowedByListeners")
    assert g.parent_conditions(st)["Accepted"] == want
    assert bool(dag.http) == attached


@pytest.mark.parametrize("parent, reason", [
    ({"name": "gw", "sectionName": "nope"}, "NoMatchingParent"),
    ({"name": "gw", "port": 443}, "NoMatchingParent"),
    ({"name": "gw", "sectionName": "http", "port": 80}, "Accepted"),
], ids=["section", "port", "both-match"])
def test_parent_refs_section_name_and_port(parent: dict[str, Any], reason: str) -> None:
    dag = build_both(*BASE, g.httproute("r", "default", g.rule(g.backend("s1")),
                                        parents=[parent]))
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"][1] == reason
    assert st.parents[0].parent.section_name == parent.get("sectionName", "")


@pytest.mark.parametrize("served", [True, False], ids=["other-gateway", "none-served"])
def test_a_route_not_ours_has_a_status_without_parents(served: bool) -> None:
    """So that the writer takes out an entry we wrote before (and writes nothing else)."""
    objs = BASE if served else (service("s1"),)
    dag = build_both(*objs, g.httproute("r", "default", g.rule(g.backend("s1")),
                                        parents=[{"name": "elsewhere"}]))
    assert g.status_of(dag, "HTTPRoute", "default", "r").parents == ()
    assert dag.http == ()


@pytest.mark.parametrize("ref, reason", [
    (g.backend("missing"), "BackendNotFound"),
    (g.backend("s1", 81), "BackendNotFound"),
    (g.backend("s1", kind="ConfigMap"), "InvalidKind"),
    (g.backend("s1", namespace="other"), "RefNotPermitted"),
], ids=["no-service", "no-port", "kind", "cross-ns"])
def test_unresolved_backends_answer_500(ref: dict[str, Any], reason: str) -> None:
    dag = build_both(*BASE, service("s1", "other"), _route(g.rule(ref)))
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st) == {"Accepted": ("True", "Accepted"),
                                       "ResolvedRefs": ("False", reason)}
    (route,) = dag.http[0].routes
    assert route.direct_response is not None and route.direct_response.status == 500


def test_a_reference_grant_permits_a_cross_namespace_backend() -> None:
    objs = (*BASE, service("s1", "other"), g.grant("other", "default"),
            _route(g.rule(g.backend("s1", namespace="other"))))
    (route,) = build_both(*objs).http[0].routes
    assert [c.service.namespace for c in route.clusters] == ["other"]


def test_weighted_backends_and_zero_weights() -> None:
    dag = build_both(*BASE, _route(g.rule(g.backend("s1", weight=3), g.backend("s2", weight=1),
                                          g.backend("s1", 80, weight=0))))
    (route,) = dag.http[0].routes
    assert [(c.service.name, c.weight) for c in route.clusters] == [("s1", 3), ("s2", 1)]


def _match(**kw: Any) -> dict[str, Any]:
    return kw


@pytest.mark.parametrize("match, fields", [
    (_match(path={"type": "PathPrefix", "value": "/a"}), {"match": "/a", "segment_prefix": True}),
    (_match(path={"type": "Exact", "value": "/a"}), {"match": "/a", "exact": True}),
    (_match(path={"type": "RegularExpression", "value": "/a.*"}), {"match": "/a.*",
                                                                   "regex": True}),
    (_match(headers=[{"name": "X-A", "value": "1"},
                     {"name": "x-b", "value": "b.*", "type": "RegularExpression"}]),
     {"headers": (HeaderMatch("x-a", "exact", "1"), HeaderMatch("x-b", "regex", "b.*"))}),
    (_match(queryParams=[{"name": "q", "value": "1"}]),
     {"query_params": (QueryMatch("q", "exact", "1"),)}),
    (_match(method="POST"), {"headers": (HeaderMatch(":method", "exact", "POST"),)}),
], ids=["prefix", "exact", "regex", "headers", "query", "method"])
def test_matches(match: dict[str, Any], fields: dict[str, Any]) -> None:
    (route,) = build_both(*BASE, _route(g.rule(g.backend("s1"), matches=[match]))).http[0].routes
    for name, value in fields.items():
        assert getattr(route, name) == value


def test_several_matches_make_several_routes_most_specific_first() -> None:
    matches = [{"path": {"type": "PathPrefix", "value": "/"}},
               {"path": {"type": "Exact", "value": "/x"}},
               {"path": {"type": "PathPrefix", "value": "/abc"}}]
    routes = build_both(*BASE, _route(g.rule(g.backend("s1"), matches=matches))).http[0].routes
    assert [(r.match, r.exact) for r in routes] == [("/x", True), ("/abc", False), ("/", False)]


def _filters(*filters: dict[str, Any]) -> Any:
    rule = g.rule(g.backend("s1"), filters=list(filters),
                  matches=[{"path": {"type": "PathPrefix", "value": "/p"}}])
    (route,) = build_both(*BASE, _route(rule)).http[0].routes
    return route


def test_header_modifier_filters() -> None:
    route = _filters(
        {"type": "RequestHeaderModifier", "requestHeaderModifier": {
            "set": [{"name": "X-S", "value": "1"}], "add": [{"name": "X-A", "value": "2"}],
            "remove": ["X-R"]}},
        {"type": "ResponseHeaderModifier", "responseHeaderModifier": {
            "add": [{"name": "X-Out", "value": "3"}]}})
    assert route.request_headers.set == (("X-S", "1"),)
    assert route.request_headers.add == (("X-A", "2"),)
    assert route.request_headers.remove == ("x-r",)
    assert route.response_headers.add == (("X-Out", "3"),)


def test_request_redirect_filter() -> None:
    rule = g.rule(filters=[{"type": "RequestRedirect", "requestRedirect": {
        "scheme": "https", "hostname": "b.com", "port": 8443, "statusCode": 301,
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/new"}}}],
        matches=[{"path": {"type": "PathPrefix", "value": "/old"}}])
    (route,) = build_both(*BASE, _route(rule)).http[0].routes
    assert route.redirect == Redirect("https", "b.com", 8443, "", "/new", 301)
    assert route.clusters == ()


@pytest.mark.parametrize("path, fields", [
    ({"type": "ReplaceFullPath", "replaceFullPath": "/full"},
     {"regex_rewrite": ("^/.*$", "/full")}),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/q"},
     {"replace_prefix": (("/p", "/q"),)}),
    ({"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"},
     {"regex_rewrite": ("^/p/*", "/")}),
], ids=["full", "prefix", "prefix-to-root"])
def test_url_rewrite_filter(path: dict[str, Any], fields: dict[str, Any]) -> None:
    route = _filters({"type": "URLRewrite", "urlRewrite": {"hostname": "h.com", "path": path}})
    assert route.request_headers.host_rewrite == "h.com"
    for name, value in fields.items():
        assert getattr(route, name) == value


def test_request_mirror_filter() -> None:
    route = _filters({"type": "RequestMirror", "requestMirror": {
        "backendRef": {"name": "s2", "port": 80}, "percent": 25}})
    assert [(m.service.name, m.weight) for m in route.mirrors] == [("s2", 25)]


def test_an_unsupported_filter_is_not_accepted() -> None:
    rule = g.rule(g.backend("s1"), filters=[{"type": "ExtensionRef", "extensionRef": {
        "group": "x", "kind": "Y", "name": "z"}}])
    dag = build_both(*BASE, _route(rule))
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"] == ("False", "UnsupportedValue")
    assert dag.http == ()


@pytest.mark.parametrize("timeouts, want", [
    ({"request": "10s"}, 10.0), ({"request": "1m500ms"}, 60.5), ({"request": "0s"},
                                                                 Timeout.INFINITE),
    ({"backendRequest": "2s"}, 2.0), ({}, None),
], ids=["seconds", "compound", "zero-is-infinite", "backend", "none"])
def test_timeouts(timeouts: dict[str, str], want: float | None) -> None:
    (route,) = build_both(*BASE, _route(g.rule(g.backend("s1"), timeouts=timeouts))).http[0].routes
    assert route.timeout == want


def test_the_oldest_route_keeps_a_conflicting_match() -> None:
    old = g.httproute("old", "default", g.rule(g.backend("s1")), created="2024-01-01T00:00:00Z")
    new = g.httproute("new", "default", g.rule(g.backend("s2")), created="2024-02-01T00:00:00Z")
    (route,) = build_both(*BASE, new, old).http[0].routes
    assert route.clusters[0].service.name == "s1"
    assert route.provenance is not None and route.provenance.chain == (("default", "old"),)


def test_equally_specific_matches_keep_rule_order_then_route_age() -> None:
    """Spec precedence after specificity: the oldest route, then the earliest rule. Envoy
    takes the first route that matches (conformance HTTPRouteHeaderMatching: version=two
    and color=blue must go to the `version` rule, written first)."""
    def header(name: str, value: str) -> dict[str, Any]:
        return {"headers": [{"name": name, "value": value}]}

    old = g.httproute("old", "default",
                      g.rule(g.backend("s2"), matches=[header("version", "two")]),
                      g.rule(g.backend("s1"), matches=[header("color", "blue")]),
                      created="2024-01-01T00:00:00Z")
    new = g.httproute("new", "default", g.rule(g.backend("s1"), matches=[header("team", "a")]),
                      created="2024-02-01T00:00:00Z")
    routes = build_both(*BASE, new, old).http[0].routes
    assert [r.headers[0].name for r in routes] == ["version", "color", "team"]


def test_attached_routes_are_counted_per_listener() -> None:
    gw = g.gateway("gw", "default", g.listener("a", hostname="a.com"),
                   g.listener("b", hostname="b.com"))
    routes = [g.httproute(f"r{i}", "default", g.rule(g.backend("s1")), hostnames=[h])
              for i, h in enumerate(("a.com", "a.com", "b.com"))]
    dag = build_both(g.gateway_class(), gw, service("s1"), *routes)
    st = g.status_of(dag, "Gateway", "default", "gw")
    assert [(ls.name, ls.attached_routes) for ls in st.listeners] == [("a", 2), ("b", 1)]


def test_tls_passthrough_with_a_tlsroute() -> None:
    li = g.listener("tls", "TLS", 443, tls={"mode": "Passthrough"})
    route = g.httproute("t", "default", {"backendRefs": [g.backend("s1", 443)]},
                        hostnames=["tls.example.com"], kind="TLSRoute")
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li),
                     service("s1", ports=((None, 443),)), route)
    (svh,) = dag.https
    assert svh.host == "tls.example.com" and svh.secret is None
    assert svh.tcp_proxy is not None and svh.tcp_proxy.clusters[0].service.port == 443
    st = g.status_of(dag, "TLSRoute", "default", "t")
    assert g.parent_conditions(st)["Accepted"] == ("True", "Accepted")


def test_an_httproute_does_not_attach_to_a_tls_listener() -> None:
    li = g.listener("tls", "TLS", 443, tls={"mode": "Passthrough"})
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), service("s1"),
                     _route())
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"] == ("False", "NotAllowedByListeners")


def test_gateway_routes_share_a_host_with_an_ingress() -> None:
    from tests.controller.dag.dagkit import backend as ing_backend
    from tests.controller.dag.dagkit import ingress, path
    from tests.controller.dag.dagkit import rule as ing_rule
    ing = ingress("i", rules=[ing_rule("a.com", path("/ing", ing_backend("s2", 80)))])
    dag = build_both(*BASE, ing, _route(hostnames=["a.com"]))
    assert sorted(r.match for r in http_vhost(dag, "a.com").routes) == ["/", "/ing"]


# -- GRPCRoute --------------------------------------------------------------------------------


def _grpc(*matches: dict[str, Any], backend: str = "s1") -> dict[str, Any]:
    rule: dict[str, Any] = {"backendRefs": [g.backend(backend)]}
    if matches:
        rule["matches"] = list(matches)
    return g.httproute("grpc", "default", rule, hostnames=["grpc.com"], kind="GRPCRoute")


@pytest.mark.parametrize("method, fields", [
    ({"service": "pkg.Svc", "method": "Get"}, {"match": "/pkg.Svc/Get", "exact": True}),
    ({"service": "pkg.Svc"}, {"match": "/pkg.Svc/", "segment_prefix": True}),
    ({"method": "Get"}, {"match": "/[^/]+/Get", "regex": True}),
    ({"type": "RegularExpression", "service": "pkg\\..*", "method": "G.t"},
     {"match": "/pkg\\..*/G.t", "regex": True}),
], ids=["exact", "service", "method", "regex"])
def test_grpc_method_matches_are_request_paths(method: dict[str, Any],
                                               fields: dict[str, Any]) -> None:
    dag = build_both(*BASE, _grpc({"method": method}))
    (route,) = http_vhost(dag, "grpc.com").routes
    for name, value in fields.items():
        assert getattr(route, name) == value
    assert route.provenance is not None and route.provenance.kind == "GRPCRoute"


def test_grpc_backends_speak_h2c_and_the_route_is_accepted() -> None:
    from controller.dag.model import Protocol
    dag = build_both(*BASE, _grpc())
    (route,) = http_vhost(dag, "grpc.com").routes
    assert route.match == "/" and route.clusters[0].service.protocol is Protocol.H2C
    st = g.status_of(dag, "GRPCRoute", "default", "grpc")
    assert g.parent_conditions(st) == {"Accepted": ("True", "Accepted"),
                                       "ResolvedRefs": ("True", "ResolvedRefs")}
    listener = g.status_of(dag, "Gateway", "default", "gw").listeners[0]
    assert listener.supported_kinds == (("gateway.networking.k8s.io", "GRPCRoute"),
                                        ("gateway.networking.k8s.io", "HTTPRoute"))


@pytest.mark.parametrize("match", [
    {"path": {"type": "RegularExpression", "value": "/a(("}},
    {"headers": [{"name": "x", "value": "(?<=a)", "type": "RegularExpression"}]},
], ids=["path", "header"])
def test_a_regex_re2_refuses_is_not_accepted(match: dict[str, Any]) -> None:
    """Envoy would refuse the whole virtual host: the route is not accepted instead."""
    dag = build_both(*BASE, _route(g.rule(g.backend("s1"), matches=[match])))
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"] == ("False", "UnsupportedValue")
    assert "regular expression" in st.parents[0].conditions[0].message
    assert dag.http == ()


# -- addresses --------------------------------------------------------------------------------


def _envoy_service(status: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    svc = service("contour", "heptio-contour")
    svc["spec"] |= {"type": "LoadBalancer", "clusterIP": "10.96.0.10", **spec}
    if status is not None:
        svc["status"] = status
    return svc


@pytest.mark.parametrize("svc, want", [
    (_envoy_service(), (("IPAddress", "10.96.0.10"),)),
    (_envoy_service(externalIPs=["192.0.2.9"]), (("IPAddress", "192.0.2.9"),)),
    (_envoy_service({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"},
                                                  {"ip": "192.0.2.1"}]}}),
     (("IPAddress", "192.0.2.1"), ("Hostname", "lb.example.com"))),
    (None, ()),
], ids=["cluster-ip", "external-ips", "load-balancer", "no-service"])
def test_the_gateway_addresses_are_the_envoy_services(svc: dict[str, Any] | None,
                                                      want: tuple[tuple[str, str], ...]) -> None:
    dag = build_both(*BASE, *([svc] if svc else []))
    assert g.status_of(dag, "Gateway", "default", "gw").addresses == want


def test_a_load_balancer_status_change_is_a_routing_change() -> None:
    from controller.dag.store import ObjectStore
    store = ObjectStore(BuilderSettings())
    assert store.upsert(_envoy_service()) is True
    assert store.upsert(_envoy_service()) is False
    lb = _envoy_service({"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}]}})
    assert store.upsert(lb) is True  # only the status changed
    assert store.gateway.addresses == (("IPAddress", "192.0.2.1"),)
    assert store.remove("Service", "heptio-contour", "contour") is True
    assert store.gateway.addresses == ()


def test_a_listener_with_unresolved_refs_counts_routes_but_serves_none() -> None:
    gw = g.gateway("gw", "default", g.https_listener(secret="does-not-exist"))
    dag = build_both(g.gateway_class(), gw, service("s1"), _route())
    (ls,) = g.status_of(dag, "Gateway", "default", "gw").listeners
    assert ls.attached_routes == 1
    assert {c.type: c.status for c in ls.conditions}["Programmed"] == "False"
    st = g.status_of(dag, "HTTPRoute", "default", "r")
    assert g.parent_conditions(st)["Accepted"] == ("True", "Accepted")
    assert dag.https == ()


def test_a_listener_with_some_invalid_route_kinds_serves_the_valid_ones() -> None:
    li = g.listener(allowedRoutes={"kinds": [{"kind": "HTTPRoute"}, {"kind": "FooRoute"}]})
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), service("s1"),
                     _route())
    (ls,) = g.status_of(dag, "Gateway", "default", "gw").listeners
    assert ls.supported_kinds == (("gateway.networking.k8s.io", "HTTPRoute"),)
    assert {c.type: c.reason for c in ls.conditions}["ResolvedRefs"] == "InvalidRouteKinds"
    assert [v.host for v in dag.http] == ["*"]
