"""Blue/green through delegation is hitless: while the root's delegate flips between two
children, a client hammering the host through Envoy sees only 200s (make-before-break: the
old cluster stays until Envoy has the routes that stop naming it)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from harness.controller import Controller, Ports
from harness.envoy import Envoy

from controller.demo import start_backend

OBJECTS = """
apiVersion: v1
kind: Service
metadata: {{name: {color}, namespace: default}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: v1
kind: Endpoints
metadata: {{name: {color}, namespace: default}}
subsets: [{{addresses: [{{ip: 127.0.0.1}}], ports: [{{name: http, port: {port}}}]}}]
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {{name: {color}, namespace: default}}
spec: {{routes: [{{match: /, services: [{{name: {color}, port: 80}}]}}]}}
"""
ROOT = """
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {{name: root, namespace: default}}
spec:
  virtualhost: {{fqdn: app.example.com}}
  routes: [{{match: /, delegate: {{name: {color}}}}}]
"""


def write(path: Path, text: str) -> None:
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def answer(port: int) -> str:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": "app.example.com"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return f"{resp.status} {resp.headers.get('X-Demo-Backend')}"
    except urllib.error.HTTPError as err:
        return f"{err.code} {err.headers.get('x-envoy-upstream-service-time', '')}"
    except OSError as err:
        return f"error {err}"


def wait_for(port: int, want: str, timeout: float = 30.0) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        last = answer(port)
        if last == want:
            return
        time.sleep(0.02)
    raise AssertionError(f"wanted {want!r}, last {last!r}")


def test_switching_delegate_drops_no_request(tmp_path: Path) -> None:
    ports = Ports.allocate()
    source = tmp_path / "source"
    source.mkdir()
    backends = {}
    for color in ("blue", "green"):
        backends[color] = start_backend("127.0.0.1", 0, f"default/{color}")
        port = backends[color].server_address[1]
        write(source / f"{color}.yaml", OBJECTS.format(color=color, port=port))
    write(source / "root.yaml", ROOT.format(color="blue"))
    ctl = Controller(tmp_path, source, ports, {})
    boot = tmp_path / "envoy.json"
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ports.xds), "--admin-port", str(ports.admin)], check=True)
    envoy = Envoy(tmp_path, boot, "hitless", ports.admin)
    seen: Counter[str] = Counter()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            seen[answer(ports.http)] += 1

    try:
        ctl.wait_healthy()
        wait_for(ports.http, "200 default/blue")
        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for w in workers:
            w.start()
        for color in ("green", "blue", "green", "blue", "green", "blue"):
            write(source / "root.yaml", ROOT.format(color=color))
            wait_for(ports.http, f"200 default/{color}")
            time.sleep(0.3)
        stop.set()
        for w in workers:
            w.join()
    finally:
        stop.set()
        envoy.stop()
        ctl.stop()
        for b in backends.values():
            b.shutdown()
    assert set(seen) == {"200 default/blue", "200 default/green"}, seen
    assert sum(seen.values()) > 50
