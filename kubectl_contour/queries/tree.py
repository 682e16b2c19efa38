"""Delegation trees: every root (or one object) with its routes, services and delegates;
statuses as the builder computes them; cycles marked; orphans listed apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubectl_contour.objects import (
    INGRESSROUTE,
    SERVICE,
    Key,
    Obj,
    Snapshot,
    delegate_key,
    fqdn_of,
    ref,
    spec_of,
    tls_secret_of,
)
from kubectl_contour.queries.endpoints import service_rows
from kubectl_contour.queries.statuses import (
    Statuses,
    computed_statuses,
    ingressroute_status,
    stored_if_different,
)

if TYPE_CHECKING:
    from controller.dag.model import DAG


@dataclass(frozen=True, slots=True)
class ServiceLeaf:
    name: str
    port: int
    weight: int | None
    ready: int
    total: int
    exists: bool = True


@dataclass(frozen=True, slots=True)
class RouteNode:
    match: str
    services: tuple[ServiceLeaf, ...] = ()
    delegate: str = ""
    """`name`, or `ns/name` when the namespace changes; empty for a service route."""
    child: IRNode | None = None
    note: str = ""
    """`cycle` or `not found` (the route is skipped) or empty."""


@dataclass(frozen=True, slots=True)
class IRNode:
    namespace: str
    name: str
    status: str
    reason: str
    fqdn: str | None = None
    tls_secret: str = ""
    tls_served: bool = False
    stored_status: str = ""
    stored_reason: str = ""
    routes: tuple[RouteNode, ...] = ()


@dataclass(frozen=True, slots=True)
class TreeView:
    roots: tuple[IRNode, ...] = ()
    orphans: tuple[IRNode, ...] = ()


@dataclass(slots=True)
class Context:
    snapshot: Snapshot
    dag: Any
    statuses: Statuses = field(default_factory=dict)
    routes: dict[Key, Obj] = field(default_factory=dict)
    services: dict[Key, Obj] = field(default_factory=dict)


def tree_view(snapshot: Snapshot, dag: DAG, *, scope: str | None,
              only: Key | None = None) -> TreeView:
    ctx = Context(snapshot, dag, computed_statuses(dag.statuses), snapshot.index(INGRESSROUTE),
                  snapshot.index(SERVICE))
    if only is not None:
        return TreeView(roots=(ir_node(ctx, only, path=()),))
    roots = [k for k, o in ctx.routes.items() if fqdn_of(o) is not None and in_scope(k, scope)]
    reached = reachable(ctx, roots=[k for k, o in ctx.routes.items() if fqdn_of(o) is not None])
    orphans = [k for k, o in ctx.routes.items()
               if fqdn_of(o) is None and k not in reached and in_scope(k, scope)]
    return TreeView(roots=tuple(ir_node(ctx, k, path=()) for k in sorted(roots)),
                    orphans=tuple(ir_node(ctx, k, path=()) for k in sorted(orphans)))


def in_scope(key: Key, scope: str | None) -> bool:
    return scope is None or key[0] == scope


def reachable(ctx: Context, *, roots: list[Key]) -> set[Key]:
    """Every object some root's delegate routes lead to (statuses aside)."""
    seen: set[Key] = set()
    todo = list(roots)
    while todo:
        key = todo.pop()
        for route in route_dicts(ctx.routes.get(key)):
            target = delegate_key(route, owner_namespace=key[0])
            if target in ctx.routes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def route_dicts(obj: Obj | None) -> list[dict[str, Any]]:
    """Routes of an object; a tcpproxy is shown as one more route with match `tcpproxy`."""
    if obj is None:
        return []
    spec = spec_of(obj)
    routes = [r for r in spec.get("routes") or [] if isinstance(r, dict)]
    tcp = spec.get("tcpproxy")
    return routes + ([{**tcp, "match": "tcpproxy"}] if isinstance(tcp, dict) else [])


def ir_node(ctx: Context, key: Key, *, path: tuple[Key, ...]) -> IRNode:
    obj = ctx.routes[key]
    computed = ingressroute_status(ctx.statuses, key)
    stored = stored_if_different(obj, computed, live=ctx.snapshot.live)
    fqdn = fqdn_of(obj) if not path else None
    secret = tls_secret_of(obj) if fqdn is not None else ""
    status = (computed.current, computed.description) if computed else ("", "")
    return IRNode(
        namespace=key[0], name=key[1], status=status[0], reason=status[1],
        fqdn=fqdn, tls_secret=secret, tls_served=bool(secret) and tls_served(ctx.dag, fqdn or ""),
        stored_status=stored[0], stored_reason=stored[1],
        routes=tuple(route_node(ctx, key, r, path=(*path, key)) for r in route_dicts(obj)),
    )


def tls_served(dag: Any, fqdn: str) -> bool:
    return any(v.host == fqdn.lower() and v.secret is not None for v in dag.https)


def route_node(ctx: Context, owner: Key, route: dict[str, Any], *,
               path: tuple[Key, ...]) -> RouteNode:
    match = str(route.get("match") or "")
    target = delegate_key(route, owner_namespace=owner[0])
    if target is None:
        return RouteNode(match=match, services=service_leaves(ctx, owner, route))
    shown = target[1] if target[0] == owner[0] else ref(target)
    if target not in ctx.routes:
        return RouteNode(match=match, delegate=shown, note="not found")
    if target in path:
        return RouteNode(match=match, delegate=shown, note="cycle")
    return RouteNode(match=match, delegate=shown, child=ir_node(ctx, target, path=path))


def service_leaves(ctx: Context, owner: Key, route: dict[str, Any]) -> tuple[ServiceLeaf, ...]:
    leaves = []
    for svc in route.get("services") or []:
        name, port = str(svc.get("name") or ""), int(svc.get("port") or 0)
        weight = svc.get("weight")
        rows = service_rows(ctx.snapshot, (owner[0], name), port=port)
        exists = (owner[0], name) in ctx.services
        leaves.append(ServiceLeaf(name, port, int(weight) if weight is not None else None,
                                  sum(1 for r in rows if r.ready), len(rows), exists))
    return tuple(leaves)
