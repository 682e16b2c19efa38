"""Who produced a served route, read from the DAG's own record (`Route.provenance`: the
kind and the include/delegation path from the root to the declaring object): the chain of
objects with their computed statuses, and the objects a request passes on its way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import INGRESS, INGRESSROUTE, Key, Snapshot
from kubectl_contour.queries.matching import describe_match
from kubectl_contour.queries.proxies import Entry, entries_to, join_prefix
from kubectl_contour.queries.statuses import Statuses, status_of


@dataclass(frozen=True, slots=True)
class ChainLink:
    kind: str
    namespace: str
    name: str
    match: str
    """The entry in this object that leads on (delegate, include) or serves (the route)."""
    status: str = ""
    reason: str = ""


def chain_links(snapshot: Snapshot, statuses: Statuses, route: Any) -> list[ChainLink]:
    """One link per object of the route's provenance, root first; [] when unrecorded."""
    prov = getattr(route, "provenance", None)
    if prov is None:
        return []
    if prov.kind == INGRESS:
        ns, name = prov.owner
        return [ChainLink(INGRESS, ns, name, route.match)]
    index = snapshot.index(prov.kind)
    out = []
    for i, key in enumerate(prov.chain):
        if i + 1 < len(prov.chain):
            match = leading_entry(prov.kind, index.get(key), prov.chain[i + 1], route)
        else:
            match = route.match if prov.kind == INGRESSROUTE else describe_match(route)
        st = status_of(statuses, prov.kind, key)
        out.append(ChainLink(prov.kind, key[0], key[1], match,
                             st.current if st else "", st.reason if st else ""))
    return out


def served_edges(dag: Any) -> frozenset[tuple[str, Key, Key]]:
    """(kind, parent, child) of every delegation or include a served route or TCP proxy of
    `dag` passes, read from their provenance (no walk of the objects)."""
    edges: set[tuple[str, Key, Key]] = set()
    for vhost in (*dag.http, *dag.https):
        origins = [route.provenance for route in vhost.routes]
        tcp = getattr(vhost, "tcp_proxy", None)
        origins.append(getattr(tcp, "provenance", None))
        for origin in origins:
            if origin is not None:
                edges.update((origin.kind, parent, child) for parent, child in
                             zip(origin.chain, origin.chain[1:], strict=False))
    return frozenset(edges)


def leading_entry(kind: str, obj: Any, child: Key, route: Any) -> str:
    """The conditions of the entry of `obj` that leads to `child` on the way to `route`:
    when several do, the one with the longest prefix the route's path starts with."""
    found = entries_to(kind, obj, child)
    on_path = [e for e in found if route.match.startswith(e.prefix)] or found
    best = max(on_path, key=lambda e: len(e.prefix), default=None)
    return best.match if best else ""


@dataclass(frozen=True, slots=True)
class Visited:
    """An object a request passes, with the absolute path prefix it is reached at."""

    kind: str
    key: Key
    prefix: str


def on_the_way(snapshot: Snapshot, routes: Any, path: str) -> list[Visited]:
    """The objects of the routes' chains down to where `path` leaves them (a delegation or
    include whose prefix the path does not start with), and the objects their entries lead
    to for this path (the ones that serve nothing, e.g. invalid, are found there);
    first-seen order."""
    seen: dict[tuple[str, Key], Visited] = {}
    for route in routes:
        prov = getattr(route, "provenance", None)
        if prov is None or prov.kind == INGRESS:
            continue
        prefix = ""
        for i, key in enumerate(prov.chain):
            if not path.startswith(prefix):
                break
            seen.setdefault((prov.kind, key), Visited(prov.kind, key, prefix))
            if i + 1 < len(prov.chain):
                step = leading_prefix(snapshot, prov.kind, key, prov.chain[i + 1], route)
                prefix = absolute(prov.kind, prefix, step)
    for v in list(seen.values()):
        for e in led_from(snapshot, v, path):
            assert e.target is not None
            if snapshot.get(v.kind, e.target) is None:
                continue  # a missing child: its includer's status says so
            seen.setdefault((v.kind, e.target),
                            Visited(v.kind, e.target, absolute(v.kind, v.prefix, e.prefix)))
    return list(seen.values())


def leading_prefix(snapshot: Snapshot, kind: str, key: Key, child: Key, route: Any) -> str:
    found = entries_to(kind, snapshot.get(kind, key), child)
    on_path = [e.prefix for e in found if route.match.startswith(e.prefix)]
    return max(on_path, key=len, default="")


def led_from(snapshot: Snapshot, v: Visited, path: str) -> list[Entry]:
    """The delegation/include entries of `v` whose absolute prefix `path` starts with."""
    from kubectl_contour.queries.proxies import entries

    obj = snapshot.get(v.kind, v.key)
    return [e for e in (entries(v.kind, obj) if obj else [])
            if e.target is not None and path.startswith(absolute(v.kind, v.prefix, e.prefix))]


def absolute(kind: str, base: str, prefix: str) -> str:
    """IngressRoute matches are absolute already; HTTPProxy prefixes add up."""
    return prefix if kind == INGRESSROUTE else join_prefix(base, prefix)
