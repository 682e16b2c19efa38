"""The grpc.aio xDS server: ADS and the per-type services, SotW and delta.

Upstream registered only the per-type SotW services (spec §4.2); this one also serves
ADS (which the bootstrap uses) and every Delta* method (spec §0 item 2). Fetch* answers
once from the current snapshot. Any type is accepted on any service, dispatched on the
request's ``type_url`` (as upstream); a per-type service fills in its own type when a
request leaves it empty.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from envoy.service.discovery.v3 import discovery_pb2

from controller.xds import wire
from controller.xds.delta import DeltaStream
from controller.xds.registry import NodeRegistry
from controller.xds.sotw import SotwStream
from controller.xds.stream import StreamError, XdsStream
from controller.xds.subscription import Subscription, sorted_resources
from controller.xdscache.snapshot import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    ROUTE,
    SECRET,
    TYPE_URLS,
    SnapshotCache,
)

log = logging.getLogger(__name__)

ADS_SERVICE = "envoy.service.discovery.v3.AggregatedDiscoveryService"
# service -> (type it serves, method-name stem): StreamX, DeltaX, FetchX
PER_TYPE_SERVICES: dict[str, tuple[str, str]] = {
    "envoy.service.listener.v3.ListenerDiscoveryService": (LISTENER, "Listeners"),
    "envoy.service.route.v3.RouteDiscoveryService": (ROUTE, "Routes"),
    "envoy.service.cluster.v3.ClusterDiscoveryService": (CLUSTER, "Clusters"),
    "envoy.service.endpoint.v3.EndpointDiscoveryService": (ENDPOINT, "Endpoints"),
    "envoy.service.secret.v3.SecretDiscoveryService": (SECRET, "Secrets"),
}

MAX_RECEIVE_BYTES = 256 * 1024 * 1024  # a delta reconnect at 50k resources exceeds 4 MB
SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    ("grpc.max_send_message_length", -1),
    ("grpc.max_concurrent_streams", 1 << 20),
    # Spec §4.2: keepalive 60 s / 20 s, pings allowed without active streams.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_ping_strikes", 0),
    # A second controller on the same port must fail to bind, not share it.
    ("grpc.so_reuseport", 0),
]


def _identity(payload: bytes) -> bytes:
    return payload  # responses are pre-encoded by controller.xds.wire


def tls_credentials(ca: bytes, cert: bytes, key: bytes) -> grpc.ServerCredentials:
    """Server TLS that requires and verifies client certificates (spec §4.2)."""
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=ca, require_client_auth=True
    )


class XdsServer:
    def __init__(self, cache: SnapshotCache, registry: NodeRegistry) -> None:
        self.cache = cache
        self.registry = registry
        self._server: grpc.aio.Server | None = None

    async def start(
        self, address: str, port: int, *, credentials: grpc.ServerCredentials | None = None
    ) -> int:
        """Bind and start serving; returns the bound port (``port=0``: ephemeral)."""
        server = grpc.aio.server(options=SERVER_OPTIONS)
        server.add_generic_rpc_handlers(self._handlers())
        target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        if credentials is None:
            bound = server.add_insecure_port(target)
        else:
            bound = server.add_secure_port(target, credentials)
        await server.start()
        self._server = server
        log.info("xDS server listening on %s (bound port %d)", target, bound)
        return bound

    async def stop(self, grace: float | None = None) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None

    async def wait_for_termination(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    # --- handlers ----------------------------------------------------------------
    def _handlers(self) -> tuple[grpc.GenericRpcHandler, ...]:
        ads = {
            "StreamAggregatedResources": self._stream_handler(SotwStream, None),
            "DeltaAggregatedResources": self._stream_handler(DeltaStream, None),
        }
        handlers = [grpc.method_handlers_generic_handler(ADS_SERVICE, ads)]
        for service, (type_url, stem) in PER_TYPE_SERVICES.items():
            methods = {
                f"Stream{stem}": self._stream_handler(SotwStream, type_url),
                f"Delta{stem}": self._stream_handler(DeltaStream, type_url),
                f"Fetch{stem}": grpc.unary_unary_rpc_method_handler(
                    functools.partial(self._fetch, default_type=type_url),
                    request_deserializer=discovery_pb2.DiscoveryRequest.FromString,
                    response_serializer=_identity,
                ),
            }
            handlers.append(grpc.method_handlers_generic_handler(service, methods))
        return tuple(handlers)

    def _stream_handler(
        self, stream_class: type[XdsStream], default_type: str | None
    ) -> grpc.RpcMethodHandler:
        request_class = (
            discovery_pb2.DeltaDiscoveryRequest
            if stream_class is DeltaStream
            else discovery_pb2.DiscoveryRequest
        )
        behavior = functools.partial(
            self._serve_stream, stream_class=stream_class, default_type=default_type
        )
        return grpc.stream_stream_rpc_method_handler(
            behavior,
            request_deserializer=request_class.FromString,
            response_serializer=_identity,
        )

    async def _serve_stream(
        self,
        _requests: Any,
        context: grpc.aio.ServicerContext,
        *,
        stream_class: type[XdsStream],
        default_type: str | None,
    ) -> None:
        stream = stream_class(self.cache, self.registry, context, default_type=default_type)
        await _guarded(stream.run, context, stream.kind, lambda: stream.node_id)

    async def _fetch(
        self, request: Any, context: grpc.aio.ServicerContext, *, default_type: str
    ) -> bytes:
        type_url = request.type_url or default_type
        if type_url not in TYPE_URLS:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f'no resource registered for typeURL "{type_url}"',
            )
        await self.cache.wait_ready()
        resources = self.cache.snapshot.get(type_url)
        sub = Subscription()
        sub.replace(request.resource_names)
        return wire.sotw_response(
            version=resources.version,
            type_url=type_url,
            nonce="",
            resources=sorted_resources(sub.resolve(resources)),
        )


async def _guarded(
    run: Callable[[], Awaitable[None]],
    context: grpc.aio.ServicerContext,
    kind: str,
    node: Callable[[], str | None],
) -> None:
    """Run one stream; whatever goes wrong ends that stream alone, with a status."""
    try:
        await run()
    except StreamError as err:
        log.warning("%s stream from %s ended: %s", kind, node(), err.message)
        await context.abort(err.code, err.message)
    except Exception:
        log.exception("%s stream from %s failed", kind, node())
        await context.abort(grpc.StatusCode.INTERNAL, "internal error in xDS stream")


async def serve(
    cache: SnapshotCache,
    registry: NodeRegistry,
    address: str,
    port: int,
    *,
    tls: tuple[bytes, bytes, bytes] | None = None,
) -> tuple[XdsServer, int]:
    """Start a server; ``tls=(ca, cert, key)`` PEM bytes, or None for plaintext."""
    server = XdsServer(cache, registry)
    credentials = tls_credentials(*tls) if tls is not None else None
    return server, await server.start(address, port, credentials=credentials)
