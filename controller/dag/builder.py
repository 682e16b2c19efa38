"""The DAG builder: `build(store, settings) -> DAG`. Pure: no I/O, no globals.

Steps, in upstream order (spec §1.2): (a) secure vhosts from Ingress TLS, (b) Ingress routes,
(c) IngressRoutes — duplicate fqdns and fqdns an HTTPProxy claims (claims.py), then roots in
(namespace, name) order (§0.3), (d) HTTPProxy roots (httpproxy.py), (e) the Gateway API
(gatewayapi.py, laid last as v1.33's processor order), (f) orphan statuses and pruning.
Routes are keyed per vhost by `route_key`: a later writer overwrites an earlier one, which
is the Ingress/IngressRoute/HTTPProxy overlay rule. Statuses are sorted by (namespace,
name, kind).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.config import BuilderSettings
from controller.dag import extension, gatewayapi, httpproxy, ingress, ingressroute
from controller.dag import status as st
from controller.dag.claims import httpproxy_fqdns, ingressroute_blocked
from controller.dag.gateway_reads import GatewayResult
from controller.dag.global_ratelimit import rate_limit_service
from controller.dag.ingressroute import RootResult
from controller.dag.model import (
    DAG,
    ClientValidation,
    CORSPolicy,
    ExtensionCluster,
    ExternalAuthorization,
    GatewayListener,
    IPFilter,
    JWTProvider,
    LocalRateLimit,
    RateLimitDescriptor,
    RateLimitService,
    Route,
    RouteKey,
    Secret,
    SecureVirtualHost,
    Status,
    TCPProxy,
    VirtualHost,
    route_key,
    route_order_key,
)
from controller.dag.proxyreads import ProxyResult
from controller.dag.proxystatus import ProxyConditions
from controller.dag.store import ObjectStore
from controller.k8s.objects import Key
from controller.records import record


@dataclass(slots=True)
class _Secure:
    routes: dict[RouteKey, Route] = field(default_factory=dict)
    secret: Secret | None = None
    min_tls_version: str = "1.1"
    tcp_proxy: TCPProxy | None = None
    policies: _Policies | None = None
    max_tls_version: str = ""
    fallback: bool = False
    strict_sni: bool = False
    client_validation: ClientValidation | None = None
    jwt_providers: tuple[JWTProvider, ...] = ()


@record
class _Policies:
    """An HTTPProxy root's vhost-level policies (both ports)."""

    cors: CORSPolicy | None
    ip_filter: IPFilter | None
    rate_limit: LocalRateLimit | None
    global_rate_limits: tuple[RateLimitDescriptor, ...] = ()
    authorization: ExternalAuthorization | None = None
    """Port 443 only."""


class VirtualHostTables:
    """Mutable vhost tables of one build (or, incrementally, of one host); `freeze` prunes
    and sorts them (spec §3)."""

    def __init__(self) -> None:
        self.http: dict[str, dict[RouteKey, Route]] = {}
        self.http_policies: dict[str, _Policies] = {}
        self.https: dict[str, _Secure] = {}
        self.fallback_secret: Secret | None = None

    def _secure(self, host: str) -> _Secure:
        svh = self.https.get(host)
        if svh is None:
            svh = self.https[host] = _Secure()
        return svh

    def set_tls(self, host: str, secret: Secret, min_tls_version: str) -> None:
        svh = self._secure(host)
        svh.secret, svh.min_tls_version = secret, min_tls_version

    def add_routes(self, host: str, http_route: Route | None, https_route: Route | None) -> None:
        """A later route with the same (is_regex, match) overwrites an earlier one."""
        if http_route is not None:
            self.http.setdefault(host, {})[route_key(http_route)] = http_route
        if https_route is not None:
            self._secure(host).routes[route_key(https_route)] = https_route

    def add_root(self, result: RootResult) -> None:
        if not result.host:
            return
        if result.secret is not None:
            self.set_tls(result.host, result.secret, result.min_tls_version)
        for http_route, https_route in result.routes:
            self.add_routes(result.host, http_route, https_route)
        if result.tcp_proxy is not None:
            self._secure(result.host).tcp_proxy = result.tcp_proxy

    def add_proxy(self, result: ProxyResult) -> None:
        """An HTTPProxy root: its vhost policies, TLS, routes and tcp proxy. Its secure vhost
        needs a route or a tcp proxy to exist (v1.33 SecureVirtualHost.Valid)."""
        secure_routes = any(r443 is not None for _, r443 in result.routes)
        if result.secure_vhost and (secure_routes or result.tcp_proxy is not None):
            svh = self._secure(result.host)
            if result.secret is not None:
                svh.secret, svh.min_tls_version = result.secret, result.min_tls_version
                svh.max_tls_version, svh.strict_sni = result.max_tls_version, True
                svh.client_validation = result.client_validation
                svh.jwt_providers = result.jwt_providers
            svh.fallback = result.fallback_secret is not None
            svh.tcp_proxy = result.tcp_proxy or svh.tcp_proxy
            self.fallback_secret = self.fallback_secret or result.fallback_secret
        if not result.insecure_vhost:
            return
        policies = _Policies(result.cors, result.ip_filter, result.rate_limit,
                             result.global_rate_limits, result.authorization)
        self.http_policies[result.host] = policies
        if result.host in self.https:
            self.https[result.host].policies = policies
        for http_route, https_route in result.routes:
            self.add_routes(result.host, http_route, https_route)

    def add_gateway(self, result: GatewayResult) -> None:
        """The Gateway API contributions, laid last: TLS and passthrough proxies of the
        secure vhosts, then routes in the processor's order."""
        for h, secret in sorted(result.tls.items()):
            self.set_tls(h, secret, GATEWAY_MIN_TLS)
        for h, tcp in sorted(result.tcp.items()):
            self._secure(h).tcp_proxy = tcp
        for h, route in result.http:
            self.add_routes(h, route, None)
        for h, route in result.https:
            self.add_routes(h, None, route)

    def freeze(self) -> tuple[tuple[VirtualHost, ...], tuple[SecureVirtualHost, ...]]:
        """Insecure vhosts survive with a route; secure ones with a secret or a TCP proxy."""
        http = tuple(
            VirtualHost(host, _ordered(self.http[host]), *_fields(self.http_policies.get(host)),
                        global_rate_limits=_global_limits(self.http_policies.get(host)))
            for host in sorted(self.http)
            if self.http[host]
        )
        https = tuple(
            SecureVirtualHost(host, _ordered(s.routes), s.secret, s.min_tls_version, s.tcp_proxy,
                              *_fields(s.policies), s.max_tls_version, s.fallback,
                              s.strict_sni, s.client_validation, s.jwt_providers,
                              _global_limits(s.policies),
                              s.policies.authorization if s.policies else None)
            for host, s in sorted(self.https.items())
            if s.secret is not None or s.tcp_proxy is not None
        )
        return http, https


def _fields(p: _Policies | None) -> tuple[CORSPolicy | None, IPFilter | None,
                                         LocalRateLimit | None]:
    return (None, None, None) if p is None else (p.cors, p.ip_filter, p.rate_limit)


def _global_limits(p: _Policies | None) -> tuple[RateLimitDescriptor, ...]:
    return p.global_rate_limits if p is not None else ()


def _ordered(routes: dict[RouteKey, Route]) -> tuple[Route, ...]:
    if len(routes) == 1:  # perf: most vhosts have one route (no order key to compute)
        return tuple(routes.values())
    return tuple(sorted(routes.values(), key=route_order_key, reverse=True))


GATEWAY_MIN_TLS = "1.2"
"""Gateway API listeners have no minimum-version field: v1.33's default floor."""


def gateway_listeners(result: GatewayResult) -> tuple[GatewayListener, ...]:
    """Each isolated Gateway port's vhosts (both builders), laid and frozen as the shared
    ones are, sorted by listener name."""
    out = []
    for name, group in sorted(result.groups.items()):
        tables = VirtualHostTables()
        tables.add_gateway(group.result)
        http, https = tables.freeze()
        out.append(GatewayListener(name, group.port, group.secure, http, https))
    return tuple(out)


def build(store: ObjectStore, settings: BuilderSettings) -> DAG:
    vhosts = VirtualHostTables()
    _add_ingresses(store, vhosts)
    statuses = st.StatusCollector()
    reached = _add_ingressroutes(store, settings, vhosts, statuses)
    for key in sorted(store.ingressroutes):
        view = store.ingressroutes[key]
        if not view.is_root and key not in reached:
            statuses.set(st.orphaned(key))
    proxy_statuses = _add_httpproxies(store, settings, vhosts)
    clusters, extension_statuses = extension.extensions(store.extensionservices.values(), store)
    gateway = gatewayapi.process(store, settings)
    vhosts.add_gateway(gateway)
    http, https = vhosts.freeze()
    return DAG(http=http, https=https,
               statuses=sorted_statuses(statuses.result(), proxy_statuses, extension_statuses),
               fallback_secret=vhosts.fallback_secret, extensions=clusters,
               rate_limit_service=resolved_rate_limit(settings, clusters),
               gateway_statuses=tuple(gateway.statuses),
               gateway_listeners=gateway_listeners(gateway),
               gateway_services=tuple(gateway.services))


def resolved_rate_limit(settings: BuilderSettings, clusters: tuple[ExtensionCluster, ...]
                        ) -> RateLimitService | None:
    """The config's rate limit service with what its ExtensionService says (both builders)."""
    return rate_limit_service(settings.rate_limit_service,
                              {(c.namespace, c.name): (c.response_timeout, c.subject_name)
                               for c in clusters})


def sorted_statuses(*groups: Iterable[Status]) -> tuple[Status, ...]:
    """Every status, by (namespace, name, kind)."""
    return tuple(sorted((s for g in groups for s in g), key=status_order))


def status_order(s: Status) -> tuple[str, str, str]:
    return (s.namespace, s.name, s.kind)


def _add_httpproxies(store: ObjectStore, settings: BuilderSettings,
                     vhosts: VirtualHostTables) -> list[Status]:
    """Step (d): duplicates, then every root; statuses merged over the roots."""
    records: dict[Key, list[ProxyConditions]] = {}
    duplicates = httpproxy.duplicate_fqdns(store.httpproxies.values())
    for key, found in duplicates.items():
        records[key] = [found]
    for key in sorted(store.httpproxies):
        root = store.httpproxies[key]
        if not root.is_root or key in duplicates:
            continue
        result = httpproxy.process_root(root, store, settings)
        vhosts.add_proxy(result)
        for k, found in result.conditions.items():
            records.setdefault(k, []).append(found)
    return httpproxy.statuses(records, store.httpproxies)


def _add_ingresses(store: ObjectStore, vhosts: VirtualHostTables) -> None:
    """Steps (a) and (b): TLS first, so that step (b) sees every Ingress secure vhost."""
    secure = ingress.secure_vhosts(store)
    for host, (secret, version) in secure.items():
        vhosts.set_tls(host, secret, version)
    for host, http_route, https_route in ingress.routes(store, secure):
        vhosts.add_routes(host, http_route, https_route)


def _add_ingressroutes(
    store: ObjectStore,
    settings: BuilderSettings,
    vhosts: VirtualHostTables,
    statuses: st.StatusCollector,
) -> set[Key]:
    """Step (c); returns the IngressRoutes reached by delegation from a processed root."""
    claims = httpproxy_fqdns(store.httpproxies.values())
    duplicates = ingressroute_blocked(store.ingressroutes.values(), claims)
    statuses.extend(duplicates)
    skipped = {(s.namespace, s.name) for s in duplicates}
    reached: set[Key] = set()
    for key in sorted(store.ingressroutes):
        root = store.ingressroutes[key]
        if not root.is_root or key in skipped:
            continue
        result = ingressroute.process_root(root, store, settings)
        vhosts.add_root(result)
        statuses.extend(result.statuses.values())
        reached |= result.reached
    return reached
