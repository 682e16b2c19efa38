"""The fan-out shortcuts (bench fanout, issue 12) answer what the plain paths answer:
`Subscription.resolve_sorted` and `shared.view` against `resolve`, `shared.delta` and the
copy-on-write `Held` against a plain diff, and `NodeRegistry.all_hold` (with its remembered
lagging node) against a scan of every node, asked after every step."""

from __future__ import annotations

import gc
import random
import weakref

import pytest
from envoy.service.discovery.v3 import discovery_pb2

from controller.programmed.state import lags
from controller.xds import shared, wire
from controller.xds.held import Held
from controller.xds.registry import NodeRegistry
from controller.xds.subscription import Subscription, sorted_resources
from controller.xdscache.snapshot import CLUSTER, ENDPOINT, LISTENER, ROUTE, Resource, TypeSnapshot


def snapshot(type_url: str, names: list[str]) -> TypeSnapshot:
    return TypeSnapshot(type_url).replaced({n: f"body-{n}".encode() for n in names})


SUBSCRIPTIONS = {
    "legacy-wildcard": ([], []),
    "explicit-wildcard-and-names": (["*", "b", "zz-missing"], []),
    "few-names": (["c", "zz-missing"], []),
    "many-names": ([f"n{i}" for i in range(40)] + ["a", "zz-missing"], []),
    "wildcard-dropped": (["*", "a", "b"], ["*"]),
}


@pytest.mark.parametrize("type_url", [CLUSTER, ENDPOINT, ROUTE])
@pytest.mark.parametrize("sub_id", sorted(SUBSCRIPTIONS))
def test_resolve_sorted_and_wants_agree_with_resolve(type_url: str, sub_id: str) -> None:
    subscribe, unsubscribe = SUBSCRIPTIONS[sub_id]
    sub = Subscription()
    sub.change(subscribe, [])
    if unsubscribe:
        sub.change([], unsubscribe)
    snap = snapshot(type_url, ["a", "b", "c", *(f"n{i}" for i in range(0, 60, 2))])
    plain = sub.resolve(snap)
    assert sub.resolve_sorted(snap) == sorted_resources(plain)
    assert sub.resolve_sorted(snap) == sorted_resources(plain)  # cached: same answer
    seen = shared.view(snap, sub)
    assert seen.versions == {n: r.version for n, r in plain.items()}
    assert shared.view(snap, sub) is seen


def test_equal_name_sets_are_one_object_and_share_views() -> None:
    a, b = Subscription(), Subscription()
    a.change(["x", "y"], [])
    b.change(["y"], [])
    b.change(["x"], [])
    assert a.names is b.names
    snap = snapshot(ENDPOINT, ["x", "y", "z"])
    assert shared.view(snap, a) is shared.view(snap, b)
    b.change([], ["x"])
    assert b.names == {"y"} and a.names == {"x", "y"}


HELD = {
    "nothing-held": {},
    "in-step": None,  # holds exactly the first view
    "own-versions": {"a": "stale", "gone": "v"},
}


@pytest.mark.parametrize("held_id", sorted(HELD))
def test_delta_from_what_is_held_matches_a_plain_diff(held_id: str) -> None:
    sub = Subscription()
    sub.change([], [])
    first = snapshot(CLUSTER, ["a", "b", "gone"])
    second = TypeSnapshot(CLUSTER).replaced({"a": b"new-a", "b": b"body-b", "c": b"c"})
    held = Held(HELD[held_id] or {})
    if HELD[held_id] is None:
        held.share(shared.view(first, sub))
    before = dict(held.mapping)
    new = shared.view(second, sub)
    if held.of is not None or not held:
        diff = shared.delta(held.of, new)
        changed, removed = diff.changed, diff.removed
        wire_delta = discovery_pb2.DeltaDiscoveryResponse.FromString(
            wire.with_nonce(diff.body, "5"))
        assert [r.name for r in wire_delta.resources] == [r.name for r in changed]
        assert list(wire_delta.removed_resources) == removed and wire_delta.nonce == "5"
    else:
        changed = [r for r in new.resources if held.get(r.name) != r.version]
        removed = sorted(n for n in held if n not in new.versions)
    assert [r.name for r in changed] == sorted(
        n for n, v in new.versions.items() if before.get(n) != v)
    assert removed == sorted(set(before) - set(new.versions))
    shared_map = new.versions
    held.share(new)
    held.pop("a")  # copy on write: the shared view is untouched
    assert "a" in shared_map and "a" not in held and held.of is None


def brute_all_hold(registry: NodeRegistry, serials: dict[str, int],
                   types: tuple[str, ...]) -> bool:
    return all(not n.rejecting.intersection(types)
               and not any(lags(n.held, n.asked, t, serials.get(t, 0)) for t in types)
               for n in registry.nodes() if n.connected)


@pytest.mark.parametrize("seed", range(20))
def test_all_hold_matches_a_full_scan_after_every_step(seed: int) -> None:
    rnd = random.Random(seed)
    registry = NodeRegistry()
    nodes = [f"envoy-{i}" for i in range(6)]
    types = (LISTENER, ROUTE)
    for _ in range(200):
        node, t = rnd.choice(nodes), rnd.choice(types)
        step = rnd.random()
        if step < 0.15:
            registry.connect(node)
        elif step < 0.25:
            registry.disconnect(node)
        elif step < 0.35:
            registry.record_nack(node, t, "v", nonce="1", code=3, message="no")
        elif step < 0.5:
            registry.record_asked(node, t)  # until then, its routes are not waited for
        else:
            registry.record_ack(node, t, "v", serial=rnd.randint(1, 8))
        serials = {LISTENER: rnd.randint(1, 6), ROUTE: rnd.randint(1, 6)}
        assert registry.all_hold(serials, types) is brute_all_hold(registry, serials, types)


def plain_view(snap: TypeSnapshot, sub: Subscription) -> tuple[list[Resource], dict[str, str]]:
    resources = sorted_resources(sub.resolve(snap))
    return resources, {r.name: r.version for r in resources}


@pytest.mark.parametrize("type_url", [CLUSTER, ENDPOINT])
@pytest.mark.parametrize("sub_id", sorted(SUBSCRIPTIONS))
@pytest.mark.parametrize("seed", range(8))
def test_views_derived_from_patches_match_fresh_ones(type_url: str, sub_id: str,
                                                     seed: int) -> None:
    """`shared.view` of a patched snapshot, derived from the view of the snapshot it was
    patched from (or one a few patches back), equals a fresh resolve; and `delta` from
    that earlier view equals a plain diff."""
    rnd = random.Random(seed)
    subscribe, unsubscribe = SUBSCRIPTIONS[sub_id]
    sub = Subscription()
    sub.change(subscribe, [])
    if unsubscribe:
        sub.change([], unsubscribe)
    pool = ["a", "b", "c", "zz-missing", *(f"n{i}" for i in range(60))]
    snap = snapshot(type_url, rnd.sample(pool, 40))
    held = shared.view(snap, sub)
    derived = 0
    for step in range(40):
        for _ in range(rnd.choice([1, 1, 2, 3])):  # sometimes a stream skips snapshots
            changed = {n: f"{n}-{step}-{rnd.random()}".encode()
                       for n in rnd.sample(pool, rnd.choice([1, 2, 5]))}
            snap = snap.patched(changed, rnd.sample(pool, rnd.choice([0, 1, 3])))
        new = shared.view(snap, sub)
        assert (new.resources, new.versions) == plain_view(snap, sub)
        diff = shared.delta(held, new)
        assert [r.name for r in diff.changed] == sorted(
            n for n, v in new.versions.items() if held.versions.get(n) != v)
        assert diff.removed == sorted(set(held.versions) - set(new.versions))
        derived += new.base is not None
        held = new
    assert derived >= 10  # the shortcut is what is being checked


def test_a_view_is_derived_when_few_names_moved() -> None:
    sub = Subscription()
    sub.change([], [])
    first = snapshot(CLUSTER, [f"n{i}" for i in range(100)])
    old = shared.view(first, sub)
    second = first.patched({"n5": b"new"}, ["n7"])
    new = shared.view(second, sub)
    assert new.base is not None and new.base() is old
    assert ([r.name for r in new.moved[0]], new.moved[1]) == (["n5"], ["n7"])
    many = second.patched({f"n{i}": b"x" for i in range(50)}, [])
    assert shared.view(many, sub).base is None  # moved much: a fresh view


def _released(ref: weakref.ref[object]) -> bool:
    gc.collect()
    return ref() is None


def test_only_the_newest_snapshots_views_and_deltas_are_kept_by_the_cache() -> None:
    """A view (and the snapshot it pins) of an older snapshot lives only as long as a
    stream holds it; the newest snapshot's views and deltas are kept for the streams still
    to ask (issue 12: 16 kept views pinned 16 route tables at 50k)."""
    sub = Subscription()
    sub.change([], [])
    first = snapshot(ROUTE, ["a", "b"])
    held = shared.view(first, sub)  # what a stream's client holds
    unheld = shared.view(snapshot(LISTENER, ["l"]), sub)
    second = first.patched({"a": b"new"}, [])
    newest = shared.view(second, sub)
    diff = shared.delta(held, newest)
    assert shared.view(first, sub) is held  # found while held
    assert shared.view(second, sub) is newest and shared.delta(held, newest) is diff
    first_ref, held_ref = weakref.ref(first), weakref.ref(held)
    del first, held
    assert _released(held_ref) and _released(first_ref)  # the delta did not pin `old`
    listener_ref = weakref.ref(unheld)
    del unheld
    assert not _released(listener_ref)  # its type's newest: kept
    newest_ref = weakref.ref(newest)
    del newest, diff
    assert not _released(newest_ref)
    shared.view(second.patched({"b": b"new"}, []), sub)
    assert _released(newest_ref)  # superseded and held by no stream
