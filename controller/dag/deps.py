"""What one root's processing read from the store, and which roots read a given object.

`Recorder` stands in for the store while `ingressroute.process_root` or
`httpproxy.process_root` runs and writes down every key looked up (found or not);
`ReadersIndex` turns those records around so that an object event finds the roots to re-run
(see incremental.py; one index per root kind, since keys of two kinds may be equal).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from controller.dag.gateway_store import GatewayObjects
from controller.dag.model import Secret, ServicePort
from controller.dag.multimap import MultiMap
from controller.dag.store import ObjectStore
from controller.k8s.extension_views import ExtensionServiceView
from controller.k8s.httpproxy_views import HTTPProxyView
from controller.k8s.objects import (
    DELEGATION_KINDS,
    EXTENSION_SERVICE,
    HTTPPROXY,
    INGRESSROUTE,
    SECRET,
    SERVICE,
    Key,
)
from controller.k8s.views import IngressRouteView
from controller.records import record


@dataclass(slots=True)
class Deps:
    """What one root's processing read from the store."""

    ingressroutes: set[Key] = field(default_factory=set)
    httpproxies: set[Key] = field(default_factory=set)
    services: set[Key] = field(default_factory=set)
    secrets: set[Key] = field(default_factory=set)
    delegation_namespaces: set[str] = field(default_factory=set)
    extensions: set[Key] = field(default_factory=set)

    def frozen(self) -> FrozenDeps:
        """The same reads as tuples, to keep after the processing (memory: five sets were
        ~1.1 KB per root, 55 MB at 50k roots; bench/memory.py)."""
        return FrozenDeps(tuple(self.ingressroutes), tuple(self.httpproxies),
                          tuple(self.services), tuple(self.secrets),
                          tuple(self.delegation_namespaces), tuple(self.extensions))


@record
class FrozenDeps:
    """What one root's processing read, as kept until it is processed again."""

    ingressroutes: tuple[Key, ...] = ()
    httpproxies: tuple[Key, ...] = ()
    services: tuple[Key, ...] = ()
    secrets: tuple[Key, ...] = ()
    delegation_namespaces: tuple[str, ...] = ()
    extensions: tuple[Key, ...] = ()


V = TypeVar("V")


class _RecordingLookup(Generic[V]):
    __slots__ = ("_objects", "_seen")

    def __init__(self, objects: dict[Key, V], seen: set[Key]) -> None:
        self._objects, self._seen = objects, seen

    def get(self, key: Key) -> V | None:
        self._seen.add(key)
        return self._objects.get(key)


class Recorder:
    """The store's read API as `process_root` uses it (`ingressroute.RootReads`,
    `proxyreads.ProxyReads`), recording every key looked up."""

    __slots__ = ("_store", "deps", "_ingressroutes", "_httpproxies")

    def __init__(self, store: ObjectStore, deps: Deps) -> None:
        self._store, self.deps = store, deps
        self._ingressroutes = _RecordingLookup(store.ingressroutes, deps.ingressroutes)
        self._httpproxies = _RecordingLookup(store.httpproxies, deps.httpproxies)

    @property
    def ingressroutes(self) -> _RecordingLookup[IngressRouteView]:
        return self._ingressroutes

    @property
    def httpproxies(self) -> _RecordingLookup[HTTPProxyView]:
        return self._httpproxies

    @property
    def gateway(self) -> GatewayObjects:
        """Not recorded: any Gateway API event re-runs the whole Gateway API layer
        (incremental_gateway.py)."""
        return self._store.gateway

    def service_exists(self, key: Key) -> bool:
        self.deps.services.add(key)
        return self._store.service_exists(key)

    def secret_problem(self, key: Key) -> str:
        self.deps.secrets.add(key)
        return self._store.secret_problem(key)

    def service_port(self, key: Key, port: int) -> ServicePort | None:
        self.deps.services.add(key)
        return self._store.service_port(key, port)

    def service_port_named(self, key: Key, name: str) -> ServicePort | None:
        self.deps.services.add(key)
        return self._store.service_port_named(key, name)

    def tcp_service_port(self, key: Key, port: int) -> ServicePort | None:
        self.deps.services.add(key)
        return self._store.tcp_service_port(key, port)

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]:
        self.deps.secrets.add(key)
        self.deps.delegation_namespaces.add(key[0])
        return self._store.tls_secret(key, namespace)

    def ca_certificate(self, key: Key) -> bytes:
        self.deps.secrets.add(key)
        return self._store.ca_certificate(key)

    def crl(self, key: Key) -> bytes:
        self.deps.secrets.add(key)
        return self._store.crl(key)

    def missing_secret(self, key: Key) -> str:
        self.deps.secrets.add(key)
        return self._store.missing_secret(key)
    def extension_service(self, key: Key) -> ExtensionServiceView | None:
        self.deps.extensions.add(key)
        return self._store.extension_service(key)


class _Index:
    """dependency → the roots that read it."""

    __slots__ = ("_by",)

    def __init__(self) -> None:
        self._by: MultiMap[Hashable, Key] = MultiMap()

    def add(self, deps: Iterable[Hashable], root: Key) -> None:
        for d in deps:
            self._by.add(d, root)

    def discard(self, deps: Iterable[Hashable], root: Key) -> None:
        for d in deps:
            self._by.discard(d, root)

    def get(self, dep: Hashable) -> set[Key]:
        return self._by.get(dep)


class ReadersIndex:
    """Each root's last `Deps`, turned around: an object → the roots that read it."""

    __slots__ = ("_ingressroutes", "_httpproxies", "_services", "_secrets",
                 "_delegation_namespaces", "_extensions")

    def __init__(self) -> None:
        self._ingressroutes = _Index()
        self._httpproxies = _Index()
        self._services = _Index()
        self._secrets = _Index()
        self._delegation_namespaces = _Index()
        self._extensions = _Index()

    def add(self, deps: FrozenDeps, root: Key) -> None:
        self._ingressroutes.add(deps.ingressroutes, root)
        self._httpproxies.add(deps.httpproxies, root)
        self._services.add(deps.services, root)
        self._secrets.add(deps.secrets, root)
        self._delegation_namespaces.add(deps.delegation_namespaces, root)
        self._extensions.add(deps.extensions, root)

    def discard(self, deps: FrozenDeps, root: Key) -> None:
        self._ingressroutes.discard(deps.ingressroutes, root)
        self._httpproxies.discard(deps.httpproxies, root)
        self._services.discard(deps.services, root)
        self._secrets.discard(deps.secrets, root)
        self._delegation_namespaces.discard(deps.delegation_namespaces, root)
        self._extensions.discard(deps.extensions, root)

    def readers(self, kind: str, key: Key) -> set[Key]:
        """The roots whose processing read the object (a delegation: any secret of its
        namespace); empty for kinds no root reads."""
        if kind == INGRESSROUTE:
            return self._ingressroutes.get(key)
        if kind == HTTPPROXY:
            return self._httpproxies.get(key)
        if kind == SERVICE:
            return self._services.get(key)
        if kind == SECRET:
            return self._secrets.get(key)
        if kind in DELEGATION_KINDS:
            return self._delegation_namespaces.get(key[0])
        if kind == EXTENSION_SERVICE:
            return self._extensions.get(key)
        return set()
