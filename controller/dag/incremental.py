"""The incremental DAG builder: after an event, rebuild only what it can have changed.

`build()` in builder.py re-processes every root on every event; at 10k IngressRoutes that
is ~0.2–0.4 s. This builder keeps each root's `RootResult` together with exactly what its
processing read from the store (recorded through `deps.Recorder`), and on the next build
re-runs only the roots whose reads were touched. The output equals `build(store)` (the
tests check it on randomized event sequences):

- a root is processed by the same `ingressroute.process_root`; its dependencies are the
  IngressRoutes, Services and Secrets it looked up (found or not) and the namespaces of
  the TLS secrets whose delegation it checked (deps.py);
- duplicate fqdns are tracked per lower-cased fqdn group: a change to a group re-runs
  its members;
- the Ingress layer re-runs only the Ingresses touched or reading a touched Service, Secret
  or delegation namespace, and reassembles the hosts they name (incremental_ingress.py);
- HTTPProxy roots are tracked the same way by incremental_proxies.ProxyRoots; an fqdn an
  HTTPProxy root names blocks the IngressRoute roots of that fqdn (claims.py), so a change
  to an HTTPProxy fqdn group re-checks the IngressRoute group of the same fqdn;
- the Gateway API layer is re-run whole when anything it reads changes
  (incremental_gateway.py);
- each host's vhosts are replayed from its Ingress contribution and its one processed
  root (duplicate and claimed fqdns are skipped, so at most one root owns a host):
  Ingress first, then the root, then the Gateway API, which is the builder's overlay
  order;
- an IngressRoute status is the duplicate-fqdn (or claim) one, else the one of the first
  root (in key order) that recorded one for the object, else "orphaned" for an unreached
  non-root; statuses are kept by (namespace, name, kind).

`build()` returns the DAG and the set of hosts whose vhosts changed, so the translator
can re-encode only those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from controller.config import BuilderSettings
from controller.dag import extension, ingressroute
from controller.dag import status as st
from controller.dag.builder import VirtualHostTables, resolved_rate_limit
from controller.dag.claims import ingressroute_group
from controller.dag.deps import Deps, FrozenDeps, ReadersIndex, Recorder
from controller.dag.fqdn_groups import FqdnGroups
from controller.dag.incremental_gateway import GatewayLayer
from controller.dag.incremental_ingress import IngressLayer
from controller.dag.incremental_proxies import ProxyRoots
from controller.dag.ingressroute import RootResult
from controller.dag.model import (
    DAG,
    ExtensionCluster,
    Route,
    Secret,
    SecureVirtualHost,
    Status,
    VirtualHost,
)
from controller.dag.multimap import MultiMap
from controller.dag.store import ObjectStore
from controller.k8s.objects import (
    EXTENSION_SERVICE,
    HTTPPROXY,
    INGRESSROUTE,
    SECRET,
    SERVICE,
    TLS_CERTIFICATE_DELEGATION,
    Key,
)

HostRoutes = list[tuple[Route | None, Route | None]]
_EXTENSION_READS = frozenset({EXTENSION_SERVICE, SERVICE, SECRET, TLS_CERTIFICATE_DELEGATION})
"""The kinds an ExtensionService's cluster reads: an event on one re-derives them all
(ExtensionServices are few; each costs microseconds)."""



@dataclass(slots=True)
class _Processed:
    result: RootResult
    deps: FrozenDeps


@dataclass(slots=True)
class BuildChanges:
    """What the last `build()` changed: hosts whose port-80 or port-443 vhost was added,
    changed or removed. `full` is set on the first build (everything is new);
    `fallback_secret` when DAG.fallback_secret differs from the last build's (a vhost only
    says whether it uses it)."""

    hosts: set[str] = field(default_factory=set)
    full: bool = False
    roots_processed: int = 0
    fallback_secret: bool = False


class _SortedTable:
    """A dict kept with its values as a tuple sorted by key; cheap to refresh when only
    values change (index lookup), re-sorted only when keys come or go."""

    __slots__ = ("values", "_keys", "_pos", "_tuple", "_dirty_keys", "_dirty_values")

    def __init__(self) -> None:
        self.values: dict[object, object] = {}
        self._keys: list[object] = []
        self._pos: dict[object, int] = {}
        self._tuple: tuple[object, ...] = ()
        self._dirty_keys = False
        self._dirty_values: set[object] = set()

    def set(self, key: object, value: object | None) -> None:
        if value is None:
            if self.values.pop(key, None) is not None:
                self._dirty_keys = True
            return
        if key not in self.values:
            self._dirty_keys = True
        self.values[key] = value
        self._dirty_values.add(key)

    def as_tuple(self) -> tuple[object, ...]:
        if self._dirty_keys:
            self._keys = sorted(self.values)  # type: ignore[type-var]
            self._pos = {k: i for i, k in enumerate(self._keys)}
            self._tuple = tuple(self.values[k] for k in self._keys)
        elif self._dirty_values:
            items = list(self._tuple)
            for k in self._dirty_values:
                items[self._pos[k]] = self.values[k]
            self._tuple = tuple(items)
        self._dirty_keys = False
        self._dirty_values.clear()
        return self._tuple


class IncrementalBuilder:
    """`touch()` every object event (kind, namespace, name), then `build()`."""

    def __init__(self, store: ObjectStore, settings: BuilderSettings) -> None:
        self.store, self.settings = store, settings
        self._first = True
        self._touched: set[tuple[str, Key]] = set()
        self._processed: dict[Key, _Processed] = {}
        self._readers = ReadersIndex()
        # duplicate fqdns
        self._groups = FqdnGroups()
        self._duplicates: dict[Key, Status] = {}
        self._ingress = IngressLayer(store)
        # hosts
        self._host_root: dict[str, Key] = {}
        self._http = _SortedTable()
        self._https = _SortedTable()
        # statuses
        self._status_roots: MultiMap[Key, Key] = MultiMap()
        self._reached_by: dict[Key, int] = {}
        self._statuses = _SortedTable()
        self._proxies = ProxyRoots(store, settings)
        self._fallback: dict[str, Secret] = {}
        self._last_fallback: Secret | None = None
        self._gateway = GatewayLayer(store, settings)
        self._extensions: tuple[ExtensionCluster, ...] = ()
        self._extension_keys: set[Key] = set()

    @property
    def http_vhosts(self) -> Mapping[str, VirtualHost]:
        """The last build's port-80 vhosts by host."""
        return cast(Mapping[str, VirtualHost], self._http.values)

    @property
    def https_vhosts(self) -> Mapping[str, SecureVirtualHost]:
        return cast(Mapping[str, SecureVirtualHost], self._https.values)

    def touch(self, kind: str, namespace: str, name: str) -> None:
        """Note an object to re-read; before the first build nothing is noted, since that
        build reads everything (perf: 35k set entries at a 10k HTTPProxy cold start)."""
        if not self._first:
            self._touched.add((kind, (namespace, name)))

    # -- the build -------------------------------------------------------------------------

    def build(self) -> tuple[DAG, BuildChanges]:
        changes = BuildChanges(full=self._first)
        roots: set[Key] = set()
        hosts: set[str] = set()
        status_keys: set[Key] = set()
        groups: set[str] = set()
        if self._first:  # everything is new: no need to look at what was touched
            roots.update(k for k, v in self.store.ingressroutes.items() if v.is_root)
            status_keys.update(self.store.ingressroutes)
            for key in roots:
                self._regroup(key, groups)
        for kind, key in () if self._first else self._touched:
            roots |= self._readers.readers(kind, key)
            if kind == INGRESSROUTE:
                roots.add(key)
                status_keys.add(key)
                self._regroup(key, groups)
        groups |= self._proxies.collect(self._first, self._touched)
        if self._first or any(kind in _EXTENSION_READS for kind, _ in self._touched):
            self._update_extensions()
        self._ingress.update(self._first, self._touched, hosts)
        self._gateway.update(self._first, self._touched, hosts)
        self._touched.clear()
        self._first = False
        for fqdn in groups:
            members = self._groups.members(fqdn)
            roots |= members
            status_keys |= members
            self._recheck_duplicates(fqdn, members)
        for key in roots:
            self._reprocess(key, hosts, status_keys)
        changes.roots_processed = len(roots) + self._proxies.rebuild(hosts)
        for host in hosts:
            if self._replay(host):
                changes.hosts.add(host)
        for key in status_keys:
            self._statuses.set((*key, INGRESSROUTE), self._status(key))
        for key, status in self._proxies.statuses().items():
            self._statuses.set((*key, HTTPPROXY), status)
        dag = DAG(
            http=cast(tuple[VirtualHost, ...], self._http.as_tuple()),
            https=cast(tuple[SecureVirtualHost, ...], self._https.as_tuple()),
            statuses=cast(tuple[Status, ...], self._statuses.as_tuple()),
            fallback_secret=self._fallback[min(self._fallback)] if self._fallback else None,
            gateway_statuses=tuple(self._gateway.result.statuses),
            extensions=self._extensions,
            rate_limit_service=resolved_rate_limit(self.settings, self._extensions),
            gateway_listeners=self._gateway.listeners,
            gateway_services=tuple(self._gateway.result.services),
        )
        changes.fallback_secret = dag.fallback_secret != self._last_fallback
        self._last_fallback = dag.fallback_secret
        return dag, changes

    def _update_extensions(self) -> None:
        """Every ExtensionService's cluster and status, as the full build derives them."""
        views = self.store.extensionservices
        self._extensions, found = extension.extensions(views.values(), self.store)
        for key in self._extension_keys - views.keys():
            self._statuses.set((*key, EXTENSION_SERVICE), None)
        for status in found:
            self._statuses.set((status.namespace, status.name, EXTENSION_SERVICE), status)
        self._extension_keys = set(views)

    # -- duplicate fqdns -------------------------------------------------------------------

    def _regroup(self, key: Key, groups: set[str]) -> None:
        """Move `key` to the group of its current fqdn; both groups are re-checked."""
        self._duplicates.pop(key, None)
        view = self.store.ingressroutes.get(key)
        self._groups.move(key, view.fqdn.lower() if view is not None and view.is_root else None,
                          groups)

    def _recheck_duplicates(self, fqdn: str, members: set[Key]) -> None:
        for key in members:
            self._duplicates.pop(key, None)
        views = [self.store.ingressroutes[k] for k in members]
        for status in ingressroute_group(fqdn, views, self._proxies.claimants(fqdn)):
            self._duplicates[(status.namespace, status.name)] = status

    # -- roots -----------------------------------------------------------------------------

    def _reprocess(self, key: Key, hosts: set[str], status_keys: set[Key]) -> None:
        old = self._processed.pop(key, None)
        if old is not None:
            self._unindex(key, old, hosts, status_keys)
        view = self.store.ingressroutes.get(key)
        if view is None or not view.is_root or key in self._duplicates:
            return
        deps = Deps()
        deps.ingressroutes.add(key)
        result = ingressroute.process_root(view, Recorder(self.store, deps), self.settings)
        new = self._processed[key] = _Processed(result, deps.frozen())
        self._index(key, new, hosts, status_keys)

    def _index(self, key: Key, p: _Processed, hosts: set[str], status_keys: set[Key]) -> None:
        self._readers.add(p.deps, key)
        for k in p.result.reached:
            self._reached_by[k] = self._reached_by.get(k, 0) + 1
        for k in p.result.statuses:
            self._status_roots.add(k, key)
        if p.result.host:
            self._host_root[p.result.host] = key
            hosts.add(p.result.host)
        status_keys.update(p.result.reached)
        status_keys.update(p.result.statuses)

    def _unindex(self, key: Key, p: _Processed, hosts: set[str], status_keys: set[Key]) -> None:
        self._readers.discard(p.deps, key)
        for k in p.result.reached:
            n = self._reached_by[k] - 1
            if n:
                self._reached_by[k] = n
            else:
                del self._reached_by[k]
        for k in p.result.statuses:
            self._status_roots.discard(k, key)
        if p.result.host:
            if self._host_root.get(p.result.host) == key:
                del self._host_root[p.result.host]
            hosts.add(p.result.host)
        status_keys.update(p.result.reached)
        status_keys.update(p.result.statuses)

    # -- hosts -----------------------------------------------------------------------------

    def _replay(self, host: str) -> bool:
        """Rebuild one host's vhosts; True when either changed."""
        vhosts = VirtualHostTables()
        tls = self._ingress.secure.get(host)
        if tls is not None:
            vhosts.set_tls(host, *tls)
        for r80, r443 in self._ingress.routes.get(host, ()):
            vhosts.add_routes(host, r80, r443)
        root = self._host_root.get(host)
        if root is not None:
            vhosts.add_root(self._processed[root].result)
        proxy = self._proxies.host_result(host)
        if proxy is not None:
            vhosts.add_proxy(proxy)
        gateway = self._gateway.by_host.get(host)
        if gateway is not None:
            vhosts.add_gateway(gateway)
        if vhosts.fallback_secret is not None:
            self._fallback[host] = vhosts.fallback_secret
        else:
            self._fallback.pop(host, None)
        http, https = vhosts.freeze()
        new_http = http[0] if http else None
        new_https = https[0] if https else None
        changed = False
        if self._http.values.get(host) != new_http:
            self._http.set(host, new_http)
            changed = True
        if self._https.values.get(host) != new_https:
            self._https.set(host, new_https)
            changed = True
        return changed

    # -- statuses --------------------------------------------------------------------------

    def _status(self, key: Key) -> Status | None:
        duplicate = self._duplicates.get(key)
        if duplicate is not None:
            return duplicate
        owners = self._status_roots.get(key)
        if owners:
            return self._processed[min(owners)].result.statuses[key]
        view = self.store.ingressroutes.get(key)
        if view is not None and not view.is_root and key not in self._reached_by:
            return st.orphaned(key)
        return None
