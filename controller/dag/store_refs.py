"""Which Services and Secrets the stored objects name (store.py's reference index).

A Service or Secret change matters to the DAG only while an Ingress, IngressRoute,
HTTPProxy, ExtensionService or Gateway API object names it (spec §2.5). The index is an
over-approximation (orphans and unpermitted delegations count too), which can cost a rebuild
but never miss one.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.dag.secrets import split_secret
from controller.k8s.httpproxy_views import HTTPProxyView
from controller.k8s.objects import Key
from controller.k8s.views import IngressRouteView, IngressView

Refs = tuple[tuple[Key, ...], tuple[Key, ...]]
"""(the Services, the Secrets) one object names."""


class References:
    """Per stored object, what it names; per Service and Secret, how many objects name it."""

    def __init__(self) -> None:
        self._services: dict[Key, int] = {}
        self._secrets: dict[Key, int] = {}
        self._of: dict[tuple[str, Key], Refs] = {}

    def set(self, kind: str, key: Key, services: tuple[Key, ...],
            secrets: tuple[Key, ...]) -> None:
        """Replace what the object `kind`/`key` names (both empty: it is gone)."""
        old_services, old_secrets = self._of.pop((kind, key), ((), ()))
        _count(self._services, old_services, -1)
        _count(self._secrets, old_secrets, -1)
        _count(self._services, services, +1)
        _count(self._secrets, secrets, +1)
        if services or secrets:
            self._of[(kind, key)] = (services, secrets)

    def names_service(self, key: Key) -> bool:
        return self._services.get(key, 0) > 0

    def names_secret(self, key: Key) -> bool:
        return self._secrets.get(key, 0) > 0


def ingress_refs(view: IngressView) -> Refs:
    return _ingress_services(view), _ingress_secrets(view)


def ingressroute_refs(view: IngressRouteView) -> Refs:
    return _ir_services(view), _ir_secrets(view)


def httpproxy_refs(view: HTTPProxyView) -> Refs:
    return _hp_services(view), _hp_secrets(view)


def _count(counter: dict[Key, int], keys: Iterable[Key], delta: int) -> None:
    for key in keys:
        n = counter.get(key, 0) + delta
        if n > 0:
            counter[key] = n
        else:
            counter.pop(key, None)


def _ingress_services(view: IngressView) -> tuple[Key, ...]:
    return tuple(
        {
            (view.namespace, p.backend.service)
            for rule in view.rules
            for p in rule.paths
            if p.backend is not None
        }
    )


def _ingress_secrets(view: IngressView) -> tuple[Key, ...]:
    return tuple({split_secret(t.secret_name, view.namespace) for t in view.tls})


def _ir_services(view: IngressRouteView) -> tuple[Key, ...]:
    names = {s.name for r in view.routes or () for s in r.services}
    names.update(s.name for s in (view.tcpproxy.services if view.tcpproxy else ()))
    return tuple((view.namespace, n) for n in names)


def _ir_secrets(view: IngressRouteView) -> tuple[Key, ...]:
    refs = {
        (view.namespace, s.validation.ca_secret)
        for r in view.routes or ()
        for s in r.services
        if s.validation is not None
    }
    if view.tls is not None:
        refs.add(split_secret(view.tls.secret_name, view.namespace))
    return tuple(refs)


def _hp_services(view: HTTPProxyView) -> tuple[Key, ...]:
    names = {s.name for r in view.routes for s in r.services}
    names.update(s.name for s in (view.tcpproxy.services if view.tcpproxy else ()))
    return tuple(sorted((view.namespace, n) for n in names))


def _hp_secrets(view: HTTPProxyView) -> tuple[Key, ...]:
    refs = {
        split_secret(s.validation.ca_secret, view.namespace)
        for r in view.routes
        for s in r.services
        if s.validation is not None
    }
    if view.vhost is not None and view.vhost.tls is not None:
        refs.add(split_secret(view.vhost.tls.secret_name, view.namespace))
        cv = view.vhost.tls.client_validation
        for ref in (cv.ca_secret, cv.crl_secret) if cv is not None else ():
            if ref:
                refs.add(split_secret(ref, view.namespace))
    for provider in view.vhost.jwt_providers if view.vhost is not None else ():
        if provider.validation is not None:
            refs.add(split_secret(provider.validation.ca_secret, view.namespace))
    return tuple(sorted(refs))
