"""Two Gateway API rules both the listeners and the routes use: ReferenceGrants for
cross-namespace references, and hostname intersection (listener ∩ route, wildcards)."""

from __future__ import annotations

from collections.abc import Iterable

from controller.dag.gateway_store import GatewayObjects


def granted(objects: GatewayObjects, source: tuple[str, str, str],
            target: tuple[str, str, str, str]) -> bool:
    """Whether a reference from (group, kind, namespace) to (group, kind, namespace, name)
    is allowed: same namespace, or a ReferenceGrant in the target's namespace lets it."""
    group, kind, namespace = source
    t_group, t_kind, t_namespace, t_name = target
    if namespace == t_namespace:
        return True
    for grant in objects.grants.values():
        if grant.namespace != t_namespace or source not in grant.sources:
            continue
        if any(g == t_group and k == t_kind and n in ("", t_name) for g, k, n in grant.targets):
            return True
    return False


def _matches(wildcard: str, host: str) -> bool:
    """`*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`."""
    return host.endswith(wildcard[1:]) and len(host) > len(wildcard) - 1


def intersect(listener: str, route: str) -> str:
    """The hostname both allow ("" none): the more specific of the two."""
    if listener == route:
        return route
    if listener.startswith("*.") and _matches(listener, route):
        return route
    if route.startswith("*.") and _matches(route, listener):
        return listener
    return ""


def hostnames(listener: str, route: Iterable[str]) -> list[str]:
    """The vhost names a route gets on a listener, sorted; `*` when neither names one."""
    names = list(route)
    if not names:
        return [listener or "*"]
    if not listener:
        return sorted(set(names))
    return sorted({h for h in (intersect(listener, n) for n in names) if h})
