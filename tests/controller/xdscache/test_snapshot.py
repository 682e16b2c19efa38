"""SnapshotCache: versions follow content, partial updates, one notification, readiness."""

from __future__ import annotations

import asyncio

import pytest

from controller.xdscache.snapshot import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    PUSH_ORDER,
    ROUTE,
    SCOPED_ROUTE,
    SECRET,
    VIRTUAL_HOST,
    SnapshotCache,
    resource_version,
)


def test_push_order_is_make_before_break() -> None:
    assert PUSH_ORDER == (CLUSTER, ENDPOINT, SECRET, LISTENER, SCOPED_ROUTE, ROUTE, VIRTUAL_HOST)


def test_version_changes_only_with_content() -> None:
    cache = SnapshotCache()
    empty = cache.version(CLUSTER)
    assert cache.set(CLUSTER, {"a": b"1", "b": b"2"})
    v1 = cache.version(CLUSTER)
    assert v1 != empty
    assert not cache.set(CLUSTER, {"b": b"2", "a": b"1"})  # same content, any order
    assert cache.version(CLUSTER) == v1
    assert cache.set(CLUSTER, {"a": b"1", "b": b"3"})
    assert cache.version(CLUSTER) not in (v1, empty)


def test_other_types_keep_their_version() -> None:
    cache = SnapshotCache()
    cache.publish({CLUSTER: {"a": b"1"}, LISTENER: {"l": b"x"}})
    listeners = cache.version(LISTENER)
    cache.set(CLUSTER, {"a": b"2"})
    assert cache.version(LISTENER) == listeners


def test_version_is_a_function_of_content() -> None:
    one, two = SnapshotCache(), SnapshotCache()
    one.set(ENDPOINT, {"a": b"1"})
    one.update(ENDPOINT, {"b": b"2"}, ())
    two.set(ENDPOINT, {"b": b"2", "a": b"1"})
    assert one.version(ENDPOINT) == two.version(ENDPOINT)  # same after a restart too


def test_update_upserts_and_removes() -> None:
    cache = SnapshotCache()
    cache.set(ENDPOINT, {"a": b"1", "b": b"2", "c": b"3"})
    before = cache.snapshot.get(ENDPOINT).resources
    assert cache.update(ENDPOINT, {"b": b"22", "d": b"4"}, removed=["c", "nope"])
    after = cache.snapshot.get(ENDPOINT).resources
    assert sorted(after) == ["a", "b", "d"]
    assert after["a"] is before["a"]  # unchanged resources are shared, not copied
    assert after["b"].version == resource_version(b"22") != before["b"].version
    assert not cache.update(ENDPOINT, {"a": b"1"}, removed=["zzz"])


def test_removing_everything_returns_to_the_empty_version() -> None:
    cache = SnapshotCache()
    empty = cache.version(SECRET)
    cache.set(SECRET, {"s": b"x"})
    cache.update(SECRET, {}, removed=["s"])
    assert cache.version(SECRET) == empty


def test_snapshots_are_immutable_views() -> None:
    cache = SnapshotCache()
    cache.set(ROUTE, {"r": b"1"})
    old = cache.snapshot
    cache.set(ROUTE, {"r": b"2"})
    assert old.get(ROUTE).resources["r"].body == b"1"
    with pytest.raises(TypeError):
        old.get(ROUTE).resources["x"] = None  # type: ignore[index]


def test_unknown_type_is_refused() -> None:
    with pytest.raises(ValueError, match="no resource registered"):
        SnapshotCache().set("type.googleapis.com/nope", {})


def test_publish_is_one_generation_and_one_notification() -> None:
    cache = SnapshotCache()
    calls: list[int] = []
    cache.add_listener(lambda: calls.append(cache.generation))
    changed = cache.publish({CLUSTER: {"a": b"1"}, ENDPOINT: {"a": b"2"}, ROUTE: {}})
    assert changed == {CLUSTER, ENDPOINT}  # ROUTE was already empty
    assert calls == [1]
    assert cache.publish({CLUSTER: {"a": b"1"}}) == frozenset()
    assert calls == [1]


async def test_wait_for_change_wakes_on_that_type_only() -> None:
    cache = SnapshotCache()
    version = cache.version(LISTENER)
    waiter = asyncio.create_task(cache.wait_for_change(LISTENER, version))
    await asyncio.sleep(0)
    cache.set(CLUSTER, {"a": b"1"})
    await asyncio.sleep(0.01)
    assert not waiter.done()
    cache.set(LISTENER, {"l": b"1"})
    assert await asyncio.wait_for(waiter, 1) == cache.version(LISTENER)


async def test_wait_for_generation_returns_newer_snapshot() -> None:
    cache = SnapshotCache()
    waiter = asyncio.create_task(cache.wait_for_generation(0))
    await asyncio.sleep(0)
    cache.set(ROUTE, {"r": b"1"})
    snapshot = await asyncio.wait_for(waiter, 1)
    assert snapshot.generation == 1


async def test_ready_is_explicit() -> None:
    cache = SnapshotCache()
    cache.publish({t: {} for t in PUSH_ORDER})
    assert not cache.ready
    waiter = asyncio.create_task(cache.wait_ready())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    cache.mark_ready()
    await asyncio.wait_for(waiter, 1)
    assert cache.ready
