"""The routing graph (DAG) the builder produces and the translators consume: virtual hosts,
their routes and TCP proxies, and the build's result (`DAG`).

Everything here is an immutable value: two equal objects translate to byte-identical
Envoy resources, so translators may cache serialized output keyed by these values.
Collections are tuples sorted the way Envoy will see them. The values routes and vhosts
are made of live beside this module by concern (model_upstream, model_policy, model_auth,
model_ext, model_status); every public name is importable from here as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.dag.gateway_model import GatewayAPIStatus, GatewayService

from controller.dag.model_auth import (
    ClientValidation,
    CookieRewrite,
    JWKSCluster,
    JWTProvider,
)
from controller.dag.model_ext import ExtensionCluster, ExternalAuthorization, RateLimitService
from controller.dag.model_policy import (
    CIDR,
    HEADER_OPS,
    QUERY_OPS,
    CORSPolicy,
    DirectResponse,
    HashPolicy,
    HeaderMatch,
    IPFilter,
    LocalRateLimit,
    QueryMatch,
    RateLimitDescriptor,
    RateLimitEntry,
    Redirect,
    RetryPolicy,
    Timeout,
)
from controller.dag.model_status import INVALID, ORPHANED, VALID, Condition, Status, SubCondition
from controller.dag.model_upstream import (
    Cluster,
    HeadersPolicy,
    HealthCheck,
    Protocol,
    Secret,
    ServicePort,
    SlowStart,
    UpstreamValidation,
)
from controller.dag.provenance import Provenance
from controller.records import record

__all__ = [
    "CIDR", "HEADER_OPS", "INVALID", "ORPHANED", "QUERY_OPS", "VALID", "CORSPolicy",
    "ClientValidation", "Cluster", "Condition", "CookieRewrite", "DirectResponse",
    "ExtensionCluster", "ExternalAuthorization", "HashPolicy", "HeaderMatch", "HeadersPolicy",
    "HealthCheck", "IPFilter", "JWKSCluster", "JWTProvider", "LocalRateLimit", "Protocol",
    "Provenance", "QueryMatch", "RateLimitDescriptor", "RateLimitEntry", "RateLimitService",
    "Redirect", "RetryPolicy", "Secret", "ServicePort", "SlowStart", "Status", "SubCondition",
    "Timeout", "UpstreamValidation",
]


@record
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
    exact: bool = False
    """HTTPProxy `exact` path condition (only with regex False)."""
    headers: tuple[HeaderMatch, ...] = ()
    query_params: tuple[QueryMatch, ...] = ()
    idle_timeout: float | None = None
    request_headers: HeadersPolicy | None = None
    response_headers: HeadersPolicy | None = None
    replace_prefix: tuple[tuple[str, str], ...] = ()
    """HTTPProxy pathRewritePolicy.replacePrefix as (prefix, replacement) pairs, the route's
    own match prefix first; `prefix_rewrite` stays the IngressRoute form. The builder emits
    exactly one pair, (route.match, the replacement v1.33 chose), after v1.33's `/p` + `/p/`
    split, so the translator sets Envoy's prefix_rewrite to the pair's replacement."""
    hash_policies: tuple[HashPolicy, ...] = ()
    mirrors: tuple[Cluster, ...] = ()
    direct_response: DirectResponse | None = None
    redirect: Redirect | None = None
    internal_redirect: bool = False
    ip_filter: IPFilter | None = None
    rate_limit: LocalRateLimit | None = None
    segment_prefix: bool = False
    """Gateway API PathPrefix: `match` matches whole path segments (`/foo` matches `/foo`
    and `/foo/bar`, not `/foobar`: Envoy path_separated_prefix)."""
    regex_rewrite: tuple[str, str] | None = None
    """(RE2 pattern, substitution) for the path (Gateway API URLRewrite)."""
    jwt_provider: str = ""
    """The JWT provider (requirement) whose token the route requires; "" = none."""
    cookie_rewrites: tuple[CookieRewrite, ...] = ()
    global_rate_limits: tuple[RateLimitDescriptor, ...] = ()
    """rateLimitPolicy.global descriptors (Envoy route action rate_limits)."""
    ignore_vhost_rate_limits: bool = False
    """rateLimitPolicy.global.disabled: the vhost's global descriptors do not apply."""
    auth_disabled: bool = False
    """Under an authorizing vhost: the check is skipped (authPolicy.disabled)."""
    auth_context: tuple[tuple[str, str], ...] = ()
    """Under an authorizing vhost: the check's context extensions, sorted by key."""
    precedence: int = 0
    """Gateway API only (1, 2, ...: oldest route, then rule order, first): the spec's
    tie-break between equally specific matches, after the number of query matches
    (`route_order_key`); 0 for the other kinds, ordered as v1.33 orders them."""
    provenance: Provenance | None = field(default=None, compare=False)
    """Who produced this route; not part of its identity (equal routes translate alike)."""

    @property
    def forwards(self) -> bool:
        """True when the route has an action Envoy can take (not a dropped empty route)."""
        return bool(self.clusters) or self.direct_response is not None or self.redirect is not None


@dataclass(frozen=True, slots=True)
class TCPProxy:
    clusters: tuple[Cluster, ...]
    provenance: Provenance | None = field(default=None, compare=False)
    """Who produced it (the tcpproxy include/delegation path); not part of its identity."""


@record
class VirtualHost:
    """A port-80 virtual host. `host` is the fqdn (lower-cased) or `*`."""

    host: str
    routes: tuple[Route, ...] = ()
    cors: CORSPolicy | None = None
    ip_filter: IPFilter | None = None
    rate_limit: LocalRateLimit | None = None
    global_rate_limits: tuple[RateLimitDescriptor, ...] = ()


@dataclass(frozen=True, slots=True)
class SecureVirtualHost:
    """A port-443 virtual host: TLS termination with `secret`, or a TCP proxy (passthrough
    when `secret` is None)."""

    host: str
    routes: tuple[Route, ...] = ()
    secret: Secret | None = None
    min_tls_version: str = "1.1"  # "1.1" | "1.2" | "1.3"
    tcp_proxy: TCPProxy | None = None
    cors: CORSPolicy | None = None
    ip_filter: IPFilter | None = None
    rate_limit: LocalRateLimit | None = None
    max_tls_version: str = ""
    """"1.2" | "1.3"; empty = Envoy's default (1.3)."""
    fallback_certificate: bool = False
    """HTTPProxy enableFallbackCertificate: also reachable through the fallback-certificate
    filter chain (SNI matching no vhost), routed by Host."""
    strict_sni: bool = False
    """HTTPProxy (v1.33): over its SNI chain, a request whose Host names another host is
    answered 421 Misdirected Request instead of routed by Host."""
    client_validation: ClientValidation | None = None
    """tls.clientValidation: verify (or request) client certificates; XFCC forwarding."""
    jwt_providers: tuple[JWTProvider, ...] = ()
    """jwtProviders, in spec order: the chain's jwt_authn filter and its JWKS clusters."""
    global_rate_limits: tuple[RateLimitDescriptor, ...] = ()
    authorization: ExternalAuthorization | None = None
    """HTTPProxy virtualhost.authorization: ext_authz on this vhost's filter chain."""


@dataclass(frozen=True, slots=True)
class GatewayListener:
    """An Envoy listener of one Gateway's own, for one of its ports (isolated Gateways,
    docs/decisions.md): `port` is the Envoy port (its Service's targetPort); `secure`
    (HTTPS and TLS listeners): SNI chains of `https`, else HTTP with the vhosts `http`."""

    name: str
    port: int
    secure: bool
    http: tuple[VirtualHost, ...] = ()
    https: tuple[SecureVirtualHost, ...] = ()


@dataclass(frozen=True, slots=True)
class DAG:
    """The result of one build: surviving vhosts sorted by host, plus every status."""

    http: tuple[VirtualHost, ...] = ()
    https: tuple[SecureVirtualHost, ...] = ()
    statuses: tuple[Status, ...] = field(default=())
    fallback_secret: Secret | None = None
    """The controller's fallback certificate (BuilderSettings.fallback_certificate) when some
    secure vhost enables it and the Secret exists: the translator adds its filter chain."""
    gateway_statuses: tuple[GatewayAPIStatus, ...] = ()
    """Gateway API objects' statuses (gateway_model.py), sorted by (namespace, name, kind)."""
    extensions: tuple[ExtensionCluster, ...] = ()
    """Every valid ExtensionService's cluster, sorted by (namespace, name)."""
    rate_limit_service: RateLimitService | None = None
    """The global rate limit service of the controller config, resolved (settings)."""
    gateway_listeners: tuple[GatewayListener, ...] = ()
    """Isolated Gateways' own listeners, sorted by name (empty when they share)."""
    gateway_services: tuple[GatewayService, ...] = ()
    """Isolated Gateways: the Service each needs (the Gateway's address), by Gateway key."""

    def clusters(self) -> tuple[Cluster, ...]:
        """Every cluster reachable from a surviving vhost, in visit order (may repeat)."""
        out: list[Cluster] = []
        groups = [(self.http, self.https)] + [(g.http, g.https) for g in self.gateway_listeners]
        for http, https in groups:
            for vh in http:
                for r in vh.routes:
                    out.extend(route_clusters(r))
            for svh in https:
                for r in svh.routes:
                    out.extend(route_clusters(r))
                if svh.tcp_proxy is not None:
                    out.extend(svh.tcp_proxy.clusters)
        return tuple(out)


def route_clusters(route: Route) -> tuple[Cluster, ...]:
    """The clusters a route sends to: its services, then its mirrors (each needs an Envoy
    cluster too)."""
    return route.clusters + route.mirrors if route.mirrors else route.clusters


def route_order_key(route: Route) -> tuple[object, ...]:
    """Envoy order within a vhost, most specific first (use with `reverse=True`): exact paths,
    then regexes, then prefixes (v1.33's sorter; IngressRoute has no exact, spec §3.2); each
    group in reverse lexicographic order of the match, so a prefix sorts after every longer
    prefix it starts; for the same path, more header conditions first, then the header
    conditions in *ascending* (name, value) order, as v1.33's headerMatchConditionSorter
    (so `contains "Value"` is tried before its ignoreCase twin `contains "value"`), then
    more query conditions."""
    group = 2 if route.exact else 1 if route.regex else 0
    ascending = tuple((_descending(h.name), _descending(h.value)) for h in route.headers)
    # Gateway API: more query matches, then precedence (oldest route, first rule) before
    # the header names; for the other kinds both are 0 and v1.33's order stands
    gateway = (len(route.query_params), -route.precedence) if route.precedence else (0, 0)
    return (group, route.match, len(route.headers), *gateway, ascending, route.headers,
            len(route.query_params))


def _descending(text: str) -> tuple[int, ...]:
    """A key that sorts strings in reverse lexicographic order (a prefix after its
    extensions): negated code points and a sentinel above them all."""
    return (*(-ord(c) for c in text), 1)


RouteKey = tuple[bool, bool, str, tuple[HeaderMatch, ...], tuple[QueryMatch, ...], bool]


def route_key(route: Route) -> RouteKey:
    """A route's identity on its vhost: a later route with the same key replaces an earlier
    one (the Ingress/IngressRoute overlay rule)."""
    return (route.regex, route.exact, route.match, route.headers, route.query_params,
            route.segment_prefix)
