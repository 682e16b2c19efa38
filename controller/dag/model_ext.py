"""DAG values of the external services an HTTPProxy uses (v1.33): ExtensionService
clusters, a secure vhost's external authorization, and the controller's global rate limit
service. Immutable like model.py's values; provenance never takes part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.dag.provenance import Provenance


@dataclass(frozen=True, slots=True)
class ExtensionCluster:
    """A valid ExtensionService (v1alpha1) as the Envoy cluster `extension/<ns>/<name>`,
    speaking gRPC (h2 over TLS, or h2c) to the endpoints of its weighted Service ports."""

    namespace: str
    name: str
    services: tuple[tuple[str, int], ...]
    """(EDS name of the Service port, weight) pairs, in spec order."""
    protocol: str = "h2"
    """"h2" (TLS) | "h2c" (cleartext)."""
    strategy: str = ""
    ca_cert: bytes = b""
    """validation.caSecret's CA (empty: the server's certificate is not verified)."""
    subject_name: str = ""
    """validation's subject name: verified, and the TLS server name / gRPC authority."""
    response_timeout: float | None = None
    """timeoutPolicy.response (seconds; Timeout.INFINITE); None = unset."""
    idle_connection_timeout: float | None = None
    circuit_breakers: tuple[int, int, int, int] = (0, 0, 0, 0)
    """circuitBreakerPolicy: max connections, pending requests, requests, retries (0 unset)."""
    ca_secret: str = field(default="", compare=False)
    """The validation.caSecret name the CA came from (provenance)."""
    provenance: Provenance | None = field(default=None, compare=False)

    @property
    def cluster_name(self) -> str:
        return f"extension/{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class ExternalAuthorization:
    """A secure vhost's `authorization`: the ext_authz filter on its filter chain, asking
    the extension cluster `cluster_name` over gRPC."""

    cluster_name: str
    sni: str = ""
    fail_open: bool = False
    response_timeout: float | None = None
    """seconds; Timeout.INFINITE; None = unset (Envoy's default)."""
    with_request_body: tuple[int, bool, bool] | None = None
    """(maxRequestBytes, allowPartialMessage, packAsBytes) when withRequestBody is set."""


@dataclass(frozen=True, slots=True)
class RateLimitService:
    """The controller config's `rateLimitService`: the global ratelimit HTTP filter of every
    HTTP connection manager, asking `extension/<ns>/<name>`."""

    namespace: str
    name: str
    domain: str = ""
    fail_open: bool = False
    enable_x_ratelimit_headers: bool = False
    enable_resource_exhausted_code: bool = False
    timeout: float | None = None
    """The ExtensionService's timeoutPolicy.response when it is valid, else unset."""
    sni: str = ""

    @property
    def cluster_name(self) -> str:
        return f"extension/{self.namespace}/{self.name}"
