"""Delta (incremental) ADS, with the test playing Envoy."""

from __future__ import annotations

import pytest
from envoy.config.endpoint.v3 import endpoint_pb2
from xds_testkit import AdsClient, cluster, endpoints, names_of, ser, small_snapshot

from controller.xdscache.snapshot import (
    CLUSTER,
    ENDPOINT,
    SCOPED_ROUTE,
    VIRTUAL_HOST,
    SnapshotCache,
)

A, B, C = "default/a/80", "default/b/80", "default/c/80"


@pytest.fixture
def ready(cache: SnapshotCache) -> SnapshotCache:
    snapshot = small_snapshot()
    snapshot[CLUSTER] = {n: ser(cluster(n)) for n in (A, B)}
    snapshot[ENDPOINT] = {n: ser(endpoints(n, ("127.0.0.1", 9001))) for n in (A, B)}
    cache.publish(snapshot)
    cache.mark_ready()
    return cache


def versions(cache: SnapshotCache, type_url: str) -> dict[str, str]:
    return {n: r.version for n, r in cache.snapshot.get(type_url).resources.items()}


async def test_wildcard_gets_everything_with_versions(ready, channel) -> None:
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(CLUSTER)
    response = await ads.recv()
    assert {r.name: r.version for r in response.resources} == versions(ready, CLUSTER)
    assert response.system_version_info == ready.version(CLUSTER)
    await ads.ack(response)
    await ads.expect_silence()


async def test_reconnect_gets_only_what_differs(ready, channel) -> None:
    have = versions(ready, CLUSTER)
    initial = {A: have[A], B: "stale", C: "gone-on-server"}
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(CLUSTER, initial=initial)
    response = await ads.recv()
    assert names_of(response) == [B]
    assert list(response.removed_resources) == [C]


async def test_first_request_is_answered_even_when_up_to_date(ready, channel) -> None:
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(CLUSTER, initial=versions(ready, CLUSTER))
    response = await ads.recv()  # Envoy would otherwise wait out its init timeout
    assert not response.resources and not response.removed_resources


async def test_changes_and_removals_are_incremental(ready, channel) -> None:
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(CLUSTER)
    await ads.ack(await ads.recv())
    ready.update(CLUSTER, {A: ser(cluster(A, timeout_ms=500))}, removed=[B])
    response = await ads.recv()
    assert names_of(response) == [A]
    assert list(response.removed_resources) == [B]


async def test_subscribe_and_unsubscribe_by_name(ready, channel) -> None:
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(ENDPOINT, subscribe=[A])
    first = await ads.recv()
    assert names_of(first) == [A]
    await ads.delta_request(ENDPOINT, subscribe=[B, C], nonce=first.nonce)
    second = await ads.recv()
    assert names_of(second) == [B, C]  # C is unknown: an empty assignment
    unpacked = endpoint_pb2.ClusterLoadAssignment()
    second.resources[1].resource.Unpack(unpacked)
    assert unpacked == endpoint_pb2.ClusterLoadAssignment(cluster_name=C)
    await ads.delta_request(ENDPOINT, unsubscribe=[A], nonce=second.nonce)
    ready.update(ENDPOINT, {A: ser(endpoints(A, ("127.0.0.1", 9009)))})
    await ads.expect_silence()
    ready.update(ENDPOINT, {B: ser(endpoints(B, ("127.0.0.1", 9009)))})
    assert names_of(await ads.recv()) == [B]


async def test_nack_is_recorded_and_nothing_is_resent(ready, channel, registry) -> None:
    ads = AdsClient(channel, node_id="delta-nack", delta=True)
    await ads.delta_request(CLUSTER)
    await ads.ack(await ads.recv())
    ready.update(CLUSTER, {"bad": b"\x08\x01"})
    bad = await ads.recv()
    await ads.delta_request(CLUSTER, nonce=bad.nonce, error="invalid cluster")
    await ads.expect_silence()
    node = registry.node("delta-nack")
    assert node is not None
    [nack] = node.nacks
    assert (nack.version, nack.message) == (bad.system_version_info, "invalid cluster")


@pytest.mark.parametrize("type_url", [SCOPED_ROUTE, VIRTUAL_HOST])
async def test_route_scopes_and_virtual_hosts_are_served_like_any_type(
        ready, channel, type_url: str) -> None:
    """Scoped RDS and VHDS (bench/layouts.py): Envoy asks both by wildcard; a change sends
    only the resource that moved."""
    ready.publish({type_url: {"ingress_http/a.io": b"\x0a\x01a",
                              "ingress_http/b.io": b"\x0a\x01b"}})
    ads = AdsClient(channel, delta=True)
    await ads.delta_request(type_url)
    first = await ads.recv()
    assert names_of(first) == ["ingress_http/a.io", "ingress_http/b.io"]
    await ads.ack(first)
    ready.update(type_url, {"ingress_http/b.io": b"\x0a\x02bb"})
    assert names_of(await ads.recv()) == ["ingress_http/b.io"]
