"""The scoped route layout through a real Envoy: port 80 routed by one scope per host
(any Host case, with or without a port), the fallback to the one table while a `*` or a
wildcard host exists and back, and a keep-alive connection opened before each switch
still served by the layout it was opened with (both layouts' resources stay published)."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.controller import Controller, Ports
from harness.envoy import Envoy
from test_switch_hitless import write

from controller.demo import start_backend

APP = """
apiVersion: v1
kind: Service
metadata: {{name: app, namespace: default}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: v1
kind: Endpoints
metadata: {{name: app, namespace: default}}
subsets: [{{addresses: [{{ip: 127.0.0.1}}], ports: [{{name: http, port: {port}}}]}}]
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {{name: app, namespace: default}}
spec:
  virtualhost: {{fqdn: app.example.com}}
  routes: [{{match: /, services: [{{name: app, port: 80}}]}}]
"""
CATCH_ALL = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: catch-all, namespace: default}}
spec:
  rules:
  - {host}http:
      paths:
      - path: /
        pathType: ImplementationSpecific
        backend: {{service: {{name: app, port: {{number: 80}}}}}}
"""


class KeepAlive:
    """One HTTP/1.1 connection to Envoy, reused for every request (fails if it is not)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        self.conn.connect()
        self.sock = self.conn.sock

    def status(self, host: str) -> int:
        self.conn.request("GET", "/", headers={"Host": host})
        response = self.conn.getresponse()
        response.read()
        assert self.conn.sock is self.sock, "Envoy closed the kept-alive connection"
        return response.status

    def close(self) -> None:
        self.conn.close()


def fresh_status(port: int, host: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/", headers={"Host": host})
        return conn.getresponse().status
    except OSError:
        return 0
    finally:
        conn.close()


def wait_status(port: int, host: str, want: int, timeout: float = 30.0) -> None:
    deadline, last = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        last = fresh_status(port, host)
        if last == want:
            return
        time.sleep(0.05)
    raise AssertionError(f"{host}: wanted {want}, last {last}")


def listener_routing(envoy: Envoy) -> str:
    """`scoped_routes` or `rds`: how Envoy's active `ingress_http` listener routes."""
    dump = json.loads(envoy.admin("/config_dump?resource=dynamic_listeners", limit=10**7))
    for entry in dump["configs"]:
        if entry["name"] == "ingress_http" and "active_state" in entry:
            hcm = entry["active_state"]["listener"]["filter_chains"][0]["filters"][0]
            return "scoped_routes" if "scoped_routes" in hcm["typed_config"] else "rds"
    return ""


@pytest.fixture
def scoped(tmp_path: Path) -> Iterator[tuple[Path, Ports, Envoy]]:
    ports = Ports.allocate()
    source = tmp_path / "source"
    source.mkdir()
    backend = start_backend("127.0.0.1", 0, "default/app")
    write(source / "app.yaml", APP.format(port=backend.server_address[1]))
    ctl = Controller(tmp_path, source, ports, {"config_file": {"route-layout": "scoped"}})
    boot = tmp_path / "envoy.json"
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ports.xds), "--admin-port", str(ports.admin)], check=True)
    envoy = Envoy(tmp_path, boot, "scoped", ports.admin)
    try:
        ctl.wait_healthy()
        wait_status(ports.http, "app.example.com", 200)
        yield source, ports, envoy
    finally:
        envoy.stop()
        ctl.stop()
        backend.shutdown()


def test_hosts_are_routed_by_their_scopes(scoped: tuple[Path, Ports, Envoy]) -> None:
    _, ports, envoy = scoped
    assert listener_routing(envoy) == "scoped_routes"
    dump = envoy.admin("/config_dump?resource=dynamic_scoped_route_configs", limit=10**7)
    assert "ingress_http/app.example.com" in dump
    # the table is published too, but no listener names it: Envoy neither asks nor gets it
    routes = envoy.admin("/config_dump?resource=dynamic_route_configs", limit=10**7)
    assert not routes.startswith(("<admin", "HTTP ")), routes
    assert not re.search(r'"name":\s*"ingress_http"', routes), routes
    for host in ("app.example.com", "APP.EXAMPLE.COM", "App.Example.Com:8080",
                 "app.example.com:80"):
        assert fresh_status(ports.http, host) == 200, host
    assert fresh_status(ports.http, "other.example.com") == 404


@pytest.mark.parametrize("catch_all, through", [
    ("", "anything.example.org"),
    ("host: '*.wild.example.com'\n    ", "x.wild.example.com"),
], ids=["star-vhost", "wildcard-host"])
def test_the_fallback_switch_both_ways_keeps_old_connections_served(
        scoped: tuple[Path, Ports, Envoy], catch_all: str, through: str) -> None:
    source, ports, envoy = scoped
    opened_scoped = KeepAlive(ports.http)
    try:
        assert opened_scoped.status("app.example.com") == 200
        write(source / "catch-all.yaml", CATCH_ALL.format(host=catch_all))
        wait_status(ports.http, through, 200)
        assert listener_routing(envoy) == "rds"
        assert opened_scoped.status("app.example.com") == 200  # the scopes are still served
        opened_table = KeepAlive(ports.http)
        assert opened_table.status("APP.example.com") == 200
        (source / "catch-all.yaml").unlink()
        wait_status(ports.http, through, 404)
        assert listener_routing(envoy) == "scoped_routes"
        assert opened_table.status("app.example.com") == 200  # the table is still served
        assert opened_scoped.status("app.example.com:8080") == 200
        assert fresh_status(ports.http, "App.Example.COM") == 200
        opened_table.close()
    finally:
        opened_scoped.close()
