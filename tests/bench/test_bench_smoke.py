"""The benchmark scripts still run (tiny N, no timing assertions)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench import bench, cluster_run, generate
from controller.sources.folder import FolderSource


def test_generator_writes_a_folder_the_source_reads(tmp_path: Path) -> None:
    mutable = generate.write_folder(tmp_path, 50, mutable=5)
    assert len(mutable) == 5
    events = FolderSource(tmp_path).scan()
    kinds = sorted({e.kind for e in events})
    assert kinds == ["Endpoints", "IngressRoute", "Service"]
    assert len(events) == 150
    assert len(generate.objects(50)) == 150


def test_httpproxy_workload_half_the_roots_include_a_child(tmp_path: Path) -> None:
    generate.write_folder(tmp_path, 10, mutable=4, kind="httpproxy")
    proxies = [e for e in FolderSource(tmp_path).scan() if e.kind == "HTTPProxy"]
    assert len(proxies) == 15  # 10 roots, 5 children
    assert len(generate.objects(10, kind="httpproxy")) == 35


def test_inproc_bench_runs_httpproxy() -> None:
    result = asyncio.run(bench.run_inproc(20, 3, kind="httpproxy"))
    assert result["kind"] == "httpproxy" and result["b_event_to_xds_ms"]["n"] == 3


def test_inproc_bench_runs() -> None:
    result = asyncio.run(bench.run_inproc(50, 3))
    json.dumps(result)
    assert result["n"] == 50
    assert result["b_event_to_xds_ms"]["n"] == 3


def test_cluster_bench_runs() -> None:
    """`bench.bench cluster --n 20 --changes 2`: its own control plane (~10-20 s), the
    backend on the run's network namespace, a real Envoy; no timing assertions."""
    result = cluster_run.run_cluster(20, 2)
    json.dumps(result)
    assert result["a_snapshot_built_from"] == {"routing": 20, "services": 20, "valid": 20}
    assert result["c_change_to_envoy_ms"]["n"] == 2
    assert result["status_writes"] == 0  # statuses preset: nothing to write


def test_cluster_switch_bench_runs() -> None:
    """`bench.bench cluster --workload switch`: blue/green through the API server, each
    change a root re-pointed at a green whose cluster is new to Envoy; in the scoped route
    layout (`--route-layout scoped`: the change reaches Envoy as the root host's scope)."""
    result = cluster_run.run_cluster(20, 2, workload="switch", route_layout="scoped")
    assert result["route_layout"] == "scoped"
    assert result["a_snapshot_built_from"] == {"routing": 60, "services": 40, "valid": 40}
    assert result["c_change_to_envoy_ms"]["n"] == 2  # each: green's prefix through Envoy


def test_user_change_benches_run() -> None:
    """`yaml-change` (an edit inside a 500-object YAML file) and `switch` (blue → green,
    green's cluster new to Envoy), through `contour serve` and a real Envoy."""
    for mode, files in (("yaml-change", 2), ("switch", 3)):
        result = bench.run_user_change(mode, 30, 3)
        json.dumps(result)
        assert (result["bench"], result["files"]) == (mode, files)
        assert result["c_change_to_envoy_ms"]["n"] == 3


def test_envoy_can_start_with_the_controller(monkeypatch: pytest.MonkeyPatch) -> None:
    """--envoy-at-start: Envoy is up before the controller is ready, and start -> last host
    is timed from the controller's spawn."""
    monkeypatch.setattr(bench, "ENVOY_AT_START", [True])
    result = bench.run_folder(20, 1)
    assert result["envoy_at_start"] is True
    assert result["g_start_to_last_host_s"] >= result["d_envoy_first_request_s"] > 0
    assert result["c_change_to_envoy_ms"]["n"] == 1


def test_cold_phases_add_up() -> None:
    from bench import cold_phases

    out = cold_phases.run(20, "httpproxy")
    stages = ("admit", "build", "endpoints", "store", "translate", "other")
    assert set(out) == {*stages, "total", "wall"}
    assert all(out[s] >= 0 for s in stages if s != "other")
    assert abs(sum(out[s] for s in stages) - out["total"]) < 0.01


def test_cold_floor_runs() -> None:
    from bench import cold_phases

    assert set(cold_phases.floor(10, "httpproxy")) == {"schema", "cel", "views", "protos"}
