"""The EDS fast path: Endpoints and EndpointSlice events → ClusterLoadAssignments in the
snapshot cache, without a DAG rebuild."""

from __future__ import annotations

from collections.abc import Iterable

from controller import faults
from controller.dag.model import ExtensionCluster
from controller.envoy import pb
from controller.events import UPSERT, ObjectEvent
from controller.k8s.endpoints import EndpointsIndex, ServiceKey
from controller.xdscache import endpoints as eds
from controller.xdscache.extension_endpoints import ExtensionAssignments
from controller.xdscache.snapshot import SnapshotCache


class EndpointPublisher:
    """Keeps the endpoints index and publishes the assignments of the Services that changed."""

    def __init__(self, cache: SnapshotCache, index: EndpointsIndex | None = None) -> None:
        self.cache = cache
        self.index = index if index is not None else EndpointsIndex()
        self._dirty: set[ServiceKey] = set()
        self._names: dict[ServiceKey, tuple[str, ...]] = {}  # EDS names published per Service
        # memory: tuples, not frozensets (216 bytes each even for one name; 50k Services)
        self.extensions = ExtensionAssignments()

    def apply(self, event: ObjectEvent) -> bool:
        """Index one event (a rejected object counts as deleted); True when a Service's
        endpoints changed."""
        if event.op == UPSERT and event.obj is not None:
            svc = self.index.upsert(event.obj)
        else:
            svc = self.index.remove(event.kind, event.namespace, event.name)
        if svc is not None:
            self._dirty.add(svc)
        return svc is not None

    def publish(self) -> None:
        """Translate only the Services whose endpoints changed (all of them the first time)."""
        if not self.cache.ready:
            self._dirty = set(self.index.services()) | set(self._names)
        changed: dict[str, pb.ClusterLoadAssignment | None] = {}
        for svc in sorted(self._dirty):
            assignments = self._guarded_assignments(svc)
            changed.update(dict.fromkeys(set(self._names.get(svc, ())) - assignments.keys()))
            changed.update(assignments)
            self._names[svc] = tuple(assignments)
            if not assignments:
                self._names.pop(svc, None)
        self._dirty.clear()
        self.extensions.member_changed(changed)
        upserts = {n: a.SerializeToString(deterministic=True) for n, a in changed.items()
                   if a is not None}
        self._send(upserts, {n for n, a in changed.items() if a is None}, always=True)

    def set_extensions(self, extensions: Iterable[ExtensionCluster]) -> None:
        """After a build: the ExtensionServices' clusters, whose assignments gather their
        member Services' endpoints (extension_endpoints.py)."""
        self.extensions.set_extensions(extensions)
        self._send({}, set())

    def _send(self, changed: dict[str, bytes], removed: set[str], *, always: bool = False
              ) -> None:
        extension_changed, extension_removed = self.extensions.take()
        changed.update(extension_changed)
        if always or changed or removed or extension_removed:
            self.cache.update(pb.ENDPOINT_TYPE, changed, removed | extension_removed)

    def _guarded_assignments(self, svc: ServiceKey) -> dict[str, pb.ClusterLoadAssignment]:
        """The translate stage's error boundary for one Service: on a bug, the Service has no
        endpoints (reported), every other Service is published."""
        try:
            return self._assignments(svc)
        except Exception as err:  # noqa: BLE001
            faults.quarantine_reason("endpoints", f"Service {svc[0]}/{svc[1]}", err)
            return {}

    def _assignments(self, svc: ServiceKey) -> dict[str, pb.ClusterLoadAssignment]:
        kind, sets = self.index.source_of(svc)
        if kind == "none":
            return {}
        return dict(eds.assignments_of("EndpointSlice" if kind == "slices" else "Endpoints",
                                       sets))
