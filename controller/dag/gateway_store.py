"""The Gateway API part of the object store (store.py holds one `GatewayObjects`).

In: raw objects of the Gateway API kinds and Namespaces (their labels, for listeners'
allowedRoutes selectors). Out: typed views by key, and for each object the Services and
Secrets it names, so that the store's reference counts say when a Service or Secret
event matters (store.py `_set_refs`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.k8s.gateway_route_views import RouteView, route_view
from controller.k8s.gateway_services import OwnedService, owned_service
from controller.k8s.gateway_views import (
    GatewayClassView,
    GatewayView,
    ReferenceGrantView,
    gateway_class_view,
    gateway_view,
    reference_grant_view,
    service_addresses,
)
from controller.k8s.objects import (
    GATEWAY,
    GATEWAY_CLASS,
    GRPCROUTE,
    HTTPROUTE,
    NAMESPACE,
    REFERENCE_GRANT,
    TLSROUTE,
    Key,
    Obj,
    as_dict,
    key_of,
    str_map,
)

GATEWAY_KINDS = (GATEWAY_CLASS, GATEWAY, HTTPROUTE, GRPCROUTE, TLSROUTE, REFERENCE_GRANT,
                 NAMESPACE)
"""The kinds `GatewayObjects` stores (a Namespace only for its labels)."""
ROUTE_KINDS = (HTTPROUTE, GRPCROUTE, TLSROUTE)

Refs = tuple[tuple[Key, ...], tuple[Key, ...]]  # (services, secrets)


@dataclass(slots=True)
class GatewayObjects:
    classes: dict[Key, GatewayClassView] = field(default_factory=dict)
    gateways: dict[Key, GatewayView] = field(default_factory=dict)
    routes: dict[tuple[str, Key], RouteView] = field(default_factory=dict)
    """(kind, key) → HTTPRoute, GRPCRoute or TLSRoute."""
    grants: dict[Key, ReferenceGrantView] = field(default_factory=dict)
    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    addresses: tuple[tuple[str, str], ...] = ()
    """The Envoy Service's addresses (BuilderSettings.envoy_service), status included."""
    envoy_service: Obj | None = None
    """The Envoy Service itself: isolated Gateways' Services copy its selector and type."""
    owned: dict[Key, OwnedService] = field(default_factory=dict)
    """Service key → the isolated Gateway's Service this controller made (with status)."""

    def set_envoy_service(self, obj: Obj | None) -> bool:
        """The Envoy Service changed (None: deleted); True when its addresses did."""
        addresses = service_addresses(obj) if obj is not None else ()
        changed, self.addresses = addresses != self.addresses, addresses
        self.envoy_service = obj
        return changed

    def set_service(self, key: Key, obj: Obj | None) -> bool:
        """Any Service changed (None: deleted); True when it is, or was, an isolated
        Gateway's and what it says changed."""
        view = owned_service(obj) if obj is not None else None
        before = self.owned.pop(key, None)
        if view is not None:
            self.owned[key] = view
        return view != before

    def gateway_service(self, gateway: Key) -> OwnedService | None:
        """The Service made for `gateway` (the first by key if, briefly, there are two)."""
        found = sorted((s for s in self.owned.values() if s.gateway == gateway),
                       key=lambda s: s.key)
        return found[0] if found else None

    def upsert(self, kind: str, obj: Obj) -> Refs:
        """Store the object's view; returns the Services and Secrets it names."""
        key = key_of(obj)
        if kind == GATEWAY_CLASS:
            self.classes[key] = gateway_class_view(obj)
        elif kind == GATEWAY:
            gw = self.gateways[key] = gateway_view(obj)
            return (), gateway_secrets(gw)
        elif kind in ROUTE_KINDS:
            route = self.routes[(kind, key)] = route_view(obj)
            return route_services(route), ()
        elif kind == REFERENCE_GRANT:
            self.grants[key] = reference_grant_view(obj)
        elif kind == NAMESPACE:
            labels = str_map(as_dict(obj.get("metadata")).get("labels"))
            self.namespace_labels[key[1]] = labels
        return (), ()

    def selects_namespaces(self) -> bool:
        """Whether some listener's allowedRoutes selects namespaces by label."""
        return any(li.routes_from == "Selector" for gw in self.gateways.values()
                   for li in gw.listeners)

    def remove(self, kind: str, key: Key) -> None:
        if kind == GATEWAY_CLASS:
            self.classes.pop(key, None)
        elif kind == GATEWAY:
            self.gateways.pop(key, None)
        elif kind in ROUTE_KINDS:
            self.routes.pop((kind, key), None)
        elif kind == REFERENCE_GRANT:
            self.grants.pop(key, None)
        elif kind == NAMESPACE:
            self.namespace_labels.pop(key[1], None)


def gateway_secrets(gw: GatewayView) -> tuple[Key, ...]:
    return tuple(sorted({(r.namespace, r.name) for li in gw.listeners
                         for r in li.certificate_refs if r.kind == "Secret" and not r.group}))


def route_services(route: RouteView) -> tuple[Key, ...]:
    refs = list(route.backends)
    for rule in route.rules:
        refs += [b.ref for b in rule.backends]
        refs += [f.mirror for f in rule.filters if f.mirror is not None]
    return tuple(sorted({(r.namespace, r.name) for r in refs
                         if r.kind == "Service" and not r.group}))
