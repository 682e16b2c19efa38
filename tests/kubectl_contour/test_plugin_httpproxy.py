"""HTTPProxy through every command, offline on the HTTPProxy fixture folder (roots with TLS,
same- and cross-namespace includes with header and query conditions, an orphan ready for a
blue/green switch, a cycle, a missing include, a missing Service, a root including a root):
golden text, then table-driven checks of the query models behind it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import HERE
from goldens import check_golden, invoke

from controller.config import BuilderSettings
from kubectl_contour.queries.build import build_dag
from kubectl_contour.sources import load_dir

PROXIES = HERE / "fixtures" / "httpproxy"


@pytest.mark.parametrize(("args", "golden", "code"), [
    pytest.param(["tree"], "tree.txt", 0, id="tree-all"),
    pytest.param(["tree", "httpproxy/checkout/cart"], "tree-cart.txt", 0, id="tree-one-child"),
    pytest.param(["status"], "status.txt", 0, id="status"),
    pytest.param(["route", "--scheme", "https", "-H", "x-beta=1", "shop.example.com/cart/x"],
                 "route-include-header.txt", 0, id="route-through-a-cross-namespace-include"),
    pytest.param(["route", "--scheme", "https", "shop.example.com/cart/x"],
                 "route-header-missing.txt", 0, id="route-include-header-condition-fails"),
    pytest.param(["route", "broken.example.com/x/y"], "route-502.txt", 1,
                 id="route-missing-include-502"),
    pytest.param(["route", "loop.example.com/a/b/x"], "route-cycle.txt", 1,
                 id="route-below-a-cycle"),
    pytest.param(["endpoints", "--scheme", "https", "shop.example.com/api/v1"],
                 "endpoints-route.txt", 0, id="endpoints-of-a-route"),
    pytest.param(["switch", "api-blue", "api-green", "--dry-run"], "switch-dry-run.txt", 0,
                 id="switch-dry-run"),
], )
def test_golden(args: list[str], golden: str, code: int) -> None:
    exit_code, out, err = invoke(PROXIES, *args)
    assert exit_code == code, err
    check_golden(f"httpproxy/{golden}", out)


def dag_and_snapshot() -> tuple[Any, Any]:
    snapshot = load_dir(PROXIES)
    return snapshot, build_dag(snapshot, settings=BuilderSettings())


def test_tree_roots_orphans_and_marks() -> None:
    from kubectl_contour.queries.tree import tree_view

    snapshot, dag = dag_and_snapshot()
    view = tree_view(snapshot, dag, scope=None)
    assert [(r.kind, r.name) for r in view.roots] == [
        ("HTTPProxy", "broken"), ("HTTPProxy", "greedy"), ("HTTPProxy", "loop-root"),
        ("HTTPProxy", "shop")]
    assert [o.name for o in view.orphans] == ["api-green"]
    notes = {r.name: [(e.match, e.note) for e in r.routes if e.note] for r in view.roots}
    assert notes["broken"] == [("prefix /x", "not found")]
    assert notes["greedy"] == [("prefix /shop", "a root")]
    loop_a = view.roots[2].routes[0].child
    assert loop_a is not None and loop_a.status == "invalid"
    # loop-a → loop-b serves nothing (loop-b's only include closes the cycle): loop-b is
    # shown with its status, not expanded; the cycle is in loop-a's status
    loop_b = loop_a.routes[0].child
    assert loop_a.routes[0].note == "not served"
    assert loop_b is not None and loop_b.status == "valid" and loop_b.routes == ()
    assert "include cycle" in loop_a.reason
    broken = view.roots[0]
    assert broken.reason == "include shop/nope not found"
    assert broken.errors == ('Spec.Routes unresolved service reference: service "shop/ghost" '
                             'not found',)


@pytest.mark.parametrize(("path", "headers", "chain"), [
    pytest.param("/cart/x", (("x-beta", "1"),),
                 [("shop", "shop", "prefix /cart, header x-beta present"),
                  ("checkout", "cart", "prefix /cart, header x-beta present")], id="include"),
    pytest.param("/api/v1/x", (), [("shop", "shop", "prefix /api"),
                                   ("shop", "api-blue", "prefix /api/v1")], id="same-ns"),
    pytest.param("/anything", (), [("shop", "shop", "prefix /")], id="root-route"),
])
def test_route_chain_comes_from_provenance(path: str, headers: tuple[tuple[str, str], ...],
                                           chain: list[tuple[str, str, str]]) -> None:
    from kubectl_contour.queries.route import Request, explain

    snapshot, dag = dag_and_snapshot()
    model = explain(snapshot, dag, Request("shop.example.com", path, "https", headers))
    assert [(c.namespace, c.name, c.match) for c in model.chain] == chain
    assert {c.kind for c in model.chain} == {"HTTPProxy"}


@pytest.mark.parametrize(("host", "path", "problems"), [
    pytest.param("broken.example.com", "/x/y",
                 ["HTTPProxy shop/broken: invalid: include shop/nope not found"], id="root"),
    pytest.param("loop.example.com", "/a/b/c/x",
                 ["HTTPProxy shop/loop-a: invalid: include creates an include cycle: "
                  "shop/loop-root -> shop/loop-a -> shop/loop-b -> shop/loop-a"],
                 id="invalid-child-on-the-way"),
    pytest.param("shop.example.com", "/", [], id="all-valid"),
])
def test_route_problems_on_the_way(host: str, path: str, problems: list[str]) -> None:
    from kubectl_contour.queries.route import Request, explain

    snapshot, dag = dag_and_snapshot()
    assert list(explain(snapshot, dag, Request(host, path)).problems) == problems


def test_status_rows_carry_conditions() -> None:
    from kubectl_contour.queries.status import status_rows

    snapshot, dag = dag_and_snapshot()
    rows = {r.name: r for r in status_rows(snapshot, dag, scope=None, ingress_class="contour")}
    assert (rows["shop"].hosts, rows["api-blue"].hosts) == ("shop.example.com", "(include)")
    assert rows["broken"].reason == "include shop/nope not found"
    errors = rows["broken"].conditions[0].errors
    assert [e.reason for e in errors] == ["IncludeNotFound", "ServiceUnresolvedReference"]
    assert rows["api-green"].status == "orphaned"


def test_status_json_has_the_valid_condition() -> None:
    code, out, _ = invoke(PROXIES, "status", "-o", "json")
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    cond = rows["greedy"]["conditions"][0]
    assert (cond["type"], cond["status"], cond["reason"]) == ("Valid", "False", "ErrorPresent")
    assert cond["errors"][0]["reason"] == "RootIncludesRoot"


def test_switch_plan_repoints_the_include() -> None:
    code, out, _ = invoke(PROXIES, "switch", "api-blue", "api-green", "--dry-run", "-o", "json")
    plan = json.loads(out)
    assert code == 0 and plan["kind"] == "HTTPProxy"
    assert plan["changes"] == [{"root": ["shop", "shop"], "fqdn": "shop.example.com",
                                "index": 0, "match": "prefix /api",
                                "old": {"name": "api-blue", "conditions": [{"prefix": "/api"}]},
                                "new": {"name": "api-green",
                                        "conditions": [{"prefix": "/api"}]}}]
    assert all(c["ok"] for c in plan["checks"])


COND = [{"prefix": "/"}]


@pytest.mark.parametrize(("old", "target", "new"), [
    pytest.param({"name": "a"}, ("shop", "b"), {"name": "b"}, id="same-namespace"),
    pytest.param({"name": "a"}, ("other", "b"), {"name": "b", "namespace": "other"},
                 id="into-another-namespace"),
    pytest.param({"name": "a", "namespace": "shop"}, ("shop", "b"),
                 {"name": "b", "namespace": "shop"}, id="namespace-spelled-out"),
])
def test_include_patch_pins_the_whole_entry(old: dict[str, str], target: tuple[str, str],
                                            new: dict[str, str]) -> None:
    from kubectl_contour.objects import Snapshot
    from kubectl_contour.queries.switch import patch_ops, plan_switch, switched

    root = {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": "r", "namespace": "shop"},
            "spec": {"virtualhost": {"fqdn": "r.example.com"},
                     "includes": [{**old, "conditions": COND}]}}
    plan = plan_switch(Snapshot((root,)), source=("shop", "a"), target=target,
                       kind="HTTPProxy")
    base = "/spec/includes/0"
    assert patch_ops(plan, ("shop", "r")) == [
        {"op": "test", "path": base, "value": {**old, "conditions": COND}},
        {"op": "replace", "path": base, "value": {**new, "conditions": COND}}]
    after = switched(Snapshot((root,)), plan).objects[0]
    assert after["spec"]["includes"] == [{**new, "conditions": COND}]
    assert root["spec"]["includes"] == [{**old, "conditions": COND}]


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["switch", "api-green", "api-blue", "--dry-run"], 1,
                 "no root HTTPProxy include names shop/api-green", id="nothing-includes-from"),
    pytest.param(["switch", "api-blue", "loop-a", "--dry-run"], 1,
                 "refusing to switch: shop/loop-a valid after the switch", id="to-invalid"),
    pytest.param(["switch", "api-blue", "ingressroute/x", "--dry-run"], 2,
                 "switch within one kind", id="mixed-kinds"),
    pytest.param(["tree", "ingressroute/shop"], 3, "IngressRoute 'shop' not found",
                 id="kind-prefix"),
])
def test_refusals(args: list[str], code: int, message: str) -> None:
    exit_code, _, err = invoke(PROXIES, *args)
    assert exit_code == code, err
    assert message in err


def test_a_name_both_kinds_have_needs_the_kind(tmp_path: Path) -> None:
    for f in PROXIES.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "ir.yaml").write_text(
        "apiVersion: contour.heptio.com/v1beta1\nkind: IngressRoute\n"
        "metadata: {name: shop, namespace: shop}\nspec: {routes: []}\n")
    code, _, err = invoke(tmp_path, "tree", "shop")
    assert code == 2 and "names both an IngressRoute and an HTTPProxy" in err
    assert "httpproxy/shop" in err
    code, out, _ = invoke(tmp_path, "tree", "httpproxy/shop")
    assert code == 0 and out.startswith("shop.example.com (shop/shop)")
    code, out, _ = invoke(tmp_path, "tree", "ingressroute/shop/shop", "-o", "json")
    assert code == 0 and json.loads(out)["roots"][0]["kind"] == "IngressRoute"
