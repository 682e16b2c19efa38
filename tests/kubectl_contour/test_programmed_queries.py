"""`wait` and `proxy-status`, the pure parts, table-driven: target names, the verdict on a
controller row, and proxy rows from /debug/xds."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_contour.queries.programmed import (
    FAILED,
    READY,
    WAITING,
    Target,
    Verdict,
    combined,
    merged_proxy_rows,
    parse_target,
    proxy_rows,
    verdict,
)


@pytest.mark.parametrize(("text", "target"), [
    ("web", Target("", "ns", "web")),
    ("httpproxy/web", Target("HTTPProxy", "ns", "web")),
    ("HTTPProxies.projectcontour.io/web", Target("HTTPProxy", "ns", "web")),
    ("ing/web", Target("Ingress", "ns", "web")),
    ("ir/web", Target("IngressRoute", "ns", "web")),
    ("httproute/web", Target("HTTPRoute", "ns", "web")),
    ("httproutes.gateway.networking.k8s.io/web", Target("HTTPRoute", "ns", "web")),
    ("grpcroute/web", Target("GRPCRoute", "ns", "web")),
    ("tlsroute/web", Target("TLSRoute", "ns", "web")),
    ("configmap/web", None),
])
def test_parse_target(text: str, target: Target | None) -> None:
    assert parse_target(text, "ns") == target


def row(**kw: Any) -> dict[str, Any]:
    return {"currentStatus": "valid", "description": "", "generation": 3, "programmed": True,
            "message": "served by 2/2 Envoys", "pending": [], **kw}


@pytest.mark.parametrize(("the_row", "goal", "generation", "state", "message"), [
    pytest.param(None, "programmed", 3, WAITING, "the controller has not built it yet",
                 id="not-built"),
    pytest.param(row(generation=2), "programmed", 3, WAITING,
                 "the controller has built generation 2, not yet 3", id="older-generation"),
    pytest.param(row(), "programmed", 3, READY, "served by 2/2 Envoys", id="programmed"),
    pytest.param(row(generation=None), "programmed", 3, READY, "served by 2/2 Envoys",
                 id="folder-objects-have-no-generation"),
    pytest.param(row(programmed=False, message="served by 1/2 Envoys; b: stale",
                     pending=[{"node": "b", "why": "stale"}]), "programmed", 3, WAITING,
                 "served by 1/2 Envoys; b: stale", id="stale"),
    pytest.param(row(programmed=False, pending=[{"node": "b", "why": "NACKed: bad"}]),
                 "programmed", 3, FAILED, "b: NACKed: bad", id="nacked-is-final"),
    pytest.param(row(currentStatus="invalid", description="Service x missing"), "programmed",
                 3, WAITING, "invalid: Service x missing", id="invalid-may-still-change"),
    pytest.param(row(programmed=False), "valid", 3, READY, "valid", id="valid-goal"),
])
def test_verdict(the_row: dict[str, Any] | None, goal: str, generation: int, state: str,
                 message: str) -> None:
    got = verdict(the_row, goal=goal, generation=generation)
    assert (got.state, got.message) == (state, message)


TYPES = {"clusters": "cds", "routes": "rds"}


def node(name: str, cds: int, rds: int, **kw: Any) -> dict[str, Any]:
    return {"node": name, "cluster": "contour", "connected": kw.pop("connected", True),
            "types": {"cds": {"acked": f"c{cds}", "held": cds, "rejecting": False,
                              "nack": None},
                      "rds": {"acked": f"r{rds}", "held": rds,
                              "rejecting": kw.get("rejecting", False),
                              "nack": kw.get("nack")}}}


def test_proxy_rows_states_pods_and_last_error() -> None:
    debug = {"serials": {"cds": 5, "rds": 5}, "nodes": [
        node("c", 5, 4, rejecting=True, nack={"error": "bad route", "time": 2.0}),
        node("a", 5, 5), node("b", 5, 3), node("d", 1, 1, connected=False)]}
    rows = proxy_rows(debug, {"a", "c"}, TYPES)
    assert [(r.node, r.pod, r.state, r.stale, r.error) for r in rows] == [
        ("a", "a", "synced", [], ""), ("b", "", "stale", ["routes"], ""),
        ("c", "c", "nacked", ["routes"], "bad route"),
        ("d", "", "disconnected", ["clusters", "routes"], "")]
    assert rows[0].versions == {"clusters": "c5", "routes": "r5"}


def test_proxy_rows_of_several_controllers_merge_by_node() -> None:
    """manifests/' layout: each controller knows its own pod's Envoy; one that moved is
    disconnected at its old controller and connected at the new one."""
    one = proxy_rows({"serials": {"cds": 5, "rds": 5}, "nodes": [
        node("a", 5, 5), node("b", 1, 1, connected=False)]}, set(), TYPES)
    two = proxy_rows({"serials": {"cds": 2, "rds": 2}, "nodes": [node("b", 2, 2)]}, set(), TYPES)
    merged = merged_proxy_rows([one, two])
    assert [(r.node, r.state) for r in merged] == [("a", "synced"), ("b", "synced")]
    assert merged_proxy_rows([two, one]) == merged


@pytest.mark.parametrize(("states", "expected"), [
    ([(READY, "served by 1/1 Envoys")] * 2,
     (READY, "served by 1/1 Envoys, at each of 2 controllers")),
    ([(READY, "served by 2/2 Envoys")], (READY, "served by 2/2 Envoys")),
    ([(READY, "served by 1/1 Envoys"), (WAITING, "served by 0/1 Envoys")],
     (WAITING, "served by 0/1 Envoys")),
    ([(WAITING, "stale"), (FAILED, "e-1: NACKed: bad")], (FAILED, "e-1: NACKed: bad")),
])
def test_verdicts_of_several_controllers_combine(states: list, expected: tuple) -> None:
    """manifests/' layout: one controller per pod; programmed only when every one says so."""
    result = combined([Verdict(state, message) for state, message in states])
    assert (result.state, result.message) == expected
