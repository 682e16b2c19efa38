"""Plan and check a blue/green switch: which root routes delegate to FROM, the JSON patch that
repoints them at TO, and the checks the builder runs on the switched snapshot."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from kubectl_contour.errors import CheckFailed
from kubectl_contour.objects import (
    INGRESSROUTE,
    Key,
    Obj,
    Snapshot,
    delegate_key,
    fqdn_of,
    key_of,
    ref,
    routes_of,
)
from kubectl_contour.queries.chain import served_routes
from kubectl_contour.queries.endpoints import ready_count
from kubectl_contour.queries.statuses import computed_statuses, ingressroute_status


@dataclass(frozen=True, slots=True)
class Change:
    root: Key
    fqdn: str
    index: int
    match: str
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class SwitchPlan:
    source: Key
    target: Key
    changes: tuple[Change, ...]
    checks: tuple[Check, ...] = ()

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def roots(self) -> list[Key]:
        return sorted({c.root for c in self.changes})


def plan_switch(snapshot: Snapshot, *, source: Key, target: Key,
                root: Key | None = None) -> SwitchPlan:
    """The changes; refuses (CheckFailed) when no root route delegates to `source`."""
    if source == target:
        raise CheckFailed(f"FROM and TO are the same IngressRoute ({ref(source)})")
    changes = []
    for obj in snapshot.of_kind(INGRESSROUTE):
        key = key_of(obj)
        if fqdn_of(obj) is None or (root is not None and key != root):
            continue
        changes.extend(root_changes(obj, key, source=source, target=target))
    if not changes:
        where = f" in root {ref(root)}" if root else ""
        raise CheckFailed(f"no root IngressRoute route delegates to {ref(source)}{where}",
                          hint="`kubectl contour tree` shows the delegations")
    return SwitchPlan(source, target, tuple(changes))


def root_changes(obj: Obj, key: Key, *, source: Key, target: Key) -> list[Change]:
    out = []
    for i, route in enumerate(routes_of(obj)):
        if delegate_key(route, owner_namespace=key[0]) != source:
            continue
        old = dict(route["delegate"])
        new = {"name": target[1]}
        if target[0] != key[0] or "namespace" in old:
            new["namespace"] = target[0]
        out.append(Change(key, fqdn_of(obj) or "", i, str(route.get("match") or ""), old, new))
    return out


def patch_ops(plan: SwitchPlan, root: Key) -> list[dict[str, Any]]:
    """RFC 6902 ops for one root: `test` the exact route (match and delegate) then replace."""
    ops: list[dict[str, Any]] = []
    for c in (c for c in plan.changes if c.root == root):
        base = f"/spec/routes/{c.index}"
        ops += [{"op": "test", "path": f"{base}/match", "value": c.match},
                {"op": "test", "path": f"{base}/delegate", "value": c.old},
                {"op": "replace", "path": f"{base}/delegate", "value": c.new}]
    return ops


def switched(snapshot: Snapshot, plan: SwitchPlan) -> Snapshot:
    """The snapshot as it will be after the patch (for the builder's verdict)."""
    index = snapshot.index(INGRESSROUTE)
    for root in plan.roots():
        obj = copy.deepcopy(index[root])
        for c in (c for c in plan.changes if c.root == root):
            obj["spec"]["routes"][c.index]["delegate"] = dict(c.new)
        snapshot = snapshot.replaced(obj)
    return snapshot


def checks(after: Snapshot, dag: Any, plan: SwitchPlan) -> list[Check]:
    statuses = computed_statuses(dag.statuses)
    out = []
    for key in (plan.target, *plan.roots()):
        st = ingressroute_status(statuses, key)
        ok = st is not None and st.current == "valid"
        detail = st.summary() if st else "no status computed"
        out.append(Check(f"{ref(key)} valid after the switch", ok, detail))
    out.append(endpoints_check(after, plan.target))
    return out


def endpoints_check(snapshot: Snapshot, target: Key) -> Check:
    """Every service TO (and its delegates) routes to has at least one ready endpoint."""
    empty: list[str] = []
    counted: list[str] = []
    for served in served_routes(snapshot, target):
        ns = served.chain[-1][0]
        for name, port in served.services:
            n = ready_count(snapshot, (ns, name), port=port)
            (counted if n else empty).append(f"{ns}/{name}:{port} ({n} ready)")
    name = f"{ref(target)} has ready endpoints"
    if empty:
        return Check(name, False, "no ready endpoints: " + ", ".join(sorted(set(empty))))
    if not counted:
        return Check(name, False, "routes to no service")
    return Check(name, True, ", ".join(sorted(set(counted))))


def expected_backends(snapshot: Snapshot, target: Key) -> dict[str, set[str]]:
    """Route match → the `ns_service_port` stat names Envoy must route to once TO is served."""
    out: dict[str, set[str]] = {}
    for served in served_routes(snapshot, target):
        ns = served.chain[-1][0]
        out.setdefault(served.match, set()).update(f"{ns}_{n}_{p}" for n, p in served.services)
    return out
