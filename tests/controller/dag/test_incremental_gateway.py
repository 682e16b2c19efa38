"""The incremental builder (and translator) equal a full build after every event, with
Gateway API objects among HTTPProxies and Ingresses: random events over a small universe
(two Gateways competing to be served, listeners with hostnames and selectors, routes in
two namespaces with cross-namespace backends, ReferenceGrants, Secrets and Services that
come and go, Namespace labels, the Envoy Service's load balancer status)."""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from controller.config import BuilderSettings, ListenerSettings
from controller.dag.builder import build
from controller.dag.incremental import IncrementalBuilder
from controller.dag.store import ObjectStore
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator
from tests.controller.dag import dagkit as k
from tests.controller.dag import gwkit as g

NAMESPACES = ("a", "b")
HOSTS = ("x.com", "*.y.com", "a.y.com", None)
SEEDS = int(os.environ.get("INCR_SEEDS", "30"))


def _listener(rng: random.Random, i: int) -> dict[str, Any]:
    host = rng.choice(HOSTS)
    extra: dict[str, Any] = {"hostname": host} if host else {}
    if rng.random() < 0.4:
        extra["allowedRoutes"] = {"namespaces": rng.choice((
            {"from": "All"}, {"from": "Selector", "selector": {"matchLabels": {"gw": "yes"}}}))}
    if rng.random() < 0.4:
        return g.https_listener(f"l{i}", secret=rng.choice(("tls0", "tls1")), **(
            {"hostname": host} if host else {}))
    return g.listener(f"l{i}", **extra)


def _gateway(rng: random.Random, name: str, ns: str) -> dict[str, Any]:
    listeners = [_listener(rng, i) for i in range(rng.randint(1, 3))]
    created = rng.choice(("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"))
    return g.gateway(name, ns, *listeners, cls=rng.choice(("contour", "contour", "other")),
                     created=created)


def _rule(rng: random.Random) -> dict[str, Any]:
    backends = [g.backend(rng.choice(("s0", "s1")), rng.choice((80, 81)),
                          **({"namespace": rng.choice(NAMESPACES)} if rng.random() < 0.3
                             else {})) for _ in range(rng.randint(0, 2))]
    path = rng.choice(("/", "/a", "/a/b"))
    matches = [{"path": {"type": rng.choice(("PathPrefix", "Exact")), "value": path}}]
    return g.rule(*backends, matches=matches)


def _route(rng: random.Random, name: str, ns: str) -> dict[str, Any]:
    hosts = rng.choice((None, ["x.com"], ["a.y.com", "b.y.com"], ["*.y.com"]))
    parents = [{"name": rng.choice(("gw0", "gw1")), "namespace": rng.choice(NAMESPACES)}]
    created = rng.choice(("2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z"))
    return g.httproute(name, ns, *(_rule(rng) for _ in range(rng.randint(1, 2))),
                       parents=parents, hostnames=hosts, created=created)


def _random_event(rng: random.Random) -> tuple[str, str, str, dict[str, Any] | None]:
    ns = rng.choice(NAMESPACES)
    roll = rng.random()
    if roll < 0.15:
        kind, name = "Gateway", rng.choice(("gw0", "gw1"))
        make = lambda: _gateway(rng, name, ns)  # noqa: E731
    elif roll < 0.5:
        kind, name = rng.choice(("HTTPRoute", "HTTPRoute", "GRPCRoute")), rng.choice(("r0", "r1"))
        make = lambda: {**_route(rng, name, ns), "kind": kind}  # noqa: E731
    elif roll < 0.65:
        kind, name = "Service", rng.choice(("s0", "s1"))
        make = lambda: k.service(name, ns, ports=((None, rng.choice((80, 81))),))  # noqa: E731
    elif roll < 0.75:
        kind, name = "Secret", rng.choice(("tls0", "tls1"))
        make = lambda: k.secret(name, ns)  # noqa: E731
    elif roll < 0.82:
        kind, name = "ReferenceGrant", f"grant-{'b' if ns == 'a' else 'a'}"
        make = lambda: g.grant(ns, "b" if ns == "a" else "a")  # noqa: E731
    elif roll < 0.88:
        kind, ns, name = "Namespace", "", rng.choice(NAMESPACES)
        make = lambda: g.namespace(name, **({"gw": "yes"} if rng.random() < 0.5 else {}))  # noqa: E731
    elif roll < 0.91:
        kind, ns, name = "GatewayClass", "", "contour"
        make = g.gateway_class
    elif roll < 0.94:  # the Envoy Service: the Gateway's addresses, status included
        kind, ns, name = "Service", "heptio-contour", "contour"
        make = lambda: k.service(name, ns) | {"status": {"loadBalancer": {  # noqa: E731
            "ingress": [{"ip": rng.choice(("192.0.2.1", "192.0.2.2"))}]}}}
    else:
        kind, name = "Ingress", "i0"
        make = lambda: k.ingress("i0", ns, rules=[k.rule("x.com", k.path(  # noqa: E731
            "/ing", k.backend("s0", 80)))])
    if rng.random() < 0.2:
        return kind, ns, name, None
    return kind, ns, name, make()


@pytest.mark.parametrize("seed", range(SEEDS))
def test_incremental_equals_full_build_with_gateway_api(seed: int) -> None:
    rng = random.Random(seed)
    settings = BuilderSettings(gateway_ref=("a", "gw0")) if seed % 3 == 0 else BuilderSettings()
    store = ObjectStore(settings)
    store.upsert(g.gateway_class())
    builder = IncrementalBuilder(store, settings)
    translator = IncrementalTranslator(ListenerSettings())
    for step in range(50):
        events = [_random_event(rng) for _ in range(rng.choice((1, 1, 3)))]
        dag, changes = k.apply_events(store, builder, events)
        full = build(store, settings)
        assert dag == full, f"seed {seed} step {step}"
        translator.update(dag, None if changes.full else changes.hosts)
        assert translator.resources() == Translator(ListenerSettings()).translate(full)


def test_some_gateway_routes_are_served() -> None:
    """The universe above is not empty: some seeds serve Gateway API routes."""
    served = 0
    for seed in range(SEEDS):
        rng = random.Random(seed)
        store = ObjectStore(BuilderSettings())
        store.upsert(g.gateway_class())
        for _ in range(50):
            _, _, _, obj = _random_event(rng)
            if obj is not None:
                store.upsert(obj)
        dag = build(store, BuilderSettings())
        served += any(r.provenance is not None and r.provenance.kind in ("HTTPRoute", "GRPCRoute")
                      for vh in dag.http + dag.https for r in vh.routes)
    assert served >= SEEDS // 3
