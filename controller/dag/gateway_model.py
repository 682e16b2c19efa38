"""Gateway API statuses as a build decides them (immutable, sorted): GatewayClass and
Gateway conditions, listener statuses, and route `status.parents[]` entries.

Conditions are metav1.Condition without observedGeneration and lastTransitionTime: the
status writer adds those from the stored object (controller/k8s/gateway_status.py).
"""

from __future__ import annotations

from dataclasses import dataclass

TRUE, FALSE = "True", "False"


@dataclass(frozen=True, slots=True, order=True)
class GatewayCondition:
    type: str
    status: str
    reason: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class ListenerStatus:
    name: str
    supported_kinds: tuple[tuple[str, str], ...]  # (group, kind), sorted
    attached_routes: int
    conditions: tuple[GatewayCondition, ...]


@dataclass(frozen=True, slots=True)
class ParentRef:
    """status.parents[].parentRef as the route wrote it (namespace and sectionName/port
    only when it gave them)."""

    group: str
    kind: str
    name: str
    namespace: str = ""
    section_name: str = ""
    port: int | None = None


@dataclass(frozen=True, slots=True)
class RouteParentStatus:
    parent: ParentRef
    controller_name: str
    conditions: tuple[GatewayCondition, ...]


@dataclass(frozen=True, slots=True)
class GatewayAPIStatus:
    """One Gateway API object's status: `conditions` (GatewayClass, Gateway), `listeners`
    and `addresses` (Gateway) or `parents` (routes: only the entries of parents this
    controller owns)."""

    kind: str
    namespace: str
    name: str
    conditions: tuple[GatewayCondition, ...] = ()
    listeners: tuple[ListenerStatus, ...] = ()
    parents: tuple[RouteParentStatus, ...] = ()
    addresses: tuple[tuple[str, str], ...] = ()
    """Gateway: (type, value) of the Envoy Service's addresses."""


@dataclass(frozen=True, slots=True)
class GatewayService:
    """The Service an isolated Gateway needs (the controller creates it): `ports` are
    (Gateway listener port, Envoy port) pairs, sorted."""

    namespace: str
    name: str
    ports: tuple[tuple[int, int], ...]


def condition(type_: str, ok: bool, reason: str, message: str = "") -> GatewayCondition:
    return GatewayCondition(type_, TRUE if ok else FALSE, reason, message)
