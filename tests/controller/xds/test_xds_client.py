"""The `contour cli` side: watch over ADS, decode, render; and the wire encoder."""

from __future__ import annotations

import asyncio
import json

import yaml
from envoy.service.discovery.v3 import discovery_pb2
from xds_testkit import cluster, listener, ser, small_snapshot

from controller.xds import wire
from controller.xds.client import decode, render, watch
from controller.xdscache.snapshot import CLUSTER, LISTENER, SCOPED_ROUTE, Resource


def test_wire_responses_parse_back_as_the_generated_messages() -> None:
    resources = [Resource.of("b", ser(cluster("b"))), Resource.of("a", b"")]
    sotw = discovery_pb2.DiscoveryResponse.FromString(
        wire.sotw_response(version="v1", type_url=CLUSTER, nonce="7", resources=resources)
    )
    assert (sotw.version_info, sotw.nonce, sotw.type_url) == ("v1", "7", CLUSTER)
    assert [r.value for r in sotw.resources] == [ser(cluster("b")), b""]
    delta = discovery_pb2.DeltaDiscoveryResponse.FromString(
        wire.delta_response(version="v2", type_url=CLUSTER, nonce="8",
                            resources=resources, removed=["x", ""])
    )
    assert [(r.name, r.version) for r in delta.resources] == [
        ("b", resources[0].version), ("a", resources[1].version)]
    assert delta.resources[0].resource.type_url == CLUSTER
    assert list(delta.removed_resources) == ["x", ""]


async def test_watch_acks_and_keeps_receiving(cache, xds_port) -> None:
    cache.publish(small_snapshot())
    cache.mark_ready()
    stream = watch(f"127.0.0.1:{xds_port}", "lds")
    first = await asyncio.wait_for(anext(stream), 5)
    assert [m.name for m in decode(first)] == ["ingress_http"]
    cache.set(LISTENER, {"ingress_https": ser(listener("ingress_https", 10443, "x"))})
    second = await asyncio.wait_for(anext(stream), 5)
    assert [m.name for m in decode(second)] == ["ingress_https"]
    await stream.aclose()


def test_render_expands_nested_typed_configs() -> None:
    message = listener("ingress_http", 8080, "ingress_http")
    as_yaml = yaml.safe_load(render([message], "yaml"))
    as_json = json.loads(render([message], "json"))
    assert as_yaml == as_json
    manager = as_json[0]["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["rds"]["route_config_name"] == "ingress_http"  # proto field names kept


async def test_srds_prints_the_scopes_served(cache, xds_port) -> None:
    """`contour cli srds`: the scoped RDS layout's scopes, decoded with their inline table."""
    from envoy.config.route.v3 import scoped_route_pb2

    scope = scoped_route_pb2.ScopedRouteConfiguration(name="ingress_http/a.io")
    scope.key.fragments.add().string_key = "a.io"
    scope.route_configuration.name = "ingress_http/a.io"
    cache.publish({**small_snapshot(), SCOPED_ROUTE: {scope.name: scope.SerializeToString()}})
    cache.mark_ready()
    stream = watch(f"127.0.0.1:{xds_port}", "srds")
    [got] = decode(await asyncio.wait_for(anext(stream), 5))
    await stream.aclose()
    assert got == scope
    assert json.loads(render([got], "json"))[0]["route_configuration"]["name"] == scope.name
