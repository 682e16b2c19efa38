"""bench/cluster_workloads.py: what `bench cluster` loads and how each workload changes it
(pure: no API server; tests/bench/test_bench_smoke.py runs both against a real one)."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cluster_workloads as cw


def names(objs: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def test_prefix_workload_presets_every_routing_objects_status() -> None:
    made = cw.prefix_workload(3, "ingressroute", "10.0.0.1", 8080, statuses=True)
    assert names(made.routing) == ["ir-0", "ir-1", "ir-2"] and made.valid == 3
    assert made.statuses == [(n, cw.VALID_STATUS) for n in ("ir-0", "ir-1", "ir-2")]
    assert [s["spec"]["clusterIP"] for s in made.services] == ["None"] * 3
    assert cw.prefix_workload(3, "httpproxy", "10.0.0.1", 8080, statuses=False).statuses == []


def test_a_prefix_change_patches_the_object_carrying_the_route() -> None:
    made = cw.prefix_workload(4, "httpproxy", "10.0.0.1", 8080, statuses=False)
    patched: list[tuple[str, dict[str, Any]]] = []
    assert made.change(lambda path, body: patched.append((path, body)), 2, "/p/") is None
    ((path, body),) = patched
    assert path == f"{cw.ROUTING_API['httpproxy']}/hp-2-child"
    assert "pathRewritePolicy" in body["spec"]["routes"][0]


@pytest.mark.parametrize("n", [3, 25])
def test_switch_workload_has_orphaned_greens_with_backends_of_their_own(n: int) -> None:
    made = cw.switch_workload(n, "10.0.0.1", 8080)
    greens = min(n, cw.SWITCHES)
    assert len(made.routing) == 2 * n + greens and made.valid == 2 * n
    assert names(made.services)[n:] == [f"green-svc-{i}" for i in range(greens)]
    slice_services = [s["metadata"]["labels"]["kubernetes.io/service-name"]
                      for s in made.slices[n:]]
    assert slice_services == [f"green-svc-{i}" for i in range(greens)]
    status = dict(made.statuses)
    assert status["green-0"] == cw.ORPHANED_STATUS
    assert status["blue-0"] == status["ir-0"] == cw.VALID_STATUS


def test_a_switch_points_the_root_at_green() -> None:
    made = cw.switch_workload(3, "10.0.0.1", 8080)
    patched: list[tuple[str, dict[str, Any]]] = []
    assert made.change(lambda path, body: patched.append((path, body)), 1, "/ignored/") == (
        "/green-1/")
    ((path, body),) = patched
    assert path == f"{cw.IR_API}/ir-1"
    assert body["spec"]["routes"] == [{"match": "/", "delegate": {"name": "green-1"}}]
