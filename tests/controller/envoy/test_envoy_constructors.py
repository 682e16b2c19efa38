"""The small constructors: DAG values in, v3 protos out (compared in text format)."""

from __future__ import annotations

import pytest
from google.protobuf import text_format
from google.protobuf.message import Message

from controller.dag import model as m
from controller.envoy import cluster as ec
from controller.envoy import endpoint as ee
from controller.envoy import filters, pb
from controller.envoy import listener as el
from controller.envoy import route as er
from controller.envoy import secret as es
from controller.envoy.core import config_source, duration, socket_address

KUARD = m.ServicePort("default", "kuard", 80)
NAMED = m.ServicePort("default", "kuard", 443, port_name="https")
PLAIN = "default/kuard/80/da39a3ee5e"


def parse(text: str, message: Message) -> Message:
    return text_format.Parse(text, message)


def unpack(any_message: pb.Any, message: Message) -> Message:
    assert any_message.Unpack(message)
    return message


# -- routes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "want"),
    [
        pytest.param(
            m.Route("/", clusters=(m.Cluster(KUARD, weight=50),)),
            f'match {{ prefix: "/" }} route {{ cluster: "{PLAIN}" }}',
            id="one cluster, weight ignored",
        ),
        pytest.param(
            m.Route("/[^/]+/invoices(/.*|/?)", clusters=(m.Cluster(KUARD),), regex=True),
            f'match {{ safe_regex {{ regex: "/[^/]+/invoices(/.*|/?)" }} }} '
            f'route {{ cluster: "{PLAIN}" }}',
            id="regex is RE2 safe_regex",
        ),
        pytest.param(
            m.Route("/", clusters=(m.Cluster(KUARD),), timeout=m.Timeout.INFINITE),
            f'match {{ prefix: "/" }} route {{ cluster: "{PLAIN}" timeout {{}} }}',
            id="infinite timeout is 0s",
        ),
        pytest.param(
            m.Route(
                "/",
                clusters=(m.Cluster(KUARD),),
                timeout=90.0,
                prefix_rewrite="/app",
                websocket=True,
            ),
            f'match {{ prefix: "/" }} route {{ cluster: "{PLAIN}" timeout {{ seconds: 90 }} '
            f'prefix_rewrite: "/app" upgrade_configs {{ upgrade_type: "websocket" }} }}',
            id="timeout, rewrite, websocket",
        ),
        pytest.param(
            m.Route(
                "/",
                clusters=(m.Cluster(KUARD),),
                retry=m.RetryPolicy(num_retries=3, per_try_timeout=0.5),
            ),
            f'match {{ prefix: "/" }} route {{ cluster: "{PLAIN}" retry_policy {{ '
            f'retry_on: "5xx" num_retries {{ value: 3 }} per_try_timeout {{ nanos: 500000000 }} '
            "} }",
            id="retries",
        ),
        pytest.param(
            m.Route("/", clusters=(m.Cluster(KUARD),), retry=m.RetryPolicy("gateway-error")),
            f'match {{ prefix: "/" }} route {{ cluster: "{PLAIN}" retry_policy {{ '
            f'retry_on: "gateway-error" }} }}',
            id="retry without count or per-try timeout",
        ),
        pytest.param(
            m.Route("/", clusters=(m.Cluster(KUARD, strategy="Cookie"),)),
            'match { prefix: "/" } route { cluster: "default/kuard/80/e4f81994fe" hash_policy { '
            'cookie { name: "X-Contour-Session-Affinity" ttl {} path: "/" } } }',
            id="cookie session affinity",
        ),
    ],
)
def test_route(route: m.Route, want: str) -> None:
    assert er.route(route) == parse(want, pb.Route())


def test_redirect_route_adds_no_headers() -> None:
    route = m.Route("/", clusters=(m.Cluster(KUARD),), https_redirect=True)
    want = 'match { prefix: "/" } redirect { https_redirect: true }'
    assert er.redirect_route(route) == parse(want, pb.Route())


def _weights(clusters: tuple[m.Cluster, ...]) -> list[tuple[str, int]]:
    return [(c.name, c.weight.value) for c in er.weighted_clusters(clusters).clusters]


@pytest.mark.parametrize(
    ("weights", "want"),
    [
        pytest.param((0, 0), [1, 1], id="all zero: each 1"),
        pytest.param((90, 60), [60, 90], id="same service twice, sorted by weight"),
        pytest.param((0, 100), [0, 100], id="a zero weight among others stays 0"),
    ],
)
def test_weighted_clusters_same_service(weights: tuple[int, ...], want: list[int]) -> None:
    clusters = tuple(m.Cluster(KUARD, weight=w) for w in weights)
    assert _weights(clusters) == [(PLAIN, w) for w in want]


def test_weighted_clusters_sorted_by_name_no_total() -> None:
    b = m.Cluster(m.ServicePort("default", "b", 80), weight=10)
    a = m.Cluster(m.ServicePort("default", "a", 80), weight=30)
    wc = er.weighted_clusters((b, a))
    assert _weights((b, a)) == [("default/a/80/da39a3ee5e", 30), ("default/b/80/da39a3ee5e", 10)]
    assert not wc.HasField("total_weight")


def test_cookie_hash_policy_when_any_cluster_uses_cookie() -> None:
    route = m.Route("/", clusters=(m.Cluster(KUARD, strategy="Cookie"), m.Cluster(NAMED)))
    assert er.route_action(route).hash_policy[0].cookie.name == er.SESSION_COOKIE


@pytest.mark.parametrize(
    ("host", "domains"), [("example.com", ["example.com"]), ("*", ["*"])]
)
def test_virtual_host_domains(host: str, domains: list[str]) -> None:
    vhost = er.virtual_host(host, [])
    assert (vhost.name, list(vhost.domains)) == (host, domains)


def test_route_configuration_sets_request_start_and_ignores_ports() -> None:
    # Once per table instead of per route / per vhost: see route_configuration's docstring.
    want = """name: "ingress_http"
        request_headers_to_add { header { key: "x-request-start" value: "t=%START_TIME(%s.%3f)%" }
                                 append_action: APPEND_IF_EXISTS_OR_ADD }
        ignore_port_in_host_matching: true"""
    assert er.route_configuration("ingress_http") == parse(want, pb.RouteConfiguration())


# -- clusters ----------------------------------------------------------------------------

EDS = """name: "{name}" type: EDS alt_stat_name: "default_kuard_{port}"
connect_timeout {{ nanos: 250000000 }} lb_policy: {lb}
common_lb_config {{ healthy_panic_threshold {{}} }}
eds_cluster_config {{ eds_config {{ ads {{}} resource_api_version: V3 }}
  service_name: "{eds}" }}"""


@pytest.mark.parametrize(
    ("strategy", "lb"),
    [
        ("", "ROUND_ROBIN"),
        ("RoundRobin", "ROUND_ROBIN"),
        ("WeightedLeastRequest", "LEAST_REQUEST"),
        ("Random", "RANDOM"),
        ("Cookie", "RING_HASH"),
        ("Maglev?", "ROUND_ROBIN"),
    ],
)
def test_eds_cluster_lb_policy(strategy: str, lb: str) -> None:
    c = m.Cluster(KUARD, strategy=strategy)
    from controller.envoy.names import cluster_name

    want = EDS.format(name=cluster_name(c), port=80, lb=lb, eds="default/kuard")
    assert ec.cluster(c) == parse(want, pb.Cluster())


def test_eds_cluster_named_port() -> None:
    assert ec.cluster(m.Cluster(NAMED)).eds_cluster_config.service_name == "default/kuard/https"


def test_external_name_cluster_keeps_trailing_slash() -> None:
    svc = m.ServicePort("default", "kuard", 80, external_name="foo.io")
    got = ec.cluster(m.Cluster(svc))
    want = ee.cluster_load_assignment("default/kuard/", [socket_address("foo.io", 80)])
    assert got.type == pb.Cluster.STRICT_DNS
    assert got.load_assignment == want
    assert not got.HasField("eds_cluster_config")


@pytest.mark.parametrize(
    ("hc", "want"),
    [
        pytest.param(
            m.HealthCheck("/healthz"),
            "timeout { seconds: 2 } interval { seconds: 10 } unhealthy_threshold { value: 3 } "
            "healthy_threshold { value: 2 } "
            'http_health_check { path: "/healthz" host: "contour-envoy-healthcheck" }',
            id="defaults",
        ),
        pytest.param(
            m.HealthCheck(
                "/hz",
                "h.io",
                interval_seconds=5,
                timeout_seconds=1,
                unhealthy_threshold=7,
                healthy_threshold=1,
            ),
            "timeout { seconds: 1 } interval { seconds: 5 } unhealthy_threshold { value: 7 } "
            'healthy_threshold { value: 1 } http_health_check { path: "/hz" host: "h.io" }',
            id="given",
        ),
    ],
)
def test_health_check(hc: m.HealthCheck, want: str) -> None:
    assert ec.health_check(hc) == parse(want, pb.HealthCheck())
    cluster = ec.cluster(m.Cluster(KUARD, health_check=hc))
    assert list(cluster.health_checks) == [ec.health_check(hc)]
    assert cluster.ignore_health_on_host_removal


def test_circuit_breakers_only_non_zero() -> None:
    svc = m.ServicePort("default", "kuard", 80, max_connections=9, max_retries=2)
    want = "thresholds { max_connections { value: 9 } max_retries { value: 2 } }"
    assert ec.cluster(m.Cluster(svc)).circuit_breakers == parse(want, pb.CircuitBreakers())
    assert not ec.cluster(m.Cluster(KUARD)).HasField("circuit_breakers")


def _tls(cluster: pb.Cluster) -> pb.UpstreamTlsContext | None:
    if not cluster.HasField("transport_socket"):
        return None
    assert cluster.transport_socket.name == "envoy.transport_sockets.tls"
    return unpack(cluster.transport_socket.typed_config, pb.UpstreamTlsContext())


def _h2(cluster: pb.Cluster) -> bool:
    options = cluster.typed_extension_protocol_options
    key = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    if key not in options:
        return False
    http = unpack(options[key], pb.HttpProtocolOptions())
    return http.explicit_http_config.HasField("http2_protocol_options")


@pytest.mark.parametrize(
    ("protocol", "tls", "h2"),
    [
        (m.Protocol.HTTP1, None, False),
        (m.Protocol.H2C, None, True),
        (m.Protocol.H2, 'common_tls_context { alpn_protocols: "h2" }', True),
        (m.Protocol.TLS, "common_tls_context {}", False),
    ],
)
def test_upstream_protocol(protocol: m.Protocol, tls: str | None, h2: bool) -> None:
    cluster = ec.cluster(m.Cluster(m.ServicePort("default", "kuard", 80, protocol=protocol)))
    want = None if tls is None else parse(tls, pb.UpstreamTlsContext())
    assert (_tls(cluster), _h2(cluster)) == (want, h2)


def test_upstream_validation() -> None:
    svc = m.ServicePort("default", "kuard", 443, protocol=m.Protocol.TLS)
    uv = m.UpstreamValidation("foo", b"CA PEM", "subjname")
    want = """common_tls_context { validation_context {
      trusted_ca { inline_bytes: "CA PEM" }
      match_typed_subject_alt_names { san_type: DNS matcher { exact: "subjname" } } } }"""
    assert _tls(ec.cluster(m.Cluster(svc, validation=uv))) == parse(want, pb.UpstreamTlsContext())


# -- listeners ---------------------------------------------------------------------------


def test_http_connection_manager() -> None:
    f = el.http_connection_manager("ingress_http", "/dev/stdout")
    hcm = unpack(f.typed_config, pb.HttpConnectionManager())
    assert f.name == "envoy.filters.network.http_connection_manager"
    assert hcm.stat_prefix == "ingress_http"
    assert hcm.rds.route_config_name == "ingress_http"
    assert hcm.rds.config_source == config_source()
    assert [h.name for h in hcm.http_filters] == [
        "envoy.filters.http.grpc_web",
        "envoy.filters.http.cors",
        "envoy.filters.http.local_ratelimit",
        "envoy.filters.http.lua",
        "envoy.filters.http.rbac",
        "envoy.filters.http.router",
    ]
    assert hcm.http_protocol_options.accept_http_10
    assert hcm.use_remote_address.value and hcm.normalize_path.value
    assert hcm.common_http_protocol_options.idle_timeout == duration(60)
    assert hcm.preserve_external_request_id
    log = unpack(hcm.access_log[0].typed_config, pb.FileAccessLog())
    assert (hcm.access_log[0].name, log.path) == ("envoy.access_loggers.file", "/dev/stdout")


@pytest.mark.parametrize(
    ("services", "want"),
    [
        pytest.param(("a",), 'cluster: "default/a/80/da39a3ee5e"', id="one"),
        pytest.param(
            ("b", "a"),
            'weighted_clusters { clusters { name: "default/a/80/da39a3ee5e" weight: 1 } '
            'clusters { name: "default/b/80/da39a3ee5e" weight: 1 } }',
            id="weighted, 1 each, sorted",
        ),
    ],
)
def test_tcp_proxy(services: tuple[str, ...], want: str) -> None:
    proxy = m.TCPProxy(tuple(m.Cluster(m.ServicePort("default", s, 80), 5) for s in services))
    f = el.tcp_proxy(proxy, "/log")
    full = (
        f'stat_prefix: "ingress_https" {want} idle_timeout {{ seconds: 9001 }} access_log {{ '
        'name: "envoy.access_loggers.file" typed_config { '
        "[type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog] "
        '{ path: "/log" } } }'
    )
    assert f.name == "envoy.filters.network.tcp_proxy"
    assert unpack(f.typed_config, pb.TcpProxy()) == parse(full, pb.TcpProxy())


@pytest.mark.parametrize(
    ("version", "want"),
    [("1.1", "TLSv1_1"), ("1.2", "TLSv1_2"), ("1.3", "TLSv1_3"), ("0.9", "TLSv1_1")],
)
def test_downstream_tls_context(version: str, want: str) -> None:
    ctx = el.downstream_tls_context("default/tls/abc", version, alpn=el.HTTP_ALPN)
    params = ctx.common_tls_context.tls_params
    assert pb.TlsParameters.TlsProtocol.Name(params.tls_minimum_protocol_version) == want
    assert params.tls_maximum_protocol_version == pb.TlsParameters.TLSv1_3
    assert list(params.cipher_suites) == list(el.CIPHER_SUITES)
    assert "ECDHE-RSA-AES128-SHA" in params.cipher_suites  # TLS 1.1 clients need CBC-SHA
    sds = ctx.common_tls_context.tls_certificate_sds_secret_configs
    assert [(s.name, s.sds_config) for s in sds] == [("default/tls/abc", config_source())]
    assert list(ctx.common_tls_context.alpn_protocols) == ["h2", "http/1.1"]


def test_filter_chain_passthrough_has_no_transport_socket() -> None:
    proxy = m.TCPProxy((m.Cluster(KUARD),))
    chain = el.filter_chain("a.io", el.tcp_proxy(proxy, "/log"))
    assert list(chain.filter_chain_match.server_names) == ["a.io"]
    assert not chain.HasField("transport_socket")


@pytest.mark.parametrize(
    ("proxy_protocol", "tls_inspector", "want"),
    [
        (False, False, []),
        (False, True, [el.TLS_INSPECTOR]),
        (True, True, [el.PROXY_PROTOCOL, el.TLS_INSPECTOR]),
        (True, False, [el.PROXY_PROTOCOL]),
    ],
)
def test_listener_filters(proxy_protocol: bool, tls_inspector: bool, want: list[str]) -> None:
    got = el.listener_filters(proxy_protocol=proxy_protocol, tls_inspector=tls_inspector)
    assert [f.name for f in got] == want


@pytest.mark.parametrize(("address", "compat"), [("::", True), ("0.0.0.0", False)])
def test_listener_address_ipv4_compat(address: str, compat: bool) -> None:
    got = el.listener("x", address, 8080).address.socket_address
    assert (got.address, got.port_value, got.ipv4_compat) == (address, 8080, compat)


def test_stats_listener() -> None:
    listener = el.stats_listener("0.0.0.0", 8002)
    hcm = unpack(listener.filter_chains[0].filters[0].typed_config, pb.HttpConnectionManager())
    want_routes = """virtual_hosts { name: "backend" domains: "*"
      routes { match { prefix: "/stats" } route { cluster: "service-stats" } } }"""
    assert listener.name == "stats-health"
    assert hcm.stat_prefix == "stats" and hcm.normalize_path.value
    assert hcm.route_config == parse(want_routes, pb.RouteConfiguration())
    assert [f.name for f in hcm.http_filters] == [el.HEALTH_CHECK, filters.ROUTER]
    health = unpack(hcm.http_filters[0].typed_config, pb.HealthCheckFilter())
    want_health = (
        'pass_through_mode {} headers { name: ":path" string_match { exact: "/healthz" } }'
    )
    assert health == parse(want_health, pb.HealthCheckFilter())


# -- secrets and endpoints -----------------------------------------------------------------


def test_tls_secret() -> None:
    secret = es.tls_secret(m.Secret("default", "tls", b"CERT", b"KEY"))
    want = """tls_certificate { certificate_chain { inline_bytes: "CERT" }
      private_key { inline_bytes: "KEY" } }"""
    assert secret.name.startswith("default/tls/")
    secret.ClearField("name")
    assert secret == parse(want, pb.Secret())


def test_cluster_load_assignment() -> None:
    got = ee.ip_port_assignment("default/kuard", [("10.0.0.1", 8080), ("10.0.0.2", 8080)])
    endpoint = 'lb_endpoints {{ endpoint {{ address {{ socket_address {{ address: "{}" '
    endpoint += "port_value: 8080 }} }} }} }}"
    want = f"""cluster_name: "default/kuard" endpoints {{
      {endpoint.format("10.0.0.1")} {endpoint.format("10.0.0.2")} }}"""
    assert got == parse(want, pb.ClusterLoadAssignment())
    assert ee.cluster_load_assignment("x") == pb.ClusterLoadAssignment(cluster_name="x")


@pytest.mark.parametrize("targets", [[], [("::", 80)], [("10.0.0.1", 1), ("fd00::1", 65535)]],
                         ids=["none", "ipv4-compat", "two"])
def test_assignments_built_in_place_are_the_nested_constructors(
        targets: list[tuple[str, int]]) -> None:
    """ip_port_assignment fills its fields in place (perf); its bytes are those of the
    assignment built from nested constructors."""
    nested = pb.ClusterLoadAssignment(cluster_name="ns/s/http")
    if targets:
        nested.endpoints.append(pb.LocalityLbEndpoints(lb_endpoints=[
            pb.LbEndpoint(endpoint=pb.Endpoint(address=pb.Address(socket_address=pb.SocketAddress(
                address=ip, port_value=port, ipv4_compat=ip == "::"))))
            for ip, port in targets]))
    got = ee.ip_port_assignment("ns/s/http", targets)
    assert got.SerializeToString(deterministic=True) == nested.SerializeToString(
        deterministic=True)
    assert ee.cluster_load_assignment("ns/s/http", [socket_address(*t) for t in targets]) == got
