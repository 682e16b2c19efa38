"""Malformed Gateway API objects (the store's input when a folder is read without the
boundary, or a field the schema leaves loose) never raise in the views, the store, either
builder or the translator: random fields of valid objects are replaced with values of any
other type."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from controller.config import BuilderSettings, ListenerSettings
from controller.xdscache.translator import Translator
from tests.controller.dag import gwkit as g
from tests.controller.dag.dagkit import build_both, secret, service

GARBAGE: tuple[Any, ...] = (None, 0, -1, 70000, True, "", "x", "/a//b", "*", [], [1], {},
                            {"a": 1}, 1.5)


def _valid() -> list[dict[str, Any]]:
    gw = g.gateway("gw", "default", g.listener(allowedRoutes={"namespaces": {
        "from": "Selector", "selector": {"matchExpressions": [
            {"key": "a", "operator": "In", "values": ["b"]}]}}}),
        g.https_listener(hostname="*.example.com"),
        g.listener("tls", "TLS", 443, hostname="t.example.com", tls={"mode": "Passthrough"}))
    rule = g.rule(g.backend("s1", weight=2), g.backend("s2", namespace="other"),
                  matches=[{"path": {"type": "Exact", "value": "/x"},
                            "headers": [{"name": "h", "value": "v"}],
                            "queryParams": [{"name": "q", "value": "1"}], "method": "GET"}],
                  filters=[{"type": "RequestHeaderModifier", "requestHeaderModifier": {
                      "set": [{"name": "a", "value": "b"}], "remove": ["c"]}},
                      {"type": "URLRewrite", "urlRewrite": {"hostname": "h", "path": {
                          "type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}},
                      {"type": "RequestMirror", "requestMirror": {
                          "backendRef": {"name": "s2", "port": 80}, "percent": 10}}],
                  timeouts={"request": "1s"})
    grpc = g.httproute("grpc", "default", {"matches": [{"method": {
        "service": "a.B", "method": "C"}}], "backendRefs": [g.backend("s1")]}, kind="GRPCRoute")
    tls = g.httproute("tls", "default", {"backendRefs": [g.backend("s1", 443)]},
                      hostnames=["t.example.com"], kind="TLSRoute")
    return [g.gateway_class(), gw, secret("tls"), service("s1", ports=((None, 80), (None, 443))),
            service("s2", "other"),
            g.grant("other", "default"), g.namespace("default", a="b"),
            g.httproute("r", "default", rule, hostnames=["a.example.com"]), grpc, tls]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place under spec (keys and list indexes)."""
    out = [path] if path else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()
    for k, v in items:
        out += _paths(v, (*path, k))
    return out


def _mutated(rng: random.Random) -> list[dict[str, Any]]:
    objs = copy.deepcopy(_valid())
    for _ in range(rng.randint(1, 4)):
        obj = rng.choice(objs[1:])
        places = _paths(obj.get("spec", {}))
        if not places:
            continue
        *parents, last = rng.choice(places)
        node = obj["spec"]
        for p in parents:
            node = node[p]
        node[last] = copy.deepcopy(rng.choice(GARBAGE))
    return objs


@pytest.mark.parametrize("seed", range(60))
def test_garbage_in_gateway_api_objects_never_raises(seed: int) -> None:
    dag = build_both(*_mutated(random.Random(seed)))
    Translator(ListenerSettings()).translate(dag)


@pytest.mark.parametrize("seed", range(60, 80))
def test_garbage_never_raises_with_isolated_gateways(seed: int) -> None:
    """The same through isolated Gateways' listeners (BuilderSettings.gateway_ports)."""
    dag = build_both(*_mutated(random.Random(seed)),
                     settings=BuilderSettings(gateway_ports=(10000, 10003)))
    Translator(ListenerSettings()).translate(dag)


def test_the_valid_set_serves_every_kind() -> None:
    """The objects mutated above are a working set: each kind reaches the DAG."""
    dag = build_both(*_valid())
    kinds = {r.provenance.kind for vh in dag.http + dag.https for r in vh.routes
             if r.provenance is not None}
    tcp = [vh.tcp_proxy for vh in dag.https if vh.tcp_proxy is not None]
    assert kinds == {"HTTPRoute", "GRPCRoute"} and len(tcp) == 1
