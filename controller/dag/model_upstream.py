"""DAG values of upstreams: a Service port, the cluster a route sends to and what shapes
it (health check, upstream TLS validation, slow start, per-service header policies), and
TLS Secrets. Immutable like model.py's values (which re-exports them)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from controller.dag.model_auth import CookieRewrite
from controller.records import record


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


@record
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
    expected_statuses: tuple[tuple[int, int], ...] = ()
    """HTTPProxy `expectedStatuses`: half-open [start, end) ranges; empty = only 200."""


@dataclass(frozen=True, slots=True)
class UpstreamValidation:
    """Verify the upstream's certificate against a CA (only for `tls` upstreams)."""

    ca_secret_name: str
    ca_cert: bytes
    subject_name: str


@record
class Cluster:
    """One upstream use of a service port. Weight is not part of the Envoy cluster's identity."""

    service: ServicePort
    weight: int = 0
    strategy: str = ""
    health_check: HealthCheck | None = None
    validation: UpstreamValidation | None = None
    slow_start: SlowStart | None = None
    idle_connection_timeout: float | None = None
    """HTTPProxy timeoutPolicy.idleConnection (seconds; Timeout.INFINITE); None = unset."""
    request_headers: HeadersPolicy | None = None
    """Per-service header policies: they shape the route's weighted-cluster entry, not the
    Envoy cluster (cluster_name ignores them)."""
    response_headers: HeadersPolicy | None = None
    cookie_rewrites: tuple[CookieRewrite, ...] = ()
    """Per-service cookieRewritePolicies: like the header policies, they shape the route's
    weighted-cluster entry, not the Envoy cluster."""


@dataclass(frozen=True, slots=True)
class SlowStart:
    """HTTPProxy slowStartPolicy: ramp a new endpoint's weight over `window` seconds."""

    window: float
    aggression: float = 1.0
    min_weight_percent: int = 10


@dataclass(frozen=True, slots=True, order=True)
class HeadersPolicy:
    """Header changes: `set` replaces (or adds) each header, `remove` drops them.
    `host_rewrite` (request side only) rewrites the Host/:authority header;
    `host_rewrite_header` (HTTPProxy `Host: %REQ(name)%`) rewrites it to the value of that
    request header instead (Envoy host_rewrite_header)."""

    set: tuple[tuple[str, str], ...] = ()
    remove: tuple[str, ...] = ()
    host_rewrite: str = ""
    host_rewrite_header: str = ""
    add: tuple[tuple[str, str], ...] = ()
    """Gateway API `add`: appended to any value the message has (Envoy
    APPEND_IF_EXISTS_OR_ADD)."""
