"""The plugin's route-table reader and in-sync check against a real Envoy: the translator's
real output for 3 IngressRoutes, re-expressed by bench/route_layouts.py as served today
(`single`), as scopes naming RDS tables (`scoped`) and as scopes with their tables inline
(`scoped-inline`, what `--route-layout scoped` serves), through the project's xDS server
(bench/layouts.py `serving`). One host's change is made before reading, so versions moved.

The scoped reads are the golden fixtures `test_route_tables.py` reads
(fixtures/envoy/LAYOUT-routes.json; UPDATE_GOLDEN=1 rewrites them)."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from bench import generate
from bench.bench import Poller, free_port, rewritten, served
from bench.layouts import serving, translated
from bench.route_layouts import layout
from controller.envoy.type_urls import ROUTE_TYPE, SCOPED_ROUTE_TYPE
from controller.webapp import xds_resources, xds_status
from kubectl_contour.admin import UrlFetcher, get_dumps, get_json
from kubectl_contour.cli import app
from kubectl_contour.queries.diff import EnvoyView, diff_rows
from kubectl_contour.queries.envoy import ROUTE_DUMPS, route_dumps, route_tables, vhost_routes
from kubectl_contour.queries.rollout_envoy import served_shares

N = 3
HOSTS = [generate.host(i) for i in range(N)]
CHANGED = HOSTS[1]
FIXTURES = Path(__file__).parent / "fixtures" / "envoy"


async def read_envoy(name: str) -> dict[str, Any]:
    """Serve layout `name` to a real Envoy, change CHANGED's prefix rewrite, wait until
    Envoy routes with it and the controller saw every type in sync; then what the plugin
    reads: ROUTE_DUMPS as one dump, the full /config_dump, the controller's /debug/xds with
    its resources, its served versions, `envoy-dump -t routes`, and ROUTE_DUMPS narrowed to
    CHANGED (`route_dumps`, what `switch --wait` and `rollout` poll)."""
    backend_port, http_port = free_port(), free_port()
    chosen = layout(name, translated(N, backend_port, http_port))
    async with serving(chosen.cold(), backend_port, http_port) as (cache, registry, envoy):
        envoy.start()
        poller = Poller(http_port)
        await asyncio.to_thread(poller.wait, HOSTS[-1], served, timeout=60)
        cache.publish(chosen.change(CHANGED, "/p/"), partial=True)
        await asyncio.to_thread(poller.wait, CHANGED, rewritten("/p/"), timeout=60)
        url = f"http://127.0.0.1:{envoy.admin_port}"
        view = SimpleNamespace(registry=registry, cache=cache)
        rows = await in_sync(view, UrlFetcher(url))
        cli = await asyncio.to_thread(CliRunner().invoke, app,
                                      ["envoy-dump", "--admin-url", url, "-t", "routes"])
        narrowed = route_dumps([CHANGED.upper()])
        return {"routes": await asyncio.to_thread(get_dumps, UrlFetcher(url), ROUTE_DUMPS),
                "narrowed": await asyncio.to_thread(get_dumps, UrlFetcher(url), narrowed),
                "clusters": await asyncio.to_thread(
                    get_json, UrlFetcher(url), "/config_dump?resource=dynamic_active_clusters"),
                "diff": rows, "cli": cli, "versions": {
                    t: {n: r.version for n, r in cache.snapshot.get(t).resources.items()}
                    for t in (ROUTE_TYPE, SCOPED_ROUTE_TYPE)},
                "scoped_version": cache.snapshot.get(SCOPED_ROUTE_TYPE).version}


async def in_sync(view: Any, fetcher: UrlFetcher) -> list[Any]:
    """`diff`'s rows once they are all ok (Envoy ACKs just after it applies), or the last
    ones after 30 s (the test then shows them)."""
    deadline = time.monotonic() + 30
    while True:
        debug = {**xds_status(view), "resources": xds_resources(view)}
        dump = await asyncio.to_thread(get_json, fetcher, "/config_dump")
        rows = diff_rows(debug, [EnvoyView("bench", fetcher.name, dump)])
        if all(r.state == "ok" for r in rows) or time.monotonic() > deadline:
            return rows
        await asyncio.sleep(0.2)


@functools.cache
def read(name: str) -> dict[str, Any]:
    """`read_envoy(name)` once per layout for this module's tests."""
    return asyncio.run(read_envoy(name))


def shape(dump: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """(name, scope, domains) per table: what a fresh read and the golden must share."""
    return [(t.name, t.scope, sorted(d for v in t.table.get("virtual_hosts") or []
                                     for d in v.get("domains") or []))
            for t in route_tables(dump)]


@pytest.mark.parametrize("name", ["single", "scoped", "scoped-inline"])
def test_the_reader_finds_every_hosts_vhost_and_version(name: str) -> None:
    got = read(name)
    tables = {t.name: t for t in route_tables(got["routes"])}
    per_host = name != "single"
    expected = {f"ingress_http/{h}" for h in HOSTS} if per_host else {"ingress_http"}
    assert set(tables) == expected
    for host in HOSTS:
        table = tables[f"ingress_http/{host}" if per_host else "ingress_http"]
        assert host in [d for v in table.table["virtual_hosts"] for d in v["domains"]]
        if name == "scoped-inline":  # inline: the scope set's version, the last response's
            assert (table.scope, table.version) == (table.name, got["scoped_version"])
        else:  # RDS: each table's own version under delta ADS
            assert table.scope == ""
            assert table.version == got["versions"][ROUTE_TYPE][table.name]
    [route] = vhost_routes(got["routes"], CHANGED)
    assert route["route"]["prefix_rewrite"] == "/p/"
    [route] = vhost_routes(got["narrowed"], CHANGED)
    assert route["route"]["prefix_rewrite"] == "/p/"
    # what `rollout` compares with the step's DAG: the shares per path of the host's routes
    assert served_shares(got["narrowed"], got["clusters"], [CHANGED]) == {
        ("prefix", "/"): [(("bench_svc-1_80", 1.0),)]}
    narrowed = [t.name for t in route_tables(got["narrowed"])]
    # the scopes are narrowed to CHANGED's (whatever its case); RDS tables stay whole
    assert narrowed == ([f"ingress_http/{CHANGED}"] if name == "scoped-inline" else
                        sorted(expected))
    assert got["cli"].exit_code == 0, got["cli"].stderr
    for table_name in expected:
        assert table_name in got["cli"].stdout
    if per_host:
        golden = FIXTURES / f"{name}-routes.json"
        if os.environ.get("UPDATE_GOLDEN") == "1":
            golden.write_text(json.dumps(got["routes"], indent=1, sort_keys=True) + "\n")
        assert shape(got["routes"]) == shape(json.loads(golden.read_text()))


@pytest.mark.parametrize("name", ["single", "scoped", "scoped-inline"])
def test_diff_sees_the_envoy_in_sync_in_every_layout(name: str) -> None:
    """Scopes get a row only where they are served: an Envoy that never subscribed to
    SRDS (`single`) is in sync without one."""
    rows = read(name)["diff"]
    assert [(r.type, r.state, r.detail) for r in rows if r.state != "ok"] == []
    kinds = [r.type for r in rows]
    scoped = ["scopedroutes"] if name != "single" else []
    assert kinds == ["listeners", "routes", *scoped, "clusters", "endpoints", "secrets"]
