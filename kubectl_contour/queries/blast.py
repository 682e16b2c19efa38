"""Blast radius of a change: two object sets (before, after) built by the controller's own
builder, compared as a host × route → backends matrix (routes added, removed, re-pointed,
re-weighted, produced by other objects, or with other settings) and per-object statuses
(valid → invalid, newly orphaned, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import Snapshot, ref
from kubectl_contour.queries.matching import describe_match
from kubectl_contour.queries.route import own_answer, policy_rows, shares
from kubectl_contour.queries.status import StatusRow

TCP_PROXY = "(tcpproxy)"
"""The route column of a TLS vhost that proxies TCP: its clusters are its backends."""


@dataclass(frozen=True, slots=True)
class Upstream:
    service: str
    """`namespace/name` of the Service."""
    port: int
    weight: int
    share: float
    """Percent of requests (Envoy's split: one upstream gets all, all-zero split evenly)."""


@dataclass(frozen=True, slots=True)
class RouteSide:
    """Where one route sends requests on one side of the change, and who declared it."""

    upstreams: tuple[Upstream, ...]
    answer: str
    """Empty when the route forwards; else what Envoy answers itself (`301: redirect to
    https`, `503: answered by Envoy itself`, a redirect)."""
    kind: str
    """The kind of the objects that produced the route (IngressRoute, HTTPProxy, Ingress)."""
    chain: tuple[str, ...]
    """Their include/delegation path from the root, as `namespace/name`, root first."""


@dataclass(frozen=True, slots=True)
class RouteChange:
    change: str
    """added, removed, repointed (other services or answer), reweighted (same services,
    other shares), rechained (same backends, produced by other objects) or settings."""
    listener: str
    """http (port 80) or https (port 443)."""
    host: str
    route: str
    """The route's conditions in words (`prefix /api, header x-beta present`)."""
    before: RouteSide | None
    after: RouteSide | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StatusChange:
    change: str
    """added, removed, `newly <status>` (newly invalid, newly orphaned, newly valid, ...) or
    `reason changed`."""
    kind: str
    namespace: str
    name: str
    before: str
    before_reason: str
    after: str
    after_reason: str


@dataclass(frozen=True, slots=True)
class BlastRadius:
    routes: tuple[RouteChange, ...]
    statuses: tuple[StatusChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.routes or self.statuses)


@dataclass(frozen=True, slots=True)
class Served:
    """One route of one side: its comparable summary and the DAG route behind it."""

    side: RouteSide
    policy: tuple[tuple[str, str], ...]
    route: Any


RouteKey = tuple[str, str, str]
"""(listener, host, conditions)."""


def overlay(base: Snapshot, change: Snapshot) -> Snapshot:
    """What `kubectl apply -f` of `change` would leave: its objects replace the ones of the
    same kind and key, nothing is deleted; the objects it holds that the validation boundary
    refuses are reported with the rest (the API server would refuse them)."""
    out = base
    for obj in change.objects:
        out = out.replaced(obj)
    return Snapshot(out.objects, live=base.live, source=change.source,
                    rejected=tuple(sorted((*base.rejected, *change.rejected))))


def served_routes(dag: Any) -> dict[RouteKey, Served]:
    """Every route of every surviving vhost, keyed by listener, host and conditions; of two
    routes with the same conditions Envoy takes the first (model order), so that one."""
    from kubectl_contour.queries.route import ordered_routes

    out: dict[RouteKey, Served] = {}
    for listener, vhosts in (("http", dag.http), ("https", dag.https)):
        for vhost in vhosts:
            tcp = getattr(vhost, "tcp_proxy", None)
            if tcp is not None:
                out[(listener, vhost.host, TCP_PROXY)] = Served(
                    side_of(tcp.clusters, "", tcp.provenance), (), tcp)
            for route in ordered_routes(vhost):
                out.setdefault((listener, vhost.host, describe_match(route)), served(route))
    return out


def served(route: Any) -> Served:
    """A route that Envoy answers itself (the port-80 TLS redirect, a direct response, a
    redirect) is its answer: the services, timeouts and retries it names are never used."""
    if route.https_redirect:
        answer = "301: redirect to https"
    else:
        own = own_answer(route)
        answer = own[1] if own else ""
    if answer:
        return Served(side_of((), answer, route.provenance), (), None)
    return Served(side_of(route.clusters, "", route.provenance), tuple(policy_rows(route)),
                  route)


def side_of(clusters: tuple[Any, ...], answer: str, provenance: Any) -> RouteSide:
    ups = tuple(Upstream(f"{c.service.namespace}/{c.service.name}", c.service.port, c.weight,
                         share) for c, share in zip(clusters, shares(clusters), strict=True)
                ) if clusters else ()
    if provenance is None:
        return RouteSide(ups, answer, "", ())
    return RouteSide(ups, answer, provenance.kind, tuple(ref(k) for k in provenance.chain))


def route_changes(before: dict[RouteKey, Served],
                  after: dict[RouteKey, Served]) -> list[RouteChange]:
    """One change per route key whose side differs, sorted by host, listener, route."""
    out = []
    for key in sorted(before.keys() | after.keys(), key=lambda k: (k[1], k[0], k[2])):
        old, new = before.get(key), after.get(key)
        listener, host, route = key
        verdict = compare(old, new)
        if verdict is not None:
            out.append(RouteChange(verdict[0], listener, host, route,
                                   old.side if old else None, new.side if new else None,
                                   verdict[1]))
    return out


def compare(old: Served | None, new: Served | None) -> tuple[str, str] | None:
    """(change, detail) between the two sides of one route, or None when nothing moved."""
    if old is None or new is None:
        return ("added", "") if old is None else ("removed", "")
    a, b = old.side, new.side
    if targets(a) != targets(b) or a.answer != b.answer:
        return ("repointed", "")
    if a.upstreams != b.upstreams:
        return ("reweighted", "")
    if (a.kind, a.chain) != (b.kind, b.chain):
        return ("rechained", "same target, declared by other objects")
    if old.policy != new.policy or old.route != new.route:
        return ("settings", settings_detail(old.policy, new.policy))
    return None


def targets(side: RouteSide) -> list[tuple[str, int]]:
    return sorted((u.service, u.port) for u in side.upstreams)


def settings_detail(old: tuple[tuple[str, str], ...], new: tuple[tuple[str, str], ...]) -> str:
    was = dict(old)
    moved = [f"{name} {was.get(name, '-')} → {value}" for name, value in new
             if was.get(name) != value]
    return "; ".join(moved) or "other route settings (headers, mirrors, health checks, ...)"


def status_changes(before: Iterable[StatusRow], after: Iterable[StatusRow]) -> list[StatusChange]:
    """One change per object whose computed status or reason differs (a later row of the
    same object wins: a refused manifest's row follows the object's own)."""
    old = {(r.kind, r.namespace, r.name): r for r in before}
    new = {(r.kind, r.namespace, r.name): r for r in after}
    out = []
    for key in sorted(old.keys() | new.keys(), key=lambda k: (k[1], k[2], k[0])):
        a, b = old.get(key), new.get(key)
        if a is not None and b is not None and (a.status, a.reason) == (b.status, b.reason):
            continue
        out.append(StatusChange(status_verdict(a, b), *key,
                                a.status if a else "", a.reason if a else "",
                                b.status if b else "", b.reason if b else ""))
    return out


def status_verdict(a: StatusRow | None, b: StatusRow | None) -> str:
    if a is None or b is None:
        return "added" if a is None else "removed"
    return f"newly {b.status}" if a.status != b.status else "reason changed"


def involves(change: RouteChange, namespace: str) -> bool:
    """The route's objects or services (either side) lie in `namespace`."""
    names = [n for side in (change.before, change.after) if side is not None
             for n in (*side.chain, *(u.service for u in side.upstreams))]
    return any(n.split("/", 1)[0] == namespace for n in names)


def blast_radius(before: tuple[Any, list[StatusRow]], after: tuple[Any, list[StatusRow]], *,
                 scope: str | None) -> BlastRadius:
    """`before` and `after` are (DAG, status rows) of each side; `scope` keeps the changes
    that involve one namespace (None: all)."""
    routes = route_changes(served_routes(before[0]), served_routes(after[0]))
    statuses = status_changes(before[1], after[1])
    if scope is not None:
        routes = [r for r in routes if involves(r, scope)]
        statuses = [s for s in statuses if s.namespace == scope]
    return BlastRadius(tuple(routes), tuple(statuses))
