"""The `scoped` route layout of port 80 (ListenerSettings.route_layout), its rules in one
place: which hosts get a scope, when the listener routes by them, and a scope's bytes.

In `scoped`, each port-80 vhost of `ingress_http` whose host is exact also goes out as a
ScopedRouteConfiguration `ingress_http/<host>`, keyed on the host, carrying its one-vhost
table inline; a change then resends one small scope to Envoy instead of the whole table
(50k hosts: change → traffic p50 505–1019 → 27–36 ms, BENCHMARKS.md "Route layouts").
Envoy has no fallback scope, so while the table holds a `*` or wildcard host the listener
routes by the one table instead (`listener_scoped`).

Hitless switch: both the scopes and the `ingress_http` table are published, always, in
`scoped`: a keep-alive connection opened before the listener flipped keeps the old HCM
(Envoy drains it for its drain time, 600 s by default) and answered 404 once the old
layout's resources were gone (measured). Envoy only subscribes to what an HCM names, so it
is not sent the one no listener of it uses.
"""

from __future__ import annotations

from typing import Protocol

from controller.config import ListenerSettings
from controller.envoy import pb
from controller.envoy.core import length_delimited
from controller.xdscache import routes as rds

SCOPED = "scoped"
_FIELDS = pb.ScopedRouteConfiguration.DESCRIPTOR.fields_by_name
_NAME_FIELD, _KEY_FIELD = _FIELDS["name"].number, _FIELDS["key"].number
_TABLE_FIELD = _FIELDS["route_configuration"].number
_FRAGMENTS_FIELD = pb.ScopedRouteConfiguration.Key.DESCRIPTOR.fields_by_name["fragments"].number
_STRING_KEY_FIELD = pb.ScopedRouteConfiguration.Key.Fragment.DESCRIPTOR.fields_by_name[
    "string_key"].number
Named = tuple[str, bytes]


def enabled(settings: ListenerSettings) -> bool:
    """Whether port 80 is in the scoped layout (scopes published)."""
    return settings.route_layout == SCOPED


def scopable(host: str) -> bool:
    """Whether `host` can be a scope key: an exact host (not `*`, not `*.example.com`)."""
    return not host.startswith("*")


def listener_scoped(settings: ListenerSettings, unscopable: bool) -> bool:
    """The fallback rule: the HTTP listener routes by the scopes in the scoped layout while
    the `ingress_http` table holds no unscopable host (`unscopable`: it holds one)."""
    return enabled(settings) and not unscopable


def scope_name(host: str) -> str:
    """The scope (and its inline table) of `host`: `ingress_http/<host>`."""
    return f"{rds.HTTP_ROUTES}/{host}"


def scope(host: str, vhost: bytes) -> Named:
    """The scope of `host`'s serialized port-80 vhost: (name, bytes); key = the host,
    lowercase (the DAG lowercases hosts already; the Lua filter lowercases the request's),
    its table = `routes.route_configuration_bytes` of the name and the one vhost.
    Encoded by hand, byte-identical to serializing the whole message (fields in number
    order: name 1, key 3 = Key{fragments 1 = Fragment{string_key 1}}, table 5); perf: a
    proto per scope cost ~10% of the cold build at 50k. The vhost's own name is
    `hashname(60, host)`, so the host is given."""
    name = scope_name(host)
    fragment = length_delimited(_STRING_KEY_FIELD, host.lower().encode())
    table = rds.route_configuration_bytes(name, [vhost])
    return name, b"".join((length_delimited(_NAME_FIELD, name.encode()),
                           length_delimited(_KEY_FIELD, length_delimited(_FRAGMENTS_FIELD,
                                                                         fragment)),
                           length_delimited(_TABLE_FIELD, table)))


def parts_scope(settings: ListenerSettings, host: str, vhost: Named | None) -> Named | None:
    """What a port-80 vhost contributes to the scopes: its scope in the scoped layout when
    it has routes and an exact host; None otherwise (a vhost with routes and no scope in
    the scoped layout is what makes the listener fall back, `unscopable`)."""
    if vhost is None or not enabled(settings) or not scopable(host):
        return None
    return scope(host, vhost[1])


def unscopable(settings: ListenerSettings, vhost: Named | None, scope: Named | None) -> bool:
    """Whether a port-80 vhost's parts make the listener fall back to the one table."""
    return enabled(settings) and vhost is not None and scope is None


class Output(Protocol):
    def put(self, type_url: str, name: str, body: bytes) -> None: ...

    def drop(self, type_url: str, name: str) -> None: ...


class Keyed:
    """Resources of one type kept by name, with the names moved since the last `flush`
    (the strict-SNI tables, the scopes): one slot's old and new resource swap in."""

    def __init__(self, type_url: str) -> None:
        self.type_url = type_url
        self.current: dict[str, bytes] = {}
        self._dirty: set[str] = set()

    def swap(self, new: Named | None, old: Named | None) -> None:
        """`old` (None: nothing) goes, `new` (None: nothing) comes."""
        if old is not None and (new is None or new[0] != old[0]):
            self.current.pop(old[0], None)
            self._dirty.add(old[0])
        if new is not None:
            self.current[new[0]] = new[1]
            self._dirty.add(new[0])

    def flush(self, out: Output) -> None:
        """Put or drop each name moved since the last flush, in name order."""
        for name in sorted(self._dirty):
            if name in self.current:
                out.put(self.type_url, name, self.current[name])
            else:
                out.drop(self.type_url, name)
        self._dirty.clear()

    def sorted(self) -> dict[str, bytes]:
        return dict(sorted(self.current.items()))
