"""The Gateway API processor: GatewayClasses, the served Gateways and their listeners, and
the routes attached to them → vhost contributions and statuses. Pure, like the builder.

In: the store's reads (`GatewayReads`) and the settings. Out: a `GatewayResult` that both
builders lay over the other kinds' vhosts last (v1.33 runs its Gateway API processor after
Ingress and HTTPProxy), and the statuses of every GatewayClass, the Gateway and the routes.

Static provisioning (docs/decisions.md "Gateway API: static provisioning"): the Gateway
named by `gateway_ref`, else every Gateway of an accepted class, is served by the Envoys
this controller already programs. Shared (no `gateway_ports`, or a `gateway_ref`): the
Gateways share those Envoys' listeners and address (a route attached to one Gateway is
reachable through the others' address too); HTTP listeners on port 80 are Envoy's
`ingress_http`, HTTPS and TLS listeners on port 443 its `ingress_https` (SNI chains); a
listener on any other port is not accepted (PortUnavailable): the Service the manifests
deploy exposes only those two. Isolated (`gateway_ports`, "Isolated Gateways"): each
Gateway port is an Envoy listener of its own (`result.groups`, on an Envoy port from
gateway_ports.py) behind a Service of the Gateway's own (`result.services`), whose
address is the Gateway's.
"""

from __future__ import annotations

from dataclasses import replace

from controller.config import BuilderSettings
from controller.dag import gateway_listeners as gl
from controller.dag.gateway_attach import Target, attach_route, parent_ref
from controller.dag.gateway_model import (
    GatewayAPIStatus,
    GatewayService,
    RouteParentStatus,
    condition,
)
from controller.dag.gateway_ports import allocate, listener_name
from controller.dag.gateway_reads import GatewayReads, GatewayResult, ListenerGroup
from controller.dag.gateway_store import GatewayObjects
from controller.dag.model import Route, RouteKey, route_key
from controller.k8s.gateway_route_views import RouteView
from controller.k8s.gateway_views import GatewayView
from controller.k8s.objects import GATEWAY_CLASS, Key


def accepted_classes(objects: GatewayObjects, settings: BuilderSettings) -> set[str]:
    return {v.name for v in objects.classes.values()
            if v.controller_name == settings.gateway_controller_name}


def served_gateways(objects: GatewayObjects, settings: BuilderSettings) -> list[GatewayView]:
    """The `gateway_ref` Gateway (when it exists), else every Gateway of an accepted class,
    oldest first (then by key)."""
    if settings.gateway_ref is not None:
        found = objects.gateways.get(settings.gateway_ref)
        return [found] if found is not None else []
    classes = accepted_classes(objects, settings)
    return sorted((g for g in objects.gateways.values() if g.class_name in classes),
                  key=lambda g: (g.created, g.key))


def _oldest_first(pairs: list[tuple[str, Route]]) -> list[tuple[str, Route]]:
    """The contributions (laid newest route and last rule first, so that the oldest route and
    earliest rule won an identical match) in the spec's order of precedence for the rest:
    oldest route, then rule order, first. The builder keeps equally specific routes in the
    order they were added (Envoy takes the first that matches), and a duplicate keeps the
    place of the first: so each (host, match) is kept once, as the winner, here."""
    seen: set[tuple[str, RouteKey]] = set()
    out: list[tuple[str, Route]] = []
    for host, route in reversed(pairs):
        key = (host, route_key(route))
        if key not in seen:
            seen.add(key)
            out.append((host, replace(route, precedence=len(out) + 1)))
    return out


def _catch_all_tls(listeners: list[gl.Listener], target: Target) -> None:
    """A usable HTTPS listener without hostname terminates TLS for any SNI with its
    certificate, routes or not: a request for a host no route serves gets a 404, not a
    reset connection (conformance HTTPRouteHTTPSListener)."""
    for li in listeners:
        if li.view.protocol == "HTTPS" and not li.view.hostname and li.usable and \
                li.secret is not None:
            target(li).tls.setdefault("*", li.secret)


def class_statuses(objects: GatewayObjects, settings: BuilderSettings) -> list[GatewayAPIStatus]:
    """Accepted for every GatewayClass naming this controller (others are not ours)."""
    return [GatewayAPIStatus(GATEWAY_CLASS, "", v.name, conditions=(
                condition("Accepted", True, "Accepted", "Valid GatewayClass"),))
            for v in sorted(objects.classes.values(), key=lambda v: v.name)
            if v.controller_name == settings.gateway_controller_name]


def isolated(settings: BuilderSettings) -> bool:
    """Every served Gateway has Envoy listeners and a Service of its own (no gateway_ref)."""
    return settings.gateway_ports is not None and settings.gateway_ref is None


def process(reads: GatewayReads, settings: BuilderSettings) -> GatewayResult:
    """Every Gateway API contribution and status of one build."""
    objects = reads.gateway
    result = GatewayResult(statuses=class_statuses(objects, settings))
    routes = sorted(objects.routes.values(), key=lambda r: (r.created, r.key, r.kind))
    parents: dict[tuple[str, str, str], list[RouteParentStatus]] = {
        (r.kind, *r.key): [] for r in routes}
    served = [(gw, gl.resolve_listeners(gw, reads, isolated(settings)))
              for gw in served_gateways(objects, settings)]
    targets = _targets(served, objects, settings, result)
    # newest first, Gateways and routes: a later writer of the same route key wins, and
    # the spec wants the oldest route to keep a conflicting match
    for gw, listeners in reversed(served):
        target = targets.get(gw.key) or (lambda _li: result)
        _catch_all_tls(listeners, target)
        for route in reversed(routes):
            status = attach_route(route, gw, listeners, reads, settings, target)
            parents[(route.kind, *route.key)] += status.parents
        result.statuses.append(gl.gateway_status(gw, listeners, _addresses(gw, objects,
                                                                           settings)))
    for part in [result, *(g.result for g in result.groups.values())]:
        part.http, part.https = _oldest_first(part.http), _oldest_first(part.https)
    _route_statuses(routes, parents, result)
    result.statuses.sort(key=lambda s: (s.namespace, s.name, s.kind))
    return result


def _route_statuses(routes: list[RouteView], parents: dict[tuple[str, str, str],
                    list[RouteParentStatus]], result: GatewayResult) -> None:
    """Parents in the route's parentRefs order; a route naming none of them gets a status
    without parents (which takes out what we wrote before)."""
    for route in routes:
        order = {parent_ref(ref): i for i, ref in reversed(list(enumerate(route.parents)))}
        found = parents[(route.kind, *route.key)]
        result.statuses.append(GatewayAPIStatus(route.kind, *route.key, parents=tuple(
            sorted(found, key=lambda p: order.get(p.parent, len(order))))))


def _addresses(gw: GatewayView, objects: GatewayObjects,
               settings: BuilderSettings) -> tuple[tuple[str, str], ...]:
    """The Gateway's own Service's addresses when isolated (none before it exists), else
    the Envoy Service's."""
    if not isolated(settings):
        return objects.addresses
    own = objects.gateway_service(gw.key)
    return own.addresses if own is not None else ()


def _targets(served: list[tuple[GatewayView, list[gl.Listener]]], objects: GatewayObjects,
             settings: BuilderSettings, result: GatewayResult) -> dict[Key, Target]:
    """Isolated Gateways: an Envoy port per Gateway port (gateway_ports.py), a listener
    group per port in `result.groups`, the Service each Gateway needs in
    `result.services`; a port without a free Envoy port makes its listeners
    PortUnavailable. Gateway → where its listeners' contributions go ({} when shared)."""
    span = settings.gateway_ports
    if span is None or not isolated(settings):
        return {}
    wanted = [(gw.key, tuple(sorted({li.view.port for li in listeners
                                     if li.accepted.status == "True"})))
              for gw, listeners in served]
    ports = allocate(wanted, objects.owned, span)
    targets: dict[Key, Target] = {}
    for gw, listeners in served:
        mine = ports.get(gw.key, {})
        groups: dict[int, ListenerGroup] = {}
        for li in listeners:
            if li.accepted.status != "True":
                continue
            if li.view.port not in mine:
                li.accepted = condition("Accepted", False, "PortUnavailable",
                                        "no Envoy port left in --gateway-listener-ports")
                continue
            if li.view.port not in groups:
                name = listener_name(gw.key, li.view.port)
                groups[li.view.port] = result.groups[name] = ListenerGroup(
                    name, mine[li.view.port], gl.secure(li.view.protocol))
        if groups:  # a Service needs a port: a Gateway without an accepted one gets none
            result.services.append(GatewayService(*gw.key, tuple(sorted(
                (p, t) for p, t in mine.items() if p in groups))))
        targets[gw.key] = _group_target(groups)
    result.services.sort(key=lambda s: (s.namespace, s.name))
    return targets


def _group_target(groups: dict[int, ListenerGroup]) -> Target:
    return lambda li: groups[li.view.port].result
