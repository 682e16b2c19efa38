"""`contour bootstrap`: v3, ADS, the `contour` and `service-stats` clusters (spec §4.1)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from google.protobuf import text_format

from controller.envoy import pb
from controller.envoy.bootstrap import TLS_FILES_ERROR, bootstrap, bootstrap_json
from controller.envoy.core import HTTP_PROTOCOL_OPTIONS, socket_address

Validate = Callable[..., subprocess.CompletedProcess[str]]


def _clusters(b: pb.Bootstrap) -> dict[str, pb.Cluster]:
    return {c.name: c for c in b.static_resources.clusters}


@pytest.mark.parametrize(("protocol", "api_type"), [("delta", "DELTA_GRPC"), ("sotw", "GRPC")])
def test_dynamic_resources_use_ads(protocol: str, api_type: str) -> None:
    want = f"""
      ads_config {{ api_type: {api_type} transport_api_version: V3
                   grpc_services {{ envoy_grpc {{ cluster_name: "contour" }} }} }}
      lds_config {{ ads {{}} resource_api_version: V3 }}
      cds_config {{ ads {{}} resource_api_version: V3 }}"""
    got = bootstrap(xds_protocol=protocol).dynamic_resources
    assert got == text_format.Parse(want, pb.Bootstrap.DynamicResources())


def test_delta_is_the_default() -> None:
    """docs/decisions.md: `diff` compares a delta Envoy's route tables and secrets resource
    by resource, so nothing needs state-of-the-world any more."""
    assert bootstrap().dynamic_resources.ads_config.api_type == pb.ApiConfigSource.DELTA_GRPC


def test_contour_cluster() -> None:
    c = _clusters(bootstrap(xds_address="10.0.0.1", xds_port=8001, namespace="ns"))["contour"]
    assert (c.alt_stat_name, c.type, c.connect_timeout.seconds) == (
        "ns_contour_8001",
        pb.Cluster.STATIC,
        5,
    )
    address = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
    assert address == socket_address("10.0.0.1", 8001)
    assert HTTP_PROTOCOL_OPTIONS in c.typed_extension_protocol_options  # gRPC needs HTTP/2
    keepalive = c.upstream_connection_options.tcp_keepalive
    assert (
        keepalive.keepalive_probes.value,
        keepalive.keepalive_time.value,
        keepalive.keepalive_interval.value,
    ) == (3, 30, 5)
    priorities = [t.priority for t in c.circuit_breakers.thresholds]
    assert priorities == [pb.RoutingPriority.HIGH, pb.RoutingPriority.DEFAULT]
    assert {t.max_requests.value for t in c.circuit_breakers.thresholds} == {60000000}
    assert not c.HasField("transport_socket")


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", pb.Cluster.STATIC),
        ("::1", pb.Cluster.STATIC),
        ("contour.heptio-contour", pb.Cluster.STRICT_DNS),
    ],
)
def test_contour_cluster_type_follows_address(address: str, kind: int) -> None:
    assert _clusters(bootstrap(xds_address=address))["contour"].type == kind


def test_stats_cluster_and_admin() -> None:
    b = bootstrap(admin_address="127.0.0.2", admin_port=9100, namespace="ns")
    stats = _clusters(b)["service-stats"]
    assert stats.alt_stat_name == "ns_service-stats_9100"
    assert stats.connect_timeout.nanos == 250_000_000
    assert stats.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address == (
        socket_address("127.0.0.2", 9100)
    )
    assert b.admin.address == socket_address("127.0.0.2", 9100)


def test_zero_and_empty_values_take_defaults() -> None:
    assert (
        bootstrap(admin_address="", admin_port=0, xds_address="", xds_port=0, namespace="")
        == bootstrap()
    )


def test_mutual_tls() -> None:
    c = _clusters(bootstrap(cafile="/ca.pem", certfile="/crt.pem", keyfile="/key.pem"))["contour"]
    ctx = pb.UpstreamTlsContext()
    assert c.transport_socket.typed_config.Unpack(ctx)
    want = """common_tls_context {
      tls_certificates { certificate_chain { filename: "/crt.pem" }
                         private_key { filename: "/key.pem" } }
      validation_context { trusted_ca { filename: "/ca.pem" }
        match_typed_subject_alt_names { san_type: DNS matcher { exact: "contour" } } }
      alpn_protocols: "h2" }"""
    assert ctx == text_format.Parse(want, pb.UpstreamTlsContext())


def test_partial_tls_is_an_error() -> None:
    with pytest.raises(ValueError, match="all three TLS parameters") as err:
        bootstrap(cafile="/ca.pem")
    assert str(err.value) == TLS_FILES_ERROR


def test_node_is_optional_and_none_drops_every_cluster_stat() -> None:
    assert not bootstrap().HasField("node")
    assert not bootstrap(cluster_stats="all").HasField("stats_config")
    b = bootstrap(node_id="envoy-1", node_cluster="contour", exclude_cluster_stats=True)
    assert (b.node.id, b.node.cluster) == ("envoy-1", "contour")
    patterns = b.stats_config.stats_matcher.exclusion_list.patterns
    assert [p.prefix for p in patterns] == ["cluster."]


def test_json_uses_proto_field_names() -> None:
    doc = json.loads(bootstrap_json(xds_port=8123))
    contour = doc["static_resources"]["clusters"][0]
    assert contour["alt_stat_name"] == "heptio-contour_contour_8123"
    assert doc["dynamic_resources"]["lds_config"] == {"ads": {}, "resource_api_version": "V3"}


ESSENTIAL_REGEX = re.compile(
    bootstrap().stats_config.stats_matcher.inclusion_list.patterns[0].safe_regex.regex)


@pytest.mark.parametrize(("name", "kept"), [
    ("server.live", True), ("http.ingress_http.downstream_rq_total", True),
    ("cluster_manager.cds.update_success", True), ("listener_manager.total_listeners_active",
                                                   True),
    ("c", True), ("cluster", True), ("clusters.x", True),
    ("cluster.default_blue_80.upstream_rq_total", True),
    ("cluster.default_blue_80.upstream_rq_5xx", True),
    ("cluster.default_blue_80.upstream_rq_time", True),
    ("cluster.default_blue_80.health_check.attempt", True),
    ("cluster.default_blue_80.outlier_detection.ejections_active", True),
    ("cluster.default_blue_80.membership_healthy", True),
    ("cluster.default_blue_80.upstream_rq_503", False),
    ("cluster.default_blue_80.upstream_cx_rx_bytes_total", False),
    ("cluster.default_blue_80.lb_healthy_panic", False),
    ("cluster.x", False),
])
def test_essential_cluster_stats(name: str, kept: bool) -> None:
    """The default keeps every stat but the per-cluster ones outside the essential set
    (whole-name match, as Envoy's safe_regex does)."""
    assert bool(ESSENTIAL_REGEX.fullmatch(name)) is kept


@pytest.mark.parametrize(("cluster_stats", "deferred"), [
    ("essential", True), ("all", False), ("none", False)])
def test_only_essential_defers_cluster_traffic_stats(cluster_stats: str, deferred: bool) -> None:
    """The default creates a cluster's traffic stats on first use; `all` is Envoy's default
    bootstrap, eager; `none` keeps no cluster stats to defer."""
    options = bootstrap(cluster_stats=cluster_stats).deferred_stat_options
    assert options.enable_deferred_creation_stats is deferred


def test_unknown_cluster_stats_is_an_error() -> None:
    with pytest.raises(ValueError, match="cluster stats must be one of essential, all, none"):
        bootstrap(cluster_stats="some")


# -- the real Envoy accepts it ------------------------------------------------------------


def test_envoy_accepts_bootstrap(envoy_validate: Validate) -> None:
    config = bootstrap(
        admin_port=19901, xds_address="contour.heptio-contour", exclude_cluster_stats=True
    )
    result = envoy_validate(config, "--service-node", "n", "--service-cluster", "c")
    assert result.returncode == 0, result.stderr


def test_envoy_accepts_bootstrap_with_tls_and_node(
    envoy_validate: Validate, certificate: tuple[bytes, bytes], tmp_path: Path
) -> None:
    cert, key = certificate
    (tmp_path / "ca.pem").write_bytes(cert)
    (tmp_path / "crt.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    config = bootstrap(
        admin_port=19902,
        cafile=str(tmp_path / "ca.pem"),
        certfile=str(tmp_path / "crt.pem"),
        keyfile=str(tmp_path / "key.pem"),
        node_id="n",
        node_cluster="c",
    )
    result = envoy_validate(config)
    assert result.returncode == 0, result.stderr
