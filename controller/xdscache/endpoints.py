"""EDS fast path: Kubernetes Endpoints / EndpointSlices (raw JSON dicts) → one
ClusterLoadAssignment per port name, no DAG involved (spec §3.7).

The cluster name is `ns/service/portName` (`ns/service` for an unnamed port), never hashed;
it is the `eds_cluster_config.service_name` of the CDS clusters. Only ready addresses count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.envoy import pb
from controller.envoy.endpoint import ip_port_assignment

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_IP_ADDRESS_TYPES = ("IPv4", "IPv6")

Targets = dict[str, set[tuple[str, int]]]


def eds_name(namespace: str, service: str, port_name: str | None) -> str:
    base = f"{namespace}/{service}"
    return f"{base}/{port_name}" if port_name else base


def endpoints_from_endpoints(obj: Mapping[str, Any]) -> dict[str, pb.ClusterLoadAssignment]:
    """A v1 Endpoints object: subsets[].addresses (never notReadyAddresses) × the subset's
    ports; a port name may gather addresses with different target ports from several subsets."""
    meta = obj.get("metadata") or {}
    targets: Targets = {}
    for subset in obj.get("subsets") or ():
        ips = [a["ip"] for a in subset.get("addresses") or () if a.get("ip")]
        if ips:
            _add(targets, meta, subset.get("ports") or (), ips)
    return _assignments(targets)


def endpoints_from_endpointslices(
    slices: Iterable[Mapping[str, Any]],
) -> dict[str, pb.ClusterLoadAssignment]:
    """The discovery.k8s.io/v1 EndpointSlices of a Service (or of several): endpoints whose
    `conditions.ready` is not false, first address of each, × the slice's ports."""
    targets: Targets = {}
    for s in slices:
        if s.get("addressType", "IPv4") not in _IP_ADDRESS_TYPES:
            continue  # FQDN slices carry no IPs
        meta = dict(s.get("metadata") or {})
        meta["name"] = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
        ips = [e["addresses"][0] for e in s.get("endpoints") or () if _ready_with_address(e)]
        if meta["name"] and ips:
            _add(targets, meta, s.get("ports") or (), ips)
    return _assignments(targets)


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
        name = eds_name(meta.get("namespace", ""), meta.get("name", ""), port.get("name"))
        targets.setdefault(name, set()).update((ip, int(number)) for ip in ips)


def _assignments(targets: Targets) -> dict[str, pb.ClusterLoadAssignment]:
    """Sorted by cluster name; endpoints sorted by (address, port), duplicates removed."""
    return {name: ip_port_assignment(name, sorted(targets[name])) for name in sorted(targets)}
