"""What every xDS stream shares: a reader, a writer, ACK bookkeeping and push order.

One reader task turns requests into subscription state and ACK/NACK records; one
writer task pushes whatever the current snapshot owes the client. The writer wakes
on a request or on any cache change, and never before the cache is ready.

Flow control and make-before-break: per type at most one response is unacknowledged,
and types are pushed in ``PUSH_ORDER`` with a later type held back while an earlier
one waits for its ACK. So when clusters and listeners change together, Envoy has
processed the clusters (and asked for their endpoints) before it sees the listeners.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import grpc

from controller.xds.registry import NodeRegistry
from controller.xds.subscription import Subscription
from controller.xdscache.snapshot import PUSH_ORDER, TYPE_URLS, SnapshotCache, TypeSnapshot

log = logging.getLogger(__name__)


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


S = TypeVar("S", bound=TypeState)


@dataclass(frozen=True, slots=True)
class Outgoing:
    payload: bytes  # a serialized (Delta)DiscoveryResponse
    version: str


class XdsStream(ABC, Generic[S]):
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
        self._states: dict[str, S] = {}
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
                state = self._states[type_url] = self.new_state()
            self._take_response_nonce(type_url, state, request)
            self.on_request(type_url, state, request)
            self._wake.set()

    def _see_node(self, node: Any) -> None:
        # Envoy may send the node only on a stream's first request.
        if self.node_id is None:
            self.node_id = node.id or f"unknown@{self._context.peer()}"
            self._registry.connect(self.node_id, node.cluster)

    def _take_response_nonce(self, type_url: str, state: S, request: Any) -> None:
        # A nonce other than the last one sent answers an older response that was
        # already settled: it carries no ACK/NACK information (xDS protocol).
        if not request.response_nonce or request.response_nonce != state.nonce:
            return
        state.awaiting_ack = False
        node = self.node_id or ""
        if request.HasField("error_detail"):
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
            self._registry.record_ack(node, type_url, self.acked_version(state, request))

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
            if state.awaiting_ack:
                return  # make-before-break: later types wait for this one's ACK
            outgoing = self.response(type_url, state, snapshot.get(type_url))
            if outgoing is None:
                continue
            # Record before awaiting the write: the ACK can arrive before write()
            # returns (grpc.aio), and must find the nonce it answers.
            state.answered, state.awaiting_ack = True, True
            state.version = outgoing.version
            self._registry.record_sent(self.node_id or "", type_url, outgoing.version)
            await self._context.write(outgoing.payload)

    def _types_in_order(self) -> list[str]:
        return [t for t in PUSH_ORDER if t in self._states]

    def next_nonce(self, state: S) -> str:
        state.nonce = str(next(self._nonces))
        return state.nonce

    # --- per protocol ------------------------------------------------------------
    @abstractmethod
    def new_state(self) -> S: ...

    @abstractmethod
    def on_request(self, type_url: str, state: S, request: Any) -> None:
        """Apply the request's subscription change."""

    @abstractmethod
    def acked_version(self, state: S, request: Any) -> str: ...

    @abstractmethod
    def response(self, type_url: str, state: S, resources: TypeSnapshot) -> Outgoing | None:
        """The response owed for this type, or None when the client is up to date.

        Must set the state's bookkeeping (nonce, what was sent) as a side effect.
        """
