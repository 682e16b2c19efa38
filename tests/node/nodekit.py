"""A real single-node cluster for tests: scripts/node.sh up/down, image loading, kubectl with
the node's kubeconfig, commands inside the node's namespaces, and waiting for conditions.

`Node.up()` fails with NodeError (the script's output tail) when a prerequisite is missing
or a part does not start; the tests then fail with that reason, they are never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
NODE_SH = REPO / "scripts" / "node.sh"
IMAGE_SH = REPO / "scripts" / "image.sh"
NODE_IP = "198.19.0.1"


class NodeError(RuntimeError):
    """The node or an image could not be built or started; the message says why."""


def _run(argv: list[str], timeout: float, what: str, env: dict[str, str] | None = None) -> str:
    """Run a script; return its last stdout line, raise NodeError with its stderr tail."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise NodeError(f"{what} did not finish in {timeout:.0f}s") from exc
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.splitlines()[-40:])
        raise NodeError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


def build_image(name: str) -> Path:
    """scripts/image.sh NAME (cached by its inputs); the OCI tarball's path."""
    env = dict(os.environ, PYTHON=os.environ.get("PYTHON", sys.executable))
    return Path(_run(["bash", str(IMAGE_SH), name], 1800, f"scripts/image.sh {name}", env))


class Node:
    """One node in `workdir` (created by `up`, removed by `down`)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.kubeconfig = workdir / "kubeconfig"

    def up(self) -> Node:
        _run(["bash", str(NODE_SH), "up", str(self.workdir)], 3600, "scripts/node.sh up")
        return self

    def down(self) -> None:
        _run(["bash", str(NODE_SH), "down", str(self.workdir)], 300, "scripts/node.sh down")

    def load(self, tarball: Path) -> None:
        _run(["bash", str(NODE_SH), "load", str(self.workdir), str(tarball)], 300,
             f"loading {tarball.name}")

    def exec(self, *argv: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run argv inside the node's mount and network namespaces."""
        return subprocess.run(["bash", str(NODE_SH), "exec", str(self.workdir), *argv],
                              capture_output=True, text=True, timeout=timeout)

    def ctr(self, *argv: str) -> subprocess.CompletedProcess[str]:
        sock = self.workdir / "containerd" / "containerd.sock"
        return self.exec("ctr", "--address", str(sock), "-n", "k8s.io", *argv)

    def env(self, **extra: str) -> dict[str, str]:
        return dict(os.environ, KUBECONFIG=str(self.kubeconfig), **extra)

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120.0,
                input: str | None = None) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(["kubectl", *args], capture_output=True, text=True,
                              timeout=timeout, env=self.env(), input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def get(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def curl(self, url: str, host: str, timeout: float = 5.0) -> tuple[int, str]:
        """GET url with Host: host from inside the node; (status, body); status 0: no answer."""
        proc = self.exec("curl", "-s", "-m", str(timeout), "-o", "-", "-w", "\n%{http_code}",
                         "-H", f"Host: {host}", url, timeout=timeout + 10)
        body, _, code = proc.stdout.rpartition("\n")
        return (int(code) if code.isdigit() else 0), body

    def logs(self, name: str, lines: int = 40) -> str:
        path = self.workdir / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0,
             interval: float = 0.5) -> Any:
    """Call `check` until it returns something truthy; AssertionError with the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (AssertionError, subprocess.SubprocessError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not true after {timeout:.0f}s (last: {last!r})")
