"""Run the controller's own store + builder on a snapshot: the statuses and routes shown by
the plugin are exactly what the controller would compute from the same objects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubectl_contour.objects import BUILDER_KINDS, Snapshot, key_of

if TYPE_CHECKING:
    from controller.config import BuilderSettings
    from controller.dag.model import DAG
    from controller.dag.store import ObjectStore


def build_store(snapshot: Snapshot, *, settings: BuilderSettings) -> ObjectStore:
    """The controller's object store holding the snapshot's builder kinds (what it keeps of
    them: objects of another ingress class are dropped, secrets validated)."""
    from controller.dag.store import ObjectStore

    store = ObjectStore(settings)
    for kind in BUILDER_KINDS:
        for obj in sorted(snapshot.of_kind(kind), key=key_of):
            store.upsert(obj)
    return store


def build_dag(snapshot: Snapshot, *, settings: BuilderSettings) -> DAG:
    from controller.dag.builder import build

    return build(build_store(snapshot, settings=settings), settings)
