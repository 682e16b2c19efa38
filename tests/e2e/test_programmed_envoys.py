"""Programmed state through two real Envoys (folder source): an object is programmed only
once both Envoys ACK its current content; a paused Envoy holds it at 1/2 with the reason
`stale`, and it is 2/2 again once that Envoy resumes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.controller import REPO_ROOT, Controller, Ports, http_get
from harness.envoy import Envoy
from harness.ports import allocate_ports

EXAMPLES = REPO_ROOT / "examples"
ROOT_KEY = ("IngressRoute", "default", "blue-green-root")


def programmed(ctl: Controller) -> dict[tuple[str, str, str], dict[str, Any]]:
    status, body = http_get(ctl.ports.debug, "/debug/programmed")
    assert status == 200, body
    return {(r["kind"], r["namespace"], r["name"]): r for r in json.loads(body)}


def until(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:g}s (last: {last!r})")


def start_envoy(ctl: Controller, workdir: Path, node: str,
                extra_args: tuple[str, ...] = ()) -> Envoy:
    workdir.mkdir()
    boot = workdir / "bootstrap.json"
    (admin,) = allocate_ports(1)
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ctl.ports.xds), "--admin-port", str(admin)], check=True, cwd=REPO_ROOT)
    return Envoy(workdir, boot, node, admin, extra_args)


@pytest.fixture
def two_envoys(tmp_path: Path) -> Iterator[tuple[Controller, Envoy, Envoy]]:
    source = tmp_path / "source"
    shutil.copytree(EXAMPLES, source)
    ctl = Controller(tmp_path, source, Ports.allocate(), {})
    envoys: list[Envoy] = []
    try:
        ctl.wait_healthy()
        envoys = [start_envoy(ctl, tmp_path / n, n) for n in ("envoy-a", "envoy-b")]
        yield ctl, envoys[0], envoys[1]
    finally:
        for envoy in envoys:
            os.kill(envoy.proc.proc.pid, signal.SIGCONT)
            envoy.stop()
        ctl.stop()


def test_programmed_needs_every_envoy(two_envoys: tuple[Controller, Envoy, Envoy]) -> None:
    ctl, _, b = two_envoys
    row = until("the root is served by both Envoys",
                lambda: (r := programmed(ctl)[ROOT_KEY])["programmed"] and r["envoys"] == 2
                and r)
    assert row["servedBy"] == ["envoy-a", "envoy-b"] and row["message"] == \
        "served by 2/2 Envoys"
    assert row["since"] is not None and row["pending"] == []
    orphan = programmed(ctl)[("IngressRoute", "default", "green")]
    assert not orphan["programmed"] and orphan["reason"] == "not valid (orphaned)"

    os.kill(b.proc.proc.pid, signal.SIGSTOP)  # connected, but it answers nothing
    root = ctl.source_dir / "blue-green.yaml"
    root.write_text(root.read_text().replace("delegate:\n      name: blue",
                                             "delegate:\n      name: green", 1))
    # envoy-a ACKs a moment after the change is seen: wait for that state, not the first
    # row with a pending Envoy (CI once read the row before envoy-a had ACKed).
    row = until("the switched root waits for the paused Envoy only",
                lambda: (r := programmed(ctl)[ROOT_KEY])["pending"] and r["servedBy"] and r)
    assert row["programmed"] is False and row["servedBy"] == ["envoy-a"]
    assert row["pending"] == [{"node": "envoy-b", "why": "stale"}]
    assert row["message"] == "served by 1/2 Envoys; envoy-b: stale"

    os.kill(b.proc.proc.pid, signal.SIGCONT)
    until("both Envoys serve the switched root", lambda: programmed(ctl)[ROOT_KEY]["programmed"])
