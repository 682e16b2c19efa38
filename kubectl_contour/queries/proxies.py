"""What one IngressRoute or HTTPProxy declares, in one shape for both kinds: its entries
(routes, delegations or includes, tcpproxy), each with its conditions in words, the path
prefix it adds and the object it leads to. This reads one object at a time and never walks:
what was reached and served comes from the DAG (route provenance and statuses)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_contour.objects import (
    HTTPPROXY,
    INGRESSROUTE,
    Key,
    Obj,
    delegate_key,
    key_of,
    routes_of,
    spec_of,
)

PROXY_KINDS = (INGRESSROUTE, HTTPPROXY)
"""The kinds that delegate (IngressRoute) or include (HTTPProxy) one another."""

LINK_WORDS = {INGRESSROUTE: "delegate", HTTPPROXY: "include"}


@dataclass(frozen=True, slots=True)
class ServiceRef:
    name: str
    port: int
    weight: int | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One declared route, delegation/include or tcpproxy of an object."""

    field: str
    """`routes`, `includes` or `tcpproxy`: where it sits in the spec."""
    index: int
    match: str
    """The conditions in words: an IngressRoute match, `prefix /api, header x present` for
    an HTTPProxy (its own conditions, relative to its includer), or `tcpproxy`."""
    prefix: str = ""
    """The path prefix this entry's conditions add ("" when none)."""
    target: Key | None = None
    """The object a delegation or include leads to; None for a route that serves."""
    services: tuple[ServiceRef, ...] = ()


def entries(kind: str, obj: Obj) -> list[Entry]:
    """Every entry of `obj` in spec order (HTTPProxy: includes first, as v1.33 visits)."""
    return ir_entries(obj) if kind == INGRESSROUTE else hp_entries(obj)


def entries_to(kind: str, obj: Obj | None, child: Key) -> list[Entry]:
    """The entries of `obj` that lead to `child`."""
    return [e for e in entries(kind, obj) if e.target == child] if obj is not None else []


def ir_entries(obj: Obj) -> list[Entry]:
    ns = key_of(obj)[0]
    out = []
    for i, route in enumerate(routes_of(obj)):
        match = str(route.get("match") or "")
        out.append(Entry("routes", i, match, match, delegate_key(route, owner_namespace=ns),
                         raw_services(route.get("services"))))
    tcp = spec_of(obj).get("tcpproxy")
    if isinstance(tcp, dict):
        out.append(Entry("tcpproxy", 0, "tcpproxy", "", delegate_key(tcp, owner_namespace=ns),
                         raw_services(tcp.get("services"))))
    return out


def hp_entries(obj: Obj) -> list[Entry]:
    from controller.k8s.httpproxy_views import httpproxy_view

    view = httpproxy_view(obj)
    out = [Entry("includes", i, conditions_text(inc.conditions), path_prefix(inc.conditions),
                 inc.key) for i, inc in enumerate(view.includes)]
    for i, (route, raw) in enumerate(zip(view.routes, spec_of(obj).get("routes") or [],
                                         strict=False)):
        out.append(Entry("routes", i, conditions_text(route.conditions),
                         path_prefix(route.conditions), None,
                         raw_services(raw.get("services") if isinstance(raw, dict) else None)))
    if view.tcpproxy is not None:
        tcp = spec_of(obj).get("tcpproxy") or {}
        out.append(Entry("tcpproxy", 0, "tcpproxy", "", view.tcpproxy.include,
                         raw_services(tcp.get("services"))))
    return out


def raw_services(services: Any) -> tuple[ServiceRef, ...]:
    """(name, port, weight) of each declared service (weight None when not given)."""
    out = []
    for svc in services if isinstance(services, list) else []:
        if isinstance(svc, dict):
            weight = svc.get("weight")
            out.append(ServiceRef(str(svc.get("name") or ""), int(svc.get("port") or 0),
                                  int(weight) if weight is not None else None))
    return tuple(out)


def conditions_text(conds: Sequence[Any]) -> str:
    """HTTPProxy conditions in the words `route` uses for DAG routes (one description)."""
    from controller.dag.proxyroutes import route_for
    from kubectl_contour.queries.matching import describe_match

    return describe_match(route_for(conds))


def path_prefix(conds: Sequence[Any]) -> str:
    """The prefix the conditions' path parts add ("" for none)."""
    return "".join(c.prefix for c in conds if getattr(c, "prefix", ""))


def join_prefix(base: str, prefix: str) -> str:
    """An include's prefix under its includer's (`/api` + `/v1`), without doubled slashes."""
    if not base or base == "/":
        return prefix
    return base.rstrip("/") + prefix if prefix.startswith("/") else base + prefix
