"""The Ingress layer, incremental: an Ingress event re-runs that Ingress only.

The full builder (`ingress.secure_vhosts`, `ingress.routes`) walks every Ingress on every
build; at 10k Ingresses one change re-ran all of them (issue 12: p50 328-362 ms per change,
three times an IngressRoute change). Here each Ingress keeps its own contribution, what it
read from the store (`deps.Recorder`), and the hosts it wrote; a build re-runs the Ingresses
that were touched or read a touched Service, Secret or delegation namespace, and reassembles
only the hosts their old or new contributions name. The assembly keeps the full builder's
overlay order, so the result equals it (tests):

- TLS: per host, the entry of the greatest Ingress key naming the host (a later Ingress
  overwrites an earlier one; within one Ingress, its last entry);
- routes: per host, every Ingress's routes in key order, then rule and path order; the
  port-443 route exists when the host is secure (any Ingress's TLS entry), so a host whose
  TLS moved is reassembled too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from controller.dag import ingress
from controller.dag.deps import Deps, FrozenDeps, ReadersIndex, Recorder
from controller.dag.model import Route, Secret
from controller.dag.store import ObjectStore
from controller.k8s.objects import INGRESS, Key

HostRoutes = list[tuple[Route | None, Route | None]]


class _Everywhere:
    """A container holding every host: routes come with their port-443 candidate, and the
    assembly decides whether the host is secure."""

    def __contains__(self, host: object) -> bool:
        return True


@dataclass(slots=True)
class _Contribution:
    tls: dict[str, tuple[Secret, str]] = field(default_factory=dict)
    routes: dict[str, list[tuple[Route | None, Route | None]]] = field(default_factory=dict)
    deps: FrozenDeps = field(default_factory=FrozenDeps)

    def hosts(self) -> set[str]:
        return self.tls.keys() | self.routes.keys()


class IngressLayer:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.secure: dict[str, tuple[Secret, str]] = {}
        self.routes: dict[str, HostRoutes] = {}
        self._contributions: dict[Key, _Contribution] = {}
        self._readers = ReadersIndex()
        self._tls_by_host: dict[str, set[Key]] = {}
        self._routes_by_host: dict[str, set[Key]] = {}

    def update(self, first: bool, touched: Iterable[tuple[str, Key]], hosts: set[str]) -> None:
        """Re-run the Ingresses `touched` reaches (all when `first`); add every host whose
        Ingress TLS or routes changed to `hosts`."""
        if first:
            dirty = set(self.store.ingresses)
        else:
            dirty = set()
            for kind, key in touched:
                if kind == INGRESS:
                    dirty.add(key)
                else:
                    dirty |= self._readers.readers(kind, key)
        moved: set[str] = set()
        for key in dirty:
            self._rerun(key, moved)
        for host in moved:
            self._reassemble(host, hosts)

    def _rerun(self, key: Key, moved: set[str]) -> None:
        old = self._contributions.pop(key, None)
        if old is not None:
            self._unindex(key, old, moved)
        view = self.store.ingresses.get(key)
        if view is None:
            return
        new, deps = _Contribution(), Deps()
        reads = Recorder(self.store, deps)
        for tls in ingress.tls_entries(view, reads):
            new.tls[tls[0]] = tls[1]
        for host, r80, r443 in ingress.ingress_routes(view, reads, _Everywhere()):
            new.routes.setdefault(host, []).append((r80, r443))
        new.deps = deps.frozen()
        self._contributions[key] = new
        self._readers.add(new.deps, key)
        for host in new.tls:
            self._tls_by_host.setdefault(host, set()).add(key)
        for host in new.routes:
            self._routes_by_host.setdefault(host, set()).add(key)
        moved |= new.hosts()

    def _unindex(self, key: Key, old: _Contribution, moved: set[str]) -> None:
        self._readers.discard(old.deps, key)
        for host in old.tls:
            _discard(self._tls_by_host, host, key)
        for host in old.routes:
            _discard(self._routes_by_host, host, key)
        moved |= old.hosts()

    def _reassemble(self, host: str, hosts: set[str]) -> None:
        tls_keys = self._tls_by_host.get(host)
        secure = self._contributions[max(tls_keys)].tls[host] if tls_keys else None
        routes: HostRoutes = []
        for key in sorted(self._routes_by_host.get(host, ())):
            for r80, r443 in self._contributions[key].routes[host]:
                routes.append((r80, r443 if secure is not None and host != "*" else None))
        if self.secure.get(host) != secure:
            hosts.add(host)
            if secure is None:
                del self.secure[host]
            else:
                self.secure[host] = secure
        if self.routes.get(host) != (routes or None):
            hosts.add(host)
            if routes:
                self.routes[host] = routes
            else:
                del self.routes[host]


def _discard(index: dict[str, set[Key]], host: str, key: Key) -> None:
    found = index.get(host)
    if found is not None:
        found.discard(key)
        if not found:
            del index[host]

