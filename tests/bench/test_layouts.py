"""bench/route_layouts.py (pure: what each layout serves and what a change sends) and
`bench.bench layouts` through a real Envoy at tiny N (no timing assertions)."""

from __future__ import annotations

import asyncio

import pytest
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)

from bench import generate
from bench.layouts import run_layouts, translated
from bench.route_layouts import HCM_TYPE, LAYOUTS, layout
from controller.envoy import pb
from controller.envoy.type_urls import SCOPED_ROUTE_TYPE, VIRTUAL_HOST_TYPE
from controller.xdscache.routes import HTTP_ROUTES

N = 3
HOST = generate.host(1)


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, bytes]]:
    return translated(N, backend_port=9, http_port=8080)


def http_hcm(listener: bytes) -> hcm_pb2.HttpConnectionManager:
    [f] = [f for c in listener_pb2.Listener.FromString(listener).filter_chains
           for f in c.filters if f.typed_config.type_url == HCM_TYPE]
    return hcm_pb2.HttpConnectionManager.FromString(f.typed_config.value)


def test_scoped_listener_keys_scopes_on_the_authority_without_its_port(resources) -> None:
    cold = layout("scoped-inline", resources).cold()
    hcm = http_hcm(cold[pb.LISTENER_TYPE][HTTP_ROUTES])
    assert not hcm.HasField("rds")
    [fragment] = hcm.scoped_routes.scope_key_builder.fragments
    extractor = fragment.header_value_extractor
    assert (extractor.name, extractor.element_separator, extractor.index) == (":authority", ":", 0)
    assert hcm.scoped_routes.scoped_rds.scoped_rds_config_source.HasField("ads")


@pytest.mark.parametrize("name, sent", [
    ("single", {pb.ROUTE_TYPE: [HTTP_ROUTES]}),
    ("scoped", {pb.ROUTE_TYPE: [f"{HTTP_ROUTES}/{HOST}"]}),
    ("scoped-inline", {SCOPED_ROUTE_TYPE: [f"{HTTP_ROUTES}/{HOST}"]}),
    ("vhds", {VIRTUAL_HOST_TYPE: [f"{HTTP_ROUTES}/{HOST}"]}),
])
def test_a_change_sends_the_layouts_one_resource(resources, name: str,
                                                 sent: dict[str, list[str]]) -> None:
    change = layout(name, resources).change(HOST, "/p/")
    assert {t: sorted(r) for t, r in change.items()} == sent
    [(type_url, [body])] = [(t, list(r.values())) for t, r in change.items()]
    assert b"/p/" in body
    if type_url == pb.ROUTE_TYPE and name == "single":
        table = route_pb2.RouteConfiguration.FromString(body)
        assert sorted(v.name for v in table.virtual_hosts) == sorted(
            generate.host(i) for i in range(N))


def test_scopes_cover_every_host_once(resources) -> None:
    for name in ("scoped", "scoped-inline"):
        scopes = layout(name, resources).cold()[SCOPED_ROUTE_TYPE]
        keys = [scoped_route_pb2.ScopedRouteConfiguration.FromString(b).key.fragments[0]
                .string_key for b in scopes.values()]
        assert sorted(keys) == sorted(generate.host(i) for i in range(N))


@pytest.mark.parametrize("name", LAYOUTS)
def test_layouts_bench_runs_through_envoy(name: str) -> None:
    """Every layout serves every host and follows changes; the probes record what each
    layout does with a Host carrying a port or upper case letters (scoped: 404, the
    correctness limit BENCHMARKS.md reports), and the scoped ones switch back to one table
    with a `*` vhost."""
    result = asyncio.run(run_layouts(30, 2, name))
    assert result["change_to_envoy_ms"]["n"] == 2
    scoped = name.startswith("scoped")
    assert result["probes"] == {"port": 200, "upper": 404 if scoped else 200, "unknown": 404}
    if scoped:
        fallback = result["fallback"]
        assert fallback["old_connection_before"] == 404
        assert fallback["old_connection_scopes_kept"]["known"] == 200


def test_views_bench_runs() -> None:
    from bench.views import measure

    result = measure(50, pb.ENDPOINT_TYPE, wildcard=False, changes=3)
    assert result["n"] == 50 and set(result) >= {"publish", "view", "delta"}


def test_lowercasing_first_lets_any_host_case_find_its_scope() -> None:
    result = asyncio.run(run_layouts(30, 1, "scoped-inline", lowercase=True))
    assert result["probes"] == {"port": 200, "upper": 200, "unknown": 404}
