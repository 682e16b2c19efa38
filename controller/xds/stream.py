"""What every xDS stream shares: a reader, a writer, ACK bookkeeping and push order.

One reader task turns requests into subscription state and ACK/NACK records; one
writer task pushes whatever the current snapshot owes the client. The writer wakes
on a request or on any cache change, and never before the cache is ready.

Flow control and make-before-break: per type at most one response is unacknowledged;
types are pushed in ``PUSH_ORDER`` (clusters, endpoints, secrets, listeners, routes),
and listeners and routes are held back while a cluster response is unacknowledged
(see ``WAITS_FOR``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf.message import DecodeError

from controller.xds.held import Held
from controller.xds.registry import NodeRegistry
from controller.xds.shared import health_checked
from controller.xds.subscription import Subscription
from controller.xdscache.snapshot import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    PUSH_ORDER,
    ROUTE,
    SCOPED_ROUTE,
    TYPE_URLS,
    VIRTUAL_HOST,
    Resource,
    SnapshotCache,
    TypeSnapshot,
)

log = logging.getLogger(__name__)

# Listeners and routes name clusters, so they wait until the clusters sent before
# them are ACKed. Envoy ACKs CDS only once the new clusters have warmed (their
# endpoints arrived), so this is make-before-break, not just wire order. Endpoints
# and secrets must not wait for the CDS ACK: warming needs them, it would deadlock
# until Envoy's initial fetch timeout (15 s).
WAITS_FOR: dict[str, tuple[str, ...]] = {
    LISTENER: (CLUSTER,), SCOPED_ROUTE: (CLUSTER,), ROUTE: (CLUSTER,), VIRTUAL_HOST: (CLUSTER,)}

HEALTH_CHECK_WARM_WAIT = 1.0
"""Seconds listeners and routes wait at most for the ACK of a cluster response that added
or changed an actively health-checked cluster. Envoy warms such a cluster until its first
health-check round ends, so one endpoint that accepts and never answers holds the ACK for
the user's whole `timeoutSeconds` (measured: p50 3.2 s per unrelated change with a 2 s
timeout, issue 7), and with it every other team's routes. After this wait they go out
anyway. A changed cluster keeps serving its old version while it warms; a new one is
unknown to Envoy's router until warm, so only its own routes answer 503 meanwhile. A
healthy health check answers well within it (loopback: milliseconds)."""


def eds_names(cluster_bodies: Iterable[bytes]) -> set[str]:
    """The ClusterLoadAssignment names the given serialized clusters ask for."""
    names = set()
    for body in cluster_bodies:
        try:
            cluster = cluster_pb2.Cluster.FromString(body)
        except DecodeError:
            continue  # Envoy will NACK it; nothing to re-send for it
        if cluster.type == cluster_pb2.Cluster.EDS:
            names.add(cluster.eds_cluster_config.service_name or cluster.name)
    return names


class StreamError(Exception):
    """Ends one stream with a gRPC status (the handler turns it into an abort)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class TypeState:
    sub: Subscription = field(default_factory=Subscription)
    answered: bool = False  # the first request of a type is always answered
    nonce: str = ""  # of the last response sent
    version: str = ""  # system version of the last response sent
    awaiting_ack: bool = False
    known: Held = field(default_factory=Held)  # what the client was sent: name -> version
    # perf: the TypeSnapshot last answered (or found up to date) with this state; while it
    # is still current and no request came in, the type needs no O(resources) re-check.
    evaluated: TypeSnapshot | None = None
    serial: int = 0  # TypeSnapshot.serial of the last response sent
    rejected: bool = False  # the last response sent was NACKed (the client kept older content)
    wait_deadline: float | None = None
    """Clusters only: when dependants stop waiting for the unacknowledged response (set
    when it added or changed a health-checked cluster; HEALTH_CHECK_WARM_WAIT)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    payload: bytes  # a serialized (Delta)DiscoveryResponse
    version: str
    sent: Sequence[Resource] = ()
    health_checked: bool | None = None
    """Whether a cluster in `sent` is health-checked, when known already (None: ask)."""
    all_moved: bool = False
    """Every resource in `sent` is new or changed for the client (delta)."""


class XdsStream(ABC):
    kind = "xds"

    def __init__(
        self,
        cache: SnapshotCache,
        registry: NodeRegistry,
        context: grpc.aio.ServicerContext,
        *,
        default_type: str | None = None,
    ) -> None:
        self._cache = cache
        self._registry = registry
        self._context = context
        self._default_type = default_type
        self._wake = asyncio.Event()
        self._nonces = itertools.count(1)
        self._states: dict[str, TypeState] = {}
        self.node_id: str | None = None

    async def run(self) -> None:
        """Serve until the client half-closes or goes away; errors end this stream only."""
        unlisten = self._cache.add_listener(self._wake.set)
        tasks = [asyncio.create_task(self._read_loop()), asyncio.create_task(self._write_loop())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            unlisten()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.node_id is not None:
                self._registry.disconnect(self.node_id)
        for task in done:
            if (exc := task.exception()) is not None:
                raise exc

    # --- reading -----------------------------------------------------------------
    async def _read_loop(self) -> None:
        while True:
            request = await self._context.read()
            if request is grpc.aio.EOF:
                return
            type_url = request.type_url or self._default_type or ""
            if type_url not in TYPE_URLS:
                # Upstream ends the stream the same way (spec §5, "Protocol").
                raise StreamError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f'no resource registered for typeURL "{type_url}"',
                )
            self._see_node(request.node)
            state = self._states.get(type_url)
            if state is None:
                state = self._states[type_url] = TypeState()
                self._registry.record_asked(self.node_id or "", type_url)
            self._take_response_nonce(type_url, state, request)
            self.on_request(type_url, state, request)
            state.evaluated = None
            self._wake.set()

    def _see_node(self, node: Any) -> None:
        # Envoy may send the node only on a stream's first request.
        if self.node_id is None:
            self.node_id = node.id or f"unknown@{self._context.peer()}"
            self._registry.connect(self.node_id, node.cluster, self.kind)

    def _take_response_nonce(self, type_url: str, state: TypeState, request: Any) -> None:
        # A nonce other than the last one sent answers an older response that was
        # already settled: it carries no ACK/NACK information (xDS protocol).
        if not request.response_nonce or request.response_nonce != state.nonce:
            return
        state.awaiting_ack = False
        node = self.node_id or ""
        state.rejected = request.HasField("error_detail")
        if state.rejected:
            detail = request.error_detail
            log.warning(
                "NACK from %s for %s version %s: %s",
                node, type_url, state.version, detail.message,
            )
            self._registry.record_nack(
                node, type_url, state.version,
                nonce=state.nonce, code=detail.code, message=detail.message,
            )
        else:
            self._registry.record_ack(node, type_url, self.acked_version(state, request),
                                      serial=state.serial)

    # --- writing -----------------------------------------------------------------
    async def _write_loop(self) -> None:
        await self._cache.wait_ready()
        while True:
            self._wake.clear()
            await self._push_due()
            await self._wake.wait()

    async def _push_due(self) -> None:
        snapshot = self._cache.snapshot
        for type_url in self._types_in_order():
            state = self._states[type_url]
            if state.awaiting_ack or self._held_back(type_url):
                continue
            resources = snapshot.get(type_url)
            if state.evaluated is resources:
                continue  # perf: nothing moved for this type since it was last settled
            before = state.known.frozen() if type_url == CLUSTER else None
            outgoing = self.response(type_url, state, resources)
            state.evaluated = resources
            if outgoing is None:
                self._note_up_to_date(type_url, state, resources)
                continue
            if before is not None:
                self._note_clusters_sent(state, before, outgoing, resources)
            # Record before awaiting the write: the ACK can arrive before write()
            # returns (grpc.aio), and must find the nonce it answers.
            state.answered, state.awaiting_ack = True, True
            state.version, state.serial = outgoing.version, resources.serial
            self._registry.record_sent(self.node_id or "", type_url, outgoing.version)
            await self._context.write(outgoing.payload)

    def _note_up_to_date(self, type_url: str, state: TypeState,
                         resources: TypeSnapshot) -> None:
        """Nothing to send: the client holds what it wants of `resources` already, unless
        its last answer was a NACK (then it kept older content)."""
        if state.answered and not state.rejected and state.serial != resources.serial:
            state.serial = resources.serial
            self._registry.record_current(self.node_id or "", type_url, resources.serial)

    def _note_clusters_sent(self, state: TypeState, before: Mapping[str, str],
                            out: Outgoing, resources: TypeSnapshot) -> None:
        """After a cluster response: resend the assignments of changed clusters, and bound
        the wait of listeners and routes when a sent cluster is new or changed and
        health-checked. perf: from what was sent, not from everything the client holds."""
        moved = out.sent if out.all_moved else [
            r for r in out.sent if before.get(r.name) != r.version]
        changed = [r.name for r in moved if r.name in before] if before else []
        if changed:
            self._forget_endpoints_of(changed, resources)
        state.wait_deadline = None
        checked = out.health_checked if out.all_moved else None
        if checked is None:
            checked = health_checked(moved)
        if checked:
            loop = asyncio.get_running_loop()
            state.wait_deadline = loop.time() + HEALTH_CHECK_WARM_WAIT
            loop.call_later(HEALTH_CHECK_WARM_WAIT, self._wake.set)

    def _forget_endpoints_of(self, clusters: list[str], resources: TypeSnapshot) -> None:
        # Envoy replaces a changed cluster with a new one that warms until it gets its
        # ClusterLoadAssignment, even if that did not change and the EDS names did not
        # move (measured: it waits out the 15 s initial fetch timeout). So the
        # assignments of changed clusters count as not sent and go out again; the
        # rest do not (gotcha 8).
        endpoints = self._states.get(ENDPOINT)
        if endpoints is None:
            return
        for name in eds_names(resources.resources[n].body for n in clusters):
            endpoints.known.pop(name)
            endpoints.evaluated = None

    def _held_back(self, type_url: str) -> bool:
        now = asyncio.get_running_loop().time()
        return any(
            (dep := self._states.get(t)) is not None and dep.awaiting_ack
            and (dep.wait_deadline is None or now < dep.wait_deadline)
            for t in WAITS_FOR.get(type_url, ())
        )

    def _types_in_order(self) -> list[str]:
        return [t for t in PUSH_ORDER if t in self._states]

    def next_nonce(self, state: TypeState) -> str:
        state.nonce = str(next(self._nonces))
        return state.nonce

    # --- per protocol ------------------------------------------------------------
    @abstractmethod
    def on_request(self, type_url: str, state: TypeState, request: Any) -> None:
        """Apply the request's subscription change."""

    @abstractmethod
    def acked_version(self, state: TypeState, request: Any) -> str: ...

    @abstractmethod
    def response(self, type_url: str, state: TypeState, resources: TypeSnapshot) -> Outgoing | None:
        """The response owed for this type, or None when the client is up to date.

        Must set the state's bookkeeping (nonce, what was sent) as a side effect.
        """
