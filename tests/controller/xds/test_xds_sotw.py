"""State-of-the-world ADS, with the test playing Envoy."""

from __future__ import annotations

import grpc
import pytest
from envoy.config.endpoint.v3 import endpoint_pb2
from envoy.config.route.v3 import route_pb2
from envoy.service.discovery.v3 import discovery_pb2
from envoy.service.listener.v3 import lds_pb2_grpc
from xds_testkit import (
    AdsClient,
    cluster,
    endpoints,
    eventually,
    listener,
    names_of,
    route_config,
    ser,
    small_snapshot,
)

from controller.xds.registry import NodeRegistry
from controller.xdscache.snapshot import CLUSTER, ENDPOINT, LISTENER, ROUTE, SnapshotCache


@pytest.fixture
def ready(cache: SnapshotCache) -> SnapshotCache:
    cache.publish(small_snapshot())
    cache.mark_ready()
    return cache


async def test_nothing_is_served_before_the_first_snapshot_is_ready(cache, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(CLUSTER)
    await ads.expect_silence()
    cache.publish(small_snapshot())
    await ads.expect_silence()  # content alone is not enough: the build must say "ready"
    cache.mark_ready()
    response = await ads.recv()
    assert names_of(response) == ["default/a/80"]
    assert response.version_info == cache.version(CLUSTER)


async def test_ack_is_not_answered_and_same_content_is_not_resent(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(LISTENER)
    first = await ads.recv()
    await ads.ack(first)
    await ads.expect_silence()
    ready.publish(small_snapshot())  # a rebuild with identical output
    await ads.expect_silence()
    ready.set(LISTENER, {"ingress_http": ser(listener("ingress_http", 10081, "ingress_http"))})
    second = await ads.recv()
    assert second.version_info != first.version_info
    assert second.nonce != first.nonce


async def test_nack_is_recorded_and_nothing_is_resent(ready, channel, registry) -> None:
    ads = AdsClient(channel, node_id="envoy-nack")
    await ads.request(LISTENER)
    good = await ads.recv()
    await ads.ack(good)
    ready.set(LISTENER, {"bad": b"\x08\x01"})
    bad = await ads.recv()
    await ads.request(LISTENER, version=good.version_info, nonce=bad.nonce, error="boom")
    await ads.expect_silence()
    node = registry.node("envoy-nack")
    assert node is not None
    [nack] = node.nacks
    assert (nack.type_url, nack.version, nack.message) == (LISTENER, bad.version_info, "boom")
    assert node.acked[LISTENER] == good.version_info
    assert node.sent[LISTENER] == bad.version_info
    assert registry.nacks[LISTENER] == 1


async def test_changed_names_are_answered_at_once(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(ENDPOINT, ["default/a/80"])
    first = await ads.recv()
    await ads.ack(first, ["default/a/80"])
    await ads.request(ENDPOINT, ["default/a/80", "default/b/80"], nonce=first.nonce,
                      version=first.version_info)
    second = await ads.recv()  # no cache change needed (upstream #426)
    assert names_of(second) == ["default/b/80"]  # EDS: only what the client lacks
    stand_in = endpoint_pb2.ClusterLoadAssignment(cluster_name="default/b/80")
    assert second.resources[0].value == ser(stand_in)  # an unknown name: empty


async def test_unknown_route_name_gets_an_empty_route_configuration(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(ROUTE, ["ingress_https"])
    response = await ads.recv()
    assert names_of(response) == ["ingress_https"]
    assert response.resources[0].value == ser(route_pb2.RouteConfiguration(name="ingress_https"))


async def test_eds_relist_after_cds_change_sends_only_what_changed(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(ENDPOINT, ["default/a/80"])
    first = await ads.recv()
    await ads.ack(first, ["default/a/80"])
    ready.publish({
        CLUSTER: {n: ser(cluster(n)) for n in ("default/a/80", "default/b/80")},
        ENDPOINT: {"default/a/80": ready.snapshot.get(ENDPOINT).resources["default/a/80"].body,
                   "default/b/80": ser(endpoints("default/b/80", ("127.0.0.1", 9002)))},
    })
    await ads.expect_silence()  # EDS version moved, but nothing this client wants
    both = ["default/a/80", "default/b/80"]
    await ads.request(ENDPOINT, both, version=first.version_info, nonce=first.nonce)
    relisted = await ads.recv()
    assert names_of(relisted) == ["default/b/80"]
    await ads.ack(relisted, both)
    await ads.request(ENDPOINT, both, version=relisted.version_info, nonce=relisted.nonce)
    await ads.expect_silence()


async def test_a_changed_cluster_gets_its_unchanged_assignment_again(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(CLUSTER)
    await ads.ack(await ads.recv())
    await ads.request(ENDPOINT, ["default/a/80"])
    await ads.ack(await ads.recv(), ["default/a/80"])
    ready.update(CLUSTER, {"default/a/80": ser(cluster("default/a/80", timeout_ms=900))})
    assert (await ads.recv()).type_url == CLUSTER
    again = await ads.recv()  # Envoy's replacement cluster warms until it gets this
    assert again.type_url == ENDPOINT and names_of(again) == ["default/a/80"]


async def test_clusters_and_listeners_are_full_state(ready, channel) -> None:
    ads = AdsClient(channel)
    await ads.request(CLUSTER)
    first = await ads.recv()
    await ads.ack(first)
    ready.update(CLUSTER, {"default/b/80": ser(cluster("default/b/80"))}, ())
    assert names_of(await ads.recv()) == ["default/a/80", "default/b/80"]


async def test_make_before_break_order_on_ads(ready, channel) -> None:
    ads = AdsClient(channel)
    subscriptions = {CLUSTER: [], ENDPOINT: ["default/a/80"], LISTENER: [],
                     ROUTE: ["ingress_http"]}
    for type_url in (LISTENER, ROUTE, ENDPOINT, CLUSTER):
        await ads.request(type_url, subscriptions[type_url])
    for _ in range(4):
        response = await ads.recv()
        await ads.ack(response, subscriptions[response.type_url])
    await ads.expect_silence(0.2)  # let the server take the last ACK before the change
    ready.publish({
        ROUTE: {"ingress_http": ser(route_config("ingress_http", {"/": "default/a/81"}))},
        LISTENER: {"ingress_http": ser(listener("ingress_http", 10082, "ingress_http"))},
        ENDPOINT: {"default/a/80": ser(endpoints("default/a/80", ("127.0.0.1", 9009)))},
        CLUSTER: {"default/a/81": ser(cluster("default/a/81"))},
    })
    clusters = await ads.recv()
    assert clusters.type_url == CLUSTER
    # Endpoints follow without the CDS ACK: Envoy ACKs clusters only once they warmed.
    assigned = await ads.recv()
    assert assigned.type_url == ENDPOINT
    await ads.ack(assigned, subscriptions[ENDPOINT])
    await ads.expect_silence(0.2)  # listeners and routes wait for the clusters' ACK
    await ads.ack(clusters)
    order = []
    for _ in range(2):
        response = await ads.recv()
        order.append(response.type_url)
        await ads.ack(response, subscriptions[response.type_url])
    assert order == [LISTENER, ROUTE]


async def test_registry_tracks_nodes_and_streams(ready, channel, registry: NodeRegistry) -> None:
    one, two = AdsClient(channel, node_id="n1"), AdsClient(channel, node_id="n2")
    for ads in (one, two):
        await ads.request(CLUSTER)
        await ads.ack(await ads.recv())
    await one.request(LISTENER)
    await one.recv()
    assert registry.connected_nodes == 2
    assert registry.pushes[CLUSTER] == 2
    node = registry.node("n1")
    assert node and node.acked[CLUSTER] == ready.version(CLUSTER) and node.cluster == "test"
    one.close()
    await two.request(LISTENER)
    await two.recv()  # the other stream is unaffected
    # The server sees the client's cancel on its own schedule (CI saw 2 here once).
    await eventually(lambda: registry.connected_nodes == 1)


async def test_an_unknown_type_ends_only_that_stream(ready, channel) -> None:
    bad, good = AdsClient(channel, node_id="bad"), AdsClient(channel, node_id="good")
    await bad.request("type.googleapis.com/nope")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await bad.recv()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert 'no resource registered for typeURL "type.googleapis.com/nope"' in str(err.value)
    await good.request(CLUSTER)
    assert names_of(await good.recv()) == ["default/a/80"]


async def test_per_type_service_stream_and_fetch(ready, channel) -> None:
    stub = lds_pb2_grpc.ListenerDiscoveryServiceStub(channel)
    call = stub.StreamListeners()
    await call.write(discovery_pb2.DiscoveryRequest())  # type filled in by the service
    response = await call.read()
    assert response.type_url == LISTENER and names_of(response) == ["ingress_http"]
    call.cancel()
    fetched = await stub.FetchListeners(discovery_pb2.DiscoveryRequest())
    assert names_of(fetched) == ["ingress_http"]
    assert fetched.version_info == ready.version(LISTENER)
