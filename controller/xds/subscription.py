"""Which resources of a type one stream wants, and what it gets for them."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.route.v3 import route_pb2

from controller.xdscache.snapshot import ENDPOINT, ROUTE, Resource, TypeSnapshot

WILDCARD = "*"
EMPTY_NAMES: frozenset[str] = frozenset()


@dataclass(slots=True)
class Subscription:
    """xDS subscription state for one type on one stream.

    "Legacy wildcard" (xDS protocol): when the first request for a type names no
    resources, the stream wants all of them. Once the client names resources, an
    empty list means "none"; an explicit ``*`` always means "all".
    """

    names: frozenset[str] = EMPTY_NAMES
    """Canonical (`canonical`): streams with equal interests share one object."""
    wildcard: bool = False
    legacy: bool = False
    started: bool = False

    def replace(self, names: Iterable[str]) -> None:
        """SotW: every request carries the full list of names."""
        wanted = set(names)
        if not self.started:
            self.legacy = not wanted
            self.started = True
        elif wanted:
            self.legacy = False
        self.wildcard = WILDCARD in wanted or (self.legacy and not wanted)
        if wanted - {WILDCARD} != self.names:
            self.names = canonical(frozenset(wanted - {WILDCARD}))

    def change(self, subscribe: Iterable[str], unsubscribe: Iterable[str]) -> set[str]:
        """Delta: apply a request's (un)subscriptions; returns names dropped."""
        add, drop = set(subscribe), set(unsubscribe)
        if self.started and not add and not drop:
            return set()  # an ACK: nothing moves (perf: no copy of 10k EDS names per ACK)
        if not self.started:
            self.started = True
            self.wildcard = not add or WILDCARD in add
        elif WILDCARD in add:
            self.wildcard = True
        if WILDCARD in drop:
            self.wildcard = False
        dropped = set((drop - {WILDCARD}) & self.names)
        names = frozenset(add) if not self.names else self.names | add
        if drop or WILDCARD in names:
            names = names - drop - {WILDCARD}
        if names != self.names:
            self.names = canonical(names)
        return dropped

    def resolve(self, snapshot: TypeSnapshot) -> dict[str, Resource]:
        """The resources this stream should have, by name."""
        if self.wildcard:
            found = dict(snapshot.resources)
        else:
            found = {n: r for n in self.names if (r := snapshot.resources.get(n)) is not None}
        for name in self.names - found.keys():
            if (stand_in := placeholder(snapshot.type_url, name)) is not None:
                found[name] = stand_in
        return found

    def resolve_sorted(self, snapshot: TypeSnapshot) -> list[Resource]:
        """`resolve(snapshot)`'s resources sorted by name. perf: from the snapshot's own
        sorted list (shared by every stream), neither copied nor sorted per stream unless
        a few names are asked of many resources."""
        table = snapshot.resources
        if self.wildcard:
            picked = snapshot.sorted_resources()
        elif len(self.names) * 4 >= len(table):
            picked = [r for r in snapshot.sorted_resources() if r.name in self.names]
        else:
            picked = [table[n] for n in sorted(self.names) if n in table]
        stand_ins = [p for n in self.names if n not in table
                     and (p := placeholder(snapshot.type_url, n)) is not None]
        if stand_ins:
            picked = sorted(picked + stand_ins, key=lambda r: r.name)
        return picked


_CANONICAL: dict[tuple[int, int], weakref.ref[frozenset[str]]] = {}


def canonical(names: frozenset[str]) -> frozenset[str]:
    """One object for equal name sets while any stream holds one (perf: 1,000 Envoys that
    subscribe to the same 10k EDS names hold one set, and share controller/xds/shared.py's
    views of it). Weakly held: a set no stream uses any more goes."""
    if not names:
        return EMPTY_NAMES
    key = (hash(names), len(names))
    ref = _CANONICAL.get(key)
    found = ref() if ref is not None else None
    if found is not None:
        return found if found == names else names  # a hash collision: not shared

    def forget(dead: weakref.ref[frozenset[str]], key: tuple[int, int] = key) -> None:
        if _CANONICAL.get(key) is dead:
            del _CANONICAL[key]

    _CANONICAL[key] = weakref.ref(names, forget)
    return names


def placeholder(type_url: str, name: str) -> Resource | None:
    """Spec §3.2/§3.7: an unknown EDS or RDS name gets an empty resource of that name.

    An empty ClusterLoadAssignment lets a cluster finish warming (with no endpoints)
    instead of waiting for Envoy's initial fetch timeout.
    """
    if type_url == ENDPOINT:
        return Resource.of(name, endpoint_pb2.ClusterLoadAssignment(cluster_name=name)
                           .SerializeToString())
    if type_url == ROUTE:
        return Resource.of(name, route_pb2.RouteConfiguration(name=name).SerializeToString())
    return None


def sorted_resources(resources: dict[str, Resource]) -> list[Resource]:
    return [resources[n] for n in sorted(resources)]
