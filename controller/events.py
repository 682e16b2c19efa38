"""Object events and the one pipeline they feed: store → builder → translators → snapshot.

Sources (the folder watcher, the cluster watch) put events on one asyncio queue. The pipeline
drains whatever is queued, applies it, and rebuilds once if anything mattered. There is no
timer: a lone change is built at once, and a burst is coalesced because events that arrive
while a build runs are drained together by the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from controller import faults
from controller.dag.model import DAG
from controller.k8s.objects import CLUSTER_SCOPED, event_kind
from controller.records import record

log = logging.getLogger(__name__)

UPSERT = "upsert"
DELETE = "delete"
REJECT = "reject"


@record
class ObjectEvent:
    """What a source saw of one object, after the validation boundary (sources/intake.py):

    - `upsert`: the object was added or changed and is valid (`obj` is what to store, unknown
      fields already pruned; `warnings` says what was pruned);
    - `reject`: the object is invalid; `reasons` say where and why. It must behave as if it
      did not exist (an earlier valid version is dropped), and be reported;
    - `delete`: the object is gone.

    `source` names where it came from (a file path, or "cluster") for reports.
    """

    op: str
    kind: str
    namespace: str
    name: str
    obj: dict[str, Any] | None = None
    source: str = ""
    reasons: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @classmethod
    def upsert(cls, obj: dict[str, Any], *, source: str = "",
               warnings: tuple[str, ...] = ()) -> ObjectEvent:
        """An event for an object already known to be valid (its metadata are strings)."""
        meta = obj.get("metadata") or {}
        namespace = "" if obj.get("kind") in CLUSTER_SCOPED else meta.get("namespace") or "default"
        return cls(UPSERT, event_kind(obj.get("kind", ""), obj.get("apiVersion")), namespace,
                   meta.get("name", ""), obj, source=source, warnings=warnings)

    @classmethod
    def delete(cls, kind: str, namespace: str, name: str, *, source: str = "") -> ObjectEvent:
        return cls(DELETE, kind, namespace, name, source=source)

    @classmethod
    def reject(cls, kind: str, namespace: str, name: str, *, source: str,
               reasons: tuple[str, ...]) -> ObjectEvent:
        return cls(REJECT, kind, namespace, name, source=source, reasons=reasons)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)


@dataclass(frozen=True, slots=True)
class Synced:
    """A source has delivered its initial state (the first folder scan, the first lists)."""

    source: str


Event = ObjectEvent | Synced


@dataclass
class BuildStats:
    """What the last rounds cost; read by /metrics and the benchmarks."""

    builds: int = 0
    last_build_seconds: float = 0.0
    last_publish_monotonic: float = 0.0
    events: int = 0


SLOW_BATCH_SECONDS = 0.5
"""A batch whose apply and publish take longer is logged with its slowest object: every
other change waits for it (the event loop is one thread), so the operator learns who."""


def _log_if_slow(events: int, apply_s: float, publish_s: float,
                 slowest: tuple[float, ObjectEvent | None]) -> None:
    if apply_s + publish_s < SLOW_BATCH_SECONDS:
        return
    took, event = slowest
    named = f"{event.kind} {event.namespace}/{event.name} from {event.source or '-'}" \
        if event is not None else "-"
    log.warning("slow batch: %d events took %.2f s (apply %.2f s, the slowest %s %.2f s; "
                "build and publish %.2f s)", events, apply_s + publish_s, apply_s, named,
                took, publish_s)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """perf (bench/): what a batch allocates (views, DAG, encoded resources) is live data,
    not cyclic garbage: during a 10k-object cold start the collector ran 12 times, freed
    nothing and took ~15% of the time. It resumes after the batch (which the first full
    build has gc.freeze()d, app.py)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _drained(batch: list[Event]) -> Iterator[Event]:
    """The batch's events in order, each dropped from the list as it is handed out.

    memory (bench/memory.py, 50k IngressRoutes, Services and Endpoints in one batch, as a
    first list delivers them): with the whole batch alive until its end, every raw object
    outlived the parsing of all of them, and the views, the DAG and the encoded resources
    were allocated beyond them; the raw objects' arenas then stayed resident, pinned by
    the few strings the views share with them: RSS 737 MB for 343 MB of live objects.
    Freed one by one, their blocks are reused by what the store and the build allocate.
    """
    batch.reverse()
    while batch:
        yield batch.pop()


TRIM_AFTER_REMOVALS = 1000
"""Objects removed (deleted or rejected) before the freed memory is handed back to the OS
(controller/memory.py): a collection and a trim cost ~10-50 ms at 10k objects, so they
follow mass removals, not every delete."""

ENDPOINT_KINDS = frozenset({"Endpoints", "EndpointSlice"})
"""Kinds that take the EDS fast path instead of the store and the builder."""


class Pipeline:
    """Applies events to the store and the endpoint index, and publishes snapshots.

    `rebuild` and `publish_endpoints` are injected by the composition root (app.py), so this
    module knows nothing about protos or the server.
    """

    def __init__(
        self,
        *,
        apply_object: Callable[[ObjectEvent], bool],
        apply_endpoints: Callable[[ObjectEvent], bool],
        record: Callable[[ObjectEvent], bool],
        rebuild: Callable[[], DAG],
        publish_endpoints: Callable[[], None],
        on_ready: Callable[[], None],
        expected_sources: int = 1,
        release_memory: Callable[[], None] | None = None,
    ) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._apply_object = apply_object
        self._apply_endpoints = apply_endpoints
        self._record = record
        self._rebuild = rebuild
        self._publish_endpoints = publish_endpoints
        self._on_ready = on_ready
        self._pending_sources = expected_sources
        self._release_memory = release_memory
        self._removed = 0  # deletions and rejections since memory was last released
        self.ready = asyncio.Event()
        self.stats = BuildStats()

    async def run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            self.process(batch)

    def process(self, batch: list[Event]) -> None:
        """Apply one batch (the list is consumed: empty afterwards); rebuild at most once.
        Never raises: a bad object must not stop the controller."""
        with _gc_paused():
            self._process(batch)

    def _process(self, batch: list[Event]) -> None:
        routing_changed = endpoints_changed = False
        removed, events = 0, len(batch)
        started = time.perf_counter()
        slowest: tuple[float, ObjectEvent | None] = (0.0, None)
        for event in _drained(batch):
            if isinstance(event, Synced):
                self._pending_sources -= 1
                routing_changed = True
                continue
            self.stats.events += 1
            removed += event.op != UPSERT
            t = time.perf_counter()
            r, e = self._apply(event)
            if (took := time.perf_counter() - t) > slowest[0]:
                slowest = (took, event)
            routing_changed |= r
            endpoints_changed |= e
        if self._pending_sources > 0:
            return  # never publish a partial view: Envoy would drop what is not listed yet
        applied, cold = time.perf_counter(), not self.ready.is_set()
        self._publish(routing_changed, endpoints_changed)
        if cold:  # slow by nature: said once, for whoever waits for the controller
            log.info("ready: %d events applied in %.2f s, the first configuration built in "
                     "%.2f s", events, applied - started, time.perf_counter() - applied)
        else:
            _log_if_slow(events, applied - started, time.perf_counter() - applied, slowest)
        self._removed += removed
        if self._removed >= TRIM_AFTER_REMOVALS and self._release_memory is not None:
            self._removed = 0
            gc.collect()
            self._release_memory()

    def _apply(self, event: ObjectEvent) -> tuple[bool, bool]:
        """(routing changed, endpoints changed). The store stage's error boundary: an
        object whose event raises is quarantined (rejected, so it is reported and behaves
        as absent) and the batch goes on."""
        try:
            return self._apply_unguarded(event)
        except Exception as err:  # noqa: BLE001 - one broken object is reported, never fatal
            what = f"{event.kind} {event.namespace}/{event.name}"
            reason = faults.quarantine_reason("store", what, err)
            quarantined = ObjectEvent.reject(event.kind, event.namespace, event.name,
                                             source=event.source, reasons=(reason,))
            try:
                return self._apply_unguarded(quarantined)
            except Exception as again:  # noqa: BLE001
                faults.quarantine_reason("store", f"quarantining {what}", again)
                return True, True

    def _apply_unguarded(self, event: ObjectEvent) -> tuple[bool, bool]:
        status_changed = self._record(event)
        if event.kind in ENDPOINT_KINDS:
            return status_changed, self._apply_endpoints(event)
        return self._apply_object(event) or status_changed, False

    def _publish(self, routing_changed: bool, endpoints_changed: bool) -> None:
        first = not self.ready.is_set()
        if endpoints_changed or first:
            self._publish_endpoints()
        if routing_changed or first:
            start = time.perf_counter()
            try:
                self._rebuild()
            except Exception as err:  # noqa: BLE001 - keep serving the last good snapshot
                faults.quarantine_reason("build", "the configuration (the last good one stays "
                                         "in force)", err)
            self.stats.builds += 1
            self.stats.last_build_seconds = time.perf_counter() - start
        self.stats.last_publish_monotonic = time.monotonic()
        if first:
            self.ready.set()
            self._on_ready()
