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
    """Two passes, so that a fresh port never takes one a Service already maps: first each
    port its Gateway's Service maps (into `span`) keeps that Envoy port, unless an older
    Gateway kept it already (two Services can claim one port after a race: a build saw a
    Gateway before the Service made for it); then every other port takes the lowest port
    of `span` no Service maps and no Gateway was given. A port that finds none free is
    left out (the processor says PortUnavailable)."""
    wanted = list(wanted)
    by_gateway: dict[Key, dict[int, int]] = {}
    for s in sorted(owned.values(), key=lambda s: s.key):
        by_gateway.setdefault(s.gateway, dict(s.ports))
    out: Allocation = {gateway: {} for gateway, _ in wanted}
    taken: set[int] = set()
    for gateway, ports in wanted:
        have = by_gateway.get(gateway, {})
        for port in ports:
            target = have.get(port)
            if target is not None and span[0] <= target <= span[1] and target not in taken:
                out[gateway][port] = target
                taken.add(target)
    used = taken | {t for s in owned.values() for _, t in s.ports}
    free = iter(p for p in range(span[0], span[1] + 1) if p not in used)
    for gateway, ports in wanted:
        for port in ports:
            if port not in out[gateway] and (target := next(free, None)) is not None:
                out[gateway][port] = target
    return out
