"""HTTPProxy cluster options: slow start, idle connection timeout, expected statuses."""

from __future__ import annotations

import pytest

from controller.dag import model as m
from controller.envoy import cluster as ec
from controller.envoy import pb
from controller.envoy.core import HTTP_PROTOCOL_OPTIONS

KUARD = m.ServicePort("default", "kuard", 80)
H2C = m.ServicePort("default", "grpc", 80, protocol=m.Protocol.H2C)
SLOW = m.SlowStart(30.0, 2.0, 5)


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        pytest.param("", "round_robin_lb_config", id="round robin"),
        pytest.param("WeightedLeastRequest", "least_request_lb_config", id="least request"),
        pytest.param("Random", None, id="random: none"),
        pytest.param("Cookie", None, id="ring hash: none"),
    ],
)
def test_slow_start_on_the_lb_config(strategy: str, field: str | None) -> None:
    got = ec.cluster(m.Cluster(KUARD, strategy=strategy, slow_start=SLOW))
    assert got.WhichOneof("lb_config") == field
    if field is not None:
        config = getattr(got, field).slow_start_config
        assert config.slow_start_window == pb.Duration(seconds=30)
        assert (config.aggression.default_value, config.aggression.runtime_key) == (
            2.0, ec.SLOW_START_RUNTIME_KEY)
        assert config.min_weight_percent.value == 5


def _options(cluster: pb.Cluster) -> pb.HttpProtocolOptions | None:
    if HTTP_PROTOCOL_OPTIONS not in cluster.typed_extension_protocol_options:
        return None
    out = pb.HttpProtocolOptions()
    assert cluster.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].Unpack(out)
    return out


@pytest.mark.parametrize(
    ("service", "idle", "protocol", "seconds"),
    [
        pytest.param(KUARD, None, None, None, id="defaults: no options"),
        pytest.param(KUARD, 45.0, "http_protocol_options", 45, id="idle, http/1.1 explicit"),
        pytest.param(H2C, None, "http2_protocol_options", None, id="h2c, no idle"),
        pytest.param(H2C, m.Timeout.INFINITE, "http2_protocol_options", 0, id="h2c, idle never"),
    ],
)
def test_idle_connection_timeout(service: m.ServicePort, idle: float | None,
                                 protocol: str | None, seconds: int | None) -> None:
    options = _options(ec.cluster(m.Cluster(service, idle_connection_timeout=idle)))
    if protocol is None:
        assert options is None
        return
    assert options is not None
    assert options.explicit_http_config.WhichOneof("protocol_config") == protocol
    has_idle = options.common_http_protocol_options.HasField("idle_timeout")
    assert has_idle == (seconds is not None)
    if seconds is not None:
        assert options.common_http_protocol_options.idle_timeout.seconds == seconds


def test_expected_statuses() -> None:
    hc = ec.health_check(m.HealthCheck("/hz", expected_statuses=((200, 300), (404, 405))))
    assert [(r.start, r.end) for r in hc.http_health_check.expected_statuses] == [
        (200, 300), (404, 405)]
    assert not ec.health_check(m.HealthCheck("/hz")).http_health_check.expected_statuses
