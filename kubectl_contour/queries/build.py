"""Run the controller's own store + builder on a snapshot: the statuses and routes shown by
the plugin are exactly what the controller would compute from the same objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_contour.objects import BUILDER_KINDS, Snapshot, key_of

if TYPE_CHECKING:
    from controller.config import BuilderSettings
    from controller.dag.model import DAG


def build_dag(snapshot: Snapshot, *, settings: BuilderSettings) -> DAG:
    from controller.dag.builder import build
    from controller.dag.store import ObjectStore

    store = ObjectStore(settings)
    for kind in BUILDER_KINDS:
        for obj in sorted(snapshot.of_kind(kind), key=key_of):
            store.upsert(obj)
    return build(store, settings)
