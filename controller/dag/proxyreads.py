"""What HTTPProxy processing reads (`ProxyReads`: the store, or deps.Recorder) and what one
root contributes (`ProxyResult`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol as TypingProtocol

from controller.dag.model import (
    CORSPolicy,
    ExternalAuthorization,
    IPFilter,
    LocalRateLimit,
    RateLimitDescriptor,
    Route,
    Secret,
    ServicePort,
    TCPProxy,
)
from controller.dag.model_auth import ClientValidation, JWTProvider
from controller.dag.proxystatus import ProxyConditions
from controller.k8s.extension_views import ExtensionServiceView
from controller.k8s.httpproxy_views import HTTPProxyView
from controller.k8s.objects import Key


class ProxyLookup(TypingProtocol):
    def get(self, key: Key, /) -> HTTPProxyView | None: ...


class ProxyReads(TypingProtocol):
    """The store's read API as HTTPProxy processing uses it."""

    @property
    def httpproxies(self) -> ProxyLookup: ...

    def service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def service_exists(self, key: Key) -> bool: ...

    def tcp_service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]: ...

    def secret_problem(self, key: Key) -> str: ...

    def ca_certificate(self, key: Key) -> bytes: ...

    def crl(self, key: Key) -> bytes: ...

    def missing_secret(self, key: Key) -> str: ...
    def extension_service(self, key: Key) -> ExtensionServiceView | None: ...


@dataclass(slots=True)
class ProxyResult:
    """One HTTPProxy root's contribution. `routes` pairs the port-80 route (maybe an https
    redirect) with the port-443 one (None when the root serves no HTTPS routes)."""

    key: Key
    host: str = ""
    """Set once the root passed its checks (its vhosts may exist)."""
    routes: list[tuple[Route, Route | None]] = field(default_factory=list)
    secret: Secret | None = None
    min_tls_version: str = "1.2"
    max_tls_version: str = "1.3"
    fallback_secret: Secret | None = None
    tcp_proxy: TCPProxy | None = None
    cors: CORSPolicy | None = None
    ip_filter: IPFilter | None = None
    rate_limit: LocalRateLimit | None = None
    client_validation: ClientValidation | None = None
    jwt_providers: tuple[JWTProvider, ...] = ()
    default_jwt: str = ""
    """The provider every route requires unless its jwtVerificationPolicy says otherwise."""
    global_rate_limits: tuple[RateLimitDescriptor, ...] = ()
    authorization: ExternalAuthorization | None = None
    secure_vhost: bool = False
    """The port-443 vhost exists (TLS attached), whether or not routes reach it."""
    insecure_vhost: bool = False
    conditions: dict[Key, ProxyConditions] = field(default_factory=dict)
    """Every HTTPProxy this root visited (reached through an include), with its findings;
    a non-root no root visited is orphaned."""

    def cond(self, key: Key) -> ProxyConditions:
        """The findings of `key` in this root's processing (created empty: a visit)."""
        found = self.conditions.get(key)
        if found is None:
            found = self.conditions[key] = ProxyConditions()
        return found
