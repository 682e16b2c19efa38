"""An ADS client for ``contour cli lds|rds|srds|cds|eds|sds [NAME...]`` (spec §4.3).

``watch`` opens one SotW ADS stream for one type and ACKs every response, so the
server keeps pushing new versions: the command behaves like a watch.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import AsyncGenerator, Iterable, Sequence
from typing import Literal

import grpc
import yaml
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.core.v3 import base_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from envoy.extensions.transport_sockets.tls.v3 import secret_pb2
from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
from google.protobuf import json_format
from google.protobuf.message import Message

from controller.xdscache.snapshot import CLUSTER, ENDPOINT, LISTENER, ROUTE, SCOPED_ROUTE, SECRET

MESSAGE_CLASSES: dict[str, type[Message]] = {
    LISTENER: listener_pb2.Listener,
    ROUTE: route_pb2.RouteConfiguration,
    SCOPED_ROUTE: scoped_route_pb2.ScopedRouteConfiguration,
    CLUSTER: cluster_pb2.Cluster,
    ENDPOINT: endpoint_pb2.ClusterLoadAssignment,
    SECRET: secret_pb2.Secret,
}
SHORT_NAMES = {"lds": LISTENER, "rds": ROUTE, "srds": SCOPED_ROUTE, "cds": CLUSTER,
               "eds": ENDPOINT, "sds": SECRET}

# Typed configs nested in Any inside listeners and clusters: their descriptors must be
# loaded for MessageToDict to expand them.
_NESTED_CONFIG_MODULES = (
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.network.tcp_proxy.v3.tcp_proxy_pb2",
    "envoy.extensions.filters.network.direct_response.v3.config_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2",
    "envoy.extensions.filters.http.grpc_web.v3.grpc_web_pb2",
    "envoy.extensions.filters.http.health_check.v3.health_check_pb2",
    "envoy.extensions.filters.listener.tls_inspector.v3.tls_inspector_pb2",
    "envoy.extensions.filters.listener.proxy_protocol.v3.proxy_protocol_pb2",
    "envoy.extensions.transport_sockets.tls.v3.tls_pb2",
    "envoy.extensions.access_loggers.file.v3.file_pb2",
    "envoy.extensions.upstreams.http.v3.http_protocol_options_pb2",
)
MAX_RECEIVE_BYTES = 256 * 1024 * 1024


def client_credentials(ca: bytes, cert: bytes, key: bytes) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key,
                                        certificate_chain=cert)


def _channel(
    address: str, credentials: grpc.ChannelCredentials | None, server_name: str
) -> grpc.aio.Channel:
    options: list[tuple[str, int | str]] = [("grpc.max_receive_message_length",
                                             MAX_RECEIVE_BYTES)]
    if credentials is None:
        return grpc.aio.insecure_channel(address, options=options)
    # Spec §4.3: with TLS the expected server name is "contour".
    options.append(("grpc.ssl_target_name_override", server_name))
    return grpc.aio.secure_channel(address, credentials, options=options)


async def watch(
    address: str,
    type_url: str,
    names: Iterable[str] = (),
    *,
    credentials: grpc.ChannelCredentials | None = None,
    server_name: str = "contour",
    node_id: str = "contour-cli",
) -> AsyncGenerator[discovery_pb2.DiscoveryResponse, None]:
    """Yield every response for ``type_url`` (a full URL or a SHORT_NAMES key)."""
    type_url = SHORT_NAMES.get(type_url, type_url)
    request = discovery_pb2.DiscoveryRequest(
        node=base_pb2.Node(id=node_id, cluster="contour-cli"),
        type_url=type_url,
        resource_names=list(names),
    )
    async with _channel(address, credentials, server_name) as channel:
        call = ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel).StreamAggregatedResources()
        await call.write(request)
        while (response := await call.read()) is not grpc.aio.EOF:
            assert isinstance(response, discovery_pb2.DiscoveryResponse)
            # ACK first, so the server is free to push the next version.
            request.version_info, request.response_nonce = response.version_info, response.nonce
            await call.write(request)
            yield response


def decode(response: discovery_pb2.DiscoveryResponse) -> list[Message]:
    """The response's resources as generated message objects."""
    _load_nested_config_types()
    out: list[Message] = []
    for packed in response.resources:
        message = MESSAGE_CLASSES[packed.type_url]()
        if not packed.Unpack(message):
            raise ValueError(f"cannot unpack {packed.type_url}")
        out.append(message)
    return out


def render(messages: Sequence[Message], fmt: Literal["yaml", "json"] = "yaml") -> str:
    _load_nested_config_types()
    dicts = [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in messages]
    text = json.dumps(dicts, indent=2)
    if fmt == "json":
        return text + "\n"
    if fmt == "yaml":
        # Through JSON: expanded Any values come back as OrderedDict, which
        # yaml.safe_dump refuses.
        return str(yaml.safe_dump(json.loads(text), sort_keys=False, default_flow_style=False))
    raise ValueError(f"unknown output format {fmt!r}")


@functools.cache
def _load_nested_config_types() -> None:
    for module in _NESTED_CONFIG_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:  # an older xds-protos: that config just stays packed
            continue
