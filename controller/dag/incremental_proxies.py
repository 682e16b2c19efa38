"""The HTTPProxy half of the incremental builder (incremental.py): re-run only the HTTPProxy
roots an event can have changed, and keep what the full build derives from them.

- a root is processed by `httpproxy.process_root` through a `deps.Recorder`; an event on an
  object it read (HTTPProxies, Services, Secrets, delegations of a secret's namespace)
  re-runs it;
- duplicate fqdns are tracked per lower-cased fqdn group; a change to a group re-runs its
  members, and the group's fqdn is reported so that the IngressRoute roots of that fqdn
  are re-checked (claims.py: an HTTPProxy root keeps its fqdn);
- an HTTPProxy's status is the merge of the findings of every root that visited it (in
  root order, as the full build does), else orphaned for a non-root.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.config import BuilderSettings
from controller.dag import httpproxy
from controller.dag import proxystatus as ps
from controller.dag.claims import claimants
from controller.dag.deps import Deps, FrozenDeps, ReadersIndex, Recorder
from controller.dag.fqdn_groups import FqdnGroups
from controller.dag.model import Status
from controller.dag.multimap import MultiMap
from controller.dag.proxyreads import ProxyResult
from controller.dag.store import ObjectStore
from controller.k8s.objects import HTTPPROXY, Key


class ProxyRoots:
    """`collect()` the touched objects, then `rebuild()`; read the results per host."""

    def __init__(self, store: ObjectStore, settings: BuilderSettings) -> None:
        self.store, self.settings = store, settings
        self._processed: dict[Key, tuple[ProxyResult, FrozenDeps]] = {}
        self._readers = ReadersIndex()
        self._groups = FqdnGroups()
        self._duplicates: dict[Key, ps.ProxyConditions] = {}
        self._recorded_by: MultiMap[Key, Key] = MultiMap()
        self._host_root: dict[str, Key] = {}
        self._roots: set[Key] = set()
        self.status_keys: set[Key] = set()
        """Proxies whose status may have changed since the last `statuses()`."""

    # -- events ----------------------------------------------------------------------------

    def collect(self, first: bool, touched: Iterable[tuple[str, Key]]) -> set[str]:
        """Note what to re-run; returns the fqdns whose HTTPProxy roots changed."""
        fqdns: set[str] = set()
        if first:
            keys = list(self.store.httpproxies)
            self._roots.update(k for k in keys if self.store.httpproxies[k].is_root)
            self.status_keys.update(keys)
            for key in keys:
                self._regroup(key, fqdns)
        for kind, key in () if first else touched:
            self._roots |= self._readers.readers(kind, key)
            if kind == HTTPPROXY:
                self._roots.add(key)
                self.status_keys.add(key)
                self._regroup(key, fqdns)
        for fqdn in fqdns:
            members = self._groups.members(fqdn)
            self._roots |= members
            self.status_keys |= members
            self._recheck_duplicates(fqdn, members)
        return fqdns

    def claimants(self, fqdn: str) -> list[Key]:
        return claimants(fqdn, self._groups.members(fqdn))

    def rebuild(self, hosts: set[str]) -> int:
        """Re-run the noted roots; adds the hosts they had or have. Returns how many roots
        were processed."""
        roots, self._roots = self._roots, set()
        return sum(self._reprocess(key, hosts) for key in roots)

    def host_result(self, host: str) -> ProxyResult | None:
        root = self._host_root.get(host)
        return self._processed[root][0] if root is not None else None

    def statuses(self) -> dict[Key, Status | None]:
        """The current status of every proxy in `status_keys` (None: no status), which is
        then cleared."""
        out = {key: self._status(key) for key in self.status_keys}
        self.status_keys.clear()
        return out

    # -- duplicate fqdns -------------------------------------------------------------------

    def _regroup(self, key: Key, fqdns: set[str]) -> None:
        self._duplicates.pop(key, None)
        view = self.store.httpproxies.get(key)
        self._groups.move(key, view.fqdn.lower() if view is not None and view.is_root else None,
                          fqdns)

    def _recheck_duplicates(self, fqdn: str, members: set[Key]) -> None:
        for key in members:
            self._duplicates.pop(key, None)
        if len(members) > 1:
            views = [self.store.httpproxies[k] for k in members]
            self._duplicates.update(httpproxy.duplicate_fqdns(views))

    # -- roots -----------------------------------------------------------------------------

    def _reprocess(self, key: Key, hosts: set[str]) -> bool:
        old = self._processed.pop(key, None)
        if old is not None:
            self._unindex(key, old[0], old[1], hosts)
        view = self.store.httpproxies.get(key)
        if view is None or not view.is_root or key in self._duplicates:
            return False
        deps = Deps()
        deps.httpproxies.add(key)
        result = httpproxy.process_root(view, Recorder(self.store, deps), self.settings)
        frozen = deps.frozen()
        self._processed[key] = (result, frozen)
        self._readers.add(frozen, key)
        for k in result.conditions:
            self._recorded_by.add(k, key)
        self.status_keys.update(result.conditions)
        if result.host:
            self._host_root[result.host] = key
            hosts.add(result.host)
        return True

    def _unindex(self, key: Key, result: ProxyResult, deps: FrozenDeps,
                 hosts: set[str]) -> None:
        self._readers.discard(deps, key)
        for k in result.conditions:
            self._recorded_by.discard(k, key)
        self.status_keys.update(result.conditions)
        if result.host:
            if self._host_root.get(result.host) == key:
                del self._host_root[result.host]
            hosts.add(result.host)

    # -- statuses --------------------------------------------------------------------------

    def _status(self, key: Key) -> Status | None:
        records = []
        duplicate = self._duplicates.get(key)
        if duplicate is not None:
            records.append(duplicate)
        for root in sorted(self._recorded_by.get(key)):
            records.append(self._processed[root][0].conditions[key])
        if records:
            return ps.status(key, ps.merge(records))
        view = self.store.httpproxies.get(key)
        if view is not None and not view.is_root:
            return ps.orphaned(key)
        return None
