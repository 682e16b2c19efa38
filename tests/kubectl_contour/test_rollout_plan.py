"""How a rollout writes its steps (queries/rollout_plan.py) and checks them with the builder
(queries/rollout_checks.py), on the fixture folders and on small in-memory objects."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from conftest import HERE

from controller.config import BuilderSettings
from kubectl_contour.errors import CheckFailed
from kubectl_contour.objects import Snapshot
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.rollout_checks import split_checks, tls_check
from kubectl_contour.queries.rollout_plan import apportion, make_recipe, spec_at, stat_names
from kubectl_contour.queries.switch import plan_switch, switched
from kubectl_contour.sources import load_dir

IR, HP = "IngressRoute", "HTTPProxy"


def build(snapshot: Snapshot) -> Any:
    return build_dag(snapshot, settings=BuilderSettings())


def planned(snapshot: Snapshot, kind: str, source: str, target: str) -> Any:
    ns = source.split("/")[0]
    return plan_switch(snapshot, source=(ns, source.split("/")[1]),
                       target=(ns, target.split("/")[1]), kind=kind)


def fixture(folder: str) -> Snapshot:
    return load_dir(HERE / "fixtures" / folder)


def test_ingressroute_recipe_and_specs() -> None:
    snapshot = fixture("cluster")
    plan = planned(snapshot, IR, "default/blue", "default/green")
    recipe = make_recipe(snapshot, plan)
    assert recipe == [{"index": 0, "final": {"name": "green"}, "routes": [
        {"route": {"match": "/"}, "from": [{"name": "blue", "port": 80}],
         "to": [{"name": "green", "port": 80}]}]}]
    base = snapshot.index(IR)[("default", "blue-green-root")]["spec"]
    assert spec_at(IR, base, recipe, 0) == base
    assert spec_at(IR, base, recipe, 25)["routes"] == [{"match": "/", "services": [
        {"name": "blue", "port": 80, "weight": 75}, {"name": "green", "port": 80, "weight": 25}]}]
    # the last step is exactly switch's edit of the pre-rollout spec
    after = switched(snapshot, plan).index(IR)[("default", "blue-green-root")]["spec"]
    assert spec_at(IR, base, recipe, 100) == after
    assert stat_names("default", recipe, "to") == ["default_green_80"]


def test_httpproxy_recipe_joins_the_include_conditions() -> None:
    snapshot = fixture("httpproxy")
    plan = planned(snapshot, HP, "shop/api-blue", "shop/api-green")
    recipe = make_recipe(snapshot, plan)
    assert recipe[0]["routes"][0]["route"] == {"conditions": [{"prefix": "/api/v1"}]}
    base = snapshot.index(HP)[("shop", "shop")]["spec"]
    split = spec_at(HP, base, recipe, 10)
    assert [i["name"] for i in split["includes"]] == ["cart"]
    assert split["routes"][-1] == {"conditions": [{"prefix": "/api/v1"}], "services": [
        {"name": "api-blue", "port": 80, "weight": 90},
        {"name": "api-green", "port": 80, "weight": 10}]}
    after = switched(snapshot, plan).index(HP)[("shop", "shop")]["spec"]
    assert spec_at(HP, base, recipe, 100) == after
    assert base == snapshot.index(HP)[("shop", "shop")]["spec"]  # never mutated


@pytest.mark.parametrize(("folder", "kind", "source", "target"), [
    pytest.param("cluster", IR, "default/blue", "default/green", id="ingressroute"),
    pytest.param("httpproxy", HP, "shop/api-blue", "shop/api-green", id="httpproxy-tls"),
])
def test_every_step_builds_as_planned(folder: str, kind: str, source: str,
                                      target: str) -> None:
    snapshot = fixture(folder)
    plan = planned(snapshot, kind, source, target)
    after = build(switched(snapshot, plan))
    checks = split_checks(snapshot, plan, make_recipe(snapshot, plan), (1, 33, 99, 100),
                          build, after)
    assert [(c.name, c.ok) for c in checks][1:] == [
        ("split at 1% builds as planned", True), ("split at 33% builds as planned", True),
        ("split at 99% builds as planned", True)]
    assert checks[0].ok, checks[0]


@pytest.mark.parametrize(("services", "total", "weights"), [
    pytest.param([{}], 90, [90], id="one"),
    pytest.param([{}, {}, {}], 10, [4, 3, 3], id="equal-shares-largest-remainder"),
    pytest.param([{"weight": 90}, {"weight": 10}], 75, [68, 7], id="declared-proportions"),
    pytest.param([{"weight": 3}, {"weight": 0}], 50, [50, 0], id="zero-stays-zero"),
    pytest.param([{"weight": 0}, {"weight": 0}], 25, [13, 12], id="all-zero-is-equal"),
])
def test_apportion(services: list[dict[str, Any]], total: int, weights: list[int]) -> None:
    out = apportion([{"name": f"s{i}", **s} for i, s in enumerate(services)], total)
    assert [s["weight"] for s in out] == weights
    assert sum(weights) == total


def objects(from_routes: list[dict[str, Any]], to_routes: list[dict[str, Any]], *,
            to_ns: str = "default", tcp: bool = False) -> Snapshot:
    def ir(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": "contour.heptio.com/v1beta1", "kind": IR,
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    services = [{"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": n, "namespace": ns},
                 "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
                for ns in ("default", "other") for n in ("a", "b", "c")]
    from_spec: dict[str, Any] = {"routes": from_routes}
    if tcp:
        from_spec["tcpproxy"] = {"services": [{"name": "a", "port": 80}]}
    return Snapshot((*services,
                     ir("default", "root", {"virtualhost": {"fqdn": "x.example.com"},
                                            "routes": [{"match": "/",
                                                        "delegate": {"name": "from"}}]}),
                     ir("default", "from", from_spec), ir(to_ns, "to", {"routes": to_routes})))


def route(match: str, *names: str, **extra: Any) -> dict[str, Any]:
    return {"match": match, "services": [{"name": n, "port": 80} for n in names], **extra}


@pytest.mark.parametrize(("snapshot", "message"), [
    pytest.param(objects([route("/", "a")], [route("/", "b")], to_ns="other"),
                 "must be in the root's namespace default", id="other-namespace"),
    pytest.param(objects([{"match": "/", "delegate": {"name": "x"}}], [route("/", "b")]),
                 "default/from route '/' does not list services", id="from-delegates"),
    pytest.param(objects([route("/", "a"), route("/api", "a")], [route("/", "b")]),
                 "both must declare the same matches", id="other-matches"),
    pytest.param(objects([route("/", "a", timeoutPolicy={"request": "1s"})], [route("/", "b")]),
                 "route '/' has other settings in default/from", id="other-settings"),
    pytest.param(objects([route("/", "a", "c")], [route("/", "b", "c")]),
                 "default/from and default/to both route to c", id="shared-service"),
    pytest.param(objects([route("/", "a")], [route("/", "b")], tcp=True),
                 "default/from has a tcpproxy", id="tcpproxy"),
    pytest.param(objects([route("/", "a"), route("/", "c")], [route("/", "b")]),
                 "declares a match twice", id="duplicate-match"),
])
def test_refusals(snapshot: Snapshot, message: str) -> None:
    to_ns = "other" if snapshot.get(IR, ("other", "to")) else "default"
    plan = plan_switch(snapshot, source=("default", "from"), target=(to_ns, "to"), kind=IR)
    with pytest.raises(CheckFailed) as err:
        make_recipe(snapshot, plan)
    assert err.value.message.startswith("cannot express the rollout as a weighted split: ")
    assert message in err.value.message


def test_a_split_the_builder_refuses_is_refused() -> None:
    """The recipe is fine by itself, but a websocket route may not split over several
    services: the builder's DAG of the split root says so before anything is written."""
    snapshot = objects([route("/", "a", enableWebsockets=True)],
                       [route("/", "b", enableWebsockets=True)])
    plan = plan_switch(snapshot, source=("default", "from"), target=("default", "to"),
                       kind=IR)
    checks = split_checks(snapshot, plan, make_recipe(snapshot, plan), (50, 100), build,
                          build(switched(snapshot, plan)))
    assert [(c.name, c.ok, c.detail) for c in checks] == [
        ("default/to serves the routes of default/from", True, "1 route"),
        ("split at 50% builds as planned", False, "default/root is not valid with the split")]


def test_tls_check_compares_the_certificate_with_the_rollout_end() -> None:
    snapshot = fixture("httpproxy")
    plan = planned(snapshot, HP, "shop/api-blue", "shop/api-green")
    dag = build(switched(snapshot, plan))
    ok = tls_check(dag, plan, until=dt.datetime.now(dt.UTC))
    assert (ok.ok, ok.detail) == (True, "secret shop/shop-tls")
    late = tls_check(dag, plan, until=dt.datetime(2200, 1, 1, tzinfo=dt.UTC))
    assert not late.ok and late.detail.startswith("secret shop/shop-tls expires 2")
    assert late.detail.endswith("before the rollout can end (2200-01-01T00:00:00Z)")


def weights(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"name": n, "port": 80, "weight": w} for n, w in pairs]


@pytest.mark.parametrize(("routes", "detail"), [
    pytest.param([{"match": "/", "services": weights(("blue", 75), ("green", 25))}],
                 "root valid, routes as planned", id="as-planned"),
    pytest.param([{"match": "/", "services": weights(("blue", 50), ("green", 50))}],
                 "route / sends 50 of 100 to TO", id="other-share"),
    pytest.param([{"match": "/", "services": weights(("blue", 100))}],
                 "route / does not list the services of both sides", id="a-side-missing"),
    pytest.param([{"match": "/", "services": weights(("blue", 75), ("green", 25)),
                   "timeoutPolicy": {"request": "3s"}}],
                 "route / changes its settings", id="other-settings"),
    pytest.param([{"match": "/", "services": weights(("blue", 75), ("green", 25))},
                  {"match": "/extra", "services": weights(("blue", 1))}],
                 "the routes change: /extra", id="a-route-more"),
])
def test_split_check_compares_the_dag_with_the_plan(routes: list[dict[str, Any]],
                                                    detail: str) -> None:
    from kubectl_contour.queries.rollout_checks import split_check

    snapshot = fixture("cluster")
    plan = planned(snapshot, IR, "default/blue", "default/green")
    root = copy.deepcopy(snapshot.index(IR)[("default", "blue-green-root")])
    root["spec"]["routes"] = routes
    check = split_check(build(snapshot), build(switched(snapshot, plan)),
                        build(snapshot.replaced(root)), plan, 25, True)
    assert (check.ok, check.detail) == (detail == "root valid, routes as planned", detail)
