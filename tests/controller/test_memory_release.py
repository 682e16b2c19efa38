"""Memory after removal (issue 7: "memory returns to its baseline after removal").

What the xDS server derives from a resource (its wire frame, whether a cluster is
health-checked) lives on the resource and goes with it; the memos kept by content (YAML
scalar tags, Envoy-constraint verdicts by shape and payload) are forgotten after a mass
removal, with the freed memory handed back. Found by `python -m bench.fuzz` (BENCHMARKS.md,
"Hostile-input fuzzer"): before, 21 MB of live memoized entries of deleted objects were
left after removing all 30k objects.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from envoy.config.cluster.v3 import cluster_pb2
from envoy.config.listener.v3 import listener_components_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2,
)
from google.protobuf import any_pb2

from controller.config import Settings
from controller.envoy import constraints
from controller.events import TRIM_AFTER_REMOVALS, ObjectEvent, Synced
from controller.k8s import fastyaml
from controller.xds import shared, wire
from controller.xdscache.snapshot import CLUSTER, Resource


def unique(text: str) -> str:
    """A string made at run time (not interned, not a constant): its refcount is its own."""
    return "".join([text, "-", str(id(object()))])


def test_a_sent_resource_leaves_nothing_behind() -> None:
    name, version = unique("cluster"), unique("v")
    body = cluster_pb2.Cluster(name=name).SerializeToString() + b""
    r = Resource(name, body, version)
    before = [sys.getrefcount(x) for x in (name, version, body)]
    first = wire.delta_body(version="1", type_url=CLUSTER, resources=[r], removed=[])
    again = wire.delta_body(version="1", type_url=CLUSTER, resources=[r], removed=[])
    assert first == again and name.encode() in first
    assert r.frame is not None  # computed once, kept by the resource itself
    assert shared.health_checked([r]) is False and r.health_checked is False
    assert [sys.getrefcount(x) for x in (name, version, body)] == before


def test_a_frame_is_the_one_of_its_type() -> None:
    r = Resource.of("a", b"body")
    cluster = wire.delta_body(version="1", type_url=CLUSTER, resources=[r], removed=[])
    other = wire.delta_body(version="1", type_url="type.googleapis.com/x", resources=[r],
                            removed=[])
    assert b"type.googleapis.com/x" in other and b"type.googleapis.com/x" not in cluster


ROOT: dict[str, Any] = {
    "apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
    "metadata": {"name": "r", "namespace": "default"},
    "spec": {"virtualhost": {"fqdn": "a.example.com"},
             "routes": [{"match": "/", "services": [{"name": "s", "port": 80}]}]},
}
SERVICE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "default"},
    "spec": {"ports": [{"port": 80, "protocol": "TCP"}]},
}


def hcm_filter() -> listener_components_pb2.Filter:
    """A filter whose Any payload the constraint check keeps a verdict of."""
    payload = any_pb2.Any()
    payload.Pack(http_connection_manager_pb2.HttpConnectionManager(stat_prefix="x"))
    return listener_components_pb2.Filter(name="hcm", typed_config=payload)


def memo_sizes(controller: Any) -> dict[str, int]:
    verdicts = controller.routing.translator._translator._verdicts
    return {"yaml": len(fastyaml._RESOLVED),
            "vhost shapes": len(verdicts._vhosts),
            "payloads": len(constraints._PLANNER._any_verdicts)}


def test_a_mass_removal_forgets_the_memos_kept_by_content() -> None:
    from controller.app import Controller

    c = Controller(Settings())
    p = c.pipeline()
    list(yaml.load_all("kind: Service\nmetadata: {name: x}\n", Loader=fastyaml.FastSafeLoader))
    constraints.violations(hcm_filter())
    p.process([Synced("folder"), ObjectEvent.upsert(SERVICE), ObjectEvent.upsert(ROOT)])
    assert all(memo_sizes(c).values()), memo_sizes(c)
    p.process([ObjectEvent.delete("Service", "default", f"s{i}") for i in range(10)])
    assert all(memo_sizes(c).values()), "a small change keeps them"
    p.process([ObjectEvent.delete("Service", "default", f"s{i}")
               for i in range(TRIM_AFTER_REMOVALS)])
    assert memo_sizes(c) == {"yaml": 0, "vhost shapes": 0, "payloads": 0}
