"""Test fixtures for the xDS tests: Envoy protos built with the generated classes, and
a small raw ADS client that lets a test play Envoy (ACK, NACK, change names)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import address_pb2, base_pb2, config_source_pb2
from envoy.config.endpoint.v3 import endpoint_components_pb2, endpoint_pb2
from envoy.config.listener.v3 import listener_components_pb2, listener_pb2
from envoy.config.route.v3 import route_components_pb2, route_pb2
from envoy.extensions.filters.http.router.v3 import router_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import any_pb2, duration_pb2
from google.rpc import status_pb2

from controller.xdscache.snapshot import CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET

TIMEOUT = 5.0


async def eventually(check: Callable[[], object], timeout: float = 5) -> object:
    """Poll ``check`` in a thread (the event loop must keep serving xDS)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await asyncio.to_thread(check)
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {check}")
        await asyncio.sleep(0.1)


def serve_http(respond: Callable[[str, dict[str, str]], bytes]) -> Iterator[int]:
    """A loopback HTTP server answering every GET with 200 and respond(path, headers)
    (header names lower-cased); yields its port, then shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            body = respond(self.path, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def ser(message: Any) -> bytes:
    return message.SerializeToString(deterministic=True)


def _ads() -> config_source_pb2.ConfigSource:
    return config_source_pb2.ConfigSource(
        ads=config_source_pb2.AggregatedConfigSource(),
        resource_api_version=config_source_pb2.ApiVersion.V3,
    )


def cluster(name: str, *, timeout_ms: int = 250) -> cluster_pb2.Cluster:
    return cluster_pb2.Cluster(
        name=name,
        type=cluster_pb2.Cluster.EDS,
        eds_cluster_config=cluster_pb2.Cluster.EdsClusterConfig(eds_config=_ads()),
        connect_timeout=duration_pb2.Duration(nanos=timeout_ms * 1_000_000),
    )


def _socket(ip: str, port: int) -> address_pb2.Address:
    return address_pb2.Address(
        socket_address=address_pb2.SocketAddress(address=ip, port_value=port)
    )


def endpoints(name: str, *addrs: tuple[str, int]) -> endpoint_pb2.ClusterLoadAssignment:
    lb = [
        endpoint_components_pb2.LbEndpoint(
            endpoint=endpoint_components_pb2.Endpoint(address=_socket(ip, port))
        )
        for ip, port in addrs
    ]
    return endpoint_pb2.ClusterLoadAssignment(
        cluster_name=name, endpoints=[endpoint_components_pb2.LocalityLbEndpoints(lb_endpoints=lb)]
    )


def route_config(name: str, routes: dict[str, str]) -> route_pb2.RouteConfiguration:
    """``routes``: prefix -> cluster, one catch-all virtual host."""
    entries = [
        route_components_pb2.Route(
            match=route_components_pb2.RouteMatch(prefix=prefix),
            route=route_components_pb2.RouteAction(cluster=target),
        )
        for prefix, target in sorted(routes.items(), reverse=True)
    ]
    vhost = route_components_pb2.VirtualHost(name="all", domains=["*"], routes=entries)
    return route_pb2.RouteConfiguration(name=name, virtual_hosts=[vhost])


def listener(name: str, port: int, route_name: str, *, ip: str = "127.0.0.1"):
    router = hcm_pb2.HttpFilter(name="envoy.filters.http.router")
    router.typed_config.Pack(router_pb2.Router())
    manager = hcm_pb2.HttpConnectionManager(
        stat_prefix=name,
        rds=hcm_pb2.Rds(config_source=_ads(), route_config_name=route_name),
        http_filters=[router],
    )
    chain = listener_components_pb2.FilterChain(
        filters=[listener_components_pb2.Filter(name="envoy.filters.network.http_connection_manager")]
    )
    chain.filters[0].typed_config.Pack(manager)
    return listener_pb2.Listener(name=name, address=_socket(ip, port), filter_chains=[chain])


def secret(name: str, key: bytes = b"k") -> secret_pb2.Secret:
    generic = secret_pb2.GenericSecret(secret=base_pb2.DataSource(inline_bytes=key))
    return secret_pb2.Secret(name=name, generic_secret=generic)


def small_snapshot(port: int = 10080) -> dict[str, dict[str, bytes]]:
    return {
        CLUSTER: {"default/a/80": ser(cluster("default/a/80"))},
        ENDPOINT: {"default/a/80": ser(endpoints("default/a/80", ("127.0.0.1", 9001)))},
        LISTENER: {"ingress_http": ser(listener("ingress_http", port, "ingress_http"))},
        ROUTE: {"ingress_http": ser(route_config("ingress_http", {"/": "default/a/80"}))},
        SECRET: {},
    }


class AdsClient:
    """Plays Envoy on one ADS stream (SotW or delta)."""

    def __init__(self, channel: grpc.aio.Channel, *, node_id: str = "envoy-1", delta=False):
        stub = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)
        self.delta = delta
        self.call = stub.DeltaAggregatedResources() if delta else stub.StreamAggregatedResources()
        self.node = base_pb2.Node(id=node_id, cluster="test")
        self.first = True
        self._queue: asyncio.Queue = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    async def request(self, type_url: str, names=(), *, version="", nonce="", error=None):
        req = discovery_pb2.DiscoveryRequest(
            type_url=type_url, resource_names=list(names), version_info=version,
            response_nonce=nonce,
        )
        await self._send(req, error)

    async def delta_request(self, type_url: str, *, subscribe=(), unsubscribe=(), nonce="",
                            initial=None, error=None):
        req = discovery_pb2.DeltaDiscoveryRequest(
            type_url=type_url, resource_names_subscribe=list(subscribe),
            resource_names_unsubscribe=list(unsubscribe), response_nonce=nonce,
            initial_resource_versions=initial or {},
        )
        await self._send(req, error)

    async def _send(self, req, error):
        if self.first:
            req.node.CopyFrom(self.node)
            self.first = False
        if error is not None:
            req.error_detail.CopyFrom(status_pb2.Status(code=3, message=error))
        await self.call.write(req)

    async def recv(self, timeout: float = TIMEOUT):
        item = await asyncio.wait_for(self._incoming().get(), timeout)
        if isinstance(item, BaseException):
            raise item
        assert item is not grpc.aio.EOF
        return item

    async def expect_silence(self, seconds: float = 0.3) -> None:
        try:
            item = await asyncio.wait_for(self._incoming().get(), seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected response: {item}")

    def _incoming(self) -> asyncio.Queue:
        # Cancelling a pending call.read() cancels the whole RPC, so one task reads
        # and tests wait on a queue instead.
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_all())
        return self._queue

    async def _read_all(self) -> None:
        try:
            while (item := await self.call.read()) is not grpc.aio.EOF:
                self._queue.put_nowait(item)
            self._queue.put_nowait(grpc.aio.EOF)
        except (grpc.aio.AioRpcError, asyncio.CancelledError) as err:
            self._queue.put_nowait(err)

    async def ack(self, response, names=()):
        if self.delta:
            await self.delta_request(response.type_url, nonce=response.nonce)
        else:
            await self.request(response.type_url, names, version=response.version_info,
                               nonce=response.nonce)

    def close(self) -> None:
        self.call.cancel()


def names_of(response) -> list[str]:
    """Resource names in a SotW or delta response."""
    if isinstance(response, discovery_pb2.DeltaDiscoveryResponse):
        return [r.name for r in response.resources]
    return [_name(a) for a in response.resources]


def _name(packed: any_pb2.Any) -> str:
    classes = {LISTENER: listener_pb2.Listener, ROUTE: route_pb2.RouteConfiguration,
               CLUSTER: cluster_pb2.Cluster, ENDPOINT: endpoint_pb2.ClusterLoadAssignment,
               SECRET: secret_pb2.Secret}
    message = classes[packed.type_url]()
    packed.Unpack(message)
    return message.cluster_name if packed.type_url == ENDPOINT else message.name
