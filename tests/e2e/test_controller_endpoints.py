"""`contour serve` seen from outside: its HTTP endpoints, `contour cli`, and a bad file in the
source folder that must not disturb anything else."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.controller import REPO_ROOT, Controller, Ports, http_get
from harness.envoy import Envoy

from kubectl_contour.queries.envoy import held_resources

EXAMPLES = REPO_ROOT / "examples"
ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Controller]:
    source = tmp_path / "source"
    shutil.copytree(EXAMPLES, source)
    # single whatever CONTOUR_E2E_ROUTE_LAYOUT says: what is checked here is the route
    # tables' reporting (RDS; an Envoy on scopes asks for none without an HTTPS listener)
    ctl = Controller(tmp_path, source, Ports.allocate(),
                     {"config_file": {"route-layout": "single"}})
    try:
        ctl.wait_healthy()
        yield ctl
    finally:
        ctl.stop()


def get_json(port: int, path: str) -> object:
    status, body = http_get(port, path)
    assert status == 200, body
    return json.loads(body)


def eventually(check, timeout: float = 10.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except (AssertionError, KeyError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_debug_status_lists_every_ingressroute(served: Controller):
    rows = get_json(served.ports.debug, "/debug/status")
    assert [(r["name"], r["currentStatus"]) for r in rows] == [  # type: ignore[union-attr]
        ("blue", "valid"), ("blue-green-root", "valid"), ("echo", "valid"), ("green", "orphaned")]


def test_debug_dag_is_dot(served: Controller):
    status, body = http_get(served.ports.debug, "/debug/dag")
    text = body.decode()
    assert status == 200 and text.startswith("digraph DAG {\nrankdir=\"LR\"\n")
    assert '[shape=record, label="{http://echo.com}"]' in text
    assert "httpservice|default/echo:80" in text
    assert text.rstrip().endswith("}")


def test_metrics_and_health(served: Controller):
    assert http_get(served.ports.metrics, "/healthz") == (200, b"OK\n")
    assert http_get(served.ports.metrics, "/livez") == (200, b"OK\n")
    _, body = http_get(served.ports.metrics, "/metrics")
    text = body.decode()
    assert 'contour_ingressroute_status{status="orphaned"} 1.0' in text
    assert 'contour_objects{kind="IngressRoute"} 4.0' in text
    assert "contour_dag_rebuild_duration_seconds" in text
    assert "contour_xds_connected_envoys 0.0" in text


def test_contour_cli_prints_served_routes(served: Controller):
    out = subprocess.run(
        [sys.executable, "-m", "controller", "cli", "--contour",
         f"127.0.0.1:{served.ports.xds}", "-o", "json", "rds", "ingress_http"],
        capture_output=True, text=True, timeout=30, check=True).stdout
    (config,) = json.loads(out)
    hosts = [vh["name"] for vh in config["virtual_hosts"]]
    assert hosts == ["blue-green.example.com", "echo.com"]


def test_a_broken_file_keeps_its_last_good_objects(served: Controller):
    root = served.source_dir / "blue-green.yaml"
    good = root.read_text()
    tmp = root.with_suffix(".tmp")
    tmp.write_text(good + "\n---\nkind: [unclosed\n")
    os.replace(tmp, root)

    def reported() -> dict:
        errors = get_json(served.ports.debug, "/debug/sources")["errors"]  # type: ignore[index]
        assert str(root) in errors
        return errors

    eventually(reported)
    rows = get_json(served.ports.debug, "/debug/status")
    assert ("blue-green-root", "valid") in [(r["name"], r["currentStatus"]) for r in rows]  # type: ignore[union-attr]
    assert served.proc.alive()


def test_debug_xds_reports_connected_envoy(served: Controller, tmp_path: Path):
    boot = tmp_path / "envoy.json"
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(served.ports.xds), "--admin-port", str(served.ports.admin)], check=True)
    envoy = Envoy(tmp_path, boot, "node-a", served.ports.admin)
    try:
        def acked() -> dict:
            doc = get_json(served.ports.debug, "/debug/xds")
            (node,) = doc["nodes"]  # type: ignore[index]
            assert node["node"] == "node-a" and node["connected"]
            route = node["types"]["type.googleapis.com/envoy.config.route.v3.RouteConfiguration"]
            assert route["acked"] == route["sent"] and route["nack"] is None
            return doc
        doc = eventually(acked, timeout=30)
        assert set(doc["versions"]) >= {"type.googleapis.com/envoy.config.listener.v3.Listener"}
        assert doc["nodes"][0]["protocol"] == "delta"  # the bootstrap's default
        # what Envoy shows per route table under delta is what /debug/xds/resources serves
        served_routes = get_json(served.ports.debug, "/debug/xds/resources")[ROUTE]
        dump = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{served.ports.admin}/config_dump", timeout=5).read())
        held = held_resources(dump, "routes")
        assert held and held == {n: served_routes.get(n) for n in held}, (held, served_routes)
    finally:
        envoy.stop()
