"""The default bootstrap's stats through a real Envoy: every non-cluster stat and the
essential per-cluster ones are kept, the other per-cluster stats are not created, and a
cluster's traffic stats appear with its first request (deferred creation);
`--cluster-stats all` restores Envoy's full set, created with the cluster."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.controller import REPO_ROOT, Controller, Ports, http_get
from harness.envoy import Envoy
from harness.ports import allocate_ports
from test_programmed_envoys import until

EXAMPLES = REPO_ROOT / "examples"
ECHO = "cluster.default_echo_80"


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    workdir = tmp_path_factory.mktemp("stats")
    shutil.copytree(EXAMPLES, workdir / "source")
    ctl = Controller(workdir, workdir / "source", Ports.allocate(), {})
    try:
        ctl.wait_healthy()
        yield ctl
    finally:
        ctl.stop()


def stat_names(ctl: Controller, workdir: Path, *flags: str) -> tuple[set[str], set[str]]:
    """The stat names Envoy has once the echo cluster exists, and after one request to it."""
    boot = workdir / "bootstrap.json"
    (admin,) = allocate_ports(1)
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ctl.ports.xds), "--admin-port", str(admin), *flags], check=True,
                   cwd=REPO_ROOT)
    envoy = Envoy(workdir, boot, workdir.name, admin)
    try:
        def names(wanted: str) -> set[str]:
            try:
                _, body = http_get(admin, "/stats?format=json")
            except OSError:
                return set()
            found = {s["name"] for s in json.loads(body)["stats"] if "name" in s}
            return found if wanted in found else set()

        before = until("Envoy has the echo cluster", lambda: names(f"{ECHO}.membership_total"))
        until("Envoy routes echo.com", lambda: request_echo(ctl) is not None)
        after = until("Envoy has the echo cluster's traffic stats",
                      lambda: names(f"{ECHO}.upstream_rq_total"))
        return set(before), set(after)
    finally:
        envoy.stop()


def request_echo(ctl: Controller) -> int | None:
    """One request for echo.com through Envoy (its status: the backend may be down, which
    counts as traffic for the cluster too), or None while nothing listens or routes it."""
    conn = http.client.HTTPConnection("127.0.0.1", ctl.ports.http, timeout=2)
    try:
        conn.request("GET", "/", headers={"Host": "echo.com"})
        status = conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()
    return None if status == 404 else status


def test_default_keeps_the_essential_cluster_stats(controller: Controller,
                                                   tmp_path: Path) -> None:
    before, after = stat_names(controller, tmp_path)
    for kept in ("server.live", "cluster_manager.cds.update_success",
                 f"{ECHO}.membership_healthy", f"{ECHO}.membership_total"):
        assert kept in before, kept
    assert f"{ECHO}.upstream_rq_total" not in before  # deferred until the first request
    for kept in (f"{ECHO}.upstream_cx_total", f"{ECHO}.upstream_rq_total",
                 f"{ECHO}.upstream_rq_completed"):
        assert kept in after, kept
    assert f"{ECHO}.upstream_cx_rx_bytes_total" not in after
    assert f"{ECHO}.lb_healthy_panic" not in after


def test_all_restores_envoys_full_stats(controller: Controller, tmp_path: Path) -> None:
    before, _ = stat_names(controller, tmp_path, "--cluster-stats", "all")
    assert {f"{ECHO}.upstream_rq_total", f"{ECHO}.upstream_cx_rx_bytes_total",
            f"{ECHO}.lb_healthy_panic"} <= before
