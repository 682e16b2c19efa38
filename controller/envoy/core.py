"""Small shared constructors: config sources, addresses, durations, typed configs."""

from __future__ import annotations

import ipaddress

from google.protobuf.message import Message

from controller.envoy import pb

TLS_TRANSPORT_SOCKET = "envoy.transport_sockets.tls"
FILE_ACCESS_LOG = "envoy.access_loggers.file"
HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def any_of(message: Message) -> pb.Any:
    """`message` packed into a google.protobuf.Any (for typed_config fields)."""
    out = pb.Any()
    out.Pack(message)
    return out


def duration(seconds: float) -> pb.Duration:
    """A Duration of `seconds`, exact to the nanosecond for the values Contour uses."""
    whole = int(seconds)
    return pb.Duration(seconds=whole, nanos=round((seconds - whole) * 1e9))


def config_source(cluster: str = "") -> pb.ConfigSource:
    """Where Envoy fetches a dynamic resource: ADS by default, so one stream carries
    everything; with `cluster`, a per-type gRPC subscription to that bootstrap cluster."""
    if not cluster:
        return pb.ConfigSource(
            ads=pb.AggregatedConfigSource(), resource_api_version=pb.ApiVersion.V3
        )
    return pb.ConfigSource(
        api_config_source=api_config_source(cluster), resource_api_version=pb.ApiVersion.V3
    )


def api_config_source(cluster: str) -> pb.ApiConfigSource:
    """A v3 gRPC API config source that talks to `cluster` (defined in the bootstrap)."""
    return pb.ApiConfigSource(
        api_type=pb.ApiConfigSource.GRPC,
        transport_api_version=pb.ApiVersion.V3,
        grpc_services=[pb.GrpcService(envoy_grpc=pb.GrpcService.EnvoyGrpc(cluster_name=cluster))],
    )


def socket_address(address: str, port: int) -> pb.Address:
    """A TCP address; `::` also accepts IPv4 (ipv4_compat), as upstream does."""
    return set_socket_address(pb.Address(), address, port)


def set_socket_address(out: pb.Address, address: str, port: int) -> pb.Address:
    """`socket_address()` written into `out` (a field of a message being built: perf, no
    copy of a finished sub-message into its parent); returns `out`."""
    socket = out.socket_address
    socket.address = address
    socket.port_value = port
    if address == "::":
        socket.ipv4_compat = True
    return out


def is_ip_literal(address: str) -> bool:
    """True for an IPv4/IPv6 literal: Envoy's STATIC clusters accept nothing else."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def transport_socket(context: Message) -> pb.TransportSocket:
    """The TLS transport socket wrapping an Upstream/DownstreamTlsContext."""
    return pb.TransportSocket(name=TLS_TRANSPORT_SOCKET, typed_config=any_of(context))


def file_access_log(path: str) -> pb.AccessLog:
    """An access log to `path` in Envoy's default format."""
    return pb.AccessLog(name=FILE_ACCESS_LOG, typed_config=any_of(pb.FileAccessLog(path=path)))


def http2_protocol_options() -> dict[str, pb.Any]:
    """typed_extension_protocol_options that make a cluster speak HTTP/2 upstream (v3
    replacement of the cluster-level http2_protocol_options)."""
    return upstream_http_options(h2=True)


def upstream_http_options(*, h2: bool, idle_timeout: float | None = None) -> dict[str, pb.Any]:
    """typed_extension_protocol_options: HTTP/2 or HTTP/1.1 explicitly, and the idle timeout
    of upstream connections when set (negative: never, Envoy's 0s); empty when both are
    Envoy's defaults (HTTP/1.1, 1h), as upstream leaves them."""
    if not h2 and idle_timeout is None:
        return {}
    explicit = pb.HttpProtocolOptions.ExplicitHttpConfig()
    if h2:
        explicit.http2_protocol_options.SetInParent()
    else:
        explicit.http_protocol_options.SetInParent()
    options = pb.HttpProtocolOptions(explicit_http_config=explicit)
    if idle_timeout is not None:
        options.common_http_protocol_options.idle_timeout.CopyFrom(
            duration(max(idle_timeout, 0)))
    return {HTTP_PROTOCOL_OPTIONS: any_of(options)}


def length_delimited(field_number: int, payload: bytes) -> bytes:
    """One length-delimited field on the wire: tag, length, payload. A repeated message field
    is the concatenation of these, so a message can be assembled from cached element bytes."""
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
