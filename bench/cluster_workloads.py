"""What `bench.bench cluster` loads into the API server and how it changes it.

- `prefix` (the default): N Services, N EndpointSlices and bench/generate.py's routing
  objects of a kind; a change rewrites one host's prefix (a PATCH of the object carrying
  its route).
- `switch`: the seed's blue/green switch of bench/changes.py through the API server (issue
  12 item 6): root i delegates to blue-i; green-i and its Service are orphans for the first
  `SWITCHES` roots until a PATCH points root i at green-i, so green's cluster must reach
  Envoy and warm before the route can use it.

Both preset the statuses the controller would write (unless a first install is asked for),
so the changes are measured without a backlog of status writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import changes, generate

Obj = dict[str, Any]
Patch = Callable[[str, Obj], None]
"""A JSON merge PATCH of (API path, body)."""

IR_API = f"/apis/contour.heptio.com/v1beta1/namespaces/{generate.NAMESPACE}/ingressroutes"
ROUTING_API = {
    "ingressroute": IR_API,
    "httpproxy": f"/apis/projectcontour.io/v1/namespaces/{generate.NAMESPACE}/httpproxies",
}
"""Where each kind's routing objects are created (generate.routing)."""
VALID_STATUS = {"status": {"currentStatus": "valid", "description": "valid IngressRoute"}}
ORPHANED_STATUS = {"status": {
    "currentStatus": "orphaned",
    "description": "this IngressRoute is not part of a delegation chain from a root IngressRoute",
}}
SWITCHES = 20


def headless(svc: Obj) -> Obj:
    """`clusterIP: None`: the controller never reads the cluster IP, and allocating 10k of
    them is most of the setup (75 Services/s against 1 400 EndpointSlices/s, measured)."""
    svc["spec"]["clusterIP"] = "None"
    return svc


@dataclass(frozen=True)
class ClusterWorkload:
    """The objects to create, the statuses to preset (routing object name → status body),
    how many routing objects the first snapshot must hold as valid, and the change:
    `change(patch, i, prefix)` returns the prefix the backend echoes once it is live (None:
    `prefix` itself)."""

    kind: str
    services: list[Obj]
    slices: list[Obj]
    routing: list[Obj]
    valid: int
    change: Callable[[Patch, int, str], str | None]
    statuses: list[tuple[str, Obj]] = field(default_factory=list)


def backends(indexes: range, ip: str, port: int) -> tuple[list[Obj], list[Obj]]:
    """svc-i's headless Service and its EndpointSlice (one ready endpoint) for each i."""
    return ([headless(generate.service(i)) for i in indexes],
            [generate.endpointslice(i, ip=ip, backend_port=port) for i in indexes])


def prefix_workload(n: int, kind: str, ip: str, port: int, *, statuses: bool) -> ClusterWorkload:
    """N hosts of `kind`; statuses preset for IngressRoutes only (a HTTPProxy's carries
    conditions with times: ask for a first install instead)."""
    services, slices = backends(range(n), ip, port)
    routing = [o for i in range(n) for o in generate.routing(i, kind)]

    def change(patch: Patch, i: int, prefix: str) -> None:
        carrier = generate.routing(i, kind, prefix_rewrite=prefix)[-1]  # has the route
        patch(f"{ROUTING_API[kind]}/{carrier['metadata']['name']}", {"spec": carrier["spec"]})

    preset = [(o["metadata"]["name"], VALID_STATUS) for o in routing] if statuses else []
    return ClusterWorkload(kind, services, slices, routing, len(routing), change, preset)


def switch_workload(n: int, ip: str, port: int) -> ClusterWorkload:
    """N roots on blue, SWITCHES of them with an orphaned green (own Service and slice)."""
    services, slices = backends(range(n), ip, port)
    greens = range(min(n, SWITCHES))
    services += [changes.green_names(i, headless(generate.service(i))) for i in greens]
    slices += [changes.green_names(i, generate.endpointslice(i, ip=ip, backend_port=port))
               for i in greens]
    routing = changes.switch_cluster(n, SWITCHES)

    def change(patch: Patch, i: int, prefix: str) -> str:
        patch(f"{IR_API}/ir-{i}", {"spec": changes.switched_root(i)["spec"]})
        return f"/green-{i}/"

    preset = [(o["metadata"]["name"],
               ORPHANED_STATUS if o["metadata"]["name"].startswith("green-") else VALID_STATUS)
              for o in routing]
    return ClusterWorkload("ingressroute", services, slices, routing, 2 * n, change, preset)
