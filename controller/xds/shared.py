"""What every stream in step needs alike, computed once, not once per stream.

perf (bench fanout, issue 12): with n Envoys, each change was resolved, diffed, encoded
and remembered n times over the same bytes. Here:

- `view(snapshot, sub)`: what a subscription gets of a TypeSnapshot (sorted) and the
  versions that makes, one object per (snapshot, name set) — name sets are canonical
  (`subscription.canonical`), so every stream with the same interest shares it;
- `delta(old, new)`: from holding exactly `old` (a view, or nothing) to `new`: what changed,
  what went, the encoded response without its nonce, and whether a sent cluster is
  health-checked;
- `health_checked(clusters)`: whether any serialized cluster has active health checks.

What is kept, and for how long (issue 12, 50k growth over changes): a view is found while
anything holds it (a stream holding it as what its client has, `held.Held`, or a delta
from it), through a weak index; only the views and deltas of each type's newest snapshot
are held here as well, for the streams still to ask in the same step. Views of older
snapshots went with the last stream that held them: before, 16 views and 16 deltas were
kept whatever they were of, and each view pinned its snapshot — at 50k, up to 16 route
tables of 5 MB each (BENCHMARKS.md "the 50k growth's holder"). An entry keeps or checks
the objects its key's `id()`s came from, so a reused id never matches.
"""

from __future__ import annotations

import bisect
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field

from envoy.config.cluster.v3 import cluster_pb2
from google.protobuf.message import DecodeError

from controller.xds import wire
from controller.xds.subscription import Subscription, placeholder
from controller.xdscache.snapshot import CLUSTER, Resource, TypeSnapshot

VIEWS_KEPT = 16
DELTAS_KEPT = 16
DELTA_BYTES_KEPT = 32 << 20
"""Encoded bodies kept at most (a 10k-vhost route table is ~1 MB per delta)."""


@dataclass(eq=False, slots=True, weakref_slot=True)
class View:
    snapshot: TypeSnapshot
    names: frozenset[str]
    wildcard: bool
    resources: list[Resource]  # sorted by name
    versions: dict[str, str] = field(default_factory=dict)  # never mutated
    base: weakref.ref[View] | None = None
    """Set when derived from an earlier view (`_derived`): that view, weakly."""
    moved: tuple[list[Resource], list[str]] = field(default_factory=lambda: ([], []))
    """With `base`: (changed, removed) from it to this one, both in name order."""


@dataclass(frozen=True, slots=True)
class Delta:
    changed: list[Resource]
    removed: list[str]
    body: bytes  # wire.delta_body
    health_checked: bool


ViewKey = tuple[int, int, bool]
DeltaEntry = tuple["weakref.ref[View] | None", View, Delta]
_views: weakref.WeakValueDictionary[ViewKey, View] = weakref.WeakValueDictionary()
_pinned: dict[str, dict[ViewKey, View]] = {}
"""Per type URL: the views of its newest snapshot, held for the streams still to ask."""
_deltas: dict[str, dict[tuple[int, int], DeltaEntry]] = {}
"""Per type URL: the deltas to a view of its newest snapshot (`old` held weakly)."""


def view(snapshot: TypeSnapshot, sub: Subscription) -> View:
    found = _cached(snapshot, sub)
    if found is not None:
        return found
    made = _derived(snapshot, sub)
    if made is None:
        resources = sub.resolve_sorted(snapshot)
        made = View(snapshot, sub.names, sub.wildcard, resources,
                    {r.name: r.version for r in resources})
    key = (id(snapshot), id(sub.names), sub.wildcard)
    _views[key] = made
    _keep(_newest(_pinned, snapshot), key, made, VIEWS_KEPT)
    _newest(_deltas, snapshot)  # the deltas to older views of the type go too
    return made


def _newest(kept: dict[str, dict], snapshot: TypeSnapshot) -> dict:  # type: ignore[type-arg]
    """`kept`'s entries for `snapshot`'s type, emptied first when they are of another
    snapshot of it (an older one: streams ask for the newest)."""
    entries = kept.setdefault(snapshot.type_url, {})
    first = next(iter(entries.values()), None)
    if first is not None and _snapshot_of(first) is not snapshot:
        entries.clear()
    return entries


def _snapshot_of(entry: View | DeltaEntry) -> TypeSnapshot:
    return entry.snapshot if isinstance(entry, View) else entry[1].snapshot


def _cached(snapshot: TypeSnapshot, sub: Subscription) -> View | None:
    """`sub`'s view of `snapshot` if the cache holds it (the objects, not only their ids)."""
    found = _views.get((id(snapshot), id(sub.names), sub.wildcard))
    if found is not None and found.snapshot is snapshot and found.names is sub.names:
        return found
    return None


DERIVE_FROM = 8
"""How many patches back `_derived` looks for a view of the same subscription."""


def _derived(snapshot: TypeSnapshot, sub: Subscription) -> View | None:
    """`sub`'s view of `snapshot` from its view of an earlier snapshot `snapshot` was
    patched from, touching only the names the patches moved; None when there is none or
    the patches moved much. perf: at 50k resources a fresh view sorts and maps every
    resource (~20-80 ms per change of a wildcard type, BENCHMARKS.md "Route layouts")."""
    moved: set[str] = set()
    step = snapshot
    for _ in range(DERIVE_FROM):
        base = step.base() if step.base is not None else None
        if base is None:
            return None
        moved |= step.moved
        prev = _cached(base, sub)
        if prev is not None:
            if len(moved) * 8 > len(snapshot.resources) + 8:
                return None  # a fresh view costs about as much
            return _patched_view(prev, snapshot, sub, sorted(moved))
        step = base
    return None


def _patched_view(prev: View, snapshot: TypeSnapshot, sub: Subscription,
                  moved: list[str]) -> View:
    """`prev` with the `moved` names (sorted) re-resolved against `snapshot`; the new
    view records (changed, removed) from `prev`, both in name order."""
    resources, versions = list(prev.resources), dict(prev.versions)
    changed: list[Resource] = []
    removed: list[str] = []
    for name in moved:
        if not (sub.wildcard or name in sub.names):
            continue
        found = _resolved(snapshot, sub, name)
        i = bisect.bisect_left(resources, name, key=_name)
        here = i < len(resources) and resources[i].name == name
        if found is None:
            if here:
                del resources[i], versions[name]
                removed.append(name)
        elif not here or resources[i].version != found.version:
            resources[i:i + here] = [found]  # replaced, or inserted in name order
            versions[name] = found.version
            changed.append(found)
    return View(snapshot, sub.names, sub.wildcard, resources, versions,
                weakref.ref(prev), (changed, removed))


def _resolved(snapshot: TypeSnapshot, sub: Subscription, name: str) -> Resource | None:
    """What `sub` gets for `name` of `snapshot`: the resource, the placeholder of a named
    resource that does not exist (`subscription.placeholder`), or nothing."""
    found = snapshot.resources.get(name)
    if found is None and name in sub.names:
        return placeholder(snapshot.type_url, name)
    return found


def _name(r: Resource) -> str:
    return r.name


def delta(old: View | None, new: View) -> Delta:
    key = (id(old), id(new))
    found = _deltas.get(new.snapshot.type_url, {}).get(key)
    if found is not None and _deref(found[0]) is old and found[1] is new:
        return found[2]
    if old is not None and new.base is not None and new.base() is old:
        changed, removed = new.moved  # perf: known from `_derived`, no scan of `old`
    else:
        before = old.versions if old is not None else {}
        changed = [r for r in new.resources if before.get(r.name) != r.version]
        removed = sorted(n for n in before if n not in new.versions)
    snapshot = new.snapshot
    body = wire.delta_body(version=snapshot.version, type_url=snapshot.type_url,
                           resources=changed, removed=removed)
    made = Delta(changed, removed, body, snapshot.type_url == CLUSTER
                 and health_checked(changed))
    kept = _newest(_deltas, snapshot)
    _keep(kept, key, (weakref.ref(old) if old is not None else None, new, made), DELTAS_KEPT)
    while len(kept) > 1 and sum(len(d[2].body) for d in kept.values()) > DELTA_BYTES_KEPT:
        del kept[next(iter(kept))]
    return made


def _deref(ref: weakref.ref[View] | None) -> View | None:
    return ref() if ref is not None else None


def _keep(cache: dict, key: object, value: object, most: int) -> None:  # type: ignore[type-arg]
    while len(cache) >= most:
        del cache[next(iter(cache))]
    cache[key] = value


def health_checked(clusters: Iterable[Resource]) -> bool:
    """True when any of the serialized clusters has active health checks."""
    return any(_health_checked(r) for r in clusters)


def _health_checked(cluster: Resource) -> bool:
    # perf: every stream asks this of the clusters it is sent, and all are sent the same
    # Resource objects: parse each body once, not per stream (kept on the resource, so it
    # goes with it: an LRU cache keyed by body kept the bodies of deleted clusters).
    found = cluster.health_checked
    if found is None:
        try:
            found = bool(cluster_pb2.Cluster.FromString(cluster.body).health_checks)
        except DecodeError:
            found = False
        cluster.remember("health_checked", found)
    return found
