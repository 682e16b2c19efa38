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
from controller.k8s import gateway_status
from controller.k8s.conditions import condition_dict
from controller.k8s.objects import EXTENSION_SERVICE, HTTPPROXY
from controller.programmed.conditions import with_programmed
from controller.programmed.state import Programmed
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
    source_reading: Mapping[Any, Any] = field(default_factory=dict)
    """Source files being read off the event loop (folder mode): their objects follow."""
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
        """/debug/status: one row per status with its `programmed` state; an HTTPProxy's
        carries its `conditions` (Programmed too) as the status subresource does, with
        observedGeneration when the object's is known."""
        states = self.routing.programmed_states()
        rows = []
        for s in with_programmed(self.statuses, states):
            row: dict[str, Any] = {"kind": s.kind, "namespace": s.namespace, "name": s.name,
                                   "currentStatus": s.current, "description": s.description}
            state = states.get((s.kind, s.namespace, s.name))
            if state is not None:
                row["programmed"] = programmed_dict(state)
            if s.kind in (HTTPPROXY, EXTENSION_SERVICE):
                stored = self.routing.stored_statuses.get((s.kind, s.namespace, s.name))
                generation = stored.generation if stored is not None else None
                row["conditions"] = [condition_dict(c, generation) for c in s.conditions]
            rows.append(row)
        return rows + self.gateway_status_rows()

    def gateway_status_rows(self) -> list[dict[str, Any]]:
        """/debug/status rows of the Gateway API kinds: the `status` the writer would
        write (without lastTransitionTime), by (namespace, name, kind)."""
        statuses = self.dag.gateway_statuses
        if not statuses:
            return []
        controller = self.settings.builder.gateway_controller_name
        rows = []
        for s in statuses:
            stored = self.routing.stored_statuses.get((s.kind, s.namespace, s.name))
            generation, seen = (stored.generation, stored.status) if stored else (None, {})
            rows.append({"kind": s.kind, "namespace": s.namespace, "name": s.name,
                         "status": gateway_status.wanted(s, generation, seen, controller)})
        return rows

    def programmed_rows(self) -> list[dict[str, Any]]:
        """/debug/programmed: every IngressRoute, HTTPProxy and Ingress of the last build,
        with which connected Envoys serve its current generation."""
        statuses = {(s.kind, s.namespace, s.name): s for s in self.statuses}
        rows = []
        for key, state in self.routing.programmed_states().items():
            status = statuses.get(key)
            rows.append({"kind": key[0], "namespace": key[1], "name": key[2],
                         "currentStatus": status.current if status else "valid",
                         "description": status.description if status else "",
                         **programmed_dict(state)})
        return rows

    def sources_report(self) -> dict[str, Any]:
        """/debug/sources: files that fail to parse, files being read, rejected objects,
        pruned fields."""
        return {"errors": dict(sorted(self.source_errors.items())),
                "reading": sorted(str(path) for path in self.source_reading),
                **self.rejections.report()}


def programmed_dict(state: Programmed) -> dict[str, Any]:
    """A programmed state as /debug rows carry it (what `kubectl contour wait` reads)."""
    return {"programmed": state.programmed, "served": len(state.served),
            "envoys": state.total, "generation": state.generation, "since": state.since,
            "servedBy": list(state.served),
            "pending": [{"node": node, "why": why} for node, why in state.pending],
            "reason": state.reason, "message": state.message}
