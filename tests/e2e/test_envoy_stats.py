"""The default bootstrap's stats through a real Envoy: every non-cluster stat and the
essential per-cluster ones are kept, the other per-cluster stats are not created;
`--cluster-stats all` restores Envoy's full set."""

from __future__ import annotations

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


def stat_names(ctl: Controller, workdir: Path, *flags: str) -> set[str]:
    boot = workdir / "bootstrap.json"
    (admin,) = allocate_ports(1)
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ctl.ports.xds), "--admin-port", str(admin), *flags], check=True,
                   cwd=REPO_ROOT)
    envoy = Envoy(workdir, boot, workdir.name, admin)
    try:
        def names() -> set[str]:
            try:
                _, body = http_get(admin, "/stats?format=json")
            except OSError:
                return set()
            # (response classes and the request-time histogram appear with traffic only)
            found = {s["name"] for s in json.loads(body)["stats"] if "name" in s}
            return found if f"{ECHO}.upstream_rq_total" in found else set()
        return set(until("Envoy has the echo cluster's stats", names))
    finally:
        envoy.stop()


def test_default_keeps_the_essential_cluster_stats(controller: Controller,
                                                   tmp_path: Path) -> None:
    names = stat_names(controller, tmp_path)
    for kept in ("server.live", "cluster_manager.cds.update_success",
                 f"{ECHO}.upstream_cx_total", f"{ECHO}.membership_healthy"):
        assert kept in names, kept
    assert f"{ECHO}.upstream_cx_rx_bytes_total" not in names
    assert f"{ECHO}.lb_healthy_panic" not in names


def test_all_restores_envoys_full_stats(controller: Controller, tmp_path: Path) -> None:
    names = stat_names(controller, tmp_path, "--cluster-stats", "all")
    assert {f"{ECHO}.upstream_cx_rx_bytes_total", f"{ECHO}.lb_healthy_panic"} <= names
