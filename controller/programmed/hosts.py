"""Which virtual hosts each routing object contributes to, read from the DAG's provenance.

An object contributes to a host when it is on the include/delegation path of one of the
host's routes or of its TCP proxy (root first: the root, every object it hands on to, the
object that declared the route), or when it is the valid root that names the host. An Ingress
contributes to the hosts of its own routes.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.dag.model import DAG, VALID, Provenance, SecureVirtualHost, VirtualHost

Key = tuple[str, str, str]
"""kind, namespace, name"""


def object_hosts(dag: DAG) -> dict[Key, frozenset[str]]:
    """Every object of the DAG's provenance and every valid root → the hosts it serves."""
    found: dict[Key, set[str]] = {}
    for vhost in all_vhosts(dag):
        for provenance in _provenances(vhost):
            for namespace, name in provenance.chain:
                found.setdefault((provenance.kind, namespace, name), set()).add(vhost.host)
    for status in dag.statuses:
        if status.current == VALID and status.vhost:
            found.setdefault((status.kind, status.namespace, status.name), set()).add(
                status.vhost)
    return {key: frozenset(hosts) for key, hosts in sorted(found.items())}


def all_vhosts(dag: DAG) -> list[VirtualHost | SecureVirtualHost]:
    """The shared listeners' virtual hosts, then the isolated Gateways' own (the same host
    may be in both: it is one host to the tracker, which asks the same serials of both)."""
    out: list[VirtualHost | SecureVirtualHost] = [*dag.http, *dag.https]
    for listener in dag.gateway_listeners:
        out += [*listener.http, *listener.https]
    return out


def gateway_hosts(dag: DAG) -> set[str]:
    """The hosts of the isolated Gateways' own listeners."""
    hosts = {vh.host for g in dag.gateway_listeners for vh in g.http}
    return hosts | {svh.host for g in dag.gateway_listeners for svh in g.https}


def _provenances(vhost: VirtualHost | SecureVirtualHost) -> Iterable[Provenance]:
    for route in vhost.routes:
        if route.provenance is not None:
            yield route.provenance
    tcp = getattr(vhost, "tcp_proxy", None)
    if tcp is not None and tcp.provenance is not None:
        yield tcp.provenance
