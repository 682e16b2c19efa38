"""queries/provenance.py: chains and the objects on a request's way, read from the DAG's
Route.provenance (IngressRoute delegations, HTTPProxy includes, Ingress)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, HERE

from controller.config import BuilderSettings
from controller.dag.model import Route
from kubectl_contour.objects import Snapshot
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.provenance import chain_links, on_the_way
from kubectl_contour.queries.route import find_vhost, matches, ordered_routes
from kubectl_contour.queries.statuses import computed_statuses
from kubectl_contour.sources import load_dir


def chosen(folder: Path, host: str, path: str, https: bool = False) -> tuple[Snapshot, Any,
                                                                             Route]:
    """The snapshot, its DAG and the route Envoy picks for host/path."""
    snapshot = load_dir(folder)
    dag = build_dag(snapshot, settings=BuilderSettings())
    vhost = find_vhost(dag.https if https else dag.http, host)
    route = next(r for r in ordered_routes(vhost) if matches(r, path))
    return snapshot, dag, route


@pytest.mark.parametrize(("folder", "host", "path", "links"), [
    pytest.param(FIXTURES, "www.example.com", "/blog/admin/x",
                 [("IngressRoute", "roots/www", "/blog", "valid"),
                  ("IngressRoute", "marketing/blog", "/blog/admin", "valid"),
                  ("IngressRoute", "marketing/admin", "/blog/admin", "valid")],
                 id="ingressroute-two-delegations"),
    pytest.param(FIXTURES, "legacy.example.com", "/", [("Ingress", "default/legacy", "/", "")],
                 id="ingress"),
    pytest.param(FIXTURES, "loop.example.com", "/a",
                 [("IngressRoute", "default/loop-root", "/", "valid"),
                  ("IngressRoute", "default/loop-child", "/a", "invalid")],
                 id="served-by-an-invalid-child"),
    pytest.param(HERE / "fixtures" / "httpproxy", "shop.example.com", "/api/v1",
                 [("HTTPProxy", "shop/shop", "prefix /api", "valid"),
                  ("HTTPProxy", "shop/api-blue", "prefix /api/v1", "valid")],
                 id="httpproxy-include"),
])
def test_chain_links(folder: Path, host: str, path: str,
                     links: list[tuple[str, str, str, str]]) -> None:
    snapshot, dag, route = chosen(folder, host, path, https=host == "www.example.com")
    got = chain_links(snapshot, computed_statuses(dag.statuses), route)
    assert [(c.kind, f"{c.namespace}/{c.name}", c.match, c.status) for c in got] == links


def test_a_route_without_provenance_has_no_chain() -> None:
    assert chain_links(Snapshot(()), {}, Route("/")) == []


@pytest.mark.parametrize(("path", "visited"), [
    pytest.param("/api/v2", [("roots", "www", ""), ("marketing", "api", "/api")],
                 id="invalid-child-found-by-prefix"),
    pytest.param("/static", [("roots", "www", "")], id="no-child-for-path"),
    pytest.param("/blog/admin/x", [("roots", "www", ""), ("marketing", "blog", "/blog"),
                                   ("marketing", "admin", "/blog/admin")], id="down-the-chain"),
])
def test_on_the_way(path: str, visited: list[tuple[str, str, str]]) -> None:
    snapshot = load_dir(FIXTURES)
    dag = build_dag(snapshot, settings=BuilderSettings())
    vhost = find_vhost(dag.https, "www.example.com")
    got = on_the_way(snapshot, vhost.routes, path)
    assert [(*v.key, v.prefix) for v in got] == visited
