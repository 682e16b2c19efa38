"""The routing path: object events → store → incremental builder → translators → snapshot.

`RoutingPublisher.apply` takes one (already validated) object event; `rebuild` re-processes
what the events touched and publishes the resources that changed, make-before-break.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

from controller.config import Settings
from controller.dag.incremental import IncrementalBuilder
from controller.dag.model import DAG, Status
from controller.dag.store import ObjectStore
from controller.events import UPSERT, ObjectEvent
from controller.k8s.status import STATUS_PATHS, Observed, observed_status
from controller.rejections import Rejections, merged_statuses, with_translation_rejections
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.retire import Retirer
from controller.xdscache.snapshot import SnapshotCache

StatusSink = Callable[[tuple[Status, ...]], None]


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
        """IngressRoute and HTTPProxy statuses as the source last showed them, by (kind,
        namespace, name): the writer skips equal ones, /debug/status shows the generation."""
        self.status_sink: StatusSink | None = None

    def apply(self, event: ObjectEvent) -> bool:
        """Store one event (a rejected object counts as deleted); True when it may change
        the DAG."""
        key = event.key
        self.builder.touch(event.kind, event.namespace, event.name)  # perf: what to rebuild
        if event.op == UPSERT and event.obj is not None:
            if event.kind in STATUS_PATHS:
                self.stored_statuses[key] = observed_status(event.obj)
            return self.store.upsert(event.obj)
        if event.kind in STATUS_PATHS:
            self.stored_statuses.pop(key, None)
        return self.store.remove(event.kind, event.namespace, event.name)

    def rebuild(self) -> DAG:
        """Re-process only the roots and re-encode only the hosts the events touched;
        publish only what changed."""
        dag, changes = self.builder.build()
        update = self.translator.update(dag, None if changes.full else changes.hosts,
                                        http=self.builder.http_vhosts,
                                        https=self.builder.https_vhosts)
        self.retirer.hold_back(update.changed, update.removed)  # make-before-break
        self.cache.publish(update.changed, partial=True, removed=update.removed)
        self.dag = dag
        built = with_translation_rejections(dag.statuses, update.rejected)
        self.statuses = merged_statuses(built, self.rejections.statuses())
        if self.status_sink is not None:
            self.status_sink(self.statuses)
        if changes.full:
            # perf: the initial objects live as long as the process; keep the cyclic GC
            # from re-scanning them on every later collection.
            gc.freeze()
        return dag
