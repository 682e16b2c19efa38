"""EDS fast path: Kubernetes Endpoints / EndpointSlices (raw JSON dicts) → one
ClusterLoadAssignment per port name, no DAG involved (spec §3.7).

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
from controller.envoy.constraints import rejection
from controller.envoy.endpoint import ip_port_assignment

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_IP_ADDRESS_TYPES = ("IPv4", "IPv6")

Targets = dict[str, set[tuple[str, int]]]
_UNREADABLE = (AttributeError, KeyError, TypeError, ValueError, IndexError)


class Assignments(dict[str, pb.ClusterLoadAssignment]):
    """ClusterLoadAssignments by cluster name, sorted; `rejected`: name → why it is not sent."""

    def __init__(self) -> None:
        super().__init__()
        self.rejected: dict[str, str] = {}


def eds_name(namespace: str, service: str, port_name: str | None) -> str:
    base = f"{namespace}/{service}"
    return f"{base}/{port_name}" if port_name else base


def endpoints_from_endpoints(obj: Mapping[str, Any]) -> Assignments:
    """A v1 Endpoints object: subsets[].addresses (never notReadyAddresses) × the subset's
    ports; a port name may gather addresses with different target ports from several subsets."""
    targets: Targets = {}
    try:
        meta = obj.get("metadata") or {}
        for subset in obj.get("subsets") or ():
            ips = [a["ip"] for a in subset.get("addresses") or () if a.get("ip")]
            if ips:
                _add(targets, meta, subset.get("ports") or (), ips)
    except _UNREADABLE as error:
        return _unreadable("Endpoints", [obj], error)
    return _assignments(targets)


def endpoints_from_endpointslices(slices: Iterable[Mapping[str, Any]]) -> Assignments:
    """The discovery.k8s.io/v1 EndpointSlices of a Service (or of several): endpoints whose
    `conditions.ready` is not false, first address of each, × the slice's ports."""
    targets: Targets = {}
    slices = list(slices)
    try:
        for s in slices:
            if s.get("addressType", "IPv4") not in _IP_ADDRESS_TYPES:
                continue  # FQDN slices carry no IPs
            meta = dict(s.get("metadata") or {})
            meta["name"] = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
            ips = [e["addresses"][0] for e in s.get("endpoints") or () if _ready_with_address(e)]
            if meta["name"] and ips:
                _add(targets, meta, s.get("ports") or (), ips)
    except _UNREADABLE as error:
        return _unreadable("EndpointSlice", slices, error)
    return _assignments(targets)


def _unreadable(kind: str, objects: list[Mapping[str, Any]], error: Exception) -> Assignments:
    """Nothing is sent for objects whose shape cannot be read; they are named by
    `namespace/name` (as far as their metadata can be read)."""
    out = Assignments()
    for obj in objects:
        meta = obj.get("metadata") if isinstance(obj, Mapping) else None
        meta = meta if isinstance(meta, Mapping) else {}
        name = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        out.rejected[name] = f"{kind} {name} cannot be read: {type(error).__name__}: {error}"
    return out


def _ready_with_address(endpoint: Mapping[str, Any]) -> bool:
    conditions = endpoint.get("conditions") or {}
    return conditions.get("ready") is not False and bool(endpoint.get("addresses"))


def _add(
    targets: Targets,
    meta: Mapping[str, Any],
    ports: Iterable[Mapping[str, Any]],
    ips: list[str],
) -> None:
    for port in ports:
        number = port.get("port")
        if not number:
            continue
        if type(number) is not int:  # never coerce "80", 80.5 or True
            raise ValueError(f"port {number!r} is not an integer")
        name = eds_name(meta.get("namespace", ""), meta.get("name", ""), port.get("name"))
        targets.setdefault(name, set()).update((ip, number) for ip in ips)


def _assignments(targets: Targets) -> Assignments:
    """Sorted by cluster name; endpoints sorted by (address, port), duplicates removed.
    An assignment that cannot be encoded, or that Envoy would reject, goes to `rejected`."""
    out = Assignments()
    for name in sorted(targets):
        what = f"ClusterLoadAssignment {name!r}"
        try:
            assignment = ip_port_assignment(name, sorted(targets[name]))
        except (TypeError, ValueError) as error:  # an ip that is not a string, a port < 0
            out.rejected[name] = f"Envoy would reject {what}: cannot be encoded: {error}"
            continue
        reason = rejection(what, assignment)
        if reason is None:
            out[name] = assignment
        else:
            out.rejected[name] = reason
    return out
