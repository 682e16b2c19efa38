"""`switch` of a weighted backendRef: in every HTTPRoute (or GRPCRoute) rule that sends to
Service FROM, move FROM's weight to Service TO. A rule listing both gets TO's weight raised
by FROM's and FROM's set to 0 (kept, so `switch TO FROM` moves it back); a rule listing only
FROM gets FROM's backendRef renamed to TO (port and weight kept).

In: the snapshot, FROM and TO as Service keys, the route kind and an optional route. Out: a
SwitchPlan (queries/switch.py) whose changes carry each rule's backendRefs before and after
(`old`/`new` as {"backendRefs": [...]}); the patch tests the exact list, then replaces it.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_contour.errors import CheckFailed
from kubectl_contour.objects import Key, Obj, Snapshot, key_of, namespace_of, ref, spec_of
from kubectl_contour.queries.gateway import gateway_statuses, hostnames_of, match_text
from kubectl_contour.queries.switch_model import Change, Check, SwitchPlan


def plan_backend_switch(snapshot: Snapshot, *, source: Key, target: Key, kind: str,
                        root: Key | None = None) -> SwitchPlan:
    """The changes; refuses (CheckFailed) when no rule sends to FROM."""
    if source == target:
        raise CheckFailed(f"FROM and TO are the same Service ({ref(source)})")
    changes = []
    for obj in snapshot.of_kind(kind):
        if root is None or key_of(obj) == root:
            changes += route_changes(obj, source=source, target=target)
    if not changes:
        where = f" {ref(root)}" if root else ""
        raise CheckFailed(f"no {kind}{where} rule has a backendRef to Service {ref(source)}",
                          hint="`kubectl contour tree` shows the routes and their backends")
    return SwitchPlan(source, target, tuple(changes), kind=kind)


def route_changes(obj: Obj, *, source: Key, target: Key) -> list[Change]:
    """One change per (rule sending to FROM, hostname) of the route ("*" without one)."""
    out = []
    for i, rule in enumerate(spec_of(obj).get("rules") or []):
        old = copy.deepcopy(list(rule.get("backendRefs") or []))
        new = moved(old, namespace_of(obj), source=source, target=target)
        if new == old:
            continue
        match = "; ".join(match_text(m) for m in rule.get("matches") or []) or "any"
        out += [Change(key_of(obj), host, i, match, {"backendRefs": old},
                       {"backendRefs": new}) for host in hostnames_of(obj) or ("*",)]
    return out


def moved(refs: list[dict[str, Any]], owner_ns: str, *, source: Key,
          target: Key) -> list[dict[str, Any]]:
    """`refs` with FROM's weight moved to TO (see the module docstring)."""
    def names(r: dict[str, Any], key: Key) -> bool:
        return (r.get("kind") or "Service") == "Service" and \
            (str(r.get("namespace") or owner_ns), str(r.get("name"))) == key

    out = copy.deepcopy(refs)
    froms = [r for r in out if names(r, source)]
    tos = [r for r in out if names(r, target)]
    if not froms:
        return out
    if not tos:
        for r in froms:
            r["name"] = target[1]
            if target[0] != owner_ns or "namespace" in r:
                r["namespace"] = target[0]
        return out
    total = sum(int(r.get("weight", 1)) for r in froms)
    for r in froms:
        r["weight"] = 0
    tos[0]["weight"] = int(tos[0].get("weight", 1)) + total
    return out


def entry_ops(c: Change) -> list[dict[str, Any]]:
    base = f"/spec/rules/{c.index}/backendRefs"
    return [{"op": "test", "path": base, "value": c.old["backendRefs"]},
            {"op": "replace", "path": base, "value": c.new["backendRefs"]}]


def switched_route(obj: Obj, plan: SwitchPlan) -> Obj:
    """A copy of the route with the plan's rules' backendRefs replaced."""
    out = copy.deepcopy(obj)
    for c in (c for c in plan.changes if c.root == key_of(obj)):
        out["spec"]["rules"][c.index]["backendRefs"] = copy.deepcopy(c.new["backendRefs"])
    return out


def route_checks(dag: Any, plan: SwitchPlan) -> list[Check]:
    """Each switched route accepted, its references resolved, by every parent of ours."""
    statuses = gateway_statuses(dag)
    out = []
    for key in plan.roots():
        st = statuses.get((plan.kind, *key))
        bad = [f"{p.parent.name}: {c.type} {c.reason}" + (f" ({c.message})" if c.message
                                                         else "")
               for p in (st.parents if st else ()) for c in p.conditions if c.status != "True"]
        ok = st is not None and bool(st.parents) and not bad
        detail = "; ".join(bad) or ("accepted, references resolved" if ok
                                    else "not attached to a Gateway of ours")
        out.append(Check(f"{ref(key)} accepted after the switch", ok, detail))
    return out


def conflict_lines(plan: SwitchPlan, root: Key, now: Obj) -> list[str]:
    rules = spec_of(now).get("rules") or []
    out = []
    for c in sorted({c.index: c for c in plan.changes if c.root == root}.values(),
                    key=lambda c: c.index):
        found = rules[c.index].get("backendRefs") if c.index < len(rules) else "no such rule"
        out.append(f"rule {c.index}: expected backendRefs {c.old['backendRefs']}; "
                   f"now {found}")
    return out


def refs_text(refs: list[dict[str, Any]]) -> str:
    """`api-blue=0, api-green=100` (a backendRef list as `switch` shows it)."""
    return ", ".join(f"{str(r['namespace']) + '/' if r.get('namespace') else ''}"
                     f"{r.get('name')}={r.get('weight', 1)}" for r in refs)
