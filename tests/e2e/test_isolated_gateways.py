"""Isolated Gateways through a real Envoy (`contour serve --gateway-listener-ports`): two
Gateways on port 80, a route attached to both and one dedicated to each (the shape of the
conformance suite's HTTPRouteMultipleGateways). Each Gateway's Envoy listener, on its own
port, serves its routes and not the other's; the shared `ingress_http` serves neither.
Folder mode: no Service is made here (tests/cluster covers that), the Envoy ports are
what this test asserts on."""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Any

import pytest
import yaml
from harness.controller import Ports

from tests.e2e.test_gateway_api import Echo, serve_folder

V1 = "gateway.networking.k8s.io/v1"


def _free_range(size: int) -> int:
    """A base port with `size` free ports from it (bound and released here)."""
    for base in range(21000, 40000, 97):
        socks = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port range")


def _objects(echoes: dict[str, Echo]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"apiVersion": V1, "kind": "GatewayClass", "metadata": {"name": "contour"},
         "spec": {"controllerName": "projectcontour.io/gateway-controller"}}]
    for i, gw in enumerate(("same-namespace", "all-namespaces")):
        out.append({"apiVersion": V1, "kind": "Gateway", "metadata": {
            "name": gw, "namespace": "infra", "creationTimestamp": f"2024-01-01T00:00:0{i}Z"},
            "spec": {"gatewayClassName": "contour", "listeners": [
                {"name": "http", "protocol": "HTTP", "port": 80}]}})
    for name, echo in echoes.items():
        out += [{"apiVersion": "v1", "kind": "Service", "metadata": {
                    "name": name, "namespace": "infra"},
                 "spec": {"ports": [{"name": "http", "port": 8080}]}},
                {"apiVersion": "v1", "kind": "Endpoints", "metadata": {
                    "name": name, "namespace": "infra"},
                 "subsets": [{"addresses": [{"ip": "127.0.0.1"}],
                              "ports": [{"name": "http", "port": echo.port}]}]}]
    return out + [_route("shared", "/shared", "v1", "same-namespace", "all-namespaces"),
                  _route("same-dedicated", "/", "v2", "same-namespace"),
                  _route("all-dedicated", "/", "v3", "all-namespaces")]


def _route(name: str, path: str, backend: str, *gateways: str) -> dict[str, Any]:
    return {"apiVersion": V1, "kind": "HTTPRoute", "metadata": {"name": name,
                                                                "namespace": "infra"},
            "spec": {"parentRefs": [{"name": g} for g in gateways], "rules": [{
                "matches": [{"path": {"type": "PathPrefix", "value": path}}],
                "backendRefs": [{"name": backend, "port": 8080}]}]}}


def _get(port: int, path: str) -> tuple[int, str]:
    """(status, backend name or "") of GET `path` through Envoy's `port`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": "example.com"})
        resp = conn.getresponse()
        body = resp.read()
        typed = resp.getheader("content-type") == "application/json"
        return resp.status, json.loads(body)["backend"] if typed else ""
    finally:
        conn.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    workdir = tmp_path_factory.mktemp("gateway-isolation")
    source = workdir / "source"
    source.mkdir()
    echoes = {name: Echo(name) for name in ("v1", "v2", "v3")}
    (source / "objects.yaml").write_text(yaml.safe_dump_all(_objects(echoes)))
    base, ports = _free_range(4), Ports.allocate()
    ctl, envoy = serve_folder(workdir, source, ports, "gateway-isolation",
                              "--gateway-listener-ports", f"{base}-{base + 3}")
    try:
        ctl.wait_healthy()
        yield base, ports, source, echoes
    finally:
        envoy.stop()
        ctl.stop()
        for e in echoes.values():
            e.server.shutdown()


def _eventually(port: int, path: str, want: tuple[int, str], timeout: float = 60) -> None:
    deadline, got = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            got = _get(port, path)
            if got == want:
                return
        except OSError as err:
            got = err
        time.sleep(0.1)
    raise AssertionError(f"GET {path} on {port}: {got!r}, want {want}")


@pytest.mark.parametrize("offset, dedicated", [(0, "v2"), (1, "v3")],
                         ids=["same-namespace", "all-namespaces"])
def test_each_gateway_serves_its_own_routes(served: Any, offset: int, dedicated: str) -> None:
    """The oldest Gateway has the first Envoy port of the range, the next one the second."""
    base = served[0]
    _eventually(base + offset, "/", (200, dedicated))
    _eventually(base + offset, "/shared", (200, "v1"))


def test_the_shared_listener_serves_no_gateway_route(served: Any) -> None:
    base, ports = served[:2]
    _eventually(base, "/", (200, "v2"))  # the Gateways are served by now
    with pytest.raises(OSError):  # ingress_http has no vhost: Envoy does not listen
        _get(ports.http, "/")


def test_nothing_listens_past_the_gateways_ports(served: Any) -> None:
    base = served[0]
    _eventually(base + 1, "/", (200, "v3"))
    with pytest.raises(OSError):
        _get(base + 2, "/")


def test_an_older_gateway_moves_the_others_listeners_to_new_ports(served: Any) -> None:
    """Folder mode has no Services to keep allocations: an older Gateway takes the first
    port and the others' listeners move to the next ones (same names, new addresses):
    Envoy must rebind them. Runs last: it changes the module's objects."""
    base, _, source, echoes = served
    older = {"apiVersion": V1, "kind": "Gateway", "metadata": {
        "name": "older", "namespace": "infra", "creationTimestamp": "2023-01-01T00:00:00Z"},
        "spec": {"gatewayClassName": "contour", "listeners": [
            {"name": "http", "protocol": "HTTP", "port": 80}]}}
    (source / "objects.yaml").write_text(yaml.safe_dump_all([older, *_objects(echoes)]))
    _eventually(base + 1, "/", (200, "v2"))
    _eventually(base + 2, "/", (200, "v3"))
    _eventually(base, "/", (404, ""))  # the older Gateway has no route
