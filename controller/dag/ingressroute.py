"""IngressRoute processor (spec §1.2–§1.7): duplicate fqdns, roots, delegation, prefix rules,
cycles, tcpproxy.

Each root is processed on its own by `process_root`, which reads only the store and returns
a `RootResult` (routes for its host, TLS, tcp proxy, statuses in first-writer order, the
IngressRoutes it reached). Applying results in (namespace, name) root order is exactly
upstream's sequential build, so a later incremental build can re-run a single root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol as TypingProtocol

from controller import faults
from controller.config import BuilderSettings
from controller.dag import status as st
from controller.dag.ingress import clean
from controller.dag.model import (
    Cluster,
    HealthCheck,
    Protocol,
    Provenance,
    RetryPolicy,
    Route,
    Secret,
    ServicePort,
    Status,
    TCPProxy,
    UpstreamValidation,
)
from controller.dag.secrets import split_secret
from controller.dag.walk_limits import MAX_DEPTH, MAX_VISITS
from controller.k8s import annotations as ann
from controller.k8s.objects import Key, valid_hostname
from controller.k8s.views import (
    HealthCheckView,
    IngressRouteView,
    IRRouteView,
    IRServiceView,
    RetryView,
)

MAX_RETRIES = 2**32 - 1

_CycleText = Callable[[Iterable[Key]], str]


class IngressRouteLookup(TypingProtocol):
    def get(self, key: Key, /) -> IngressRouteView | None: ...


class RootReads(TypingProtocol):
    """What `process_root` reads: the `ObjectStore`, or a recorder of its reads
    (deps.Recorder) for the incremental builder."""

    @property
    def ingressroutes(self) -> IngressRouteLookup: ...

    def service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def tcp_service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]: ...

    def ca_certificate(self, key: Key) -> bytes: ...


@dataclass(slots=True)
class RootResult:
    """What one root contributes to the DAG. `routes` pairs the port-80 route (maybe an
    https redirect) with the port-443 one; both go to `host`."""

    key: Key
    host: str = ""
    routes: list[tuple[Route, Route]] = field(default_factory=list)
    secret: Secret | None = None
    min_tls_version: str = "1.1"
    tcp_proxy: TCPProxy | None = None
    statuses: dict[Key, Status] = field(default_factory=dict)
    reached: set[Key] = field(default_factory=set)

    def set_status(self, status: Status) -> None:
        self.statuses.setdefault((status.namespace, status.name), status)


def duplicate_fqdns(views: Iterable[IngressRouteView]) -> list[Status]:
    """Every root sharing its fqdn (compared case-insensitively, §0.4) with another one is
    invalid, whatever its namespace; the message quotes the fqdn of the first one."""
    groups: dict[str, list[IngressRouteView]] = {}
    for view in views:
        if view.is_root:
            groups.setdefault(view.fqdn.lower(), []).append(view)
    out: list[Status] = []
    for host, group in groups.items():
        if len(group) < 2:
            continue
        group.sort(key=lambda v: v.key)
        message = st.duplicate_fqdn(group[0].fqdn, (v.key for v in group))
        out.extend(st.invalid(v.key, message, host) for v in group)
    return out


def process_root(
    root: IngressRouteView, store: RootReads, settings: BuilderSettings
) -> RootResult:
    """One root's contribution. The build stage's error boundary for both builders: a root
    whose processing raises contributes nothing and is `invalid` with the reason, and every
    other root is built (faults.py: the exception is a bug, and reported as one)."""
    try:
        return _process_root(root, store, settings)
    except Exception as err:  # noqa: BLE001
        result = RootResult(root.key)
        reason = faults.quarantine_reason("build", f"IngressRoute {root.namespace}/{root.name}",
                                          err)
        result.set_status(st.invalid(root.key, reason))
        return result


def _process_root(
    root: IngressRouteView, store: RootReads, settings: BuilderSettings
) -> RootResult:
    """Root checks in upstream order (§1.2 step 3), then TLS, then tcpproxy or routes."""
    result = RootResult(root.key)
    host = root.fqdn.lower()
    if settings.root_namespaces and root.namespace not in settings.root_namespaces:
        result.set_status(st.invalid(root.key, st.ROOT_NAMESPACE))
    elif not root.fqdn.strip():
        result.set_status(st.invalid(root.key, st.FQDN_MISSING))
    elif "*" in root.fqdn:
        result.set_status(st.invalid(root.key, st.fqdn_wildcard(root.fqdn), host))
    elif not valid_hostname(host):
        result.set_status(st.invalid(root.key, st.fqdn_invalid(root.fqdn), host))
    else:
        result.host = host
        enforce_tls, passthrough = _attach_tls(root, store, result)
        walk = _Walk(store, settings, result, enforce_tls)
        if root.tcpproxy is not None and (passthrough or enforce_tls):
            walk.tcpproxy(root)
        elif root.routes is not None:
            walk.routes(root, "")
        elif root.tcpproxy is not None:
            # upstream writes no status here; every IngressRoute gets one (issue 2)
            result.set_status(st.invalid(root.key, st.TCPPROXY_NEEDS_TLS, host))
        else:  # nothing to serve yet, nothing wrong (upstream: no status at all)
            result.set_status(st.valid(root.key, host))
    return result


def _attach_tls(
    root: IngressRouteView, store: RootReads, result: RootResult
) -> tuple[bool, bool]:
    """(enforce TLS, passthrough) — §1.3. A TLS error is recorded but processing goes on."""
    tls = root.tls
    if tls is None:
        return False, False
    secret, permitted = store.tls_secret(
        split_secret(tls.secret_name, root.namespace), root.namespace
    )
    passthrough = not tls.secret_name.strip() and tls.passthrough
    if secret is None and not passthrough:
        result.set_status(st.invalid(root.key, st.tls_secret(tls.secret_name)))
    if secret is None or not permitted:
        # Usable but not delegated: served over plain HTTP, and still "valid" (upstream).
        return False, passthrough
    result.secret, result.min_tls_version = secret, ann.tls_version(tls.min_version)
    return True, passthrough


def matches_path_prefix(path: str, prefix: str) -> bool:
    """Segment-wise prefix test of a child route against its parent's delegating match."""
    if not prefix:
        return True
    if not path:
        return False
    return (path if path.endswith("/") else path + "/").startswith(
        prefix if prefix.endswith("/") else prefix + "/"
    )


class _Walk:
    """One depth-first walk from a root through its delegations (§1.4, §1.6)."""

    __slots__ = ("store", "result", "host", "enforce_tls", "permit_insecure", "path", "visits")

    def __init__(
        self, store: RootReads, settings: BuilderSettings, result: RootResult, enforce_tls: bool
    ) -> None:
        self.store, self.result, self.host = store, result, result.host
        self.enforce_tls = enforce_tls
        self.permit_insecure = not settings.disable_permit_insecure
        self.path: list[Key] = []
        self.visits = 0

    def _invalid(self, key: Key, description: str, vhost: bool = True) -> None:
        self.result.set_status(st.invalid(key, description, self.host if vhost else ""))

    # -- HTTP routes ---------------------------------------------------------------------

    def routes(self, ir: IngressRouteView, parent_prefix: str) -> None:
        self.path.append(ir.key)
        try:
            for route in ir.routes or ():
                if not self._route(ir, route, parent_prefix):
                    return  # partial application: earlier routes stay, later ones are skipped
            self.result.set_status(st.valid(ir.key, self.host))
        finally:
            self.path.pop()

    def _route(self, ir: IngressRouteView, route: IRRouteView, parent_prefix: str) -> bool:
        """Process one route; False stops the rest of this IngressRoute."""
        if route.services and route.delegate is not None:
            self._invalid(ir.key, st.services_and_delegate(route.match))
            return False
        if len(route.services) > 1 and route.websockets:
            self._invalid(ir.key, st.websockets_multiple_services(route.match))
            return False
        if route.services:
            return self._service_route(ir, route, parent_prefix)
        if route.delegate is not None:
            return self._delegate(ir, route)
        return True

    def _service_route(self, ir: IngressRouteView, route: IRRouteView, parent_prefix: str) -> bool:
        if not matches_path_prefix(route.match, parent_prefix):
            self._invalid(ir.key, st.prefix_mismatch(route.match, parent_prefix))
            return False
        if not route.match.startswith("/") or not clean(route.match):
            self._invalid(ir.key, st.bad_match(route.match))
            return False
        if not route.prefix_rewrite.isprintable():
            self._invalid(ir.key, st.bad_prefix_rewrite(route.match))
            return False
        clusters = []
        for service in route.services:
            cluster = self._cluster(ir, route, service)
            if cluster is None:
                return False
            clusters.append(cluster)
        if sum(c.weight for c in clusters) > st.MAX_WEIGHT:
            self._invalid(ir.key, st.total_weight_too_large(route.match))
            return False
        self._add(route, tuple(clusters))
        return True

    def _cluster(
        self, ir: IngressRouteView, route: IRRouteView, svc: IRServiceView
    ) -> Cluster | None:
        """The cluster for one service, or None after recording why the route is invalid."""
        if not 1 <= svc.port <= 65535:
            self._invalid(ir.key, st.port_range(route.match, svc.name))
            return None
        if svc.weight < 0:
            self._invalid(ir.key, st.negative_weight(route.match, svc.name))
            return None
        if svc.weight > st.MAX_WEIGHT:
            self._invalid(ir.key, st.weight_too_large(route.match, svc.name))
            return None
        port = self.store.service_port((ir.namespace, svc.name), svc.port)
        if port is None:
            self._invalid(ir.key, st.service_missing(svc.name, svc.port), vhost=False)
            return None
        health_check = _health_check(svc.health_check)
        if svc.health_check is not None and health_check is None:
            self._invalid(ir.key, st.bad_health_check(route.match, svc.name))
            return None
        validation = None
        if port.protocol is Protocol.TLS and svc.validation is not None:
            validation = self._validation(ir, route, svc)
        return Cluster(port, svc.weight, svc.strategy, health_check, validation)

    def _validation(
        self, ir: IngressRouteView, route: IRRouteView, svc: IRServiceView
    ) -> UpstreamValidation | None:
        """§1.7: an error marks the IngressRoute invalid but the route is still added."""
        assert svc.validation is not None
        ca = self.store.ca_certificate((ir.namespace, svc.validation.ca_secret))
        if not ca:
            self._invalid(ir.key, st.ca_secret(route.match, svc.name))
            return None
        if not svc.validation.subject_name:
            self._invalid(ir.key, st.subject_name(route.match, svc.name))
            return None
        return UpstreamValidation(svc.validation.ca_secret, ca, svc.validation.subject_name)

    def _add(self, route: IRRouteView, clusters: tuple[Cluster, ...]) -> None:
        secure = Route(
            match=route.match,
            clusters=clusters,
            websocket=route.websockets,
            prefix_rewrite=route.prefix_rewrite,
            timeout=None if route.timeout is None else ann.timeout(route.timeout),
            retry=_retry(route.retry),
            provenance=Provenance("IngressRoute", tuple(self.path)),
        )
        redirect = self.enforce_tls and not (route.permit_insecure and self.permit_insecure)
        self.result.routes.append(
            (replace(secure, https_redirect=True) if redirect else secure, secure)
        )

    def _delegate(self, ir: IngressRouteView, route: IRRouteView) -> bool:
        assert route.delegate is not None
        target = self.store.ingressroutes.get(route.delegate)
        if target is None:
            return True  # a missing delegate is skipped silently; the parent stays valid
        self.result.reached.add(target.key)
        if not self._may_descend(ir, target, st.route_cycle):
            return False
        if self.visits <= MAX_VISITS:
            self.routes(target, route.match)
        return True

    def _may_descend(
        self, ir: IngressRouteView, target: IngressRouteView, cycle: _CycleText
    ) -> bool:
        """Cycle and size checks before following a delegation; False stops `ir`."""
        if target.key in self.path:
            self._invalid(ir.key, cycle([*self.path, target.key]))
            return False
        if len(self.path) > MAX_DEPTH:
            self._invalid(ir.key, st.delegation_too_deep(MAX_DEPTH))
            return False
        self.visits += 1
        if self.visits > MAX_VISITS:
            # Stop descending anywhere; the IngressRoutes on the stack still finish.
            self._invalid(self.result.key, st.delegation_too_large(MAX_VISITS))
        return True

    # -- TCP proxy -------------------------------------------------------------------------

    def tcpproxy(self, ir: IngressRouteView) -> None:
        self.path.append(ir.key)
        try:
            if self._tcpproxy(ir):
                self.result.set_status(st.valid(ir.key, self.host))
        finally:
            self.path.pop()

    def _tcpproxy(self, ir: IngressRouteView) -> bool:
        tcp = ir.tcpproxy
        assert tcp is not None
        if tcp.services and tcp.delegate is not None:
            self._invalid(ir.key, st.TCPPROXY_SERVICES_AND_DELEGATE)
            return False
        if tcp.services:
            return self._tcp_services(ir, tcp.services)
        if tcp.delegate is None:
            self._invalid(ir.key, st.TCPPROXY_EMPTY)
            return False
        target = self.store.ingressroutes.get(tcp.delegate)
        if target is None:
            return True  # missing target: silently ignored (upstream)
        if target.tcpproxy is None:
            # Not reached either: nothing of the target is served from here (orphan rule).
            self._invalid(ir.key, st.tcpproxy_delegate_without_tcpproxy(target.key))
            return False
        self.result.reached.add(target.key)
        if not self._may_descend(ir, target, st.tcpproxy_cycle):
            return False
        if self.visits <= MAX_VISITS:
            self.tcpproxy(target)
        return True

    def _tcp_services(self, ir: IngressRouteView, services: tuple[IRServiceView, ...]) -> bool:
        """Weight and health checks are ignored for TCP; every cluster weighs 1 (§1.6)."""
        clusters = []
        for svc in services:
            port = self.store.tcp_service_port((ir.namespace, svc.name), svc.port)
            if port is None:
                self._invalid(ir.key, st.tcpproxy_service_missing(ir.namespace, svc.name, svc.port))
                return False
            clusters.append(Cluster(port, 1, svc.strategy))
        self.result.tcp_proxy = TCPProxy(tuple(clusters),
                                         Provenance("IngressRoute", tuple(self.path)))
        return True


def _health_check(view: HealthCheckView | None) -> HealthCheck | None:
    """None when absent or unusable: Envoy requires an absolute path and header-safe values."""
    if view is None or not view.path.startswith("/") or not clean(view.path):
        return None
    if view.host and not clean(view.host):
        return None
    return HealthCheck(
        path=view.path,
        host=view.host,
        interval_seconds=view.interval_seconds,
        timeout_seconds=view.timeout_seconds,
        unhealthy_threshold=view.unhealthy_threshold,
        healthy_threshold=view.healthy_threshold,
    )


def _retry(view: RetryView | None) -> RetryPolicy | None:
    """retryPolicy → 5xx, at least one retry (§3.6); the per-try timeout only when > 0."""
    if view is None:
        return None
    count = min(max(1, view.count), MAX_RETRIES)
    return RetryPolicy("5xx", count, ann.positive_duration(view.per_try_timeout))
