"""Plan and check a blue/green switch: which root entries lead to FROM (IngressRoute
delegate routes, HTTPProxy includes; Gateway API routes' weighted backendRefs:
switch_gateway.py), the JSON patch that repoints them at TO, and the checks the builder runs
on the switched snapshot (the DAG's provenance says what TO serves)."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_contour.errors import CheckFailed
from kubectl_contour.objects import (
    GATEWAY_ROUTE_KINDS,
    INGRESSROUTE,
    SERVICE,
    Key,
    Obj,
    Snapshot,
    fqdn_of,
    key_of,
    ref,
)
from kubectl_contour.queries.endpoints import ready_count
from kubectl_contour.queries.envoy import dag_path
from kubectl_contour.queries.proxies import entries
from kubectl_contour.queries.statuses import computed_statuses, status_of
from kubectl_contour.queries.switch_model import Change, Check, SwitchPlan

LEADS_TO = {INGRESSROUTE: "route delegates to", "HTTPProxy": "include names"}


def plan_switch(snapshot: Snapshot, *, source: Key, target: Key, root: Key | None = None,
                kind: str = INGRESSROUTE) -> SwitchPlan:
    """The changes; refuses (CheckFailed) when no root entry leads to `source`."""
    if source == target:
        raise CheckFailed(f"FROM and TO are the same {kind} ({ref(source)})")
    changes = []
    for obj in snapshot.of_kind(kind):
        key = key_of(obj)
        if fqdn_of(obj) is None or (root is not None and key != root):
            continue
        changes.extend(root_changes(kind, obj, source=source, target=target))
    if not changes:
        where = f" in root {ref(root)}" if root else ""
        raise CheckFailed(f"no root {kind} {LEADS_TO[kind]} {ref(source)}{where}",
                          hint="`kubectl contour tree` shows the delegations and includes")
    return SwitchPlan(source, target, tuple(changes), kind=kind)


def root_changes(kind: str, obj: Obj, *, source: Key, target: Key) -> list[Change]:
    """Every delegate route (IngressRoute) or include (HTTPProxy) of a root naming FROM."""
    key = key_of(obj)
    out = []
    for e in entries(kind, obj):
        if e.target != source or e.field == "tcpproxy":
            continue
        old = reference(kind, obj, e.index)
        # an include keeps its conditions; a delegate is only {name[, namespace]}
        new = {**(old if kind != INGRESSROUTE else {}), "name": target[1]}
        if target[0] != key[0] or "namespace" in old:
            new["namespace"] = target[0]
        out.append(Change(key, fqdn_of(obj) or "", e.index, e.match, old, new))
    return out


def reference(kind: str, obj: Obj, index: int) -> dict[str, Any]:
    """What names the child, as read: a route's `delegate`, or the whole include entry."""
    if kind == INGRESSROUTE:
        return dict(obj["spec"]["routes"][index]["delegate"])
    return copy.deepcopy(dict(obj["spec"]["includes"][index]))


def patch_ops(plan: SwitchPlan, root: Key) -> list[dict[str, Any]]:
    """RFC 6902 ops for one root: `test` the exact entry then replace its reference."""
    ops: list[dict[str, Any]] = []
    if plan.kind in GATEWAY_ROUTE_KINDS:  # one change per hostname: one rule patched once
        from kubectl_contour.queries import switch_gateway

        rules = {c.index: c for c in plan.changes if c.root == root}
        return [op for i in sorted(rules) for op in switch_gateway.entry_ops(rules[i])]
    for c in (c for c in plan.changes if c.root == root):
        ops += entry_ops(plan.kind, c)
    return ops


def entry_ops(kind: str, c: Change) -> list[dict[str, Any]]:
    """IngressRoute: test the route's match and delegate, replace the delegate. HTTPProxy:
    test the whole include entry (name, namespace, conditions as read), replace it."""
    if kind == INGRESSROUTE:
        base = f"/spec/routes/{c.index}"
        return [{"op": "test", "path": f"{base}/match", "value": c.match},
                {"op": "test", "path": f"{base}/delegate", "value": c.old},
                {"op": "replace", "path": f"{base}/delegate", "value": c.new}]
    base = f"/spec/includes/{c.index}"
    return [{"op": "test", "path": base, "value": c.old},
            {"op": "replace", "path": base, "value": c.new}]


def switched(snapshot: Snapshot, plan: SwitchPlan) -> Snapshot:
    """The snapshot as it will be after the patch (for the builder's verdict)."""
    index = snapshot.index(plan.kind)
    for root in plan.roots():
        if plan.kind in GATEWAY_ROUTE_KINDS:
            from kubectl_contour.queries.switch_gateway import switched_route

            snapshot = snapshot.replaced(switched_route(index[root], plan))
            continue
        obj = copy.deepcopy(index[root])
        for c in (c for c in plan.changes if c.root == root):
            repoint(plan.kind, obj["spec"], c.index, c.new)
        snapshot = snapshot.replaced(obj)
    return snapshot


def repoint(kind: str, spec: dict[str, Any], index: int, new: dict[str, Any]) -> None:
    """Make entry `index` of a root's spec lead to `new` (in place): an IngressRoute route's
    `delegate`, or a whole HTTPProxy include entry. `rollout`'s last step does the same."""
    if kind == INGRESSROUTE:
        spec["routes"][index]["delegate"] = dict(new)
    else:
        spec["includes"][index] = copy.deepcopy(new)


def checks(after: Snapshot, dag: Any, plan: SwitchPlan) -> list[Check]:
    if plan.kind in GATEWAY_ROUTE_KINDS:
        from kubectl_contour.queries.switch_gateway import route_checks

        exists = after.get(SERVICE, plan.target) is not None
        return [Check(f"Service {ref(plan.target)} exists", exists,
                      "found" if exists else "not found"),
                *route_checks(dag, plan), endpoints_check(after, dag, plan)]
    statuses = computed_statuses(dag.statuses)
    out = []
    for key in (plan.target, *plan.roots()):
        st = status_of(statuses, plan.kind, key)
        ok = st is not None and st.current == "valid"
        detail = st.summary() if st else "no status computed"
        out.append(Check(f"{ref(key)} valid after the switch", ok, detail))
    out.append(endpoints_check(after, dag, plan))
    return out


def served_through(dag: Any, plan: SwitchPlan) -> list[Any]:
    """The switched roots' routes that TO (or an object below it) produced (provenance)."""
    return served_via(dag, plan, plan.target)


def served_via(dag: Any, plan: SwitchPlan, via: Key) -> list[Any]:
    """The routes of the plan's roots' hosts that `via` (or an object below it) produced,
    by the DAG's provenance; `rollout` asks for FROM's as well as TO's."""
    fqdns = {c.fqdn.lower() for c in plan.changes}
    return [r for vh in (*dag.http, *dag.https) if vh.host in fqdns for r in vh.routes
            if r.provenance is not None and r.provenance.kind == plan.kind
            and produced_by(r, plan, via)]


def produced_by(route: Any, plan: SwitchPlan, via: Key) -> bool:
    """`via` (or an object below it) produced the route; for a Gateway API route, `via` is
    a Service: the switched route's DAG routes that send to it."""
    if plan.kind in GATEWAY_ROUTE_KINDS:
        return route.provenance.chain[0] in plan.roots() and any(
            (c.service.namespace, c.service.name) == via for c in route.clusters)
    return via in route.provenance.chain[1:]


def endpoints_check(snapshot: Snapshot, dag: Any, plan: SwitchPlan) -> Check:
    """Every service TO (and its children) routes to has at least one ready endpoint."""
    empty: list[str] = []
    counted: list[str] = []
    only_target = plan.kind in GATEWAY_ROUTE_KINDS  # its rules may keep other backends
    for route in served_through(dag, plan):
        for c in route.clusters:
            svc = c.service
            if only_target and (svc.namespace, svc.name) != plan.target:
                continue
            n = ready_count(snapshot, (svc.namespace, svc.name), port=svc.port)
            (counted if n else empty).append(f"{svc.namespace}/{svc.name}:{svc.port} ({n} ready)")
    name = f"{ref(plan.target)} has ready endpoints"
    if empty:
        return Check(name, False, "no ready endpoints: " + ", ".join(sorted(set(empty))))
    if not counted:
        return Check(name, False, "routes to no service")
    return Check(name, True, ", ".join(sorted(set(counted))))


def expected_backends(dag: Any, plan: SwitchPlan) -> dict[tuple[str, str], set[str]]:
    """(Envoy path matcher, value) → the `ns_service_port` stat names Envoy must route to
    once TO is served (HTTPProxy routes may be exact paths or regexes)."""
    out: dict[tuple[str, str], set[str]] = {}
    for route in served_through(dag, plan):
        if not route.clusters:
            continue
        out.setdefault(dag_path(route), set()).update(
            f"{c.service.namespace}_{c.service.name}_{c.service.port}" for c in route.clusters)
    return out


def conflict_lines(plan: SwitchPlan, root: Key, now: Obj) -> list[str]:
    """What each planned entry of `root` was expected to be, and what it is now."""
    if plan.kind in GATEWAY_ROUTE_KINDS:
        from kubectl_contour.queries import switch_gateway

        return switch_gateway.conflict_lines(plan, root, now)
    field = "routes" if plan.kind == INGRESSROUTE else "includes"
    have = (now.get("spec") or {}).get(field) or []
    out = []
    for c in (c for c in plan.changes if c.root == root):
        entry = have[c.index] if c.index < len(have) else None
        if plan.kind == INGRESSROUTE:
            found = ("no such route" if entry is None else
                     f"match {entry.get('match')!r}, delegate {entry.get('delegate') or 'none'}")
            out.append(f"route {c.index}: expected match {c.match!r}, delegate {c.old}; "
                       f"now {found}")
        else:
            found = "no such include" if entry is None else str(entry)
            out.append(f"include {c.index}: expected {c.old}; now {found}")
    return out
