"""Endpoints and EndpointSlices, read into a compact form and indexed by their Service.

Both kinds are accepted (spec §0.7). When a Service has EndpointSlices they are the source of
truth (the API server mirrors Endpoints into slices, and slices are what scale); otherwise
its Endpoints object is used.

Each object is read once, on upsert, into an `EndpointSet`: its ready addresses × its ports,
grouped by EDS cluster name (`ns/service/portName`), or why it cannot be read. The raw object
is not kept. memory (bench/memory.py, 50k Endpoints): the raw dicts kept for the next
upsert's comparison and the translation were ~1.5 KB each, ~75 MB; an `EndpointSet` with one
address and one port is ~0.3 KB. An upsert that reads to the same set changes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.records import record

ServiceKey = tuple[str, str]  # namespace, service name
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_IP_ADDRESS_TYPES = ("IPv4", "IPv6")
_UNREADABLE = (AttributeError, KeyError, TypeError, ValueError, IndexError)

Group = tuple[str, int, tuple[Any, ...]]
"""(EDS cluster name, port number, the ready addresses served on it)."""


@record
class EndpointSet:
    """What one Endpoints or EndpointSlice object contributes to its Service's assignments:
    `groups` in the object's order, or `error` ("KeyError: 'ip'") when its shape cannot be
    read. `namespace`/`name` as the object's metadata give them (for reports)."""

    namespace: str
    name: str
    groups: tuple[Group, ...] = ()
    error: str = ""

    @property
    def display(self) -> str:
        return f"{self.namespace}/{self.name}"


def eds_name(namespace: str, service: str, port_name: str | None) -> str:
    base = f"{namespace}/{service}"
    return f"{base}/{port_name}" if port_name else base


def read_endpoints(obj: Mapping[str, Any]) -> EndpointSet:
    """A v1 Endpoints object: subsets[].addresses (never notReadyAddresses) × the subset's
    ports; a port name may gather addresses with different target ports from several subsets."""
    groups: list[Group] = []
    try:
        meta = obj.get("metadata") or {}
        for subset in obj.get("subsets") or ():
            ips = tuple(a["ip"] for a in subset.get("addresses") or () if a.get("ip"))
            if ips:
                groups += _groups(meta, subset.get("ports") or (), ips)
    except _UNREADABLE as error:
        return _unreadable(obj, error)
    return _endpoint_set(obj, groups)


def read_endpointslice(obj: Mapping[str, Any]) -> EndpointSet:
    """A discovery.k8s.io/v1 EndpointSlice: endpoints whose `conditions.ready` is not false,
    first address of each, × the slice's ports (an FQDN slice carries no IPs)."""
    groups: list[Group] = []
    try:
        meta = obj.get("metadata") or {}
        if obj.get("addressType", "IPv4") in _IP_ADDRESS_TYPES:
            service = dict(meta)
            service["name"] = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
            ips = tuple(e["addresses"][0] for e in obj.get("endpoints") or ()
                        if _ready_with_address(e))
            if service["name"] and ips:
                groups = _groups(service, obj.get("ports") or (), ips)
    except _UNREADABLE as error:
        return _unreadable(obj, error)
    return _endpoint_set(obj, groups)


def _endpoint_set(obj: object, groups: list[Group], error: str = "") -> EndpointSet:
    """The set, named as far as the object's metadata can be read."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    # memory: one namespace string however many objects name it
    return EndpointSet(sys.intern(str(meta.get("namespace", ""))), str(meta.get("name", "")),
                       tuple(groups), error)


def _unreadable(obj: object, error: Exception) -> EndpointSet:
    return _endpoint_set(obj, [], f"{type(error).__name__}: {error}")


def _ready_with_address(endpoint: Mapping[str, Any]) -> bool:
    conditions = endpoint.get("conditions") or {}
    return conditions.get("ready") is not False and bool(endpoint.get("addresses"))


def _groups(meta: Mapping[str, Any], ports: Iterable[Mapping[str, Any]],
            ips: tuple[Any, ...]) -> list[Group]:
    out: list[Group] = []
    for port in ports:
        number = port.get("port")
        if not number:
            continue
        if type(number) is not int:  # never coerce "80", 80.5 or True
            raise ValueError(f"port {number!r} is not an integer")
        name = eds_name(meta.get("namespace", ""), meta.get("name", ""), port.get("name"))
        out.append((name, number, ips))
    return out


@dataclass
class EndpointsIndex:
    endpoints: dict[ServiceKey, EndpointSet] = field(default_factory=dict)
    slices: dict[ServiceKey, dict[str, EndpointSet]] = field(default_factory=dict)
    _slice_owner: dict[tuple[str, str], ServiceKey] = field(default_factory=dict)

    def upsert(self, obj: dict[str, Any]) -> ServiceKey | None:
        """Store what the object reads to; return the Service whose endpoints changed, or
        None (also when it reads to what was stored)."""
        meta = obj.get("metadata") or {}
        ns = sys.intern(str(meta.get("namespace") or "default"))
        name = str(meta.get("name", ""))
        if obj.get("kind") == "Endpoints":
            read = read_endpoints(obj)
            if self.endpoints.get((ns, name)) == read:
                return None
            self.endpoints[(ns, name)] = read
            return (ns, name)
        labels = meta.get("labels") or {}
        svc = (ns, str(labels.get(SERVICE_NAME_LABEL) or ""))
        if not svc[1]:
            return None
        old_svc = self._slice_owner.get((ns, name))
        if old_svc is not None and old_svc != svc:
            self._drop_slice(ns, name)
        read = read_endpointslice(obj)
        if self.slices.get(svc, {}).get(name) == read:
            return None
        self.slices.setdefault(svc, {})[name] = read
        self._slice_owner[(ns, name)] = svc
        return svc

    def remove(self, kind: str, namespace: str, name: str) -> ServiceKey | None:
        if kind == "Endpoints":
            return (namespace, name) if self.endpoints.pop((namespace, name), None) else None
        return self._drop_slice(namespace, name)

    def _drop_slice(self, namespace: str, name: str) -> ServiceKey | None:
        svc = self._slice_owner.pop((namespace, name), None)
        if svc is None:
            return None
        slices = self.slices.get(svc, {})
        slices.pop(name, None)
        if not slices:
            self.slices.pop(svc, None)
        return svc

    def source_of(self, svc: ServiceKey) -> tuple[str, list[EndpointSet]]:
        """("slices", [...] by slice name) or ("endpoints", [set]) or ("none", []) for one
        Service."""
        slices = self.slices.get(svc)
        if slices:
            return "slices", [slices[k] for k in sorted(slices)]
        read = self.endpoints.get(svc)
        return ("endpoints", [read]) if read is not None else ("none", [])

    def services(self) -> list[ServiceKey]:
        return sorted(set(self.endpoints) | set(self.slices))
