"""The README's main job: `contour demo` on the bundled examples, through the bundled Envoy."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, host: str) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
    with urllib.request.urlopen(req, timeout=2) as resp:
        return resp.read().decode()


def wait_for(port: int, host: str, needle: str, timeout: float = 30.0) -> str:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            last = get(port, host)
            if needle in last:
                return last
        except OSError as err:
            last = str(err)
        time.sleep(0.1)
    raise AssertionError(f"{host}: wanted {needle!r}, last answer {last!r}")


def collect(proc: subprocess.Popen[str]) -> list[str]:
    """Start reading proc's stdout in a thread; the returned list grows with its lines."""
    lines: list[str] = []
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.extend(proc.stdout or ()), daemon=True).start()
    return lines


def wait_printed(lines: list[str], needle: str, timeout: float = 30.0) -> None:
    """Wait until a collected line holds needle. The demo prints its banner after its own
    readiness probe, which on a loaded 2-core CI machine came after the test's probes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(needle in line for line in list(lines)):
            return
        time.sleep(0.1)
    raise AssertionError(f"the demo never printed {needle!r}: {''.join(lines)[-2000:]}")


def test_demo_serves_examples_and_switches_blue_to_green(tmp_path: Path):
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples)
    http, admin, xds = free_port(), free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "controller", "demo", "--examples", str(examples),
         "--http-port", str(http), "--https-port", str(free_port()),
         "--admin-port", str(admin), "--xds-port", str(xds)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    lines = collect(proc)
    try:
        assert '"default/echo"' in wait_for(http, "echo.com", "default/echo")
        wait_for(http, "blue-green.example.com", "default/blue")
        root = examples / "blue-green.yaml"
        text = root.read_text().replace("      name: blue\n---", "      name: green\n---", 1)
        tmp = root.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, root)
        wait_for(http, "blue-green.example.com", "default/green", timeout=5)
        wait_printed(lines, "curl -H 'Host: echo.com'")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
