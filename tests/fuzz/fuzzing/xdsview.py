"""What the controller serves over xDS for the control virtual hosts, as bytes (invariant 3),
and which host names its HTTPS listener serves (a stolen secret must never be served).

Fetched like `contour cli` does (controller/xds/client.py): one ADS stream per type, the
first response, under one fixed node id so the controller's registry holds one node for us.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2
from google.protobuf.message import Message

from controller.envoy import type_urls as t
from controller.xds.client import decode, watch

NODE_ID = "fuzz-observer"
ROUTE_TABLES = ("ingress_http", "ingress_https")


@dataclass
class XdsView:
    control: dict[str, bytes] = field(default_factory=dict)  # "<type>/<name>" → bytes
    https_names: set[str] = field(default_factory=set)  # every SNI name of ingress_https


async def _first(address: str, type_url: str, names: Iterable[str]) -> list[Message]:
    async for response in watch(address, type_url, list(names), node_id=NODE_ID):
        return decode(response)
    return []


def _bytes(m: Message) -> bytes:
    return m.SerializeToString(deterministic=True)


async def _fetch(address: str, fqdns: set[str], cluster_prefixes: tuple[str, ...],
                 timeout: float) -> XdsView:
    view = XdsView()
    lds, cds, rds = await asyncio.wait_for(asyncio.gather(
        _first(address, t.LISTENER_TYPE, ()), _first(address, t.CLUSTER_TYPE, ()),
        _first(address, t.ROUTE_TYPE, ROUTE_TABLES)), timeout)
    clusters = [c for c in cds if isinstance(c, cluster_pb2.Cluster)
                and c.name.startswith(cluster_prefixes)]
    for c in clusters:
        view.control[f"cds/{c.name}"] = _bytes(c)
    eds = await asyncio.wait_for(
        _first(address, t.ENDPOINT_TYPE, sorted(c.name for c in clusters)), timeout) \
        if clusters else []
    for cla in eds:
        assert isinstance(cla, endpoint_pb2.ClusterLoadAssignment)
        view.control[f"eds/{cla.cluster_name}"] = _bytes(cla)
    for rc in rds:
        assert isinstance(rc, route_pb2.RouteConfiguration)
        for vh in rc.virtual_hosts:
            if fqdns & set(vh.domains):
                view.control[f"rds/{rc.name}/{vh.name}"] = _bytes(vh)
    for listener in lds:
        assert isinstance(listener, listener_pb2.Listener)
        if listener.name != "ingress_https":
            continue
        for chain in listener.filter_chains:
            names = set(chain.filter_chain_match.server_names)
            view.https_names |= names
            for name in sorted(names & fqdns):
                view.control[f"lds/{listener.name}/{name}"] = _bytes(chain)
    return view


def fetch(address: str, fqdns: set[str], cluster_prefixes: tuple[str, ...],
          timeout: float = 20) -> XdsView:
    """The control resources served now (the vhosts of `fqdns`, the clusters named with one
    of `cluster_prefixes` and their endpoints, their HTTPS filter chains)."""
    return asyncio.run(_fetch(address, fqdns, cluster_prefixes, timeout))


def differences(before: dict[str, bytes], after: dict[str, bytes]) -> list[str]:
    """What changed between two control views, one line per resource."""
    out = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            out.append(f"{key}: gone")
        elif key not in before:
            out.append(f"{key}: appeared")
        elif before[key] != after[key]:
            out.append(f"{key}: changed ({len(before[key])} → {len(after[key])} bytes)")
    return out
