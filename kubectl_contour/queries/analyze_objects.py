"""Findings about objects and their links (CTR1xxx, CTR4001), read from what the builder
computed: statuses (orphaned, invalid, an HTTPProxy's errors and warnings), the validation
boundary's refusals, references to objects the controller does not hold, Ingress paths not
served, and objects of another ingress class.

An HTTPProxy's errors each carry a reason; the ones another analyzer explains better (a
missing include, a duplicate fqdn, an undelegated secret) are left to it. An IngressRoute's
status holds one description, so analyze.py drops its CTR1003 when a duplicate or claimed
fqdn (CTR3001, CTR3002) explains it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubectl_contour.objects import (
    HTTPPROXY,
    INGRESS,
    INGRESSROUTE,
    Key,
    Obj,
    key_of,
    ref,
    spec_of,
)
from kubectl_contour.queries.analyze_model import Finding, Inputs, finding, held_proxies, holds
from kubectl_contour.queries.proxies import LINK_WORDS, entries

COVERED_REASONS = frozenset({"IncludeNotFound", "DuplicateVhost", "DelegationNotPermitted"})
"""HTTPProxy error reasons reported by a more specific code (CTR1002, CTR3001, CTR3004)."""
ORPHANED_TYPE = "Orphaned"


def object_findings(inputs: Inputs) -> Iterator[Finding]:
    yield from status_findings(inputs.dag.statuses)
    yield from rejected_findings(inputs)
    yield from missing_targets(inputs)
    yield from ingress_findings(inputs)
    yield from class_findings(inputs)


def status_findings(statuses: Any) -> Iterator[Finding]:
    """CTR1001 orphaned, CTR1003 invalid (an HTTPProxy: one per error), CTR1005 an
    HTTPProxy's warnings; first status per object, as the builder's."""
    seen: set[tuple[str, Key]] = set()
    for st in statuses:
        kind, key = str(st.kind or INGRESSROUTE), (st.namespace, st.name)
        if (kind, key) in seen:
            continue
        seen.add((kind, key))
        if st.current == "orphaned":
            chain = "a delegation" if kind == INGRESSROUTE else "an include"
            yield finding("CTR1001", kind, key, f"not part of {chain} chain from any root: "
                          "nothing of it is served")
        elif st.current == "invalid" and kind == INGRESSROUTE:
            yield finding("CTR1003", kind, key, st.description)
        yield from condition_findings(kind, key, st.conditions)


def condition_findings(kind: str, key: Key, conditions: Any) -> Iterator[Finding]:
    for cond in conditions:
        for err in cond.errors:
            if err.type != ORPHANED_TYPE and err.reason not in COVERED_REASONS:
                yield finding("CTR1003", kind, key, f"{err.reason}: {err.message}")
        for warning in cond.warnings:
            yield finding("CTR1005", kind, key, f"{warning.reason}: {warning.message}")


def rejected_findings(inputs: Inputs) -> Iterator[Finding]:
    for r in inputs.snapshot.rejected:
        yield finding("CTR1004", r.kind or "?", (r.namespace, r.name),
                      f"refused ({r.source}): {'; '.join(r.reasons)}")


def missing_targets(inputs: Inputs) -> Iterator[Finding]:
    """CTR1002: a delegate or include naming an object of its kind the store does not hold
    (absent, or of another ingress class), in every object the controller holds."""
    for kind, obj in held_proxies(inputs):
        for e in entries(kind, obj):
            if e.target is not None and not holds(inputs, kind, e.target):
                yield finding("CTR1002", kind, key_of(obj),
                              missing_text(inputs, kind, e.field, e.match, e.target))


def missing_text(inputs: Inputs, kind: str, field: str, match: str, target: Key) -> str:
    if field == "tcpproxy":
        where = f"tcpproxy {LINK_WORDS[kind]}s"
    else:
        where = f"route {match} delegates to" if kind == INGRESSROUTE else \
            f"include ({match}) names"
    why = ("exists, but its ingress class is not the controller's"
           if inputs.snapshot.get(kind, target) is not None else "does not exist")
    effect = ("nothing is proxied" if field == "tcpproxy" else
              "the path is not served (404)" if kind == INGRESSROUTE
              else "its conditions answer 502")
    return f"{where} {kind} {ref(target)}, which {why}: {effect}"


def ingress_findings(inputs: Inputs) -> Iterator[Finding]:
    """CTR1006: an Ingress the controller holds with paths it skips or does not serve."""
    from controller.dag.ingress import skipped_paths
    from kubectl_contour.queries.status import ingress_verdict

    for key, view in sorted(inputs.store.ingresses.items()):
        for reason in skipped_paths(view):
            yield finding("CTR1006", INGRESS, key, reason)
        obj = inputs.snapshot.get(INGRESS, key)
        if obj is None:
            continue
        status, reason = ingress_verdict(inputs.snapshot, inputs.dag, obj)
        if status != "served":
            yield finding("CTR1006", INGRESS, key, f"{status}: {reason}")


def class_findings(inputs: Inputs) -> Iterator[Finding]:
    """CTR4001: an Ingress, IngressRoute or HTTPProxy of another class (the store's rule)."""
    from controller.k8s import annotations as ann

    wanted = inputs.settings.ingress_class
    for kind in (INGRESS, INGRESSROUTE, HTTPPROXY):
        for obj in inputs.snapshot.of_kind(kind):
            asked = ann.ingress_class(annotations_of(obj), class_name_of(kind, obj))
            if asked and asked != wanted:
                yield finding("CTR4001", kind, key_of(obj),
                              f"its ingress class {asked!r} is not the controller's "
                              f"{wanted!r}: the controller ignores it")


def annotations_of(obj: Obj) -> dict[str, str]:
    found = (obj.get("metadata") or {}).get("annotations") or {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def class_name_of(kind: str, obj: Obj) -> str:
    """spec.ingressClassName (Ingress, HTTPProxy); IngressRoutes have annotations only."""
    return "" if kind == INGRESSROUTE else str(spec_of(obj).get("ingressClassName") or "")
