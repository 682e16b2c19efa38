"""Delegation and include trees: every root (or one object) of both kinds with its declared
entries (routes → services, delegations and includes → the child), each object's status as
the builder computes it (HTTPProxy: the Valid condition's errors and warnings), cycles
marked. What is served is the DAG's word, not a walk of our own: a delegation or include no
served route passes (by the routes' provenance) shows its child's status, marked `not
served`, without expanding it; orphans are the objects the builder found orphaned (or never
processed)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from kubectl_contour.objects import (
    HTTPPROXY,
    SERVICE,
    Key,
    Obj,
    Snapshot,
    fqdn_of,
    key_of,
    ref,
    tls_secret_of,
)
from kubectl_contour.queries.endpoints import service_rows
from kubectl_contour.queries.provenance import served_edges
from kubectl_contour.queries.proxies import LINK_WORDS, PROXY_KINDS, Entry, entries
from kubectl_contour.queries.statuses import (
    Statuses,
    computed_statuses,
    status_of,
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
    child: ProxyNode | None = None
    note: str = ""
    """`cycle`, `not found` or `a root` (the entry is skipped), `not served` (no served route
    passes it, by the DAG's provenance: the child is shown with its status, not expanded)
    or empty."""
    link: str = "delegate"
    """`delegate` (IngressRoute) or `include` (HTTPProxy)."""


@dataclass(frozen=True, slots=True)
class ProxyNode:
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
    kind: str = "IngressRoute"
    errors: tuple[str, ...] = ()
    """HTTPProxy: every error of the Valid condition after the first (shown as reason)."""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TreeView:
    roots: tuple[ProxyNode, ...] = ()
    orphans: tuple[ProxyNode, ...] = ()
    gateways: tuple[Any, ...] = ()
    """Gateway API roots (gateway_tree.GatewayNode: that module builds on this one)."""
    unattached: tuple[Any, ...] = ()
    """Gateway API routes no Gateway of ours accepted."""


@dataclass(slots=True)
class Context:
    snapshot: Snapshot
    dag: Any
    statuses: Statuses = field(default_factory=dict)
    objects: dict[tuple[str, Key], Obj] = field(default_factory=dict)
    services: dict[Key, Obj] = field(default_factory=dict)
    edges: frozenset[tuple[str, Key, Key]] = frozenset()
    """(kind, parent, child) a served route passes (`served_edges`)."""


def tree_view(snapshot: Snapshot, dag: DAG, *, scope: str | None,
              only: tuple[str, Key] | None = None) -> TreeView:
    """Every IngressRoute and HTTPProxy root in scope (or only `only`), and the orphans
    apart (gateway_tree.with_gateways adds the Gateway API's trees)."""
    objects = {(kind, key_of(o)): o for kind in PROXY_KINDS for o in snapshot.of_kind(kind)}
    ctx = Context(snapshot, dag, computed_statuses(dag.statuses), objects,
                  snapshot.index(SERVICE), served_edges(dag))
    if only is not None:
        return TreeView(roots=(proxy_node(ctx, *only, path=()),))
    found = sorted((k for k in objects if in_scope(k[1], scope)), key=lambda k: (k[1], k[0]))
    roots = [k for k in found if fqdn_of(objects[k]) is not None]
    orphans = [k for k in found if fqdn_of(objects[k]) is None and orphaned(ctx, *k)]
    return TreeView(roots=tuple(proxy_node(ctx, *k, path=()) for k in roots),
                    orphans=tuple(proxy_node(ctx, *k, path=()) for k in orphans))


def in_scope(key: Key, scope: str | None) -> bool:
    return scope is None or key[0] == scope


def orphaned(ctx: Context, kind: str, key: Key) -> bool:
    """The builder says orphaned, or never processed the object (no status)."""
    st = status_of(ctx.statuses, kind, key)
    return st is None or st.current == "orphaned"


def proxy_node(ctx: Context, kind: str, key: Key, *, path: tuple[Key, ...],
               expand: bool = True) -> ProxyNode:
    """The object with its status and, when `expand`, its entries (children recursively)."""
    obj = ctx.objects[(kind, key)]
    computed = status_of(ctx.statuses, kind, key)
    stored = stored_if_different(obj, computed, live=ctx.snapshot.live)
    fqdn = fqdn_of(obj) if not path else None
    secret = tls_secret_of(obj) if fqdn is not None else ""
    errors = [e.message for c in computed.conditions for e in c.errors] if computed else []
    warnings = [w.message for c in computed.conditions for w in c.warnings] if computed else []
    return ProxyNode(
        namespace=key[0], name=key[1], status=computed.current if computed else "",
        reason=computed.reason if computed else "", fqdn=fqdn, tls_secret=secret,
        tls_served=bool(secret) and tls_served(ctx.dag, fqdn or ""),
        stored_status=stored[0], stored_reason=stored[1],
        routes=tuple(route_node(ctx, kind, key, e, path=(*path, key))
                     for e in entries(kind, obj)) if expand else (),
        kind=kind, errors=tuple(errors[1:]), warnings=tuple(warnings),
    )


def tls_served(dag: Any, fqdn: str) -> bool:
    return any(v.host == fqdn.lower() and v.secret is not None for v in dag.https)


def route_node(ctx: Context, kind: str, owner: Key, entry: Entry, *,
               path: tuple[Key, ...]) -> RouteNode:
    target = entry.target
    if target is None:
        return RouteNode(match=entry.match, services=service_leaves(ctx, owner, entry))
    node = RouteNode(match=entry.match, delegate=target[1] if target[0] == owner[0]
                     else ref(target), link=LINK_WORDS[kind])
    child = ctx.objects.get((kind, target))
    if child is None:
        return replace(node, note="not found")
    if target in path:
        return replace(node, note="cycle")
    if fqdn_of(child) is not None and kind == HTTPPROXY:  # v1.33: RootIncludesRoot
        return replace(node, note="a root")
    if (kind, owner, target) not in ctx.edges:
        return replace(node, note="not served",
                       child=proxy_node(ctx, kind, target, path=path, expand=False))
    return replace(node, child=proxy_node(ctx, kind, target, path=path))


def service_leaves(ctx: Context, owner: Key, entry: Entry) -> tuple[ServiceLeaf, ...]:
    leaves = []
    for svc in entry.services:
        rows = service_rows(ctx.snapshot, (owner[0], svc.name), port=svc.port)
        exists = (owner[0], svc.name) in ctx.services
        leaves.append(ServiceLeaf(svc.name, svc.port, svc.weight,
                                  sum(1 for r in rows if r.ready), len(rows), exists))
    return tuple(leaves)
