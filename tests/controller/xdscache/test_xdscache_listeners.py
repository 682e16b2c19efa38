"""LDS: ingress_http, ingress_https (SNI chains) and stats-health (spec §3.1)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from xdscache_samples import KUARD, SECRET, forward

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.listener import FALLBACK_CHAIN
from controller.envoy.names import secret_name
from controller.xdscache.listeners import (
    FALLBACK_ROUTES,
    HTTP_LISTENER,
    HTTPS_LISTENER,
    STATS_LISTENER,
    https_listener,
    listener_bytes,
    listeners,
)

SETTINGS = ListenerSettings()
WEB = m.SecureVirtualHost("web.io", (forward("/"),), secret=SECRET, min_tls_version="1.2")
PASS = m.SecureVirtualHost("pass.io", tcp_proxy=m.TCPProxy((m.Cluster(KUARD),)))
TCP_TLS = m.SecureVirtualHost("tcp.io", secret=SECRET, tcp_proxy=m.TCPProxy((m.Cluster(KUARD),)))


def _tls(chain: pb.FilterChain) -> pb.DownstreamTlsContext | None:
    if not chain.HasField("transport_socket"):
        return None
    ctx = pb.DownstreamTlsContext()
    assert chain.transport_socket.typed_config.Unpack(ctx)
    return ctx


def _chains(dag: m.DAG, settings: ListenerSettings = SETTINGS) -> dict[str, pb.FilterChain]:
    https = listeners(dag, settings)[HTTPS_LISTENER]
    return {c.filter_chain_match.server_names[0]: c for c in https.filter_chains}


@pytest.mark.parametrize(
    ("dag", "names"),
    [
        pytest.param(m.DAG(), [STATS_LISTENER], id="empty: stats only"),
        pytest.param(
            m.DAG(http=(m.VirtualHost("a.io", (forward("/"),)),)),
            [HTTP_LISTENER, STATS_LISTENER],
            id="http",
        ),
        pytest.param(m.DAG(https=(PASS,)), [HTTPS_LISTENER, STATS_LISTENER], id="https only"),
        pytest.param(
            m.DAG(https=(m.SecureVirtualHost("x.io"),)),
            [STATS_LISTENER],
            id="secure vhost that serves nothing",
        ),
    ],
)
def test_which_listeners(dag: m.DAG, names: list[str]) -> None:
    assert list(listeners(dag, SETTINGS)) == names


def test_listener_addresses_and_filters() -> None:
    settings = ListenerSettings(
        http_address="::", http_port=80, https_port=443, use_proxy_protocol=True, stats_port=9002
    )
    dag = m.DAG(http=(m.VirtualHost("a.io", (forward("/"),)),), https=(PASS,))
    got = listeners(dag, settings)
    addr = got[HTTP_LISTENER].address.socket_address
    assert (addr.address, addr.port_value, addr.ipv4_compat) == ("::", 80, True)
    assert got[HTTPS_LISTENER].address.socket_address.port_value == 443
    assert got[STATS_LISTENER].address.socket_address.port_value == 9002
    assert [f.name for f in got[HTTP_LISTENER].listener_filters] == [
        "envoy.filters.listener.proxy_protocol"
    ]
    assert [f.name for f in got[HTTPS_LISTENER].listener_filters] == [
        "envoy.filters.listener.proxy_protocol",
        "envoy.filters.listener.tls_inspector",
    ]


def test_one_chain_per_secure_vhost_sorted_by_server_name() -> None:
    chains = listeners(m.DAG(https=(WEB, TCP_TLS, PASS)), SETTINGS)[HTTPS_LISTENER].filter_chains
    assert [list(c.filter_chain_match.server_names) for c in chains] == [
        ["pass.io"],
        ["tcp.io"],
        ["web.io"],
    ]


def test_http_chain_terminates_tls_with_alpn() -> None:
    chain = _chains(m.DAG(https=(WEB,)))["web.io"]
    ctx = _tls(chain)
    assert ctx is not None
    assert [f.name for f in chain.filters] == ["envoy.filters.network.http_connection_manager"]
    hcm = pb.HttpConnectionManager()
    chain.filters[0].typed_config.Unpack(hcm)
    assert (hcm.stat_prefix, hcm.rds.route_config_name) == ("ingress_https", "ingress_https")
    assert list(ctx.common_tls_context.alpn_protocols) == ["h2", "http/1.1"]
    sds = ctx.common_tls_context.tls_certificate_sds_secret_configs[0]
    assert sds.name == secret_name(SECRET)


def test_tcp_proxy_chains() -> None:
    chains = _chains(m.DAG(https=(PASS, TCP_TLS)))
    assert _tls(chains["pass.io"]) is None  # passthrough
    ctx = _tls(chains["tcp.io"])
    assert ctx is not None and not ctx.common_tls_context.alpn_protocols
    assert [f.name for f in chains["tcp.io"].filters] == ["envoy.filters.network.tcp_proxy"]


@pytest.mark.parametrize(
    ("floor", "vhost", "want"),
    [
        ("1.1", "1.1", pb.TlsParameters.TLSv1_1),
        ("1.1", "1.3", pb.TlsParameters.TLSv1_3),
        ("1.2", "1.1", pb.TlsParameters.TLSv1_2),
        ("1.3", "1.2", pb.TlsParameters.TLSv1_3),
    ],
)
def test_min_tls_version_is_the_stricter(floor: str, vhost: str, want: int) -> None:
    svh = m.SecureVirtualHost("web.io", (forward("/"),), secret=SECRET, min_tls_version=vhost)
    ctx = _tls(_chains(m.DAG(https=(svh,)), ListenerSettings(min_tls_version=floor))["web.io"])
    assert ctx is not None
    assert ctx.common_tls_context.tls_params.tls_minimum_protocol_version == want


def test_access_log_paths() -> None:
    settings = ListenerSettings(https_access_log="/var/log/https")
    hcm = pb.HttpConnectionManager()
    _chains(m.DAG(https=(WEB,)), settings)["web.io"].filters[0].typed_config.Unpack(hcm)
    log = pb.FileAccessLog()
    hcm.access_log[0].typed_config.Unpack(log)
    assert log.path == "/var/log/https"


def test_listener_bytes_equals_full_serialization() -> None:
    settings = ListenerSettings(use_proxy_protocol=True)
    full = listeners(m.DAG(https=(WEB, TCP_TLS, PASS)), settings)[HTTPS_LISTENER]
    chains = [c.SerializeToString() for c in full.filter_chains]
    assert listener_bytes(https_listener(settings), chains) == full.SerializeToString()


@pytest.mark.parametrize(("max_version", "want"), [
    pytest.param("", pb.TlsParameters.TLSv1_3, id="default 1.3"),
    pytest.param("1.2", pb.TlsParameters.TLSv1_2, id="1.2"),
])
def test_max_tls_version(max_version: str, want: int) -> None:
    chain = _chains(m.DAG(https=(replace(WEB, max_tls_version=max_version),)))["web.io"]
    ctx = _tls(chain)
    assert ctx is not None
    assert ctx.common_tls_context.tls_params.tls_maximum_protocol_version == want


FALLBACK = m.Secret("default", "fallback", b"fallback-cert", b"key")


@pytest.mark.parametrize(("vhosts", "secret", "chain"), [
    pytest.param((replace(WEB, fallback_certificate=True),), FALLBACK, True, id="enabled"),
    pytest.param((WEB,), FALLBACK, False, id="no vhost enables it"),
    pytest.param((replace(WEB, fallback_certificate=True),), None, False, id="no secret"),
    pytest.param((replace(PASS, fallback_certificate=True),), FALLBACK, False,
                 id="passthrough cannot use it"),
])
def test_fallback_chain(vhosts: tuple[m.SecureVirtualHost, ...], secret: m.Secret | None,
                        chain: bool) -> None:
    https = listeners(m.DAG(https=vhosts, fallback_secret=secret), SETTINGS)[HTTPS_LISTENER]
    fallback = [c for c in https.filter_chains if c.name == FALLBACK_CHAIN]
    assert len(fallback) == int(chain)
    if chain:
        (got,) = fallback
        assert https.filter_chains[-1] == got
        assert got.filter_chain_match == pb.FilterChainMatch(transport_protocol="tls")
        ctx = _tls(got)
        assert ctx is not None
        (sds,) = ctx.common_tls_context.tls_certificate_sds_secret_configs
        assert sds.name == secret_name(FALLBACK)
        hcm = pb.HttpConnectionManager()
        assert got.filters[0].typed_config.Unpack(hcm)
        assert (hcm.rds.route_config_name, hcm.stat_prefix) == (FALLBACK_ROUTES, HTTPS_LISTENER)
