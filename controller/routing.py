"""The routing path: object events → store → incremental builder → translators → snapshot.

`RoutingPublisher.apply` takes one (already validated) object event; `rebuild` re-processes
what the events touched and publishes the resources that changed, make-before-break.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Collection, Iterable

from controller.config import Settings
from controller.dag.gateway_model import GatewayAPIStatus, GatewayService
from controller.dag.incremental import IncrementalBuilder
from controller.dag.model import DAG, Status
from controller.dag.store import ObjectStore
from controller.events import UPSERT, ObjectEvent
from controller.k8s.status import STATUS_PATHS, WRITTEN_KINDS, Observed, observed_status
from controller.programmed.conditions import GRACE_SECONDS, in_grace, to_write
from controller.programmed.state import NodeRecord, Programmed
from controller.programmed.ticker import Ticker, schedule_later
from controller.programmed.tracker import Key, ProgrammedTracker
from controller.rejections import Rejections, merged_statuses, with_translation_rejections
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.retire import Retirer
from controller.xdscache.snapshot import SnapshotCache

StatusSink = Callable[[tuple[Status, ...], tuple[GatewayAPIStatus, ...]], None]
STATUS_INTERVAL = 1.0
"""Seconds between two status submissions at most: each build and each Envoy answer asks
for one, and a burst of them (a 10k-object change ACKed by n Envoys) is one."""


ROUTING_KINDS = frozenset({*STATUS_PATHS, "Ingress", "HTTPRoute", "GRPCRoute", "TLSRoute"})
"""Kinds whose routes carry provenance: their generation is what Programmed is about."""


def generation_of(obj: dict[str, object]) -> int | None:
    """metadata.generation when the object carries one (objects from files may not)."""
    meta = obj.get("metadata")
    generation = meta.get("generation") if isinstance(meta, dict) else None
    return generation if isinstance(generation, int) and not isinstance(generation, bool) \
        else None


class RoutingPublisher:
    """Owns the store, the builder and the translator; publishes into `cache`."""

    def __init__(self, settings: Settings, cache: SnapshotCache, retirer: Retirer,
                 rejections: Rejections) -> None:
        self.cache, self.retirer, self.rejections = cache, retirer, rejections
        self.store = ObjectStore(settings.builder)
        # perf (bench/): incremental builder and translator, see controller/dag/incremental.py
        self.builder = IncrementalBuilder(self.store, settings.builder)
        self.translator = IncrementalTranslator(settings.listeners)
        self.dag = DAG()
        self.statuses: tuple[Status, ...] = ()
        self.stored_statuses: dict[tuple[str, str, str], Observed] = {}
        """IngressRoute, HTTPProxy and Gateway API statuses as the source last showed them,
        by (kind, namespace, name): the writer skips equal ones, /debug/status shows the
        generation."""
        self.status_sink: StatusSink | None = None
        self.gateway_services_sink: Callable[[tuple[GatewayService, ...]], None] | None = None
        """Isolated Gateways: each build's wanted Services (k8s/gateway_service_writer.py)."""
        self.programmed = ProgrammedTracker()
        self.nodes: Callable[[], Iterable[NodeRecord]] = tuple
        """The Envoys the xDS server knows (set by the composition root)."""
        self._status_ticker = Ticker(self._submit_statuses, STATUS_INTERVAL)
        self._generations: dict[tuple[str, str, str], int | None] = {}
        """Routing objects' metadata.generation as stored (handed to `programmed` per build)."""

    def apply(self, event: ObjectEvent) -> bool:
        """Store one event (a rejected object counts as deleted); True when it may change
        the DAG."""
        key = event.key
        self.builder.touch(event.kind, event.namespace, event.name)  # perf: what to rebuild
        if event.op == UPSERT and event.obj is not None:
            if event.kind in WRITTEN_KINDS:
                self.stored_statuses[key] = observed_status(event.obj)
            # a spec edit the views do not read leaves the store unchanged, but its
            # generation must still reach the statuses' observedGeneration
            moved = False
            if event.kind in ROUTING_KINDS:
                generation = generation_of(event.obj)
                moved = self._generations.get(key, generation) != generation
                self._generations[key] = generation
            return self.store.upsert(event.obj) or moved
        if event.kind in WRITTEN_KINDS:
            self.stored_statuses.pop(key, None)
        self._generations.pop(key, None)
        return self.store.remove(event.kind, event.namespace, event.name)

    def retranslate(self, hosts: Iterable[str]) -> None:
        """Re-apply `hosts` of the current DAG (after the translator's holds moved: NACK
        bisection, quarantine) and publish what changed."""
        self._publish(self.dag, set(hosts))

    def forget_memos(self) -> None:
        """Drop what the translator keeps by content (after a mass removal: app.py)."""
        self.translator.forget()

    def _publish(self, dag: DAG, hosts: Collection[str] | None) -> None:
        """Translate `hosts` of `dag` (None: all), publish make-before-break, and record the
        statuses and what serving them takes."""
        update = self.translator.update(dag, hosts, http=self.builder.http_vhosts,
                                        https=self.builder.https_vhosts)
        self.retirer.hold_back(update.changed, update.removed)  # make-before-break
        self.cache.publish(update.changed, partial=True, removed=update.removed)
        self.dag = dag
        if self.gateway_services_sink is not None:
            self.gateway_services_sink(dag.gateway_services)
        built = with_translation_rejections(dag.statuses, update.rejected)
        self.statuses = merged_statuses(built, self.rejections.statuses())
        self.programmed.built(dag, self.statuses, hosts, self.cache.snapshot.serials(),
                              self._generations)
        self._status_ticker.poke()

    def programmed_states(self) -> dict[Key, Programmed]:
        """Every routing object of the last build → which connected Envoys serve it."""
        return self.programmed.evaluate(self.nodes())

    def envoys_answered(self) -> None:
        """An Envoy connected, left, ACKed or NACKed: programmed states may have moved."""
        self._status_ticker.poke()

    def _submit_statuses(self) -> None:
        if self.status_sink is None:
            return
        states, now = self.programmed_states(), time.time()
        self.status_sink(to_write(self.statuses, states, now), self.dag.gateway_statuses)
        if any(in_grace(s, now) for s in states.values()):
            schedule_later(GRACE_SECONDS, self._status_ticker.poke)  # write it if it lasts

    def rebuild(self) -> DAG:
        """Re-process only the roots and re-encode only the hosts the events touched;
        publish only what changed."""
        dag, changes = self.builder.build()
        self._publish(dag, None if changes.full else changes.hosts)
        if changes.full:
            # perf: the initial objects live as long as the process; keep the cyclic GC
            # from re-scanning them on every later collection.
            gc.freeze()
        return dag
