"""Endpoint constructors: cluster_load_assignment() (spec §3.7)."""

from __future__ import annotations

from collections.abc import Iterable

from controller.envoy import pb
from controller.envoy.core import socket_address


def lb_endpoint(address: pb.Address) -> pb.LbEndpoint:
    return pb.LbEndpoint(endpoint=pb.Endpoint(address=address))


def cluster_load_assignment(
    name: str, addresses: Iterable[pb.Address] = ()
) -> pb.ClusterLoadAssignment:
    """A single locality with every address; an empty assignment when there are none."""
    out = pb.ClusterLoadAssignment(cluster_name=name)
    endpoints = [lb_endpoint(a) for a in addresses]
    if endpoints:
        out.endpoints.append(pb.LocalityLbEndpoints(lb_endpoints=endpoints))
    return out


def ip_port_assignment(name: str, targets: Iterable[tuple[str, int]]) -> pb.ClusterLoadAssignment:
    """cluster_load_assignment() from (ip, port) pairs."""
    return cluster_load_assignment(name, (socket_address(ip, port) for ip, port in targets))
