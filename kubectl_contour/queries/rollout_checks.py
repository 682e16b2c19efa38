"""Pre-flight of a rollout, on top of `switch`'s checks (TO valid once switched, the root
valid, TO's services with ready endpoints): every step's split, built by the controller's
own builder, serves exactly FROM's routes with the step's share on TO and changes nothing
else; the TLS certificates on the way outlive the rollout; no rollout runs on the root."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from kubectl_contour.objects import Key, Snapshot, ref
from kubectl_contour.queries.rollout_plan import Recipe, spec_at
from kubectl_contour.queries.rollout_state import RUNNING, Rollout
from kubectl_contour.queries.statuses import computed_statuses, status_of
from kubectl_contour.queries.switch import Check, SwitchPlan

RouteId = tuple[Any, ...]
"""(listener, host, path match, regex, exact, headers, query parameters)."""


def route_id(listener: str, host: str, route: Any) -> RouteId:
    return (listener, host, route.match, route.regex, route.exact, route.headers,
            route.query_params)


def host_routes(dag: Any, fqdns: set[str]) -> Iterator[tuple[RouteId, Any]]:
    for listener, vhosts in (("http", dag.http), ("https", dag.https)):
        for vh in vhosts:
            if vh.host in fqdns:
                yield from ((route_id(listener, vh.host, r), r) for r in vh.routes)


def via(route: Any, plan: SwitchPlan, key: Key) -> bool:
    """The route was produced through `key` (by the DAG's provenance)."""
    p = route.provenance
    return p is not None and p.kind == plan.kind and key in p.chain[1:]


def shape(route: Any) -> Any:
    """The route without its backends (provenance never counts in equality)."""
    return dataclasses.replace(route, clusters=())


def backends(clusters: Any) -> list[str]:
    """The clusters as comparable text, weights left out."""
    return sorted(repr(dataclasses.replace(c, weight=0)) for c in clusters)


def fqdns_of(plan: SwitchPlan) -> set[str]:
    return {c.fqdn.lower() for c in plan.changes}


def same_routes_check(base: Any, switched: Any, plan: SwitchPlan) -> Check:
    """TO serves the routes FROM serves, with the same settings (a split route has one)."""
    hosts = fqdns_of(plan)
    src = {i: r for i, r in host_routes(base, hosts) if via(r, plan, plan.source)}
    dst = {i: r for i, r in host_routes(switched, hosts) if via(r, plan, plan.target)}
    name = f"{ref(plan.target)} serves the routes of {ref(plan.source)}"
    if set(src) != set(dst):
        only = sorted({str(i[2]) for i in set(src) ^ set(dst)})
        return Check(name, False, f"routes only one of them serves: {', '.join(only)}")
    for i, r in src.items():
        if shape(r) != shape(dst[i]):
            return Check(name, False, f"route {i[2]} differs in its settings")
    return Check(name, True, f"{len(src)} route{'s' if len(src) != 1 else ''}")


def split_check(base: Any, switched: Any, split: Any, plan: SwitchPlan, weight: int,
                root_valid: bool) -> Check:
    """At `weight`, the split serves FROM's routes with FROM's and TO's backends, TO's
    share exactly weight %, and every other route of the host as before."""
    name = f"split at {weight}% builds as planned"
    problem = "" if root_valid else f"{ref(plan.roots()[0])} is not valid with the split"
    problem = problem or split_problem(base, switched, split, plan, weight)
    return Check(name, not problem, problem or "root valid, routes as planned")


def split_problem(base: Any, switched: Any, split: Any, plan: SwitchPlan, weight: int) -> str:
    hosts = fqdns_of(plan)
    before, after = dict(host_routes(base, hosts)), dict(host_routes(split, hosts))
    targets = {i: r for i, r in host_routes(switched, hosts) if via(r, plan, plan.target)}
    if set(before) != set(after):
        changed = sorted({str(i[2]) for i in set(before) ^ set(after)})
        return f"the routes change: {', '.join(changed)}"
    for i, old in before.items():
        new = after[i]
        if not via(old, plan, plan.source):
            if new != old:
                return f"route {i[2]} would change"
            continue
        if i not in targets or shape(new) != shape(old):
            return f"route {i[2]} changes its settings"
        if backends(new.clusters) != backends((*old.clusters, *targets[i].clusters)):
            return f"route {i[2]} does not list the services of both sides"
        to_services = {(c.service.namespace, c.service.name) for c in targets[i].clusters}
        on_to = sum(c.weight for c in new.clusters if (c.service.namespace, c.service.name)
                    in to_services)
        if on_to * 100 != weight * sum(c.weight for c in new.clusters):
            return f"route {i[2]} sends {on_to} of {sum(c.weight for c in new.clusters)} to TO"
    return ""


def split_checks(snapshot: Snapshot, plan: SwitchPlan, recipe: Recipe, steps: tuple[int, ...],
                 build: Callable[[Snapshot], Any], switched: Any) -> list[Check]:
    """One check per intermediate step, each on the builder's DAG of the split root."""
    (root,) = plan.roots()
    obj = snapshot.index(plan.kind)[root]
    base = build(snapshot)
    out = [same_routes_check(base, switched, plan)]
    if not out[0].ok:
        return out
    for weight in (w for w in steps if w < 100):
        split_obj = {**obj, "spec": spec_at(plan.kind, obj["spec"], recipe, weight)}
        dag = build(snapshot.replaced(split_obj))
        st = status_of(computed_statuses(dag.statuses), plan.kind, root)
        out.append(split_check(base, switched, dag, plan, weight,
                               st is not None and st.current == "valid"))
    return out


def tls_check(dag: Any, plan: SwitchPlan, *, until: dt.datetime) -> Check:
    """The certificates TO's traffic meets (the hosts' TLS secrets, TO's upstream CAs)
    are valid until the rollout's earliest end."""
    from kubectl_contour.queries.certs import load_pem

    hosts = fqdns_of(plan)
    found: list[tuple[str, bytes]] = [
        (f"secret {vh.secret.namespace}/{vh.secret.name}", vh.secret.cert)
        for vh in dag.https if vh.host in hosts and vh.secret is not None]
    found += [(f"CA {c.validation.ca_secret_name} of {c.service.name}", c.validation.ca_cert)
              for _, r in host_routes(dag, hosts) if via(r, plan, plan.target)
              for c in r.clusters if c.validation is not None]
    name = "certificates outlive the rollout"
    for what, pem in sorted(set(found)):
        certs = load_pem(pem)
        if not certs:
            return Check(name, False, f"{what}: no certificate")
        ends = min(c.not_valid_after_utc for c in certs)
        if ends <= until:
            return Check(name, False, f"{what} expires {ends:%Y-%m-%dT%H:%M:%SZ}, before "
                                      f"the rollout can end ({until:%Y-%m-%dT%H:%M:%SZ})")
    detail = ", ".join(sorted({w for w, _ in found})) or "no TLS on the way"
    return Check(name, True, detail)


def none_running_check(current: Rollout | None, root: Key) -> Check:
    name = f"no rollout runs on {ref(root)}"
    if current is not None and current.phase == RUNNING:
        return Check(name, False, f"{current.source} → {current.target} is at step "
                                  f"{current.step + 1}/{len(current.steps)} since "
                                  f"{current.updated}: promote, abort or undo it first")
    return Check(name, True, "none" if current is None else f"the last one is {current.phase}")


def stats_check(readings: dict[str, dict[str, Any]], names: list[str]) -> Check:
    """Each Envoy reports stats of FROM's clusters: the gate can read Envoy's numbers (a
    bootstrap keeping no `cluster.*` stats cannot; the default, `contour bootstrap
    --cluster-stats essential`, keeps those the gate reads, the traffic counters from a
    cluster's first request on)."""
    name = "every Envoy reports the gate's numbers"
    if not readings:
        return Check(name, False, "no Envoy to read")
    for envoy, found in sorted(readings.items()):
        absent = [n for n in names if n not in found]
        if absent:
            return Check(name, False, f"{envoy} has no stats for {', '.join(absent)} (an "
                                      "Envoy bootstrapped with --cluster-stats none?)")
    return Check(name, True, f"{len(readings)} Envoys")
