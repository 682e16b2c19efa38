"""What the metrics and debug pages read: a read-only view of the running controller's parts,
built by the composition root before start-up (so the pages never reach into the root)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from controller.config import Settings
from controller.dag.model import DAG, Status
from controller.events import BuildStats
from controller.k8s.conditions import condition_dict
from controller.k8s.objects import HTTPPROXY
from controller.rejections import Rejections
from controller.xds.registry import NodeRegistry
from controller.xdscache.snapshot import SnapshotCache

if TYPE_CHECKING:
    from controller.k8s.leader import LeaderElector
    from controller.routing import RoutingPublisher
    from controller.sources.cluster import WatchStats


@dataclass
class Heartbeat:
    """Proves the event loop turns (/livez): `beat` is called from the loop every second."""

    last: float = field(default_factory=time.monotonic)

    def beat(self) -> None:
        self.last = time.monotonic()

    def stalled_for(self) -> float:
        return time.monotonic() - self.last


@dataclass
class StateView:
    settings: Settings
    routing: RoutingPublisher
    rejections: Rejections
    cache: SnapshotCache
    registry: NodeRegistry
    build_stats: BuildStats
    heartbeat: Heartbeat
    source_errors: Mapping[str, str] = field(default_factory=dict)
    watch_stats: WatchStats | None = None
    leader: LeaderElector | None = None
    status_writes: Any = None
    """An object with a `writes` count (the status writer), cluster mode only."""

    @property
    def dag(self) -> DAG:
        return self.routing.dag

    @property
    def statuses(self) -> tuple[Status, ...]:
        return self.routing.statuses

    def object_counts(self) -> dict[str, int]:
        return self.routing.store.counts()

    def status_rows(self) -> list[dict[str, Any]]:
        """/debug/status: one row per status; an HTTPProxy's carries its `conditions` as the
        status subresource does, with observedGeneration when the object's is known."""
        rows = []
        for s in self.statuses:
            row: dict[str, Any] = {"kind": s.kind, "namespace": s.namespace, "name": s.name,
                                   "currentStatus": s.current, "description": s.description}
            if s.kind == HTTPPROXY:
                stored = self.routing.stored_statuses.get((s.kind, s.namespace, s.name))
                generation = stored.generation if stored is not None else None
                row["conditions"] = [condition_dict(c, generation) for c in s.conditions]
            rows.append(row)
        return rows

    def sources_report(self) -> dict[str, Any]:
        """/debug/sources: files that fail to parse, rejected objects, pruned fields."""
        return {"errors": dict(sorted(self.source_errors.items())), **self.rejections.report()}
