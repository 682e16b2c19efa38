"""Trace a served route back to the IngressRoute chain that produced it (the DAG does not
record origins): walk delegations from the root(s) for the host through the raw objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import (
    INGRESS,
    INGRESSROUTE,
    Key,
    Obj,
    Snapshot,
    delegate_key,
    fqdn_of,
    key_of,
    routes_of,
    spec_of,
)
from kubectl_contour.queries.statuses import Statuses, ingressroute_status


@dataclass(frozen=True, slots=True)
class ChainLink:
    kind: str
    namespace: str
    name: str
    match: str
    """The route in this object that leads on (delegate) or serves (services)."""
    status: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Served:
    """A service route found in the raw objects, with the chain from its root."""

    chain: tuple[Key, ...]
    links: tuple[tuple[Key, str], ...]
    match: str
    services: tuple[tuple[str, int], ...]


def roots_for_host(snapshot: Snapshot, host: str) -> list[Key]:
    return [key_of(o) for o in snapshot.of_kind(INGRESSROUTE)
            if (fqdn_of(o) or "").strip().lower() == host]


def served_routes(snapshot: Snapshot, root: Key) -> list[Served]:
    """Every service route reachable from `root`, in the builder's visit order."""
    index = snapshot.index(INGRESSROUTE)
    out: list[Served] = []

    def walk(key: Key, path: tuple[Key, ...], links: tuple[tuple[Key, str], ...]) -> None:
        for route in routes_of(index[key]):
            match = str(route.get("match") or "")
            target = delegate_key(route, owner_namespace=key[0])
            if target is None:
                services = tuple((str(s.get("name") or ""), int(s.get("port") or 0))
                                 for s in route.get("services") or [])
                out.append(Served((*path, key), (*links, (key, match)), match, services))
            elif target in index and target not in path and target != key:
                walk(target, (*path, key), (*links, (key, match)))

    if root in index:
        walk(root, (), ())
    return out


def chain_links(served: Served, statuses: Statuses) -> list[ChainLink]:
    links = []
    for key, match in served.links:
        st = ingressroute_status(statuses, key)
        links.append(ChainLink(INGRESSROUTE, key[0], key[1], match,
                               st.current if st else "", st.description if st else ""))
    return links


def origin_of(snapshot: Snapshot, *, host: str, match: str,
              backends: set[tuple[str, str, int]]) -> Served | None:
    """The last service route with this match (a later one overwrites an earlier one)."""
    found = [s for root in roots_for_host(snapshot, host) for s in served_routes(snapshot, root)
             if s.match == match
             and {(s.chain[-1][0], n, p) for n, p in s.services} == backends]
    return found[-1] if found else None


def ingress_origin(snapshot: Snapshot, *, host: str, match: str) -> Key | None:
    """The last Ingress (in (namespace, name) order, later overwrites) with this host and
    Envoy match (paths turned into matches by the builder's own `path_match`)."""
    from controller.dag.ingress import path_match

    found = None
    for ing in snapshot.of_kind(INGRESS):
        for r_host, path, path_type in ingress_paths(ing):
            served = path_match(path, path_type)
            if r_host == host and served is not None and served[0] == match:
                found = key_of(ing)
    return found


def ingress_paths(ing: Obj) -> list[tuple[str, str, str]]:
    """(host, path, pathType) an Ingress declares, with the defaults `*` and `/`."""
    spec: dict[str, Any] = spec_of(ing)
    out = []
    if spec.get("defaultBackend") or spec.get("backend"):
        out.append(("*", "/", ""))
    for rule in spec.get("rules") or []:
        host = str(rule.get("host") or "*").lower()
        for path in ((rule.get("http") or {}).get("paths") or []):
            out.append((host, str(path.get("path") or "/"), str(path.get("pathType") or "")))
    return out
