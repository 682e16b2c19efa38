"""`status` rows of the Gateway API kinds, from the statuses the builder computed.

In: the snapshot and the DAG. Out: one StatusRow per GatewayClass, Gateway, HTTPRoute,
GRPCRoute and TLSRoute. Words: a GatewayClass is `accepted` or `ignored` (another
controller's); a Gateway `programmed`, `not programmed` or `not served` (static
provisioning serves one Gateway); a route `accepted`, `refs unresolved` (accepted,
ResolvedRefs False), `partly accepted` (some parents refused it), `not accepted` or `not
attached` (no parent of ours), with each parent's verdict as the reason.
"""

from __future__ import annotations

from typing import Any

from kubectl_contour.objects import (
    GATEWAY,
    GATEWAY_CLASS,
    GATEWAY_ROUTE_KINDS,
    Obj,
    Snapshot,
    key_of,
    spec_of,
)
from kubectl_contour.queries.gateway import (
    conditions_of,
    failing,
    gateway_statuses,
    hostnames_of,
    listener_hosts,
    parent_verdicts,
)
from kubectl_contour.queries.statuses import StatusRow


def gateway_rows(snapshot: Snapshot, dag: Any) -> list[StatusRow]:
    statuses = gateway_statuses(dag)
    rows = [class_row(o, statuses.get((GATEWAY_CLASS, *key_of(o))))
            for o in snapshot.of_kind(GATEWAY_CLASS)]
    rows += [gateway_row(o, statuses.get((GATEWAY, *key_of(o))))
             for o in snapshot.of_kind(GATEWAY)]
    rows += [route_row(kind, o, statuses.get((kind, *key_of(o))))
             for kind in GATEWAY_ROUTE_KINDS for o in snapshot.of_kind(kind)]
    return rows


def class_row(obj: Obj, status: Any) -> StatusRow:
    ns, name = key_of(obj)
    if status is None:
        theirs = str(spec_of(obj).get("controllerName") or "")
        return StatusRow(GATEWAY_CLASS, ns, name, "-", "ignored",
                         f"controllerName {theirs} is not this controller's")
    bad = failing(status.conditions)
    return StatusRow(GATEWAY_CLASS, ns, name, "-", "not accepted" if bad else "accepted",
                     "; ".join(bad) or "Accepted")


def gateway_row(obj: Obj, status: Any) -> StatusRow:
    """A Gateway's verdict and its listeners summary (`name: N route(s)` or what fails)."""
    ns, name = key_of(obj)
    hosts = ",".join(listener_hosts(obj)) or "-"
    if status is None:
        return StatusRow(GATEWAY, ns, name, hosts, "not served",
                         "not the Gateway this controller serves (static provisioning: "
                         "one Gateway of an accepted class)")
    programmed = conditions_of(status).get("Programmed")
    ok = programmed is not None and programmed.status == "True"
    listeners = [f"{li.name}: {li.attached_routes} route(s)" if not failing(li.conditions)
                 else f"{li.name}: {'; '.join(failing(li.conditions))}"
                 for li in status.listeners]
    reason = "; ".join([*failing(status.conditions), *listeners]) or "no listeners"
    return StatusRow(GATEWAY, ns, name, hosts, "programmed" if ok else "not programmed",
                     reason)


def route_row(kind: str, obj: Obj, status: Any) -> StatusRow:
    ns, name = key_of(obj)
    hosts = ",".join(hostnames_of(obj)) or "*"
    verdicts = parent_verdicts(status)
    if not verdicts:
        return StatusRow(kind, ns, name, hosts, "not attached",
                         "no parentRef names a Gateway this controller serves")
    accepted = sum(v.accepted for v in verdicts)
    word = ("partly accepted" if 0 < accepted < len(verdicts) else
            "not accepted" if not accepted else
            "accepted" if all(v.resolved for v in verdicts) else "refs unresolved")
    reason = "; ".join(f"{v.parent}: {', '.join(v.reasons) or 'Accepted'}" for v in verdicts)
    return StatusRow(kind, ns, name, hosts, word, reason)
