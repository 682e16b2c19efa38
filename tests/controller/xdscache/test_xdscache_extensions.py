"""ExtensionService clusters, ext_authz and the global ratelimit filter in the translated
resources: filter order, per-route overrides, rate_limits, and Envoy's constraints."""

from __future__ import annotations

from typing import Any

from xdscache_samples import SECRET, service

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.constraints import violations
from controller.envoy.core import HTTP_PROTOCOL_OPTIONS
from controller.envoy.filters import hcm_filters
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode

S = service("s1")
AUTHZ = m.ExtensionCluster("auth", "authz", (("default/authz", 0),), ca_cert=b"CA",
                           subject_name="authz.local", ca_secret="ca",
                           response_timeout=2.0, circuit_breakers=(0, 0, 9, 0))
RL = m.ExtensionCluster("rl", "ratelimit", (("default/rls", 0),), "h2c")
RLS = m.RateLimitService("rl", "ratelimit", "contour", timeout=0.5,
                         enable_x_ratelimit_headers=True, enable_resource_exhausted_code=True)
AUTH = m.ExternalAuthorization("extension/auth/authz", "authz.local", False, 2.0,
                               (1024, True, False))
GENERIC = (m.RateLimitEntry("generic_key", key="k", value="v"),)
MATCH = (m.RateLimitEntry("header_value_match", value="ab", expect_match=False,
                          headers=(m.HeaderMatch("x-a", "exact", "b"),)),
         m.RateLimitEntry("request_header", key="id", header_name="x-id"),
         m.RateLimitEntry("remote_address"))
ROUTES = (
    m.Route("/open", (m.Cluster(S),), auth_disabled=True, ignore_vhost_rate_limits=True),
    m.Route("/ctx", (m.Cluster(S),), auth_context=(("k", "v"),), global_rate_limits=(MATCH,)),
    m.Route("/none", direct_response=m.DirectResponse(503), auth_disabled=True),
    m.Route("/", (m.Cluster(S),)),
)
DAG = m.DAG(
    http=(m.VirtualHost("a.com", ROUTES, global_rate_limits=(GENERIC,)),),
    https=(m.SecureVirtualHost("a.com", ROUTES, SECRET, "1.2", strict_sni=True,
                               global_rate_limits=(GENERIC,), authorization=AUTH),),
    extensions=(AUTHZ, RL), rate_limit_service=RLS)


def _translated() -> dict[str, dict[str, Any]]:
    resources = Translator(ListenerSettings()).translate(DAG)
    incremental = IncrementalTranslator(ListenerSettings())
    incremental.update(DAG)
    assert incremental.resources() == resources
    return decode(resources)


def _hcm(listener: pb.Listener, chain: int = 0) -> pb.HttpConnectionManager:
    hcm = pb.HttpConnectionManager()
    listener.filter_chains[chain].filters[0].typed_config.Unpack(hcm)
    return hcm


def test_filter_order_and_configs() -> None:
    listeners = _translated()[pb.LISTENER_TYPE]
    secure = [f.name for f in _hcm(listeners["ingress_https"]).http_filters]
    defaults = [f.name for f in hcm_filters()[:-1]]
    assert secure == [*defaults, "envoy.filters.http.ext_authz", "envoy.filters.http.ratelimit",
                      "envoy.filters.http.router"]
    insecure = [f.name for f in _hcm(listeners["ingress_http"]).http_filters]
    assert "envoy.filters.http.ext_authz" not in insecure
    assert insecure[-2:] == ["envoy.filters.http.ratelimit", "envoy.filters.http.router"]
    authz, limit = pb.ExtAuthz(), pb.RateLimitFilter()
    by_name = {f.name: f for f in _hcm(listeners["ingress_https"]).http_filters}
    by_name["envoy.filters.http.ext_authz"].typed_config.Unpack(authz)
    by_name["envoy.filters.http.ratelimit"].typed_config.Unpack(limit)
    assert (authz.grpc_service.envoy_grpc.cluster_name, authz.grpc_service.envoy_grpc.authority,
            authz.grpc_service.timeout.seconds, authz.failure_mode_allow,
            authz.status_on_error.code, authz.with_request_body.max_request_bytes,
            authz.with_request_body.allow_partial_message, authz.clear_route_cache) == (
        "extension/auth/authz", "authz.local", 2, False, 403, 1024, True, True)
    assert (limit.domain, limit.failure_mode_deny, limit.timeout.ToMilliseconds(),
            limit.rate_limit_service.grpc_service.envoy_grpc.cluster_name,
            limit.rate_limit_service.grpc_service.envoy_grpc.authority,
            limit.enable_x_ratelimit_headers, limit.rate_limited_as_resource_exhausted) == (
        "contour", True, 500, "extension/rl/ratelimit", "extension.rl.ratelimit",
        pb.RateLimitFilter.DRAFT_VERSION_03, True)


def test_routes_carry_overrides_and_rate_limits() -> None:
    tables = _translated()[pb.ROUTE_TYPE]
    secure = next(v for v in tables["https/a.com"].virtual_hosts if "a.com" in v.domains)
    (insecure,) = tables["ingress_http"].virtual_hosts
    assert [len(rl.actions) for rl in secure.rate_limits] == [1]
    by_path = {r.match.prefix: r for r in secure.routes}
    off = pb.ExtAuthzPerRoute()
    by_path["/open"].typed_per_filter_config["envoy.filters.http.ext_authz"].Unpack(off)
    assert off.disabled
    ctx = pb.ExtAuthzPerRoute()
    by_path["/ctx"].typed_per_filter_config["envoy.filters.http.ext_authz"].Unpack(ctx)
    assert dict(ctx.check_settings.context_extensions) == {"k": "v"}
    assert "envoy.filters.http.ext_authz" in by_path["/none"].typed_per_filter_config
    assert "envoy.filters.http.ext_authz" not in by_path["/"].typed_per_filter_config
    ignore = pb.RateLimitPerRoute()
    by_path["/open"].typed_per_filter_config["envoy.filters.http.ratelimit"].Unpack(ignore)
    assert ignore.vh_rate_limits == pb.RateLimitPerRoute.IGNORE
    actions = by_path["/ctx"].route.rate_limits[0].actions
    assert [a.WhichOneof("action_specifier") for a in actions] == [
        "header_value_match", "request_headers", "remote_address"]
    assert actions[0].header_value_match.expect_match.value is False
    assert actions[0].header_value_match.headers[0].string_match.exact == "b"
    assert all("envoy.filters.http.ext_authz" not in r.typed_per_filter_config
               for r in insecure.routes)


def test_extension_clusters() -> None:
    clusters = _translated()[pb.CLUSTER_TYPE]
    authz, rl = clusters["extension/auth/authz"], clusters["extension/rl/ratelimit"]
    assert authz.eds_cluster_config.service_name == "extension/auth/authz"
    assert authz.circuit_breakers.thresholds[0].max_requests.value == 9
    tls = pb.UpstreamTlsContext()
    authz.transport_socket.typed_config.Unpack(tls)
    assert (tls.sni, list(tls.common_tls_context.alpn_protocols)) == ("authz.local", ["h2"])
    assert not rl.HasField("transport_socket")
    options = pb.HttpProtocolOptions()
    rl.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].Unpack(options)
    assert options.explicit_http_config.HasField("http2_protocol_options")


def test_envoy_accepts_everything_emitted() -> None:
    for named in _translated().values():
        for name, message in named.items():
            assert violations(message) == (), name


def test_no_rate_limit_service_no_filter() -> None:
    dag = m.DAG(http=(m.VirtualHost("a.com", ROUTES),))
    listeners = decode(Translator(ListenerSettings()).translate(dag))[pb.LISTENER_TYPE]
    names = [f.name for f in _hcm(listeners["ingress_http"]).http_filters]
    assert "envoy.filters.http.ratelimit" not in names


def test_jwt_then_ext_authz_then_ratelimit() -> None:
    """Upstream's AddFilter order on a vhost with both JWT providers and authorization."""
    jwt = m.JWTProvider("p", "https://jwks.example.com/keys",
                        m.JWKSCluster("jwks.example.com", "https", 443))
    svh = m.SecureVirtualHost("a.com", ROUTES, SECRET, "1.2", jwt_providers=(jwt,),
                              authorization=AUTH)
    dag = m.DAG(https=(svh,), extensions=(AUTHZ,), rate_limit_service=RLS)
    listeners = decode(Translator(ListenerSettings()).translate(dag))[pb.LISTENER_TYPE]
    names = [f.name for f in _hcm(listeners["ingress_https"]).http_filters]
    assert names[-4:] == ["envoy.filters.http.jwt_authn", "envoy.filters.http.ext_authz",
                          "envoy.filters.http.ratelimit", "envoy.filters.http.router"]
