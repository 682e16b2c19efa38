"""Gateway API kinds through the plugin, offline on the Gateway fixture folder (the served
Gateway with HTTP, HTTPS and TLS passthrough listeners, a Gateway of another class, routes
accepted, refused, unattached, with a missing and an ungranted backend, a weighted
blue/green rule): golden text, then table checks of the query models behind it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import HERE
from goldens import check_golden, invoke

from controller.config import BuilderSettings
from kubectl_contour.errors import CheckFailed
from kubectl_contour.queries.build import build_dag
from kubectl_contour.sources import load_dir

GATEWAY = HERE / "fixtures" / "gateway"


@pytest.mark.parametrize(("args", "golden", "code"), [
    pytest.param(["tree"], "tree.txt", 0, id="tree-all"),
    pytest.param(["tree", "gateway/infra/web"], "tree-web.txt", 0, id="tree-one-gateway"),
    pytest.param(["status"], "status.txt", 0, id="status"),
    pytest.param(["route", "shop.example.com/api/v1"], "route-weighted.txt", 0,
                 id="route-weighted-backends"),
    pytest.param(["route", "-H", "x-beta=1", "shop.example.com/beta/x"],
                 "route-method-missing.txt", 0, id="route-method-condition-fails"),
    pytest.param(["analyze"], "analyze.txt", 1, id="analyze"),
    pytest.param(["switch", "api-blue", "api-green", "--dry-run"], "switch-dry-run.txt", 0,
                 id="switch-weight-dry-run"),
    pytest.param(["switch", "web", "api-green", "--root", "httproute/shop/secure",
                  "--dry-run"], "switch-refused.txt", 1, id="switch-refused-route-unresolved"),
])
def test_golden(args: list[str], golden: str, code: int) -> None:
    exit_code, out, err = invoke(GATEWAY, *args)
    assert exit_code == code, err
    check_golden(f"gateway/{golden}", out)


def snapshot_and_dag() -> tuple[Any, Any]:
    snapshot = load_dir(GATEWAY)
    return snapshot, build_dag(snapshot, settings=BuilderSettings())


def test_the_snapshot_holds_every_gateway_kind() -> None:
    snapshot, _ = snapshot_and_dag()
    kinds = {o["kind"] for o in snapshot.objects}
    assert kinds >= {"GatewayClass", "Gateway", "HTTPRoute", "GRPCRoute", "TLSRoute",
                     "ReferenceGrant"}
    assert [o["metadata"].get("namespace") for o in snapshot.of_kind("GatewayClass")] == [
        None, None]  # cluster-scoped: no namespace added


def test_status_words_per_kind() -> None:
    from kubectl_contour.queries.status import status_rows

    snapshot, dag = snapshot_and_dag()
    rows = {(r.kind, r.name): r.status for r in status_rows(snapshot, dag, scope=None,
                                                            ingress_class="")}
    assert rows == {
        ("GatewayClass", "contour"): "accepted", ("GatewayClass", "other"): "ignored",
        ("Gateway", "web"): "programmed", ("Gateway", "elsewhere"): "not served",
        ("HTTPRoute", "shop"): "accepted", ("HTTPRoute", "ghost"): "refs unresolved",
        ("HTTPRoute", "secure"): "refs unresolved", ("HTTPRoute", "mismatch"): "not accepted",
        ("HTTPRoute", "stray"): "not attached", ("HTTPRoute", "zero"): "accepted",
        ("GRPCRoute", "greeter"): "accepted", ("TLSRoute", "db"): "accepted"}


def test_tree_puts_routes_under_their_listeners() -> None:
    from kubectl_contour.queries.gateway_tree import gateway_tree

    snapshot, dag = snapshot_and_dag()
    tree = gateway_tree(snapshot, dag, scope=None)
    web = next(g for g in tree.gateways if g.name == "web")
    assert {li.name: [r.name for r in li.routes] for li in web.listeners} == {
        "http": ["ghost", "greeter", "shop", "zero"], "https": ["secure"],
        "passthrough": ["db"]}
    assert {li.name: li.attached for li in web.listeners} == {"http": 4, "https": 1,
                                                              "passthrough": 1}
    assert [r.name for r in tree.unattached] == ["mismatch", "stray"]
    shop = next(r for r in web.listeners[0].routes if r.name == "shop")
    assert [(b.name, b.weight, b.ready) for b in shop.rules[0].backends] == [
        ("api-blue", 90, 2), ("api-green", 10, 1)]


@pytest.mark.parametrize(("refs", "expected"), [
    pytest.param([{"name": "a", "weight": 90}, {"name": "b", "weight": 10}],
                 [{"name": "a", "weight": 0}, {"name": "b", "weight": 100}], id="both"),
    pytest.param([{"name": "a", "port": 80}], [{"name": "b", "port": 80}], id="rename"),
    pytest.param([{"name": "a"}, {"name": "b"}], [{"name": "a", "weight": 0},
                                                  {"name": "b", "weight": 2}],
                 id="default-weights"),
    pytest.param([{"name": "a", "namespace": "other"}], [{"name": "a", "namespace": "other"}],
                 id="other-namespace-untouched"),
    pytest.param([{"name": "a", "kind": "ConfigMap"}], [{"name": "a", "kind": "ConfigMap"}],
                 id="not-a-service"),
])
def test_moved_weights(refs: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    from kubectl_contour.queries.switch_gateway import moved

    assert moved(refs, "ns", source=("ns", "a"), target=("ns", "b")) == expected


def test_switch_patch_tests_the_exact_backend_list_then_replaces_it() -> None:
    from kubectl_contour.queries.switch import patch_ops
    from kubectl_contour.queries.switch_gateway import plan_backend_switch

    snapshot, _ = snapshot_and_dag()
    plan = plan_backend_switch(snapshot, source=("shop", "api-blue"),
                               target=("shop", "api-green"), kind="HTTPRoute")
    before = [{"name": "api-blue", "port": 80, "weight": 90},
              {"name": "api-green", "port": 80, "weight": 10}]
    after = [{"name": "api-blue", "port": 80, "weight": 0},
             {"name": "api-green", "port": 80, "weight": 100}]
    assert patch_ops(plan, ("shop", "shop")) == [
        {"op": "test", "path": "/spec/rules/0/backendRefs", "value": before},
        {"op": "replace", "path": "/spec/rules/0/backendRefs", "value": after}]


def test_switch_refuses_a_service_no_rule_sends_to() -> None:
    from kubectl_contour.queries.switch_gateway import plan_backend_switch

    snapshot, _ = snapshot_and_dag()
    with pytest.raises(CheckFailed, match="no HTTPRoute rule has a backendRef"):
        plan_backend_switch(snapshot, source=("data", "db"), target=("shop", "web"),
                            kind="HTTPRoute")


def test_switch_to_a_service_without_endpoints_is_refused() -> None:
    exit_code, out, _ = invoke(GATEWAY, "switch", "web", "data/db", "--root",
                               "httproute/shop/shop", "--dry-run")
    assert exit_code == 1
    assert "FAILED" in out
