"""Isolated Gateways' Envoy ports (BuilderSettings.gateway_ports; docs/decisions.md
"Isolated Gateways"): each port of a Gateway's listeners gets an Envoy port of its own,
which its Service (controller/k8s/gateway_services.py) maps the listener's port to.

In: the served Gateways with the ports they listen on (oldest first), the Services made
for Gateways so far (their targetPorts are the allocations, so they survive restarts and
agree between replicas), and the range. Out: Gateway → {listener port: Envoy port}.
Pure and deterministic: a rebuild before the Service exists allocates the same ports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.k8s.gateway_services import OwnedService
from controller.k8s.objects import Key

Allocation = dict[Key, dict[int, int]]


def listener_name(gateway: Key, port: int) -> str:
    """The Envoy listener (and its route table) of one Gateway port."""
    return f"gateway/{gateway[0]}/{gateway[1]}/{port}"


def allocate(wanted: Iterable[tuple[Key, tuple[int, ...]]],
             owned: Mapping[Key, OwnedService], span: tuple[int, int]) -> Allocation:
    """A port the Gateway's Service already maps (into `span`) keeps its Envoy port; a new
    one takes the lowest port of `span` no Service maps and no Gateway was given here. A
    port that finds none free is left out (the processor says PortUnavailable)."""
    used = {t for s in owned.values() for _, t in s.ports}
    by_gateway: dict[Key, dict[int, int]] = {}
    for s in sorted(owned.values(), key=lambda s: s.key):
        by_gateway.setdefault(s.gateway, dict(s.ports))
    out: Allocation = {}
    free = iter(p for p in range(span[0], span[1] + 1) if p not in used)
    for gateway, ports in wanted:
        have = by_gateway.get(gateway, {})
        mine = out[gateway] = {}
        for port in ports:
            target = have.get(port)
            if target is None or not span[0] <= target <= span[1]:
                target = next(free, None)
            if target is not None:
                mine[port] = target
    return out
