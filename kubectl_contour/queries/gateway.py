"""Gateway API objects as the plugin reads them: the statuses the builder computed (one
place that turns conditions into the plugin's status words), and the backendRefs a route's
rules declare.

In: the snapshot's raw objects and `dag.gateway_statuses`. Out: small frozen records,
sorted, that `status`, `tree` and `analyze` share. Nothing here decides attachment or
acceptance: the controller's processor did (controller/dag/gatewayapi.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import Key, Obj, namespace_of, spec_of

Statuses = dict[tuple[str, str, str], Any]
"""(kind, namespace, name) → controller.dag.gateway_model.GatewayAPIStatus."""


@dataclass(frozen=True, slots=True, order=True)
class Backend:
    namespace: str
    name: str
    port: int
    weight: int
    kind: str = "Service"


@dataclass(frozen=True, slots=True)
class Rule:
    index: int
    matches: tuple[str, ...]
    """Each match as text (`prefix /api, header x-beta=1, method GET`); ("any",) if none."""
    backends: tuple[Backend, ...]


@dataclass(frozen=True, slots=True)
class ParentVerdict:
    """One `status.parents[]` entry the controller computed, as one line."""

    parent: str
    """`ns/gateway[/section]` (the section or port when the route named one)."""
    accepted: bool
    resolved: bool
    reasons: tuple[str, ...]
    """`Reason: message` of every condition that is not True."""


def gateway_statuses(dag: Any) -> Statuses:
    return {(s.kind, s.namespace, s.name): s for s in dag.gateway_statuses}


def conditions_of(status: Any) -> dict[str, Any]:
    return {c.type: c for c in (status.conditions if status is not None else ())}


def failing(conditions: Iterable[Any]) -> tuple[str, ...]:
    """`Type Reason: message` of the conditions that are not as they should be (Conflicted
    is the one condition that should be False)."""
    bad = [c for c in conditions if (c.status == "True") == (c.type == "Conflicted")]
    return tuple(f"{c.type} {c.reason}" + (f": {c.message}" if c.message else "")
                 for c in sorted(bad))


def parent_verdicts(status: Any) -> tuple[ParentVerdict, ...]:
    out = []
    for p in status.parents if status is not None else ():
        name = f"{p.parent.namespace or '?'}/{p.parent.name}"
        section = p.parent.section_name or (str(p.parent.port) if p.parent.port else "")
        conds = {c.type: c for c in p.conditions}
        out.append(ParentVerdict(
            name + (f"/{section}" if section else ""),
            accepted=_true(conds.get("Accepted")), resolved=_true(conds.get("ResolvedRefs")),
            reasons=tuple(f"{c.reason}: {c.message}" if c.message else c.reason
                          for c in sorted(p.conditions) if c.status != "True")))
    return tuple(sorted(out, key=lambda v: v.parent))


def _true(c: Any) -> bool:
    return c is not None and c.status == "True"


def route_rules(obj: Obj) -> tuple[Rule, ...]:
    """Every rule of an HTTPRoute, GRPCRoute or TLSRoute with its matches and backendRefs
    (the namespace defaults to the route's, the weight to 1, as the spec says)."""
    rules = spec_of(obj).get("rules")
    ns = namespace_of(obj)
    out = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        matches = tuple(match_text(m) for m in rule.get("matches") or []) or ("any",)
        out.append(Rule(i, matches, tuple(
            Backend(str(b.get("namespace") or ns), str(b.get("name") or ""),
                    int(b.get("port") or 0), int(b.get("weight", 1)),
                    str(b.get("kind") or "Service"))
            for b in rule.get("backendRefs") or [])))
    return tuple(out)


def match_text(m: dict[str, Any]) -> str:
    """One HTTPRoute or GRPCRoute match, the way `route` prints conditions."""
    parts = []
    path = m.get("path")
    if isinstance(path, dict):
        kind = {"Exact": "exact", "RegularExpression": "regex"}.get(
            str(path.get("type")), "prefix")
        parts.append(f"{kind} {path.get('value') or '/'}")
    method = m.get("method")
    if isinstance(method, dict):  # GRPCRoute
        parts.append(f"grpc {method.get('service') or '*'}/{method.get('method') or '*'}")
    elif method:
        parts.append(f"method {method}")
    parts += [f"header {h.get('name')}={h.get('value')}" for h in m.get("headers") or []]
    parts += [f"query {q.get('name')}={q.get('value')}" for q in m.get("queryParams") or []]
    return ", ".join(parts) or "any"


def hostnames_of(obj: Obj) -> tuple[str, ...]:
    names = spec_of(obj).get("hostnames")
    return tuple(sorted(str(h) for h in names)) if isinstance(names, list) else ()


def parent_keys(obj: Obj) -> tuple[Key, ...]:
    """The Gateways a route's parentRefs name (namespace defaulting to the route's)."""
    refs = spec_of(obj).get("parentRefs")
    return tuple(sorted({(str(r.get("namespace") or namespace_of(obj)), str(r.get("name")))
                         for r in refs if isinstance(r, dict)}
                        if isinstance(refs, list) else ()))


def listener_hosts(gateway: Obj) -> tuple[str, ...]:
    listeners = spec_of(gateway).get("listeners")
    return tuple(sorted({str(li.get("hostname") or "*") for li in listeners
                         if isinstance(li, dict)} if isinstance(listeners, list) else ()))
