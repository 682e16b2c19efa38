"""Pod addresses behind Service ports, read from EndpointSlices (preferred when a Service has
any) or Endpoints, with readiness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import (
    ENDPOINTS,
    ENDPOINTSLICE,
    SERVICE,
    Key,
    Obj,
    Snapshot,
    namespace_of,
    spec_of,
)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True, slots=True)
class EndpointRow:
    namespace: str
    service: str
    port: int
    """The Service port (what IngressRoutes name)."""
    port_name: str
    address: str
    target_port: int
    ready: bool
    target: str = ""
    """The pod (or other target) behind the address, when known."""

    def sort_key(self) -> tuple[str, str, int, str, int]:
        return (self.namespace, self.service, self.port, self.address, self.target_port)


@dataclass(frozen=True, slots=True)
class Address:
    ip: str
    port_name: str
    port: int
    ready: bool
    target: str


def service_ports(service: Obj) -> list[dict[str, Any]]:
    ports = spec_of(service).get("ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def slice_addresses(slices: list[Obj]) -> list[Address]:
    out: list[Address] = []
    for sl in slices:
        for ep in sl.get("endpoints") or []:
            ready = (ep.get("conditions") or {}).get("ready")
            target = (ep.get("targetRef") or {}).get("name") or ep.get("nodeName") or ""
            for port in sl.get("ports") or []:
                out.extend(
                    Address(ip, str(port.get("name") or ""), int(port.get("port") or 0),
                            ready is not False, str(target))
                    for ip in ep.get("addresses") or []
                )
    return out


def endpoints_addresses(endpoints: Obj) -> list[Address]:
    out: list[Address] = []
    for subset in endpoints.get("subsets") or []:
        for ready, field in ((True, "addresses"), (False, "notReadyAddresses")):
            for addr in subset.get(field) or []:
                target = (addr.get("targetRef") or {}).get("name") or ""
                out.extend(
                    Address(str(addr.get("ip")), str(port.get("name") or ""),
                            int(port.get("port") or 0), ready, str(target))
                    for port in subset.get("ports") or []
                )
    return out


def addresses_of(snapshot: Snapshot, key: Key) -> list[Address]:
    """EndpointSlices win when the Service has any (same rule as the controller)."""
    slices = [
        s for s in snapshot.of_kind(ENDPOINTSLICE)
        if namespace_of(s) == key[0]
        and ((s.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL) == key[1]
    ]
    if slices:
        return slice_addresses(slices)
    endpoints = snapshot.get(ENDPOINTS, key)
    return endpoints_addresses(endpoints) if endpoints else []


def rows_for_port(snapshot: Snapshot, key: Key, *, port: dict[str, Any]) -> list[EndpointRow]:
    """Addresses for one Service port: endpoint ports are matched by the port's name."""
    name = str(port.get("name") or "")
    return sorted(
        (
            EndpointRow(key[0], key[1], int(port.get("port") or 0), name, a.ip, a.port, a.ready,
                        a.target)
            for a in addresses_of(snapshot, key)
            if a.port_name == name
        ),
        key=EndpointRow.sort_key,
    )


def service_rows(snapshot: Snapshot, key: Key, *, port: int | None = None) -> list[EndpointRow]:
    service = snapshot.get(SERVICE, key)
    if service is None:
        return []
    rows: list[EndpointRow] = []
    for p in service_ports(service):
        if port is None or int(p.get("port") or 0) == port:
            rows.extend(rows_for_port(snapshot, key, port=p))
    return rows


def ready_count(snapshot: Snapshot, key: Key, *, port: int) -> int:
    return sum(1 for r in service_rows(snapshot, key, port=port) if r.ready)
