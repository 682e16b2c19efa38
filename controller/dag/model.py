"""The routing graph (DAG) the builder produces and the translators consume.

Everything here is an immutable value: two equal objects translate to byte-identical
Envoy resources, so translators may cache serialized output keyed by these values.
Collections are tuples sorted the way Envoy will see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
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
from controller.dag.provenance import Provenance

__all__ = ["ClientValidation", "CookieRewrite", "ExtensionCluster", "ExternalAuthorization",
           "JWKSCluster", "JWTProvider", "Provenance", "RateLimitService"]

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
    expected_statuses: tuple[tuple[int, int], ...] = ()
    """HTTPProxy `expectedStatuses`: half-open [start, end) ranges; empty = only 200."""


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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_on: str = "5xx"
    """Comma-joined Envoy retry_on conditions."""
    num_retries: int = 0  # 0: leave unset (Envoy default)
    per_try_timeout: float = 0.0  # seconds; 0: unset
    retriable_status_codes: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, order=True)
class HeaderMatch:
    """One HTTPProxy header condition. `op` is one of HEADER_OPS."""

    name: str
    op: str
    value: str = ""
    ignore_case: bool = False
    treat_missing_as_empty: bool = False


HEADER_OPS = ("present", "notpresent", "exact", "notexact", "contains", "notcontains",
              "regex")


@dataclass(frozen=True, slots=True, order=True)
class QueryMatch:
    """One HTTPProxy queryParameter condition. `op` is one of QUERY_OPS."""

    name: str
    op: str
    value: str = ""
    ignore_case: bool = False


QUERY_OPS = ("exact", "prefix", "suffix", "regex", "contains", "present")


@dataclass(frozen=True, slots=True)
class HashPolicy:
    """RequestHash load balancing: hash on a `header` or `query` parameter named `name`, or
    on the `source_ip`; `terminal` stops at the first policy that yields a hash."""

    kind: str  # "header" | "query" | "source_ip"
    name: str = ""
    terminal: bool = False


@dataclass(frozen=True, slots=True)
class DirectResponse:
    """Envoy answers itself: `status` and `body` (may be empty)."""

    status: int
    body: str = ""


@dataclass(frozen=True, slots=True)
class Redirect:
    """HTTPProxy requestRedirectPolicy; empty fields keep the request's value."""

    scheme: str = ""
    hostname: str = ""
    port: int = 0
    path: str = ""
    prefix: str = ""
    status_code: int = 302


@dataclass(frozen=True, slots=True)
class CIDR:
    address: str
    prefix_len: int
    remote: bool = False
    """Match the client address from X-Forwarded-For (source Remote) instead of the peer."""


@dataclass(frozen=True, slots=True)
class IPFilter:
    """ipAllowPolicy (`allow`) or ipDenyPolicy; a route-level filter replaces the vhost's."""

    allow: bool
    rules: tuple[CIDR, ...]


@dataclass(frozen=True, slots=True)
class LocalRateLimit:
    """A token bucket of `max_tokens` refilled with `tokens_per_fill` every `fill_interval`
    seconds; over the limit Envoy answers `status` with `headers` added."""

    max_tokens: int
    tokens_per_fill: int
    fill_interval: float
    status: int = 429
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CORSPolicy:
    """A virtual host's corsPolicy. `allow_origin` pairs (value, is_regex); `max_age` is an
    Envoy duration string in seconds ("600"), empty for unset."""

    allow_origin: tuple[tuple[str, bool], ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: str = ""
    allow_credentials: bool = False
    allow_private_network: bool = False


@dataclass(frozen=True, slots=True, order=True)
class RateLimitEntry:
    """One entry of a global rate limit descriptor (v1.33 RateLimitDescriptorEntry): `kind`
    is "generic_key" (key, value), "request_header" (header_name → descriptor key),
    "header_value_match" (value if `headers` match, or not when `expect_match` is False)
    or "remote_address"."""

    kind: str
    key: str = ""
    value: str = ""
    header_name: str = ""
    headers: tuple[HeaderMatch, ...] = ()
    expect_match: bool = True


RateLimitDescriptor = tuple[RateLimitEntry, ...]


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


@dataclass(frozen=True, slots=True)
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
class Status:
    """The status of one IngressRoute after a build."""

    namespace: str
    name: str
    current: str  # VALID | INVALID | ORPHANED
    description: str
    vhost: str = ""
    kind: str = "IngressRoute"
    conditions: tuple[Condition, ...] = ()
    """HTTPProxy only: v1.33's `status.conditions` (the Valid condition)."""


@dataclass(frozen=True, slots=True)
class SubCondition:
    """One entry of a Valid condition's `errors` or `warnings` (v1.33 DetailedCondition)."""

    type: str
    reason: str
    message: str
    status: str = "True"


@dataclass(frozen=True, slots=True)
class Condition:
    """v1.33's DetailedCondition: `status` "True"/"False", errors and warnings."""

    type: str
    status: str
    reason: str
    message: str
    errors: tuple[SubCondition, ...] = ()
    warnings: tuple[SubCondition, ...] = ()


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
