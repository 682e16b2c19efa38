"""Make-before-break for removals: a dropped cluster stays served until every Envoy has
taken the routes that no longer name it."""

from __future__ import annotations

import asyncio

from controller.xds.registry import NodeRegistry
from controller.xdscache.retire import Retirer
from controller.xdscache.snapshot import CLUSTER, LISTENER, ROUTE, SECRET, SnapshotCache


def names(cache: SnapshotCache, type_url: str) -> set[str]:
    return set(cache.snapshot.get(type_url).resources)


def publish(cache: SnapshotCache, retirer: Retirer, changed: dict, removed: dict) -> None:
    retirer.hold_back(changed, removed)
    cache.publish(changed, partial=True, removed=removed)


async def test_removed_cluster_waits_for_route_ack() -> None:
    cache, registry = SnapshotCache(), NodeRegistry()
    retirer = Retirer(cache, registry)
    cache.publish({CLUSTER: {"blue": b"b"}, ROUTE: {"ingress_http": b"r1"}})
    registry.connect("envoy-1")
    publish(cache, retirer, {CLUSTER: {"green": b"g"}, ROUTE: {"ingress_http": b"r2"}},
            {CLUSTER: {"blue"}})
    assert names(cache, CLUSTER) == {"blue", "green"}  # blue kept while routes name it
    await asyncio.sleep(0.15)
    assert names(cache, CLUSTER) == {"blue", "green"}
    for type_url in (ROUTE, LISTENER):
        registry.record_ack("envoy-1", type_url, cache.version(type_url))
    await asyncio.sleep(0.15)
    assert names(cache, CLUSTER) == {"green"}
    await retirer.close()


async def test_a_nack_of_the_routes_does_not_block_pruning() -> None:
    cache, registry = SnapshotCache(), NodeRegistry()
    retirer = Retirer(cache, registry)
    cache.publish({SECRET: {"old": b"o"}, LISTENER: {"l": b"1"}})
    registry.connect("envoy-1")
    publish(cache, retirer, {LISTENER: {"l": b"2"}}, {SECRET: {"old"}})
    registry.record_ack("envoy-1", ROUTE, cache.version(ROUTE))
    registry.record_nack("envoy-1", LISTENER, cache.version(LISTENER), nonce="1", code=3,
                         message="rejected")
    await asyncio.sleep(0.15)
    assert names(cache, SECRET) == set()
    await retirer.close()


async def test_deadline_prunes_when_an_envoy_never_answers() -> None:
    cache, registry = SnapshotCache(), NodeRegistry()
    retirer = Retirer(cache, registry, deadline=0.1)
    cache.publish({CLUSTER: {"a": b"a"}})
    registry.connect("silent")
    publish(cache, retirer, {ROUTE: {"r": b"x"}}, {CLUSTER: {"a"}})
    assert names(cache, CLUSTER) == {"a"}
    await asyncio.sleep(0.3)
    assert names(cache, CLUSTER) == set()


async def test_a_cluster_that_comes_back_is_not_pruned() -> None:
    cache, registry = SnapshotCache(), NodeRegistry()
    retirer = Retirer(cache, registry, deadline=0.1)
    cache.publish({CLUSTER: {"a": b"a"}})
    registry.connect("silent")
    publish(cache, retirer, {}, {CLUSTER: {"a"}})
    publish(cache, retirer, {CLUSTER: {"a": b"a"}}, {})
    await asyncio.sleep(0.3)
    assert names(cache, CLUSTER) == {"a"}


def test_without_an_event_loop_removal_is_immediate() -> None:
    cache = SnapshotCache()
    retirer = Retirer(cache, NodeRegistry())
    cache.publish({CLUSTER: {"a": b"a"}})
    publish(cache, retirer, {}, {CLUSTER: {"a"}})
    assert names(cache, CLUSTER) == set()
