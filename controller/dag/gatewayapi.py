"""The Gateway API processor: GatewayClasses, the one served Gateway and its listeners, and
the routes attached to it → vhost contributions and statuses. Pure, like the builder.

In: the store's reads (`GatewayReads`) and the settings. Out: a `GatewayResult` that both
builders lay over the other kinds' vhosts last (v1.33 runs its Gateway API processor after
Ingress and HTTPProxy), and the statuses of every GatewayClass, the Gateway and the routes.

Static provisioning (docs/decisions.md "Gateway API: static provisioning"): the Gateway
named by `gateway_ref`, else the oldest Gateway of an accepted class, is served by the
Envoys this controller already programs. HTTP listeners on port 80 are Envoy's
`ingress_http`, HTTPS and TLS listeners on port 443 its `ingress_https` (SNI chains); a
listener on any other port is not accepted (PortUnavailable): the Service the manifests
deploy exposes only those two.
"""

from __future__ import annotations

from controller.config import BuilderSettings
from controller.dag import gateway_listeners as gl
from controller.dag.gateway_attach import attach_route
from controller.dag.gateway_model import GatewayAPIStatus, condition
from controller.dag.gateway_reads import GatewayReads, GatewayResult
from controller.dag.gateway_store import GatewayObjects
from controller.k8s.gateway_views import GatewayView
from controller.k8s.objects import GATEWAY_CLASS


def accepted_classes(objects: GatewayObjects, settings: BuilderSettings) -> set[str]:
    return {v.name for v in objects.classes.values()
            if v.controller_name == settings.gateway_controller_name}


def served_gateway(objects: GatewayObjects, settings: BuilderSettings) -> GatewayView | None:
    """The `gateway_ref` Gateway, else the oldest (then by key) of an accepted class."""
    if settings.gateway_ref is not None:
        return objects.gateways.get(settings.gateway_ref)
    classes = accepted_classes(objects, settings)
    candidates = [g for g in objects.gateways.values() if g.class_name in classes]
    return min(candidates, key=lambda g: (g.created, g.key), default=None)


def class_statuses(objects: GatewayObjects, settings: BuilderSettings) -> list[GatewayAPIStatus]:
    """Accepted for every GatewayClass naming this controller (others are not ours)."""
    return [GatewayAPIStatus(GATEWAY_CLASS, "", v.name, conditions=(
                condition("Accepted", True, "Accepted", "Valid GatewayClass"),))
            for v in sorted(objects.classes.values(), key=lambda v: v.name)
            if v.controller_name == settings.gateway_controller_name]


def process(reads: GatewayReads, settings: BuilderSettings) -> GatewayResult:
    """Every Gateway API contribution and status of one build."""
    objects = reads.gateway
    result = GatewayResult(statuses=class_statuses(objects, settings))
    gw = served_gateway(objects, settings)
    if gw is None:  # no route is ours: statuses without parents take out what we wrote
        result.statuses += [GatewayAPIStatus(r.kind, *r.key) for r in objects.routes.values()]
        result.statuses.sort(key=lambda s: (s.namespace, s.name, s.kind))
        return result
    listeners = gl.resolve_listeners(gw, reads)
    routes = sorted(objects.routes.values(), key=lambda r: (r.created, r.key, r.kind))
    # newest first: a later writer of the same route key wins, and the spec wants the
    # oldest route to keep a conflicting match
    for route in reversed(routes):
        result.statuses.append(attach_route(route, gw, listeners, reads, settings, result))
    result.statuses.append(gl.gateway_status(gw, listeners, objects.addresses))
    result.statuses.sort(key=lambda s: (s.namespace, s.name, s.kind))
    return result
