"""What the xDS server knows about the Envoys talking to it.

Per node id: open streams, the version last sent and last ACKed per type, and the
NACKs (spec §0 item 2: a NACK is recorded per node and the last good config stays).
The counters and the ``on_event`` callbacks are the metrics hooks; prometheus wiring
lives elsewhere.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from controller.programmed.state import lags

log = logging.getLogger(__name__)

MAX_NACKS_PER_NODE = 20
MAX_DISCONNECTED_NODES = 1000

EventKind = Literal["connect", "disconnect", "push", "ack", "nack", "current"]
"""`current`: nothing was owed for a type after a snapshot change; the node holds the
snapshot's content of it (an implicit ACK of `serial`)."""


@dataclass(frozen=True, slots=True)
class Nack:
    node_id: str
    type_url: str
    version: str  # the version we sent and the node rejected
    nonce: str
    code: int
    message: str
    time: float


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    kind: EventKind
    node_id: str
    type_url: str = ""
    version: str = ""
    nack: Nack | None = None
    serial: int = 0


@dataclass(slots=True)
class NodeStatus:
    node_id: str
    cluster: str = ""
    streams: int = 0
    first_seen: float = field(default_factory=time.time)
    last_seen: float = field(default_factory=time.time)
    sent: dict[str, str] = field(default_factory=dict)  # type_url -> version
    acked: dict[str, str] = field(default_factory=dict)  # type_url -> version
    held: dict[str, int] = field(default_factory=dict)
    """type_url -> TypeSnapshot.serial of the content the node holds (ACKed or current)."""
    rejecting: set[str] = field(default_factory=set)
    """Types whose last response the node NACKed (cleared by its next ACK)."""
    nacks: deque[Nack] = field(default_factory=lambda: deque(maxlen=MAX_NACKS_PER_NODE))
    protocol: str = ""
    """"sotw" or "delta": the flavour of its last stream. Under delta, Envoy's config_dump
    shows a route table's or secret's own resource version, not the response's."""
    asked: set[str] = field(default_factory=set)
    """Types the node asked for on any of its streams (programmed.state.lags)."""

    @property
    def connected(self) -> bool:
        return self.streams > 0

    def answered(self, type_url: str, version: str) -> bool:
        """Whether this node ACKed or NACKed `version` of `type_url`."""
        return self.acked.get(type_url) == version or any(
            n.type_url == type_url and n.version == version for n in self.nacks)

    def copy(self) -> NodeStatus:
        return NodeStatus(
            self.node_id, self.cluster, self.streams, self.first_seen, self.last_seen,
            dict(self.sent), dict(self.acked), dict(self.held), set(self.rejecting),
            deque(self.nacks, maxlen=MAX_NACKS_PER_NODE), self.protocol, set(self.asked),
        )


class NodeRegistry:
    def __init__(self) -> None:
        self._nodes: dict[str, NodeStatus] = {}
        self.pushes: Counter[str] = Counter()  # responses sent, by type_url
        self.nacks: Counter[str] = Counter()  # NACKs received, by type_url
        self.on_event: list[Callable[[RegistryEvent], None]] = []
        self._lagging = ""  # all_hold's last witness

    # --- queries -----------------------------------------------------------------
    def nodes(self) -> list[NodeStatus]:
        """Copies, sorted by node id (safe to hand to a debug endpoint)."""
        return [self._nodes[k].copy() for k in sorted(self._nodes)]

    def node(self, node_id: str) -> NodeStatus | None:
        found = self._nodes.get(node_id)
        return found.copy() if found else None

    @property
    def connected_nodes(self) -> int:
        return sum(1 for n in self._nodes.values() if n.connected)

    def all_answered(self, type_url: str, version: str) -> bool:
        """True when every connected node has ACKed `version` of `type_url` or NACKed it
        (a rejection is an answer too: that node keeps its last good config). With no
        connected node, trivially True. Used by make-before-break (xdscache.retire)."""
        return all(node.answered(type_url, version)
                   for node in self._nodes.values() if node.connected)

    def all_hold(self, serials: Mapping[str, int], types: Iterable[str]) -> bool:
        """True when every connected node holds at least `serials` of each of `types` and
        rejects none of them (vacuously True with no connected node)."""
        types = tuple(types)

        def lagging(node: NodeStatus) -> bool:
            return node.connected and (bool(node.rejecting.intersection(types)) or any(
                lags(node.held, node.asked, t, serials.get(t, 0)) for t in types))

        # perf: asked on every ACK; while n Envoys take up a change one by one, the node
        # found lagging last time usually still lags, and a scan of all n per ACK made a
        # change O(n²) (measured: 10% of the controller's CPU with 1,000 clients).
        witness = self._nodes.get(self._lagging)
        if witness is not None and lagging(witness):
            return False
        for node in self._nodes.values():
            if lagging(node):
                self._lagging = node.node_id
                return False
        return True

    # --- recording (called by the streams) -----------------------------------------
    def connect(self, node_id: str, cluster: str = "", protocol: str = "") -> None:
        node = self._nodes.get(node_id) or NodeStatus(node_id)
        self._nodes[node_id] = node
        node.cluster = cluster or node.cluster
        node.protocol = protocol or node.protocol
        if not node.streams:  # a (re)connected Envoy holds nothing this controller knows of
            node.held.clear()
            node.rejecting.clear()
        node.streams += 1
        self._touch(node, RegistryEvent("connect", node_id))

    def disconnect(self, node_id: str) -> None:
        node = self._nodes.get(node_id)
        if node is None:
            return
        node.streams = max(0, node.streams - 1)
        self._touch(node, RegistryEvent("disconnect", node_id))
        self._forget_old_disconnected()

    def record_asked(self, node_id: str, type_url: str) -> None:
        """The node asked for `type_url` (its first request of the type on a stream)."""
        node = self._nodes.get(node_id)
        if node is not None:
            node.asked.add(type_url)

    def record_sent(self, node_id: str, type_url: str, version: str) -> None:
        self.pushes[type_url] += 1
        node = self._nodes.get(node_id)
        if node is not None:
            node.sent[type_url] = version
            self._touch(node, RegistryEvent("push", node_id, type_url, version))

    def record_ack(self, node_id: str, type_url: str, version: str, *, serial: int = 0) -> None:
        node = self._nodes.get(node_id)
        if node is not None:
            node.acked[type_url] = version
            node.held[type_url] = max(serial, node.held.get(type_url, 0))
            node.rejecting.discard(type_url)
            self._touch(node, RegistryEvent("ack", node_id, type_url, version, serial=serial))

    def record_current(self, node_id: str, type_url: str, serial: int) -> None:
        """The node holds `serial` of `type_url` without a response (nothing it wants moved)."""
        node = self._nodes.get(node_id)
        if node is not None and serial > node.held.get(type_url, 0):
            node.held[type_url] = serial
            self._touch(node, RegistryEvent("current", node_id, type_url, serial=serial))

    def record_nack(
        self, node_id: str, type_url: str, version: str, *, nonce: str, code: int, message: str
    ) -> Nack:
        nack = Nack(node_id, type_url, version, nonce, code, message, time.time())
        self.nacks[type_url] += 1
        node = self._nodes.get(node_id)
        if node is not None:
            node.nacks.append(nack)
            node.rejecting.add(type_url)
            self._touch(node, RegistryEvent("nack", node_id, type_url, version, nack))
        return nack

    def _touch(self, node: NodeStatus, event: RegistryEvent) -> None:
        node.last_seen = time.time()
        for callback in list(self.on_event):
            try:
                callback(event)
            except Exception:  # a metrics hook must never break a stream
                log.exception("registry hook %r failed", callback)

    def _forget_old_disconnected(self) -> None:
        # Keep disconnected nodes (their NACKs stay visible) but bound the memory.
        gone = [n for n in self._nodes.values() if not n.connected]
        for node in sorted(gone, key=lambda n: n.last_seen)[:-MAX_DISCONNECTED_NODES]:
            del self._nodes[node.node_id]
