"""Whether an Envoy serves a rollout step (queries/rollout_envoy.py): the shares the DAG of
the step gives each Service against the shares an Envoy's config dump gives them."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import HERE

from controller.config import BuilderSettings
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.rollout_envoy import expected_shares, missing, served_shares, shares
from kubectl_contour.queries.rollout_plan import make_recipe, spec_at
from kubectl_contour.queries.switch import plan_switch
from kubectl_contour.sources import load_dir

HOST = "blue-green.example.com"


@pytest.mark.parametrize(("weights", "out"), [
    pytest.param([("a", 75), ("b", 25)], (("a", 0.75), ("b", 0.25)), id="weighted"),
    pytest.param([("a", 0), ("b", 0)], (("a", 0.5), ("b", 0.5)), id="all-zero-equal"),
    pytest.param([("b", 1), ("a", 1), ("a", 2)], (("a", 0.75), ("b", 0.25)), id="summed"),
])
def test_shares(weights: list[tuple[str, int]], out: tuple[tuple[str, float], ...]) -> None:
    assert shares(weights) == out


def dumps(clusters: list[tuple[str, int]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """An Envoy's route and cluster dumps (`?resource=` shape) for HOST's `/` route."""
    action: dict[str, Any] = ({"cluster": f"c-{clusters[0][0]}"} if len(clusters) == 1 else
                              {"weighted_clusters": {"clusters": [
                                  {"name": f"c-{n}", "weight": w} for n, w in clusters]}})
    routes = {"configs": [{
        "@type": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump.DynamicRouteConfig",
        "route_config": {"name": "ingress_http", "virtual_hosts": [{
            "name": HOST, "domains": [HOST],
            "routes": [{"match": {"prefix": "/"}, "route": action}]}]}}]}
    found = {"configs": [{
        "@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
        "cluster": {"name": f"c-{n}", "alt_stat_name": n}} for n, _ in clusters]}
    return routes, found


def split_routes(weight: int) -> list[Any]:
    snapshot = load_dir(HERE / "fixtures" / "cluster")
    plan = plan_switch(snapshot, source=("default", "blue"), target=("default", "green"))
    root = snapshot.index("IngressRoute")[("default", "blue-green-root")]
    spec = spec_at("IngressRoute", root["spec"], make_recipe(snapshot, plan), weight)
    dag = build_dag(snapshot.replaced({**root, "spec": spec}), settings=BuilderSettings())
    return [r for vh in dag.http if vh.host == HOST for r in vh.routes]


@pytest.mark.parametrize(("served", "gaps"), [
    pytest.param([("default_blue_80", 75), ("default_green_80", 25)], [], id="served"),
    pytest.param([("default_blue_80", 1)], [
        "prefix / not yet routed to default_blue_80 75%, default_green_80 25%"],
        id="still-the-old-route"),
    pytest.param([("default_blue_80", 50), ("default_green_80", 50)], [
        "prefix / not yet routed to default_blue_80 75%, default_green_80 25%"],
        id="another-step"),
])
def test_an_envoy_serves_a_step(served: list[tuple[str, int]], gaps: list[str]) -> None:
    expected = expected_shares(split_routes(25))
    assert expected == {("prefix", "/"): [(("default_blue_80", 0.75),
                                           ("default_green_80", 0.25))]}
    routes, clusters = dumps(served)
    assert missing(expected, served_shares(routes, clusters, [HOST])) == gaps
