"""Isolated Gateways (BuilderSettings.gateway_ports; docs/decisions.md): each Gateway port is
an Envoy listener of its own on an allocated Envoy port, with the routes attached to that
Gateway only, and the Gateway needs a Service of its own (its address). Through both
builders (build_both) and both translators (byte for byte)."""

from __future__ import annotations

from typing import Any

from controller.config import BuilderSettings, ListenerSettings
from controller.dag.builder import build
from controller.dag.incremental import IncrementalBuilder
from controller.envoy import pb
from controller.k8s.gateway_services import (
    GATEWAY_ANNOTATION,
    OWNED_LABEL,
    desired_service,
    owned_service,
    service_name,
)
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode
from tests.controller.dag import gwkit as g
from tests.controller.dag.dagkit import apply_events, build_both, secret, service, store_of

ISOLATED = BuilderSettings(gateway_ports=(10000, 10009))
ALL = {"namespaces": {"from": "All"}}


def _gateways(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """HTTPRouteMultipleGateways' shape: two Gateways on port 80, a route shared by both
    and one dedicated to each."""
    return [g.gateway_class(),
            g.gateway("a", "default", g.listener(allowedRoutes=ALL)),
            g.gateway("b", "default", g.listener(allowedRoutes=ALL),
                      created="2024-01-01T00:00:01Z"),
            service("s1"), service("s2"), service("s3"),
            _route("shared", "/shared", "s1", "a", "b"), _route("only-a", "/", "s2", "a"),
            _route("only-b", "/", "s3", "b"), *extra]


def _route(name: str, path: str, backend: str, *gateways: str) -> dict[str, Any]:
    rule = g.rule(g.backend(backend), matches=[{"path": {"type": "PathPrefix", "value": path}}])
    return g.httproute(name, "default", rule,
                       parents=[{"name": gw, "namespace": "default"} for gw in gateways])


def _backends(listener: Any) -> dict[str, str]:
    """Match → backend Service name of the listener's only vhost."""
    (vh,) = listener.http
    return {r.match: r.clusters[0].service.name for r in vh.routes}


def test_each_gateway_gets_a_listener_of_its_own_with_its_routes_only() -> None:
    dag = build_both(*_gateways(), settings=ISOLATED)
    assert dag.http == () and dag.https == ()  # nothing on the shared listeners
    a, b = dag.gateway_listeners
    assert (a.name, a.port, a.secure) == ("gateway/default/a/80", 10000, False)
    assert (b.name, b.port) == ("gateway/default/b/80", 10001)  # the oldest Gateway first
    assert _backends(a) == {"/shared": "s1", "/": "s2"}
    assert _backends(b) == {"/shared": "s1", "/": "s3"}
    assert [(s.namespace, s.name, s.ports) for s in dag.gateway_services] == [
        ("default", "a", ((80, 10000),)), ("default", "b", ((80, 10001),))]


def _owned(gateway: str, ports: list[tuple[int, int]], cluster_ip: str = "10.0.0.9"
           ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": service_name(("default", gateway)), "namespace": "heptio-contour",
        "labels": {OWNED_LABEL: "true"},
        "annotations": {GATEWAY_ANNOTATION: f"default/{gateway}"}},
        "spec": {"clusterIP": cluster_ip,
                 "ports": [{"port": p, "targetPort": t} for p, t in ports]}}


def test_a_gateways_service_keeps_its_envoy_ports_and_gives_its_address() -> None:
    """The Service is where an allocation lives: b keeps 10000, so a takes the next free
    port; each Gateway's address is its own Service's."""
    dag = build_both(*_gateways(_owned("b", [(80, 10000)])), settings=ISOLATED)
    assert [(li.name, li.port) for li in dag.gateway_listeners] == [
        ("gateway/default/a/80", 10001), ("gateway/default/b/80", 10000)]
    st = {s.name: s.addresses for s in dag.gateway_statuses if s.kind == "Gateway"}
    assert st == {"a": (), "b": (("IPAddress", "10.0.0.9"),)}


def test_any_port_is_accepted_and_no_free_envoy_port_is_port_unavailable() -> None:
    gw = g.gateway("a", "default", g.listener("p8080", port=8080),
                   g.listener("p8090", port=8090))
    dag = build_both(g.gateway_class(), gw,
                     settings=BuilderSettings(gateway_ports=(10000, 10000)))
    (ls_a, ls_b) = g.status_of(dag, "Gateway", "default", "a").listeners
    assert {c.type: c.reason for c in ls_a.conditions}["Accepted"] == "Accepted"
    assert {c.type: c.reason for c in ls_b.conditions}["Accepted"] == "PortUnavailable"
    assert [(li.name, li.port) for li in dag.gateway_listeners] == [
        ("gateway/default/a/8080", 10000)]


def test_http_and_tls_listeners_on_one_port_conflict() -> None:
    gw = g.gateway("a", "default", g.listener("http", port=443), g.https_listener())
    dag = build_both(g.gateway_class(), gw, secret("tls"), settings=ISOLATED)
    got = [{c.type: c.reason for c in ls.conditions}["Conflicted"]
           for ls in g.status_of(dag, "Gateway", "default", "a").listeners]
    assert got == ["ProtocolConflict", "ProtocolConflict"]


def test_a_gateway_ref_keeps_the_shared_listeners() -> None:
    settings = BuilderSettings(gateway_ports=(10000, 10009), gateway_ref=("default", "a"))
    dag = build_both(*_gateways(), settings=settings)
    assert dag.gateway_listeners == () and dag.gateway_services == ()
    assert [vh.host for vh in dag.http] == ["*"]


def _translated(dag: Any) -> dict[str, dict[str, Any]]:
    full = Translator(ListenerSettings()).translate(dag)
    incremental = IncrementalTranslator(ListenerSettings())
    incremental.update(dag)
    assert incremental.resources() == full
    return decode(full)


def test_the_translators_give_each_listener_its_port_and_route_table() -> None:
    tls = g.httproute("t", "default", {"backendRefs": [g.backend("s1", 443)]},
                      hostnames=["t.example.com"], kind="TLSRoute",
                      parents=[{"name": "c", "namespace": "default"}])
    c = g.gateway("c", "default", g.https_listener(hostname="h.example.com"),
                  g.listener("tls", "TLS", 443, hostname="t.example.com",
                             tls={"mode": "Passthrough"}), created="2024-01-01T00:00:02Z")
    dag = build_both(*_gateways(c, tls, _route("on-c", "/", "s2", "c"), secret("tls"),
                                service("s1", ports=((None, 443),))), settings=ISOLATED)
    out = _translated(dag)
    listeners, tables = out[pb.LISTENER_TYPE], out[pb.ROUTE_TYPE]
    a = listeners["gateway/default/a/80@10000"]
    assert a.address.socket_address.port_value == 10000
    hcm = pb.HttpConnectionManager()
    assert a.filter_chains[0].filters[0].typed_config.Unpack(hcm)
    assert hcm.rds.route_config_name == "gateway/default/a/80"
    assert [v.name for v in tables["gateway/default/a/80"].virtual_hosts] == ["*"]
    secure = listeners["gateway/default/c/443@10002"]
    assert [list(ch.filter_chain_match.server_names) for ch in secure.filter_chains] == [
        ["h.example.com"], ["t.example.com"]]
    assert "ingress_http" not in listeners and "ingress_https" not in listeners
    assert {"gateway/default/a/80", "gateway/default/b/80"} <= tables.keys()


def test_the_incremental_translator_follows_a_gateway_going() -> None:
    objs = _gateways()
    incremental = IncrementalTranslator(ListenerSettings())
    incremental.update(build_both(*objs, settings=ISOLATED))
    smaller = build_both(*[o for o in objs if o["metadata"]["name"] != "b"], settings=ISOLATED)
    update = incremental.update(smaller)
    assert update.removed[pb.LISTENER_TYPE] == {"gateway/default/b/80@10001"}
    assert incremental.resources() == Translator(ListenerSettings()).translate(smaller)


def test_the_owned_service_round_trips() -> None:
    envoy = {"metadata": {"name": "contour", "namespace": "heptio-contour"},
             "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local",
                      "selector": {"app": "contour"}}}
    manifest = desired_service(("infra", "gw"), ((80, 10000), (443, 10001)), envoy)
    assert manifest["metadata"]["namespace"] == "heptio-contour"
    assert manifest["spec"]["selector"] == {"app": "contour"}
    assert manifest["spec"]["externalTrafficPolicy"] == "Local"
    view = owned_service(manifest)
    assert view is not None and view.gateway == ("infra", "gw")
    assert view.ports == ((80, 10000), (443, 10001))
    assert owned_service(service("s1")) is None
    assert len(service_name(("a" * 63, "b" * 253))) < 64


def test_the_incremental_builder_follows_a_gateway_service_going() -> None:
    """Deleting the Service re-runs the Gateway layer (its allocation and address go)."""
    owned = _owned("b", [(80, 10000)])
    store = store_of(*_gateways(owned), settings=ISOLATED)
    builder = IncrementalBuilder(store, ISOLATED)
    builder.build()
    dag, _ = apply_events(store, builder, [("Service", "heptio-contour",
                                            owned["metadata"]["name"], None)])
    assert dag == build(store, ISOLATED)
    assert [(li.name, li.port) for li in dag.gateway_listeners] == [
        ("gateway/default/a/80", 10000), ("gateway/default/b/80", 10001)]


def test_two_services_claiming_one_envoy_port_the_older_gateway_keeps_it() -> None:
    """After a race (a build allocated before it saw a Service) two Services can map one
    Envoy port: the oldest Gateway keeps it, the other moves to a free one (two Envoy
    listeners on one port: Envoy could bind only one)."""
    dag = build_both(*_gateways(_owned("a", [(80, 10001)]), _owned("b", [(80, 10001)])),
                     settings=ISOLATED)
    assert [(li.name, li.port) for li in dag.gateway_listeners] == [
        ("gateway/default/a/80", 10001), ("gateway/default/b/80", 10000)]
