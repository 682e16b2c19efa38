"""Gateway API object factories for the DAG tests (raw dicts, as a source hands them over)."""

from __future__ import annotations

from typing import Any

from tests.controller.dag.dagkit import meta

Obj = dict[str, Any]
V1 = "gateway.networking.k8s.io/v1"
CONTROLLER = "projectcontour.io/gateway-controller"


def gateway_class(name: str = "contour", controller: str = CONTROLLER) -> Obj:
    return {"apiVersion": V1, "kind": "GatewayClass", "metadata": meta(name, None),
            "spec": {"controllerName": controller}}


def listener(name: str = "http", protocol: str = "HTTP", port: int = 80, **extra: Any) -> Obj:
    return {"name": name, "protocol": protocol, "port": port, **extra}


def https_listener(name: str = "https", secret: str = "tls", hostname: str | None = None,
                   **extra: Any) -> Obj:
    out = listener(name, "HTTPS", 443, tls={"mode": "Terminate",
                                           "certificateRefs": [{"name": secret, **extra}]})
    if hostname is not None:
        out["hostname"] = hostname
    return out


def gateway(name: str = "gw", ns: str = "default", *listeners: Obj, cls: str = "contour",
            created: str = "2024-01-01T00:00:00Z") -> Obj:
    m = meta(name, ns) | {"creationTimestamp": created}
    return {"apiVersion": V1, "kind": "Gateway", "metadata": m,
            "spec": {"gatewayClassName": cls, "listeners": list(listeners) or [listener()]}}


def backend(name: str, port: int | None = 80, **extra: Any) -> Obj:
    out: Obj = {"name": name, **extra}
    if port is not None:
        out["port"] = port
    return out


def rule(*backends: Obj, matches: list[Obj] | None = None, filters: list[Obj] | None = None,
         **extra: Any) -> Obj:
    out: Obj = {"backendRefs": list(backends), **extra}
    if matches is not None:
        out["matches"] = matches
    if filters is not None:
        out["filters"] = filters
    return out


def httproute(name: str, ns: str = "default", *rules: Obj, parents: list[Obj] | None = None,
              hostnames: list[str] | None = None, created: str = "2024-01-02T00:00:00Z",
              kind: str = "HTTPRoute") -> Obj:
    spec: Obj = {"parentRefs": parents if parents is not None else [{"name": "gw",
                                                                     "namespace": "default"}],
                 "rules": list(rules)}
    if hostnames is not None:
        spec["hostnames"] = hostnames
    return {"apiVersion": V1, "kind": kind, "metadata": meta(name, ns) | {
        "creationTimestamp": created}, "spec": spec}


def grant(ns: str, from_ns: str, from_kind: str = "HTTPRoute", to_kind: str = "Service",
          to_name: str | None = None) -> Obj:
    to: Obj = {"group": "", "kind": to_kind}
    if to_name is not None:
        to["name"] = to_name
    return {"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
            "metadata": meta(f"grant-{from_ns}", ns),
            "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": from_kind,
                               "namespace": from_ns}], "to": [to]}}


def namespace(name: str, **labels: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def conditions(status: Any) -> dict[str, tuple[str, str]]:
    """type → (status, reason) of a status's own conditions."""
    return {c.type: (c.status, c.reason) for c in status.conditions}


def parent_conditions(status: Any, i: int = 0) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in status.parents[i].conditions}


def status_of(dag: Any, kind: str, ns: str, name: str) -> Any:
    return next(s for s in dag.gateway_statuses
                if (s.kind, s.namespace, s.name) == (kind, ns, name))
