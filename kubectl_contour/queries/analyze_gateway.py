"""Gateway API findings (CTR5xxx, and the CTR2xxx backend codes where they fit), from the
statuses the controller's processor computed and the routes' backendRefs.

In: the analyzers' Inputs. Out: findings about Gateways and HTTPRoutes, GRPCRoutes and
TLSRoutes:
- CTR5001 a parent refused the route (Accepted False, with the spec's reason);
- CTR5002 a backendRef or certificateRef not resolved (ResolvedRefs False: BackendNotFound,
  RefNotPermitted, InvalidKind...);
- CTR5003 no parentRef names the Gateway this controller serves;
- CTR5004 the served Gateway or one of its listeners is not programmed;
- CTR5005 every backendRef of a rule is weighted 0: Gateway API answers 500 (unlike
  HTTPProxy's even split, CTR2006);
- CTR2005 a backendRef weighted 0 next to weighted ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubectl_contour.objects import GATEWAY, GATEWAY_ROUTE_KINDS, Obj, key_of
from kubectl_contour.queries.analyze_model import Finding, Inputs, finding
from kubectl_contour.queries.gateway import failing, gateway_statuses, route_rules


def gateway_findings(inputs: Inputs) -> Iterator[Finding]:
    statuses = gateway_statuses(inputs.dag)
    for obj in inputs.snapshot.of_kind(GATEWAY):
        st = statuses.get((GATEWAY, *key_of(obj)))
        if st is not None:
            problems = [*failing(st.conditions), *(
                f"listener {li.name}: {p}" for li in st.listeners for p in failing(li.conditions))]
            yield from (finding("CTR5004", GATEWAY, key_of(obj), p) for p in problems)
    for kind in GATEWAY_ROUTE_KINDS:
        for obj in inputs.snapshot.of_kind(kind):
            yield from route_findings(kind, obj, statuses.get((kind, *key_of(obj))))


def route_findings(kind: str, obj: Obj, status: Any) -> Iterator[Finding]:
    key = key_of(obj)
    parents = getattr(status, "parents", ())
    if not parents:
        yield finding("CTR5003", kind, key, f"{kind} {key[0]}/{key[1]}: no parentRef names "
                      "the Gateway this controller serves: it is not served")
    for p in parents:
        where = f"parent {p.parent.namespace}/{p.parent.name}"
        for c in p.conditions:
            if c.status == "True":
                continue
            code = "CTR5001" if c.type == "Accepted" else "CTR5002"
            yield finding(code, kind, key, f"{where}: {c.type} {c.reason}: {c.message}")
    for rule in route_rules(obj):
        weights = [b.weight for b in rule.backends]
        where = f"rule {rule.index} ({' | '.join(rule.matches)})"
        if weights and not any(weights):
            yield finding("CTR5005", kind, key, f"{where}: every backendRef is weighted 0: "
                          "the rule answers 500")
        elif 0 in weights:
            zero = ", ".join(f"{b.name}:{b.port}" for b in rule.backends if not b.weight)
            yield finding("CTR2005", kind, key, f"{where}: {zero} weighted 0 gets no traffic")
