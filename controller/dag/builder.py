"""The DAG builder: `build(store, settings) -> DAG`. Pure: no I/O, no globals.

Steps, in upstream order (spec §1.2): (a) secure vhosts from Ingress TLS, (b) Ingress routes,
(c) IngressRoutes — duplicate fqdns, then roots in (namespace, name) order (§0.3), (d) orphan
statuses and pruning. Routes are keyed per vhost by (is_regex, match): a later writer
overwrites an earlier one, which is the Ingress/IngressRoute overlay rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.config import BuilderSettings
from controller.dag import ingress, ingressroute
from controller.dag import status as st
from controller.dag.ingressroute import RootResult
from controller.dag.model import (
    DAG,
    Route,
    RouteKey,
    Secret,
    SecureVirtualHost,
    TCPProxy,
    VirtualHost,
    route_key,
    route_order_key,
)
from controller.dag.store import ObjectStore
from controller.k8s.objects import Key


@dataclass(slots=True)
class _Secure:
    routes: dict[RouteKey, Route] = field(default_factory=dict)
    secret: Secret | None = None
    min_tls_version: str = "1.1"
    tcp_proxy: TCPProxy | None = None


class VirtualHostTables:
    """Mutable vhost tables of one build (or, incrementally, of one host); `freeze` prunes
    and sorts them (spec §3)."""

    def __init__(self) -> None:
        self.http: dict[str, dict[RouteKey, Route]] = {}
        self.https: dict[str, _Secure] = {}

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

    def freeze(self) -> tuple[tuple[VirtualHost, ...], tuple[SecureVirtualHost, ...]]:
        """Insecure vhosts survive with a route; secure ones with a secret or a TCP proxy."""
        http = tuple(
            VirtualHost(host, _ordered(self.http[host]))
            for host in sorted(self.http)
            if self.http[host]
        )
        https = tuple(
            SecureVirtualHost(host, _ordered(s.routes), s.secret, s.min_tls_version, s.tcp_proxy)
            for host, s in sorted(self.https.items())
            if s.secret is not None or s.tcp_proxy is not None
        )
        return http, https


def _ordered(routes: dict[RouteKey, Route]) -> tuple[Route, ...]:
    return tuple(sorted(routes.values(), key=route_order_key, reverse=True))


def build(store: ObjectStore, settings: BuilderSettings) -> DAG:
    vhosts = VirtualHostTables()
    _add_ingresses(store, vhosts)
    statuses = st.StatusCollector()
    reached = _add_ingressroutes(store, settings, vhosts, statuses)
    for key in sorted(store.ingressroutes):
        view = store.ingressroutes[key]
        if not view.is_root and key not in reached:
            statuses.set(st.orphaned(key))
    http, https = vhosts.freeze()
    return DAG(http=http, https=https, statuses=statuses.result())


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
    duplicates = ingressroute.duplicate_fqdns(store.ingressroutes.values())
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
