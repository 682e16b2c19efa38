"""Endpoint constructors: cluster_load_assignment(), ip_port_assignment() (spec §3.7)."""

from __future__ import annotations

from collections.abc import Iterable

from controller.envoy import pb
from controller.envoy.core import set_socket_address


def cluster_load_assignment(
    name: str, addresses: Iterable[pb.Address] = ()
) -> pb.ClusterLoadAssignment:
    """A single locality with every address; an empty assignment when there are none."""
    out = pb.ClusterLoadAssignment(cluster_name=name)
    endpoints = None
    for address in addresses:
        if endpoints is None:
            endpoints = out.endpoints.add().lb_endpoints
        endpoints.add().endpoint.address.CopyFrom(address)
    return out


def ip_port_assignment(name: str, targets: Iterable[tuple[str, int]]) -> pb.ClusterLoadAssignment:
    """cluster_load_assignment() from (ip, port) pairs, each address written in place.

    perf: the EDS path (10k assignments at a cold start, one per Endpoints change). Nested
    constructors copy each finished level into the next (Address → Endpoint → LbEndpoint →
    LocalityLbEndpoints → assignment): ~4x the time of filling the fields in place."""
    out = pb.ClusterLoadAssignment(cluster_name=name)
    endpoints = None
    for ip, port in targets:
        if endpoints is None:
            endpoints = out.endpoints.add().lb_endpoints
        set_socket_address(endpoints.add().endpoint.address, ip, port)
    return out
