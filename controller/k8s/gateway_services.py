"""The Services of isolated Gateways (docs/decisions.md "Isolated Gateways"): one per
Gateway, in the Envoy Service's namespace (its selector picks the Envoy pods, which a
Service in the Gateway's namespace could not), created and deleted by this controller.

In: a Service object (`owned_service`: ours or not, and what it says), or a Gateway's
desired ports and the Envoy Service (`desired_service`). Out: an `OwnedService` view, or
the Service manifest to apply. Each port maps the Gateway listener's port to the Envoy
port its listener binds: the Service's `targetPort` is where that allocation lives.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from controller.k8s.gateway_views import service_addresses
from controller.k8s.objects import Key, as_dict, as_int, as_list, as_str, key_of

OWNED_LABEL = "projectcontour.io/gateway-service"
"""On every Service this controller made for a Gateway (value "true"): its LIST selector."""
GATEWAY_ANNOTATION = "projectcontour.io/gateway"
"""NAMESPACE/NAME of the Gateway the Service is the address of."""
NAME_PREFIX = "contour-gateway-"


@dataclass(frozen=True, slots=True)
class OwnedService:
    key: Key
    gateway: Key
    ports: tuple[tuple[int, int], ...]
    """(port, targetPort) pairs, sorted."""
    addresses: tuple[tuple[str, str], ...]
    """The Gateway's `status.addresses` (gateway_views.service_addresses)."""


def service_name(gateway: Key) -> str:
    """A DNS label (< 63 characters) unique to the Gateway: a hash of NAMESPACE/NAME."""
    digest = hashlib.sha256(f"{gateway[0]}/{gateway[1]}".encode()).hexdigest()[:16]
    return NAME_PREFIX + digest


def owned_service(obj: object) -> OwnedService | None:
    """The view of a Service this controller made for a Gateway; None for any other."""
    meta = as_dict(as_dict(obj).get("metadata"))
    if as_str(as_dict(meta.get("labels")).get(OWNED_LABEL)) != "true":
        return None
    ns, _, name = as_str(as_dict(meta.get("annotations")).get(GATEWAY_ANNOTATION)).partition("/")
    if not ns or not name:
        return None
    ports = []
    for raw in as_list(as_dict(as_dict(obj).get("spec")).get("ports")):
        port, target = as_int(as_dict(raw).get("port")), as_int(as_dict(raw).get("targetPort"))
        if port is not None and target is not None:
            ports.append((port, target))
    return OwnedService(key_of(obj), (ns, name), tuple(sorted(ports)), service_addresses(obj))


def desired_service(gateway: Key, ports: tuple[tuple[int, int], ...],
                    envoy: dict[str, Any]) -> dict[str, Any]:
    """The Service manifest for the Gateway: the Envoy Service's namespace, selector, type
    and externalTrafficPolicy (a LoadBalancer fleet gets a load balancer per Gateway), and
    one TCP port per (listener port, Envoy port)."""
    meta, spec = as_dict(envoy.get("metadata")), as_dict(envoy.get("spec"))
    out_spec: dict[str, Any] = {
        "type": as_str(spec.get("type")) or "ClusterIP",
        "selector": dict(as_dict(spec.get("selector"))),
        "ports": [{"name": f"port-{p}", "port": p, "targetPort": t, "protocol": "TCP"}
                  for p, t in ports],
    }
    if out_spec["type"] in ("LoadBalancer", "NodePort") and spec.get("externalTrafficPolicy"):
        out_spec["externalTrafficPolicy"] = spec["externalTrafficPolicy"]
    return {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": service_name(gateway), "namespace": as_str(meta.get("namespace")),
        "labels": {OWNED_LABEL: "true"},
        "annotations": {GATEWAY_ANNOTATION: f"{gateway[0]}/{gateway[1]}"}}, "spec": out_spec}
