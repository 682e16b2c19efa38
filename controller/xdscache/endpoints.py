"""EDS fast path: Kubernetes Endpoints / EndpointSlices (read into `EndpointSet`s by
controller/k8s/endpoints.py) → one ClusterLoadAssignment per port name, no DAG involved
(spec §3.7).

The cluster name is `ns/service/portName` (`ns/service` for an unnamed port), never hashed;
it is the `eds_cluster_config.service_name` of the CDS clusters. Only ready addresses count.

Both translations return `Assignments`: a dict of the assignments to send, plus `rejected`,
cluster name → reason, for those Envoy would reject (an address that is not an IP, a port
out of range: controller/envoy/constraints.py) or that cannot be encoded at all. A rejected
assignment is not sent, so Envoy never rejects a whole EDS response for one bad object;
the xDS server answers its name with an empty assignment (controller/xds/subscription.py).
An object whose shape cannot be read at all is rejected under `namespace/name`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.envoy import pb
from controller.envoy.endpoint import ip_port_assignment
from controller.k8s.endpoints import (
    EndpointSet,
    read_endpoints,
    read_endpointslice,
)
from controller.xdscache.verdicts import assignment_rejection

Targets = dict[str, set[tuple[Any, int]]]


class Assignments(dict[str, pb.ClusterLoadAssignment]):
    """ClusterLoadAssignments by cluster name, sorted; `rejected`: name → why it is not sent."""

    def __init__(self) -> None:
        super().__init__()
        self.rejected: dict[str, str] = {}


def endpoints_from_endpoints(obj: Mapping[str, Any]) -> Assignments:
    """A v1 Endpoints object's assignments (controller/k8s/endpoints.py reads it)."""
    return assignments_of("Endpoints", [read_endpoints(obj)])


def endpoints_from_endpointslices(slices: Iterable[Mapping[str, Any]]) -> Assignments:
    """The discovery.k8s.io/v1 EndpointSlices of a Service (or of several)."""
    return assignments_of("EndpointSlice", [read_endpointslice(s) for s in slices])


def assignments_of(kind: str, sets: list[EndpointSet]) -> Assignments:
    """The assignments of a Service's read objects of `kind`: the union of their groups.
    When one of them cannot be read (the first such one's error), nothing is sent and
    every one of them is named by `namespace/name`."""
    broken = next((s for s in sets if s.error), None)
    if broken is not None:
        out = Assignments()
        for s in sets:
            out.rejected[s.display] = f"{kind} {s.display} cannot be read: {broken.error}"
        return out
    targets: Targets = {}
    for s in sets:
        for name, port, ips in s.groups:
            targets.setdefault(name, set()).update((ip, port) for ip in ips)
    return _assignments(targets)


def _assignments(targets: Targets) -> Assignments:
    """Sorted by cluster name; endpoints sorted by (address, port), duplicates removed.
    An assignment that cannot be encoded, or that Envoy would reject, goes to `rejected`."""
    out = Assignments()
    for name in sorted(targets):
        what = f"ClusterLoadAssignment {name!r}"
        pairs = sorted(targets[name])
        try:
            assignment = ip_port_assignment(name, pairs)
        except (TypeError, ValueError) as error:  # an ip that is not a string, a port < 0
            out.rejected[name] = f"Envoy would reject {what}: cannot be encoded: {error}"
            continue
        reason = assignment_rejection(what, name, pairs, assignment)
        if reason is None:
            out[name] = assignment
        else:
            out.rejected[name] = reason
    return out
