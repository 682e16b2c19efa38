"""The snapshot cache: the only thing the xDS server ever reads.

Translators hand in serialized resources, ``{type_url: {name: bytes}}``; the cache
keeps an immutable :class:`Snapshot` of them and tells waiting streams when it moves.

Versions are content hashes, not counters:

* a resource's version is a short hash of its bytes (delta xDS sends it, and a
  reconnecting Envoy sends it back in ``initial_resource_versions``);
* a type's version is the XOR of the hashes of its (name, version) pairs, so it
  changes only when the type's content changes (upstream bumped every type on every
  rebuild, spec §5), it is updated in O(changed) on the EDS fast path, and it is the
  same after a controller restart for the same content.

Nothing is served before :meth:`SnapshotCache.mark_ready`: after a controller restart
an Envoy must not be handed an empty configuration while the first build runs.

This class is not thread-safe: call it from the event loop's thread.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from controller.envoy.type_urls import CLUSTER_TYPE as CLUSTER
from controller.envoy.type_urls import ENDPOINT_TYPE as ENDPOINT
from controller.envoy.type_urls import LISTENER_TYPE as LISTENER
from controller.envoy.type_urls import ROUTE_TYPE as ROUTE
from controller.envoy.type_urls import SCOPED_ROUTE_TYPE as SCOPED_ROUTE
from controller.envoy.type_urls import SECRET_TYPE as SECRET
from controller.envoy.type_urls import VIRTUAL_HOST_TYPE as VIRTUAL_HOST
from controller.records import record

# Make-before-break (xDS protocol, "eventual consistency considerations"): clusters
# first, then their endpoints, then the secrets listeners will reference, then the
# listeners, then the route scopes (scoped RDS), the route tables the listeners'
# RDS subscriptions ask for and their virtual hosts (VHDS). A listener or route never
# arrives before the cluster/secret it names.
PUSH_ORDER: tuple[str, ...] = (CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE,
                               VIRTUAL_HOST)
TYPE_URLS = frozenset(PUSH_ORDER)
LAYOUT_TYPES = frozenset({SCOPED_ROUTE, VIRTUAL_HOST})
"""Served when a route layout puts resources there (scoped RDS: the translator's `scoped`
layout, xdscache/scopes.py; VHDS: bench/layouts.py only), so reports leave them out while
they are empty."""

_EMPTY_DIGEST = 0


def resource_version(body: bytes) -> str:
    """A short content hash: equal bytes, equal version, across restarts too."""
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def _entry_digest(name: str, version: str) -> int:
    h = hashlib.blake2b(f"{name}\0{version}".encode(), digest_size=16)
    return int.from_bytes(h.digest(), "big")


@record
class Resource:
    name: str
    body: bytes
    version: str
    frame: tuple[str, bytes, bytes] | None = field(default=None, compare=False, repr=False)
    """The xDS server's encoding around the body (controller/xds/wire.py), computed on the
    first send. memory: held by the resource, so it goes with it; an LRU cache of 131,072
    frames outlived the resources (python -m bench.fuzz at 30k objects: 6 MB of frames of
    deleted objects after every object was removed, and the arenas they pinned)."""
    health_checked: bool | None = field(default=None, compare=False, repr=False)
    """Whether the (cluster) body has active health checks (controller/xds/shared.py),
    computed on first use; held by the resource for the same reason."""

    @classmethod
    def of(cls, name: str, body: bytes) -> Resource:
        return cls(name, body, resource_version(body))

    def remember(self, attribute: str, value: object) -> None:
        """Set a derived field (`frame`, `health_checked`): the resource is still frozen for
        what it is (name, body, version); these only cache what follows from them."""
        object.__setattr__(self, attribute, value)


@dataclass(frozen=True, slots=True, weakref_slot=True)
class TypeSnapshot:
    """All resources of one type, and the version naming exactly that content."""

    type_url: str
    resources: Mapping[str, Resource] = field(default_factory=lambda: MappingProxyType({}))
    digest: int = _EMPTY_DIGEST
    serial: int = 0
    """The snapshot generation that first held this content: it grows whenever the content
    does, so "acked serial >= s" means "holds what serial s held, or newer" (programmed
    status, controller/programmed/), which content hashes cannot order."""
    base: weakref.ref[TypeSnapshot] | None = field(default=None, compare=False, repr=False)
    """`patched`: the snapshot this one was patched from (weakly: no chain of history)."""
    moved: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    """`patched`: the names upserted or removed since `base` (controller/xds/shared.py
    derives a subscription's view from base's in O(moved), not O(resources))."""
    ordered: list[Resource] | None = field(default=None, compare=False, repr=False)
    """`sorted_resources`, computed on first use and held by the snapshot, so it goes with
    it (a 16-entry cache of these pinned 16 old route tables: 5 MB each at 50k)."""

    def sorted_resources(self) -> list[Resource]:
        """Every resource sorted by name, computed once per snapshot (shared by every
        stream); callers must not modify the list."""
        if self.ordered is None:
            table = self.resources
            object.__setattr__(self, "ordered", [table[n] for n in sorted(table)])
        return self.ordered  # type: ignore[return-value]

    @property
    def version(self) -> str:
        return f"{self.digest:032x}"[:16]

    def replaced(self, bodies: Mapping[str, bytes]) -> TypeSnapshot:
        old = self.resources
        new = {n: _reuse(old.get(n), n, b) for n, b in bodies.items()}
        digest = _EMPTY_DIGEST
        for r in new.values():
            digest ^= _entry_digest(r.name, r.version)
        return TypeSnapshot(self.type_url, MappingProxyType(new), digest)

    def patched(self, changed: Mapping[str, bytes], removed: Iterable[str]) -> TypeSnapshot:
        # perf: a mappingproxy's copy() is the dict's; dict(proxy) goes key by key
        # (50k resources: 0.6 vs 6.4 ms per patch)
        new = (self.resources.copy() if isinstance(self.resources, MappingProxyType)
               else dict(self.resources))
        digest = self.digest
        dropped = set(removed)
        for name in dropped - changed.keys():
            if (gone := new.pop(name, None)) is not None:
                digest ^= _entry_digest(name, gone.version)
        for name, body in changed.items():
            r = _reuse(new.get(name), name, body)
            if (prev := new.get(name)) is not None:
                digest ^= _entry_digest(name, prev.version)
            digest ^= _entry_digest(name, r.version)
            new[name] = r
        return TypeSnapshot(self.type_url, MappingProxyType(new), digest,
                            base=weakref.ref(self), moved=frozenset(changed) | dropped)


def _reuse(prev: Resource | None, name: str, body: bytes) -> Resource:
    if prev is not None and prev.body == body:
        return prev
    return Resource.of(name, body)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One consistent view of every type; ``generation`` grows with every change."""

    types: Mapping[str, TypeSnapshot]
    generation: int = 0

    def get(self, type_url: str) -> TypeSnapshot:
        found = self.types.get(type_url)
        return found if found is not None else TypeSnapshot(type_url)

    def versions(self) -> dict[str, str]:
        return {t: s.version for t, s in self.types.items()}

    def serials(self) -> dict[str, int]:
        return {t: s.serial for t, s in self.types.items()}


def _empty_snapshot() -> Snapshot:
    return Snapshot(MappingProxyType({t: TypeSnapshot(t) for t in PUSH_ORDER}))


class SnapshotCache:
    def __init__(self) -> None:
        self._snapshot = _empty_snapshot()
        self._ready = asyncio.Event()
        self._changed = asyncio.Event()
        self._listeners: set[Callable[[], None]] = set()

    # --- reading -----------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def generation(self) -> int:
        return self._snapshot.generation

    def version(self, type_url: str) -> str:
        return self._snapshot.get(type_url).version

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def wait_for_generation(self, after: int) -> Snapshot:
        """Return the first snapshot whose generation is greater than ``after``."""
        while self._snapshot.generation <= after:
            await self._changed.wait()
        return self._snapshot

    async def wait_for_change(self, type_url: str, version: str) -> str:
        """Wait until ``type_url``'s version differs from ``version``; return the new one."""
        while (current := self.version(type_url)) == version:
            await self.wait_for_generation(self._snapshot.generation)
        return current

    def add_listener(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (synchronously) after every change; returns the remover."""
        self._listeners.add(callback)
        return lambda: self._listeners.discard(callback)

    # --- writing -----------------------------------------------------------------
    def mark_ready(self) -> None:
        """The first full snapshot is in: streams may now be answered."""
        if not self._ready.is_set():
            self._ready.set()
            self._notify()

    def set(self, type_url: str, resources: Mapping[str, bytes]) -> bool:
        """Replace all resources of one type; True when its content changed."""
        return bool(self.publish({type_url: resources}))

    def update(
        self, type_url: str, changed: Mapping[str, bytes], removed: Iterable[str] = ()
    ) -> bool:
        """Upsert ``changed`` and drop ``removed`` (a name in both is kept)."""
        return bool(self.publish({type_url: changed}, partial=True, removed={type_url: removed}))

    def publish(
        self,
        changes: Mapping[str, Mapping[str, bytes]],
        *,
        partial: bool = False,
        removed: Mapping[str, Iterable[str]] | None = None,
    ) -> frozenset[str]:
        """Apply several types at once, with one notification; return the changed types.

        ``partial=False``: each type in ``changes`` is replaced whole (types not named
        are untouched). ``partial=True``: upserts, plus the names in ``removed``.
        """
        removed = removed or {}
        current = self._snapshot
        types = dict(current.types)
        for type_url in set(changes) | set(removed):
            _check_type(type_url)
            old = current.get(type_url)
            bodies = changes.get(type_url, {})
            if partial:
                new = old.patched(bodies, removed.get(type_url, ()))
            else:
                new = old.replaced(bodies)
            # perf: an unchanged type keeps its TypeSnapshot object, so streams can tell
            # "nothing moved" by identity (controller/xds/stream.py).
            if new.digest != old.digest:
                types[type_url] = replace(new, serial=current.generation + 1)
        changed = frozenset(t for t, s in types.items() if s.digest != current.get(t).digest)
        if changed:
            self._snapshot = Snapshot(MappingProxyType(types), current.generation + 1)
            self._notify()
        return changed

    def _notify(self) -> None:
        # Swap the event before setting it: waiters woken now re-check the snapshot,
        # later waiters block on the fresh event.
        fired, self._changed = self._changed, asyncio.Event()
        fired.set()
        for callback in list(self._listeners):
            callback()


def _check_type(type_url: str) -> None:
    if type_url not in TYPE_URLS:
        raise ValueError(f"no resource registered for typeURL {type_url!r}")
