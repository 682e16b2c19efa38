"""Raw Endpoints and EndpointSlices, indexed by the Service they belong to.

Both kinds are accepted (spec §0.7). When a Service has EndpointSlices they are the source of
truth (the API server mirrors Endpoints into slices, and slices are what scale); otherwise
its Endpoints object is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ServiceKey = tuple[str, str]  # namespace, service name
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass
class EndpointsIndex:
    endpoints: dict[ServiceKey, dict[str, Any]] = field(default_factory=dict)
    slices: dict[ServiceKey, dict[str, dict[str, Any]]] = field(default_factory=dict)
    _slice_owner: dict[tuple[str, str], ServiceKey] = field(default_factory=dict)

    def upsert(self, obj: dict[str, Any]) -> ServiceKey | None:
        """Store the object; return the Service whose endpoints changed, or None."""
        meta = obj.get("metadata") or {}
        ns, name = str(meta.get("namespace") or "default"), str(meta.get("name", ""))
        if obj.get("kind") == "Endpoints":
            if self.endpoints.get((ns, name)) == obj:
                return None
            self.endpoints[(ns, name)] = obj
            return (ns, name)
        labels = meta.get("labels") or {}
        svc = (ns, str(labels.get(SERVICE_NAME_LABEL) or ""))
        if not svc[1]:
            return None
        old_svc = self._slice_owner.get((ns, name))
        if old_svc is not None and old_svc != svc:
            self._drop_slice(ns, name)
        if self.slices.get(svc, {}).get(name) == obj:
            return None
        self.slices.setdefault(svc, {})[name] = obj
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

    def source_of(self, svc: ServiceKey) -> tuple[str, list[dict[str, Any]]]:
        """("slices", [...]) or ("endpoints", [obj]) or ("none", []) for one Service."""
        slices = self.slices.get(svc)
        if slices:
            return "slices", [slices[k] for k in sorted(slices)]
        obj = self.endpoints.get(svc)
        return ("endpoints", [obj]) if obj is not None else ("none", [])

    def services(self) -> list[ServiceKey]:
        return sorted(set(self.endpoints) | set(self.slices))
