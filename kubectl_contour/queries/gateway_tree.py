"""`tree` for the Gateway API: every Gateway as a root → its listeners → the routes attached
to each (with their parents' verdicts) → each rule's backendRefs (weight, ready endpoints).
Routes no Gateway of ours accepted are listed apart.

In: the snapshot and the DAG (its gateway_statuses). Out: a GatewayTree, sorted.
Attachment is the controller's: a route sits under a listener when the controller accepted
it for that Gateway and the listener is the one its parentRef names (sectionName or port)
or, for a parentRef naming neither, a listener whose supported kinds include the route's
and whose hostname (if any) one of the route's hostnames matches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from kubectl_contour.objects import (
    GATEWAY,
    GATEWAY_ROUTE_KINDS,
    SERVICE,
    Key,
    Obj,
    Snapshot,
    key_of,
    spec_of,
)
from kubectl_contour.queries.endpoints import service_rows
from kubectl_contour.queries.gateway import (
    ParentVerdict,
    Statuses,
    failing,
    gateway_statuses,
    hostnames_of,
    parent_verdicts,
    route_rules,
)
from kubectl_contour.queries.gateway_status import gateway_row, route_row
from kubectl_contour.queries.tree import ServiceLeaf, TreeView, tree_view


@dataclass(frozen=True, slots=True)
class RuleNode:
    matches: tuple[str, ...]
    backends: tuple[ServiceLeaf, ...]


@dataclass(frozen=True, slots=True)
class GwRouteNode:
    kind: str
    namespace: str
    name: str
    hostnames: tuple[str, ...]
    status: str
    reason: str
    parents: tuple[ParentVerdict, ...] = ()
    rules: tuple[RuleNode, ...] = ()


@dataclass(frozen=True, slots=True)
class ListenerNode:
    name: str
    protocol: str
    port: int
    hostname: str
    problems: tuple[str, ...]
    attached: int
    routes: tuple[GwRouteNode, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewayNode:
    namespace: str
    name: str
    class_name: str
    status: str
    reason: str
    listeners: tuple[ListenerNode, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewayTree:
    gateways: tuple[GatewayNode, ...] = ()
    unattached: tuple[GwRouteNode, ...] = ()


def with_gateways(snapshot: Snapshot, dag: Any, *, scope: str | None,
                  only: tuple[str, Key] | None) -> TreeView:
    """The whole `tree` model: one Gateway (`only` a Gateway), one proxy, or every root of
    both APIs with the proxies' orphans and the unattached routes."""
    if only is not None and only[0] == GATEWAY:
        return TreeView(gateways=gateway_tree(snapshot, dag, scope=None, only=only[1]).gateways)
    view = tree_view(snapshot, dag, scope=scope, only=only)
    if only is not None:
        return view
    gw = gateway_tree(snapshot, dag, scope=scope)
    return replace(view, gateways=gw.gateways, unattached=gw.unattached)


def gateway_tree(snapshot: Snapshot, dag: Any, *, scope: str | None,
                 only: Key | None = None) -> GatewayTree:
    """Every Gateway in scope (or only `only`), and the routes not accepted apart."""
    statuses = gateway_statuses(dag)
    routes = [route_node(snapshot, kind, o, statuses) for kind in GATEWAY_ROUTE_KINDS
              for o in snapshot.of_kind(kind)]
    gateways = [gateway_node(snapshot, o, statuses, routes) for o in snapshot.of_kind(GATEWAY)
                if (only is None and _in(key_of(o), scope)) or key_of(o) == only]
    unattached = [] if only is not None else [
        r for r in routes if _in((r.namespace, r.name), scope) and
        not any(p.accepted for p in r.parents)]
    return GatewayTree(tuple(gateways), tuple(sorted(unattached, key=_route_order)))


def _in(key: Key, scope: str | None) -> bool:
    return scope is None or key[0] == scope


def _route_order(r: GwRouteNode) -> tuple[str, str, str]:
    return (r.namespace, r.name, r.kind)


def gateway_node(snapshot: Snapshot, obj: Obj, statuses: Statuses,
                 routes: list[GwRouteNode]) -> GatewayNode:
    key = key_of(obj)
    status = statuses.get((GATEWAY, *key))
    row = gateway_row(obj, status)
    listed = {li.name: li for li in status.listeners} if status is not None else {}
    listeners = []
    for spec in spec_of(obj).get("listeners") or []:
        computed = listed.get(str(spec.get("name")))
        listeners.append(ListenerNode(
            str(spec.get("name")), str(spec.get("protocol")), int(spec.get("port") or 0),
            str(spec.get("hostname") or ""),
            problems=_problems(computed), attached=computed.attached_routes if computed else 0,
            routes=tuple(sorted((r for r in routes if attached(r, key, spec, computed)),
                                key=_route_order)) if computed is not None else ()))
    return GatewayNode(key[0], key[1], str(spec_of(obj).get("gatewayClassName") or ""),
                       row.status, row.reason, tuple(listeners))


def _problems(computed: Any) -> tuple[str, ...]:
    return failing(computed.conditions) if computed is not None else ()


def attached(route: GwRouteNode, gateway: Key, listener: dict[str, Any], computed: Any) -> bool:
    """The controller accepted `route` for `gateway`, through this listener."""
    prefix = f"{gateway[0]}/{gateway[1]}"
    for p in route.parents:
        if not p.accepted or not (p.parent == prefix or p.parent.startswith(prefix + "/")):
            continue
        section = p.parent[len(prefix) + 1:]
        if section:
            if section in (str(listener.get("name")), str(listener.get("port"))):
                return True
        elif _kind_ok(route.kind, computed) and _host_ok(route.hostnames, listener):
            return True
    return False


def _kind_ok(kind: str, computed: Any) -> bool:
    return any(k == kind for _, k in computed.supported_kinds)


def _host_ok(hostnames: tuple[str, ...], listener: dict[str, Any]) -> bool:
    want = str(listener.get("hostname") or "")
    return not want or not hostnames or any(_host_match(h, want) or _host_match(want, h)
                                            for h in hostnames)


def _host_match(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and host != pattern[2:]
    return host == pattern


def route_node(snapshot: Snapshot, kind: str, obj: Obj, statuses: Statuses) -> GwRouteNode:
    ns, name = key_of(obj)
    status = statuses.get((kind, ns, name))
    row = route_row(kind, obj, status)
    rules = tuple(RuleNode(r.matches, tuple(backend_leaf(snapshot, ns, b) for b in r.backends))
                  for r in route_rules(obj))
    return GwRouteNode(kind, ns, name, hostnames_of(obj), row.status, row.reason,
                       parent_verdicts(status), rules)


def backend_leaf(snapshot: Snapshot, owner_ns: str, backend: Any) -> ServiceLeaf:
    """A backendRef with its ready endpoints (`ns/name` when in another namespace)."""
    key = (backend.namespace, backend.name)
    rows = service_rows(snapshot, key, port=backend.port)
    label = backend.name if backend.namespace == owner_ns else f"{key[0]}/{key[1]}"
    exists = backend.kind == "Service" and snapshot.get(SERVICE, key) is not None
    return ServiceLeaf(label, backend.port, backend.weight, sum(1 for r in rows if r.ready),
                       len(rows), exists)
