"""`analyze`: every analyzer run over one snapshot, built with the controller's own store and
builder, the findings merged, narrowed to the namespace shown and sorted (most severe
first, then code, namespace, name, kind, message).

Families: analyze_objects (CTR1xxx, CTR4001), analyze_routes and analyze_backends
(CTR2xxx), analyze_hosts (CTR3xxx), analyze_gateway (CTR5xxx). The codes and their
severities: analyze_model.CODES.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubectl_contour.objects import INGRESSROUTE, Snapshot
from kubectl_contour.queries.analyze_model import ERROR, SEVERITIES, Finding, Inputs

if TYPE_CHECKING:
    from controller.config import BuilderSettings


def inputs_for(snapshot: Snapshot, settings: BuilderSettings, *, now: datetime,
               envoys: tuple[tuple[str, Any], ...] = ()) -> Inputs:
    """The store and DAG of `snapshot`, built as the controller builds them."""
    from controller.dag.builder import build
    from kubectl_contour.queries.build import build_store

    store = build_store(snapshot, settings=settings)
    return Inputs(snapshot, store, build(store, settings), settings, now, envoys)


def analyze(inputs: Inputs, *, scope: str | None) -> list[Finding]:
    """Every finding about an object in namespace `scope` (None: all), sorted, each once."""
    from kubectl_contour.queries.analyze_backends import backend_findings
    from kubectl_contour.queries.analyze_gateway import gateway_findings
    from kubectl_contour.queries.analyze_hosts import host_findings
    from kubectl_contour.queries.analyze_objects import object_findings
    from kubectl_contour.queries.analyze_routes import route_findings

    found: set[Finding] = set()
    for family in (object_findings, route_findings, backend_findings, host_findings,
                   gateway_findings):
        found.update(family(inputs))
    kept = without_covered(found)
    return sorted((f for f in kept if scope is None or f.namespace == scope),
                  key=Finding.sort_key)


EXPLAINS_INGRESSROUTE_STATUS = frozenset({"CTR3001", "CTR3002"})
"""Codes whose finding is the reason of an IngressRoute's `invalid` status (a duplicate or
claimed fqdn)."""


def without_covered(found: Iterable[Finding]) -> list[Finding]:
    """An IngressRoute's status holds one description: when a CTR3001 or CTR3002 names the
    IngressRoute, it is that description said better, and its CTR1003 is dropped."""
    found = list(found)
    explained = {(f.kind, f.namespace, f.name) for f in found
                 if f.code in EXPLAINS_INGRESSROUTE_STATUS}
    return [f for f in found if not (f.code == "CTR1003" and f.kind == INGRESSROUTE
                                     and (f.kind, f.namespace, f.name) in explained)]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity listed (most severe first)."""
    tally = Counter(f.severity for f in findings)
    return {s: tally.get(s, 0) for s in SEVERITIES}
