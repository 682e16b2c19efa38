"""One object's programmed state, and the rule that decides it (written once, here).

A node serves an object when it holds, for every type Envoy acknowledges per generation,
at least the content serial (`TypeSnapshot.serial`) that the build of the object's current
generation published for its hosts. Endpoints are not among those types: they move with
pods, not with the object's generation, and a cluster is ACKed only once warm (with its
endpoints) anyway.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from controller.envoy.type_urls import (
    CLUSTER_TYPE,
    LISTENER_TYPE,
    ROUTE_TYPE,
    SCOPED_ROUTE_TYPE,
    SECRET_TYPE,
)

PROGRAMMED_TYPES: tuple[str, ...] = (CLUSTER_TYPE, SECRET_TYPE, LISTENER_TYPE, ROUTE_TYPE,
                                     SCOPED_ROUTE_TYPE)
NAMED_BY_LISTENERS = frozenset({ROUTE_TYPE, SCOPED_ROUTE_TYPE})
"""Types an Envoy asks for only while a listener of it names some: scoped RDS only while a
scoped HCM exists, RDS only while an rds one does. The scoped layout publishes both
(xdscache/scopes.py), so a node that never asked for one is not waited for on it. Envoy
asks for them while it takes the listener naming them, before it ACKs that listener."""
Serials = tuple[int, ...]
"""One serial per PROGRAMMED_TYPES entry."""
NO_SERIALS: Serials = (0,) * len(PROGRAMMED_TYPES)


class NackRecord(Protocol):
    @property
    def type_url(self) -> str: ...

    @property
    def message(self) -> str: ...


class NodeRecord(Protocol):
    """What the xDS server knows of one Envoy (`controller.xds.registry.NodeStatus`)."""

    @property
    def node_id(self) -> str: ...

    @property
    def connected(self) -> bool: ...

    @property
    def held(self) -> Mapping[str, int]: ...

    @property
    def asked(self) -> Container[str]: ...

    @property
    def rejecting(self) -> Iterable[str]: ...

    @property
    def nacks(self) -> Sequence[NackRecord]: ...


@dataclass(frozen=True, slots=True)
class Programmed:
    """Served by `served` of the connected Envoys (`pending` are the others, each with why:
    `stale` or `NACKed: <Envoy's message>`), at `generation`, fully since `since` (epoch
    seconds). `reason` says why it cannot be programmed at all (not valid, no route)."""

    served: tuple[str, ...] = ()
    pending: tuple[tuple[str, str], ...] = ()
    generation: int | None = None
    since: float | None = None
    reason: str = ""
    unserved_since: float | None = None
    """When a valid object at this generation stopped (or has not yet begun) being served by
    every connected Envoy: the status writer's grace for restarts (conditions.py)."""

    @property
    def programmed(self) -> bool:
        return not self.reason and not self.pending and bool(self.served)

    @property
    def total(self) -> int:
        return len(self.served) + len(self.pending)

    @property
    def message(self) -> str:
        if self.reason:
            return self.reason
        if not self.total:
            return "no Envoy is connected"
        text = f"served by {len(self.served)}/{self.total} Envoys"
        waiting = "; ".join(f"{node}: {why}" for node, why in self.pending)
        return f"{text}; {waiting}" if waiting else text


def merged(vectors: Iterable[Serials]) -> Serials:
    """The element-wise highest serials: what serving every one of them takes."""
    out = list(NO_SERIALS)
    for vector in vectors:
        out = [max(a, b) for a, b in zip(out, vector, strict=True)]
    return tuple(out)


def lags(held: Mapping[str, int], asked: Container[str], type_url: str, serial: int) -> bool:
    """The rule: a node lags on `type_url` when it holds less than `serial` of it, unless
    it is a type it never asked for that only listeners name (NAMED_BY_LISTENERS)."""
    return held.get(type_url, 0) < serial and (
        type_url not in NAMED_BY_LISTENERS or type_url in asked)


def why_pending(node: NodeRecord, required: Serials) -> str:
    """'' when the node serves `required`, else `stale` or `NACKed: message`."""
    held, asked = node.held, node.asked
    short = [t for t, s in zip(PROGRAMMED_TYPES, required, strict=True)
             if lags(held, asked, t, s)]
    if not short:
        return ""
    rejecting = set(node.rejecting)
    for type_url in short:
        if type_url in rejecting:
            last = next((n for n in reversed(node.nacks) if n.type_url == type_url), None)
            return f"NACKed: {last.message if last else 'rejected'}"
    return "stale"


def on_nodes(nodes: Iterable[NodeRecord], required: Serials, generation: int | None,
             since: float | None) -> Programmed:
    """The programmed state of content needing `required`, on the connected nodes."""
    served: list[str] = []
    pending: list[tuple[str, str]] = []
    for node in sorted((n for n in nodes if n.connected), key=lambda n: n.node_id):
        why = why_pending(node, required)
        if why:
            pending.append((node.node_id, why))
        else:
            served.append(node.node_id)
    return Programmed(tuple(served), tuple(pending), generation, since)
