"""Which resources of a type one stream wants, and what it gets for them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.route.v3 import route_pb2

from controller.xdscache.snapshot import ENDPOINT, ROUTE, Resource, TypeSnapshot

WILDCARD = "*"


@dataclass(slots=True)
class Subscription:
    """xDS subscription state for one type on one stream.

    "Legacy wildcard" (xDS protocol): when the first request for a type names no
    resources, the stream wants all of them. Once the client names resources, an
    empty list means "none"; an explicit ``*`` always means "all".
    """

    names: set[str] = field(default_factory=set)
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
        self.names = wanted - {WILDCARD}

    def change(self, subscribe: Iterable[str], unsubscribe: Iterable[str]) -> set[str]:
        """Delta: apply a request's (un)subscriptions; returns names dropped."""
        add, drop = set(subscribe), set(unsubscribe)
        if not self.started:
            self.started = True
            self.wildcard = not add or WILDCARD in add
        elif WILDCARD in add:
            self.wildcard = True
        if WILDCARD in drop:
            self.wildcard = False
        dropped = (drop - {WILDCARD}) & self.names
        self.names = (self.names | add) - drop - {WILDCARD}
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
