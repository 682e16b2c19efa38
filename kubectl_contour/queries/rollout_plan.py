"""How a rollout expresses a weighted split of FROM and TO in the root's spec, and the spec
of each step.

Neither API can weight a delegation or an include (IngressRoute routes delegate *or* list
services; v1 HTTPProxy includes have no weight). So while the rollout runs, the root serves
FROM's and TO's services itself: the root entry that leads to FROM is replaced by one route
per route FROM declares, listing FROM's services (their share: 100 - W, in FROM's own
proportions) and the services of TO's route with the same match (share W). Only the root is
ever written; FROM and TO are read. The last step (100) is exactly `switch`'s edit of the
pre-rollout spec. What cannot be expressed this way is refused with the reason.

The recipe (what each step needs, JSON-ready) is recorded in the rollout's annotation, so a
later process computes the same specs even when FROM or TO are edited meanwhile.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from kubectl_contour.errors import CheckFailed
from kubectl_contour.objects import INGRESSROUTE, Key, Obj, Snapshot, ref, spec_of
from kubectl_contour.queries.switch import SwitchPlan, repoint

Recipe = list[dict[str, Any]]
"""One item per root entry leading to FROM: `index`, `final` (the entry's reference once
switched to TO, as `switch` writes it) and `routes` (`route`: the route's settings without
services; `from`, `to`: the services of each side as declared)."""

_SLASHES = re.compile(r"//+")
PATH_KEYS = ("prefix", "exact", "regex")


def refuse(message: str) -> CheckFailed:
    return CheckFailed(f"cannot express the rollout as a weighted split: {message}",
                       hint="`kubectl contour switch` moves everything at once")


def make_recipe(snapshot: Snapshot, plan: SwitchPlan) -> Recipe:
    """The recipe for the plan's one root, or CheckFailed (refuse) saying what the API
    cannot express."""
    (root,) = plan.roots()
    if not plan.source[0] == plan.target[0] == root[0]:
        raise refuse(f"{plan.kind} services name Services of their own namespace, so "
                     f"{ref(plan.source)} and {ref(plan.target)} must be in the root's "
                     f"namespace {root[0]}")
    pairs = paired_routes(plan.kind, leaf_routes(snapshot, plan.kind, plan.source),
                          leaf_routes(snapshot, plan.kind, plan.target), plan)
    root_spec = spec_of(snapshot.index(plan.kind)[root])
    out = []
    for change in sorted(plan.changes, key=lambda c: c.index):
        entry = root_spec["includes"][change.index] if plan.kind != INGRESSROUTE else {}
        routes = [{"route": under_include(plan.kind, entry, without_services(f)),
                   "from": list(f["services"]), "to": list(t["services"])} for f, t in pairs]
        out.append({"index": change.index, "final": dict(change.new), "routes": routes})
    return out


def leaf_routes(snapshot: Snapshot, kind: str, key: Key) -> list[dict[str, Any]]:
    """The routes of FROM or TO: each must list services (no further delegation, include
    or tcpproxy: a root route cannot stand for a whole subtree)."""
    obj: Obj = snapshot.index(kind)[key]
    spec = spec_of(obj)
    if spec.get("tcpproxy") is not None:
        raise refuse(f"{ref(key)} has a tcpproxy")
    if spec.get("includes"):
        raise refuse(f"{ref(key)} includes other HTTPProxies")
    routes = [r for r in spec.get("routes") or [] if isinstance(r, dict)]
    for route in routes:
        if route.get("delegate") is not None or not route.get("services"):
            raise refuse(f"{ref(key)} route {route_key(kind, route)} does not list services")
        if any(isinstance(s, dict) and s.get("mirror") for s in route["services"]):
            raise refuse(f"{ref(key)} route {route_key(kind, route)} mirrors a service")
    if not routes:
        raise refuse(f"{ref(key)} has no routes")
    return routes


def route_key(kind: str, route: dict[str, Any]) -> str:
    """What identifies a route within its object: the match, or the conditions as JSON."""
    if kind == INGRESSROUTE:
        return repr(str(route.get("match") or ""))
    return json.dumps(route.get("conditions") or [], sort_keys=True)


def without_services(route: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in route.items() if k != "services"}


def paired_routes(kind: str, source: list[dict[str, Any]], target: list[dict[str, Any]],
                  plan: SwitchPlan) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """FROM's routes with TO's of the same match, in FROM's order. Both must declare the
    same matches with the same settings (a split route has one set of settings), and no
    Service may be on both sides (Envoy's numbers for it could not be told apart)."""
    src, dst = ref(plan.source), ref(plan.target)
    by_key = {route_key(kind, r): r for r in target}
    keys = [route_key(kind, r) for r in source]
    if len(set(keys)) != len(keys) or len(by_key) != len(target):
        raise refuse(f"{src} or {dst} declares a match twice")
    if set(keys) != set(by_key):
        raise refuse(f"{src} routes {', '.join(sorted(keys))} but {dst} routes "
                     f"{', '.join(sorted(by_key))}: both must declare the same matches")
    pairs = [(r, by_key[k]) for r, k in zip(source, keys, strict=True)]
    for f, t in pairs:
        if without_services(f) != without_services(t):
            raise refuse(f"route {route_key(kind, f)} has other settings in {src} "
                         f"({without_services(f)}) than in {dst} ({without_services(t)})")
    shared = names(s for f, _ in pairs for s in f["services"]) & names(
        s for _, t in pairs for s in t["services"])
    if shared:
        raise refuse(f"{src} and {dst} both route to {', '.join(sorted(shared))}")
    return pairs


def names(services: Any) -> set[str]:
    return {str(s.get("name") or "") for s in services if isinstance(s, dict)}


def under_include(kind: str, include: dict[str, Any], route: dict[str, Any]) -> dict[str, Any]:
    """An HTTPProxy route as the root must declare it to match what it matched through the
    include: the include's path prefix joined to the route's path (as the builder
    concatenates them), the include's header and query conditions ANDed before the
    route's own. IngressRoute matches are already absolute."""
    if kind == INGRESSROUTE:
        return route
    outer = [c for c in include.get("conditions") or [] if isinstance(c, dict)]
    prefix = "".join(str(c.get("prefix") or "") for c in outer)
    own = [copy.deepcopy(c) for c in route.get("conditions") or [] if isinstance(c, dict)]
    path = next((c for c in own if any(c.get(k) for k in PATH_KEYS)), None)
    if path is not None:
        kind_key = next(k for k in PATH_KEYS if path.get(k))
        path[kind_key] = _SLASHES.sub("/", prefix + str(path[kind_key]))
    elif prefix:
        own.insert(0, {"prefix": _SLASHES.sub("/", prefix)})
    merged = [c for c in outer if not c.get("prefix")] + own
    return {**route, "conditions": merged} if merged else {
        k: v for k, v in route.items() if k != "conditions"}


# ------------------------------------------------------------------------------ weights


def apportion(services: list[dict[str, Any]], total: int) -> list[dict[str, Any]]:
    """`services` with weights summing to `total`, in their declared proportions (none
    weighted: equal shares, as Envoy splits all-zero weights); largest remainders round."""
    declared = [max(0, int(s.get("weight") or 0)) for s in services]
    if not any(declared):
        declared = [1] * len(services)
    whole = sum(declared)
    exact = [total * d / whole for d in declared]
    weights = [int(x) for x in exact]
    order = sorted(range(len(services)), key=lambda i: (weights[i] - exact[i], i))
    for i in order[:total - sum(weights)]:
        weights[i] += 1
    return [{**copy.deepcopy(s), "weight": w} for s, w in zip(services, weights, strict=True)]


def split_route(item: dict[str, Any], weight: int) -> dict[str, Any]:
    """One recipe route at `weight` percent to TO."""
    services = apportion(item["from"], 100 - weight) + apportion(item["to"], weight)
    return {**copy.deepcopy(item["route"]), "services": services}


def spec_at(kind: str, base: dict[str, Any], recipe: Recipe, weight: int) -> dict[str, Any]:
    """The root's spec with `weight` percent on TO: 0 is the pre-rollout spec, 100 is what
    `switch` makes of it, anything between the weighted split."""
    spec = copy.deepcopy(base)
    if weight <= 0:
        return spec
    for entry in sorted(recipe, key=lambda e: -int(e["index"])):
        index = int(entry["index"])
        if weight >= 100:
            repoint(kind, spec, index, entry["final"])
            continue
        routes = [split_route(item, weight) for item in entry["routes"]]
        if kind == INGRESSROUTE:
            spec["routes"][index:index + 1] = routes
        else:
            del spec["includes"][index]
            spec["routes"] = [*(spec.get("routes") or []), *routes]
    return spec


def stat_names(namespace: str, recipe: Recipe, side: str) -> list[str]:
    """Envoy's stat names (`ns_service_port`, the clusters' alt_stat_name) of one side's
    services (`from` or `to`)."""
    return sorted({f"{namespace}_{s.get('name')}_{s.get('port')}" for entry in recipe
                   for item in entry["routes"] for s in item[side]})
