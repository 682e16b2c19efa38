"""NACK attribution through real Envoys: one Envoy runs with Envoy's TCP proxy filter
disabled, so it rejects any listener that carries a TLS-passthrough virtual host. Three new
virtual hosts arrive in one change; the controller bisects the rejected update, quarantines
exactly the passthrough host (its status carries Envoy's message), and the two unrelated
hosts reach both Envoys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.controller import REPO_ROOT, Controller, Ports, http_get
from harness.envoy import Envoy
from test_programmed_envoys import programmed, start_envoy, until

EXAMPLES = REPO_ROOT / "examples"
STRICT = ("--disable-extensions", "envoy.filters.network/envoy.filters.network.tcp_proxy")


def objects(*hosts: str) -> str:
    docs = []
    for host in hosts:
        name = host.split(".")[0]
        docs.append(f"""apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: default}}
spec: {{ports: [{{name: http, port: 80}}]}}
---
apiVersion: contour.heptio.com/v1beta1
kind: IngressRoute
metadata: {{name: {name}, namespace: default}}
spec:
  virtualhost: {{fqdn: {host}{', tls: {passthrough: true}' if name == 'tcp' else ''}}}
  routes: [{{match: /, services: [{{name: {name}, port: 80}}]}}]
""" + ("  tcpproxy: {services: [{name: tcp, port: 80}]}\n" if name == "tcp" else ""))
    return "---\n".join(docs)


def route_hosts(envoy: Envoy) -> set[str]:
    """The domains of every vhost Envoy holds, by RDS or in scopes (either route layout)."""
    found: set[str] = set()
    for resource in ("dynamic_route_configs", "dynamic_scoped_route_configs"):
        try:
            status, body = http_get(envoy.admin_port, f"/config_dump?resource={resource}")
        except OSError:
            return set()  # not listening yet
        if status == 404:
            continue  # "... not found": none of those yet
        assert status == 200, body
        found |= set(_domains(json.loads(body)))
    return found


def _domains(node: object) -> Iterator[str]:
    """Every `virtual_hosts[].domains[]` anywhere in a config dump."""
    if isinstance(node, dict):
        for vh in node.get("virtual_hosts", []):
            yield from vh.get("domains", [])
        for key, value in node.items():
            if key != "virtual_hosts":
                yield from _domains(value)
    elif isinstance(node, list):
        for item in node:
            yield from _domains(item)


@pytest.fixture
def envoys(tmp_path: Path) -> Iterator[tuple[Controller, Envoy, Envoy]]:
    source = tmp_path / "source"
    shutil.copytree(EXAMPLES, source)
    ctl = Controller(tmp_path, source, Ports.allocate(), {})
    started: list[Envoy] = []
    try:
        ctl.wait_healthy()
        started.append(start_envoy(ctl, tmp_path / "strict", "strict", STRICT))
        started.append(start_envoy(ctl, tmp_path / "plain", "plain"))
        yield ctl, started[0], started[1]
    finally:
        for envoy in started:
            envoy.stop()
        ctl.stop()


def status_of(ctl: Controller, name: str) -> dict[str, Any]:
    _, body = http_get(ctl.ports.debug, "/debug/status")
    return next(r for r in json.loads(body) if r["name"] == name)


def test_a_rejected_host_is_quarantined_and_the_rest_flows(
        envoys: tuple[Controller, Envoy, Envoy]) -> None:
    ctl, strict, plain = envoys
    until("both Envoys serve the examples", lambda: all(
        "echo.com" in route_hosts(e) for e in (strict, plain)))
    (ctl.source_dir / "new.yaml").write_text(objects("new-a.example.com", "tcp.example.com",
                                                     "new-b.example.com"))
    until("the unrelated hosts reach the strict Envoy", lambda: {
        "new-a.example.com", "new-b.example.com"} <= route_hosts(strict))
    row = until("the passthrough root is quarantined", lambda: (
        r := status_of(ctl, "tcp"))["currentStatus"] == "invalid" and r)
    assert "Envoy strict rejected the update that carried this virtual host" in \
        row["description"], row
    for name in ("new-a", "new-b", "blue-green-root", "echo"):
        assert status_of(ctl, name)["currentStatus"] == "valid"
    states = until("the other hosts are programmed on both Envoys", lambda: (
        s := programmed(ctl))[("IngressRoute", "default", "new-a")]["programmed"]
        and s[("IngressRoute", "default", "new-b")]["programmed"] and s)
    assert states[("IngressRoute", "default", "tcp")]["programmed"] is False
    _, body = http_get(ctl.ports.debug, "/debug/xds")
    strict_types = next(n for n in json.loads(body)["nodes"] if n["node"] == "strict")["types"]
    assert not any(t["rejecting"] for t in strict_types.values()), strict_types
