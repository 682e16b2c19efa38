"""Who serves an fqdn that several roots name (docs/decisions.md, "Mixed roots"), for both
builders.

Among IngressRoutes, duplicates are all invalid (v0.15.3). When an HTTPProxy root names the
fqdn too, the HTTPProxy keeps it and every IngressRoute root naming it is invalid with a
message naming the HTTPProxies (the project's rule: deterministic, whatever the order the
objects arrived in). HTTPProxy duplicates among themselves are httpproxy.duplicate_fqdns'.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.dag import ingressroute
from controller.dag import status as st
from controller.dag.model import Status
from controller.dag.proxystatus import claimed_by_httpproxy
from controller.k8s.httpproxy_views import HTTPProxyView
from controller.k8s.objects import Key
from controller.k8s.views import IngressRouteView


def httpproxy_fqdns(views: Iterable[HTTPProxyView]) -> dict[str, list[Key]]:
    """Lower-cased fqdn → the HTTPProxy roots naming it (sorted)."""
    out: dict[str, list[Key]] = {}
    for view in views:
        if view.is_root:
            out.setdefault(view.fqdn.lower(), []).append(view.key)
    return {fqdn: claimants(fqdn, keys) for fqdn, keys in out.items()}


def claimants(fqdn: str, keys: Iterable[Key]) -> list[Key]:
    """The HTTPProxy roots of one lower-cased fqdn that claim it: a blank one claims nothing."""
    return sorted(keys) if fqdn.strip() else []


def ingressroute_group(fqdn: str, members: list[IngressRouteView], claimants: list[Key]
                       ) -> list[Status]:
    """The statuses that stop IngressRoute roots of one lower-cased fqdn from being
    processed: claimed by an HTTPProxy, else duplicates."""
    if claimants:
        return [st.invalid(v.key, claimed_by_httpproxy(v.fqdn, claimants), fqdn)
                for v in sorted(members, key=lambda v: v.key)]
    return ingressroute.duplicate_fqdns(members) if len(members) > 1 else []


def ingressroute_blocked(views: Iterable[IngressRouteView],
                         claims: Mapping[str, list[Key]]) -> list[Status]:
    """`ingressroute_group` over every fqdn group of IngressRoute roots."""
    groups: dict[str, list[IngressRouteView]] = {}
    for view in views:
        if view.is_root:
            groups.setdefault(view.fqdn.lower(), []).append(view)
    out: list[Status] = []
    for fqdn in sorted(groups):
        out.extend(ingressroute_group(fqdn, groups[fqdn], claims.get(fqdn, [])))
    return out
