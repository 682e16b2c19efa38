"""The routing graph (DAG) the builder produces and the translators consume.

Everything here is an immutable value: two equal objects translate to byte-identical
Envoy resources, so translators may cache serialized output keyed by these values.
Collections are tuples sorted the way Envoy will see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

VALID = "valid"
INVALID = "invalid"
ORPHANED = "orphaned"


class Protocol(str, Enum):  # noqa: UP042 (StrEnum would change str())
    """Upstream protocol of a Service port (contour.heptio.com/upstream-protocol.*)."""

    HTTP1 = ""
    H2 = "h2"
    H2C = "h2c"
    TLS = "tls"


@dataclass(frozen=True, slots=True)
class Secret:
    """A usable kubernetes.io/tls Secret (PEM-validated when it entered the store)."""

    namespace: str
    name: str
    cert: bytes
    key: bytes


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One port of a Kubernetes Service, with the Service-level annotations that shape a cluster."""

    namespace: str
    name: str
    port: int
    port_name: str = ""
    protocol: Protocol = Protocol.HTTP1
    external_name: str = ""
    max_connections: int = 0
    max_pending_requests: int = 0
    max_requests: int = 0
    max_retries: int = 0

    @property
    def eds_name(self) -> str:
        """EDS service_name: `ns/svc/portName`, or `ns/svc` for an unnamed port (spec §3.4)."""
        base = f"{self.namespace}/{self.name}"
        return f"{base}/{self.port_name}" if self.port_name else base


@dataclass(frozen=True, slots=True)
class HealthCheck:
    """Active HTTP health check; zero values mean "use the default" (spec §1.1)."""

    path: str
    host: str = ""
    interval_seconds: int = 0
    timeout_seconds: int = 0
    unhealthy_threshold: int = 0
    healthy_threshold: int = 0


@dataclass(frozen=True, slots=True)
class UpstreamValidation:
    """Verify the upstream's certificate against a CA (only for `tls` upstreams)."""

    ca_secret_name: str
    ca_cert: bytes
    subject_name: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """One upstream use of a service port. Weight is not part of the Envoy cluster's identity."""

    service: ServicePort
    weight: int = 0
    strategy: str = ""
    health_check: HealthCheck | None = None
    validation: UpstreamValidation | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_on: str = "5xx"
    num_retries: int = 0  # 0: leave unset (Envoy default)
    per_try_timeout: float = 0.0  # seconds; 0: unset


class Timeout:
    """Route timeout values: None = unset (Envoy default 15s), INFINITE = 0s in Envoy."""

    INFINITE = -1.0


@dataclass(frozen=True, slots=True)
class Route:
    """A route on one virtual host. `match` is a path prefix, or a regex when `regex` is set."""

    match: str
    clusters: tuple[Cluster, ...] = ()
    regex: bool = False
    https_redirect: bool = False  # on the port-80 vhost only: 301 to https
    websocket: bool = False
    prefix_rewrite: str = ""
    timeout: float | None = None  # seconds; Timeout.INFINITE; None = unset
    retry: RetryPolicy | None = None


@dataclass(frozen=True, slots=True)
class TCPProxy:
    clusters: tuple[Cluster, ...]


@dataclass(frozen=True, slots=True)
class VirtualHost:
    """A port-80 virtual host. `host` is the fqdn (lower-cased) or `*`."""

    host: str
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class SecureVirtualHost:
    """A port-443 virtual host: TLS termination with `secret`, or a TCP proxy (passthrough
    when `secret` is None)."""

    host: str
    routes: tuple[Route, ...] = ()
    secret: Secret | None = None
    min_tls_version: str = "1.1"  # "1.1" | "1.2" | "1.3"
    tcp_proxy: TCPProxy | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """The status of one IngressRoute after a build."""

    namespace: str
    name: str
    current: str  # VALID | INVALID | ORPHANED
    description: str
    vhost: str = ""
    kind: str = "IngressRoute"


@dataclass(frozen=True, slots=True)
class DAG:
    """The result of one build: surviving vhosts sorted by host, plus every status."""

    http: tuple[VirtualHost, ...] = ()
    https: tuple[SecureVirtualHost, ...] = ()
    statuses: tuple[Status, ...] = field(default=())

    def clusters(self) -> tuple[Cluster, ...]:
        """Every cluster reachable from a surviving vhost, in visit order (may repeat)."""
        out: list[Cluster] = []
        for vh in self.http:
            for r in vh.routes:
                out.extend(r.clusters)
        for svh in self.https:
            for r in svh.routes:
                out.extend(r.clusters)
            if svh.tcp_proxy is not None:
                out.extend(svh.tcp_proxy.clusters)
        return tuple(out)


def route_order_key(route: Route) -> tuple[int, str]:
    """Envoy order within a vhost: regex routes first, then prefixes; each group in reverse
    lexicographic order of the match, so a prefix sorts after every longer prefix it starts
    (spec §3.2). Use with `sorted(..., key=route_order_key, reverse=True)`."""
    return (1 if route.regex else 0, route.match)
