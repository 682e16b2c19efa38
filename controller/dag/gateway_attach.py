"""A route (HTTPRoute or TLSRoute) attaching to the served Gateway: which listeners take
it, on which hostnames, and its `status.parents[]` entries with the spec's reasons.

In: the route's view, the Gateway and its resolved listeners, the store's reads. Out: the
route's contributions added to the `GatewayResult`, and its status: without parents when
no parentRef names the served Gateway, so that an entry we wrote before is taken out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from controller.config import BuilderSettings
from controller.dag.gateway_listeners import Listener
from controller.dag.gateway_model import (
    GatewayAPIStatus,
    GatewayCondition,
    ParentRef,
    RouteParentStatus,
    condition,
)
from controller.dag.gateway_reads import GatewayReads, GatewayResult
from controller.dag.gateway_refs import granted
from controller.dag.gateway_routes import Problem, rule_routes
from controller.dag.model import Cluster, Protocol, Provenance, Route, ServicePort, TCPProxy
from controller.k8s.gateway_route_views import RouteView
from controller.k8s.gateway_views import GatewayView, ObjectRef
from controller.k8s.objects import GATEWAY_GROUP, GRPCROUTE, TLSROUTE


def resolve_backend(ref: ObjectRef, route: RouteView,
                    reads: GatewayReads) -> tuple[ServicePort | None, Problem | None]:
    """The Service port a backendRef names, or the ResolvedRefs problem."""
    name = f"{ref.namespace}/{ref.name}"
    if ref.group or ref.kind != "Service":
        return None, ("InvalidKind", f"{ref.group}/{ref.kind} {name} is not a Service")
    if not granted(reads.gateway, (GATEWAY_GROUP, route.kind, route.key[0]),
                   ("", "Service", ref.namespace, ref.name)):
        return None, ("RefNotPermitted", f"Service {name} is not granted to this namespace")
    if ref.port is None:
        return None, ("BackendNotFound", f"Service {name}: no port given")
    lookup = reads.tcp_service_port if route.kind == TLSROUTE else reads.service_port
    port = lookup((ref.namespace, ref.name), ref.port)
    if port is None:
        return None, ("BackendNotFound", f"Service {name} port {ref.port} not found")
    if route.kind == GRPCROUTE and port.protocol is not Protocol.H2C:
        port = replace(port, protocol=Protocol.H2C)  # gRPC is HTTP/2 (v1.33 does the same)
    return port, None


def _allows(li: Listener, route: RouteView, gw: GatewayView, reads: GatewayReads) -> bool:
    """The listener's allowedRoutes: kinds, then namespaces (Same, All, Selector)."""
    if (GATEWAY_GROUP, route.kind) not in li.kinds:
        return False
    routes_from = li.view.routes_from
    if routes_from == "All":
        return True
    if routes_from == "Selector" and li.view.selector is not None:
        labels = reads.gateway.namespace_labels.get(route.key[0], {})
        return li.view.selector.matches(labels)
    return routes_from == "Same" and route.key[0] == gw.key[0]


def _ours(ref: ObjectRef, gw: GatewayView) -> bool:
    return ref.group == GATEWAY_GROUP and ref.kind == "Gateway" and (
        ref.namespace, ref.name) == gw.key


def parent_ref(ref: ObjectRef) -> ParentRef:
    """The status.parents[].parentRef of one spec parentRef."""
    return ParentRef(ref.group, ref.kind, ref.name, ref.namespace, ref.section_name, ref.port)


Hosted = list[tuple[Listener, list[str]]]


def _listeners_for(ref: ObjectRef, route: RouteView, gw: GatewayView, listeners: list[Listener],
                   reads: GatewayReads) -> tuple[Hosted, GatewayCondition]:
    """The listeners taking the route through one parentRef, with their hostnames, and the
    Accepted condition."""
    named = [li for li in listeners if (not ref.section_name or li.view.name == ref.section_name)
             and (ref.port is None or li.view.port == ref.port)]
    attachable = [li for li in named if li.attachable]
    if not attachable:
        return [], condition("Accepted", False, "NoMatchingParent",
                             "no valid listener matches the parentRef")
    allowed = [li for li in attachable if _allows(li, route, gw, reads)]
    if not allowed:
        return [], condition("Accepted", False, "NotAllowedByListeners",
                             "no listener allows this route")
    hosted = [(li, hosts) for li in allowed if (hosts := li.hosts_for(route.hostnames))]
    if not hosted:
        return [], condition("Accepted", False, "NoMatchingListenerHostname",
                             "no listener hostname matches the route's hostnames")
    return hosted, condition("Accepted", True, "Accepted", "Accepted route")


def _http_routes(route: RouteView, reads: GatewayReads) -> tuple[list[Route], list[Problem],
                                                                 list[str]]:
    routes: list[Route] = []
    problems: list[Problem] = []
    unsupported: list[str] = []
    for rule in reversed(route.rules):  # an earlier rule wins a conflicting match
        out = rule_routes(rule, route.kind, route.key,
                          lambda ref: resolve_backend(ref, route, reads))
        routes += out.routes
        problems += out.problems
        unsupported += out.unsupported
    return routes, problems, unsupported


def _tcp_proxy(route: RouteView, reads: GatewayReads) -> tuple[TCPProxy, list[Problem]]:
    """The TLSRoute's passthrough proxy. Without a resolved backend of weight > 0 it has no
    clusters: Envoy closes the connections to its hostnames (the suite's
    TLSRouteInvalidBackendRef*: "connection rejected", not another chain's handshake)."""
    clusters, problems = [], []
    for ref in route.backends:
        port, problem = resolve_backend(ref, route, reads)
        if problem is not None:
            problems.append(problem)
        if port is not None and ref.weight > 0:
            clusters.append(Cluster(port, weight=ref.weight))
    return TCPProxy(tuple(clusters), Provenance(route.kind, (route.key,))), problems


Target = Callable[[Listener], GatewayResult]
"""Where a listener's contributions go: the shared tables, or its isolated Gateway port's."""


def attach_route(route: RouteView, gw: GatewayView, listeners: list[Listener],
                 reads: GatewayReads, settings: BuilderSettings,
                 target: Target) -> GatewayAPIStatus:
    """Add the route's contributions to each listener's `target`; its status (no parents:
    not ours)."""
    refs = [r for r in route.parents if _ours(r, gw)]
    if not refs:
        return GatewayAPIStatus(route.kind, route.key[0], route.key[1])
    if route.kind == TLSROUTE:
        tcp, problems = _tcp_proxy(route, reads)
        http: list[Route] = []
        unsupported: list[str] = []
    else:
        tcp = None
        http, problems, unsupported = _http_routes(route, reads)
    resolved = (condition("ResolvedRefs", False, *problems[0]) if problems
                else condition("ResolvedRefs", True, "ResolvedRefs", "resolved all references"))
    parents = []
    for ref in refs:
        hosted, accepted = _listeners_for(ref, route, gw, listeners, reads)
        if accepted.status == "True" and unsupported:
            accepted = condition("Accepted", False, "UnsupportedValue",
                                 f"unsupported: {', '.join(sorted(set(unsupported)))}")
            hosted = []
        for li, hosts in hosted:
            li.attached.add((route.kind, *route.key))
            if li.usable:  # attached, but Envoy serves only listeners with resolved refs
                _contribute(li, hosts, http, tcp, target(li))
        parents.append(RouteParentStatus(parent_ref(ref), settings.gateway_controller_name,
                                         tuple(sorted((accepted, resolved)))))
    return GatewayAPIStatus(route.kind, route.key[0], route.key[1], parents=tuple(parents))


def _contribute(li: Listener, hosts: list[str], http: list[Route], tcp: TCPProxy | None,
                result: GatewayResult) -> None:
    protocol = li.view.protocol
    for host in hosts:
        if protocol == "TLS":
            if tcp is not None:  # routes come newest first: the oldest keeps the host
                result.tcp[host] = tcp
            continue
        table = result.http if protocol == "HTTP" else result.https
        table.extend((host, r) for r in http)
        if protocol == "HTTPS" and li.secret is not None:
            result.tls.setdefault(host, li.secret)
