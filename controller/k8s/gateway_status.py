"""Gateway API statuses in their API form: the `status` the writer (status.py) patches
for GatewayClass, Gateway, HTTPRoute and TLSRoute, and "did it change".

A record comes in as any object with `kind`, `conditions` (`type, status, reason,
message`), `listeners` and `parents` (the builder's `gateway_model.GatewayAPIStatus`,
which this package may not import: tests/test_layering.py). Conditions are
metav1.Condition: observedGeneration is the object's generation, lastTransitionTime is
kept from the stored condition of the same type when its status did not change.

A route's `status.parents` is shared with other controllers: their entries are kept as
stored, ours (`controllerName`) replace the ones we wrote before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from controller.k8s.conditions import (
    TRANSITION,
    ObjectRecord,
    truncated,
    with_transition_times,
)

_V1 = "/apis/gateway.networking.k8s.io/v1"
GATEWAY_STATUS_PATHS = {
    "GatewayClass": _V1 + "/gatewayclasses/{1}/status",
    "Gateway": _V1 + "/namespaces/{0}/gateways/{1}/status",
    "HTTPRoute": _V1 + "/namespaces/{0}/httproutes/{1}/status",
    "GRPCRoute": _V1 + "/namespaces/{0}/grpcroutes/{1}/status",
    "TLSRoute": _V1 + "/namespaces/{0}/tlsroutes/{1}/status",
}
ROUTE_KINDS = frozenset({"HTTPRoute", "GRPCRoute", "TLSRoute"})


class GatewayStatusRecord(ObjectRecord, Protocol):
    @property
    def conditions(self) -> Sequence[Any]: ...

    @property
    def listeners(self) -> Sequence[Any]: ...

    @property
    def parents(self) -> Sequence[Any]: ...

    @property
    def addresses(self) -> Sequence[tuple[str, str]]: ...


def _conditions(conditions: Sequence[Any], generation: int | None) -> list[dict[str, Any]]:
    out = []
    for c in conditions:
        d: dict[str, Any] = {"type": c.type, "status": c.status, "reason": c.reason,
                             "message": truncated(c.message)}
        if generation is not None:
            d["observedGeneration"] = generation
        out.append(d)
    return out


def _listener(ls: Any, generation: int | None) -> dict[str, Any]:
    return {"name": ls.name, "attachedRoutes": ls.attached_routes,
            "supportedKinds": [{"group": g, "kind": k} for g, k in ls.supported_kinds],
            "conditions": _conditions(ls.conditions, generation)}


def _parent_ref(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"group": p.group, "kind": p.kind, "name": p.name}
    if p.namespace:
        out["namespace"] = p.namespace
    if p.section_name:
        out["sectionName"] = p.section_name
    if p.port is not None:
        out["port"] = p.port
    return out


def wanted(record: GatewayStatusRecord, generation: int | None,
           stored: Mapping[str, Any], controller: str) -> dict[str, Any]:
    """The `status` to write, without lastTransitionTime."""
    if record.kind in ROUTE_KINDS:
        others = [p for p in _dicts(stored.get("parents")) if p.get("controllerName") != controller]
        ours = [{"parentRef": _parent_ref(p.parent), "controllerName": p.controller_name,
                 "conditions": _conditions(p.conditions, generation)} for p in record.parents]
        return {"parents": others + ours}
    out: dict[str, Any] = {"conditions": _conditions(record.conditions, generation)}
    if record.kind == "Gateway":
        out["listeners"] = [_listener(ls, generation) for ls in record.listeners]
        if record.addresses:  # unknown (no Envoy Service): leave what is there
            out["addresses"] = [{"type": t, "value": v} for t, v in record.addresses]
    return out


def _dicts(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def comparable(value: Any) -> Any:
    """`value` without lastTransitionTime at any depth."""
    if isinstance(value, Mapping):
        return {k: comparable(v) for k, v in value.items() if k != TRANSITION}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def is_current(want: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether the stored status already says what `want` says (per key of `want`; an
    absent list is an empty one, so a route that was never ours is not written)."""
    return all(comparable(stored.get(k) or []) == comparable(v) for k, v in want.items())


def with_times(want: dict[str, Any], stored: Mapping[str, Any], now: str) -> dict[str, Any]:
    """`want` with every condition's lastTransitionTime (kept or `now`)."""
    out = dict(want)
    if "conditions" in want:
        out["conditions"] = with_transition_times(want["conditions"],
                                                  _dicts(stored.get("conditions")), now)
    if "listeners" in want:
        seen = {ls.get("name"): ls for ls in _dicts(stored.get("listeners"))}
        out["listeners"] = [{**ls, "conditions": with_transition_times(
            ls["conditions"], _dicts(seen.get(ls["name"], {}).get("conditions")), now)}
            for ls in want["listeners"]]
    if "parents" in want:
        seen_parents = _dicts(stored.get("parents"))
        out["parents"] = [_parent_with_times(p, seen_parents, now) for p in want["parents"]]
    return out


def _parent_with_times(parent: dict[str, Any], seen: list[dict[str, Any]],
                       now: str) -> dict[str, Any]:
    if any(TRANSITION in c for c in parent["conditions"]):
        return parent  # another controller's entry, as stored
    before = next((p for p in seen if p.get("parentRef") == parent["parentRef"]
                   and p.get("controllerName") == parent["controllerName"]), {})
    return {**parent, "conditions": with_transition_times(
        parent["conditions"], _dicts(before.get("conditions")), now)}
