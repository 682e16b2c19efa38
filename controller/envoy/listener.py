"""Listener constructors: listener(), http_connection_manager(), tcp_proxy(),
downstream_tls_context() and the stats-health listener (spec §3.1), Envoy v3 names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controller.dag import model
from controller.envoy import filters, pb
from controller.envoy.core import any_of, config_source, duration, file_access_log, socket_address
from controller.envoy.core import transport_socket as tls_transport_socket
from controller.envoy.names import cluster_name

HTTP_CONNECTION_MANAGER = "envoy.filters.network.http_connection_manager"
TCP_PROXY = "envoy.filters.network.tcp_proxy"
DIRECT_RESPONSE = "envoy.filters.network.direct_response"
HEALTH_CHECK = "envoy.filters.http.health_check"
TLS_INSPECTOR = "envoy.filters.listener.tls_inspector"
PROXY_PROTOCOL = "envoy.filters.listener.proxy_protocol"

STATS_LISTENER = "stats-health"
STATS_CLUSTER = "service-stats"
TCP_PROXY_IDLE_TIMEOUT = 9001
HTTP_IDLE_TIMEOUT = 60

# Contour's list (upstream internal/envoy/auth.go). The CBC-SHA suites are what TLS 1.1
# clients need: Envoy's default list only works from TLS 1.2 (notes, gotcha 9).
CIPHER_SUITES = (
    "[ECDHE-ECDSA-AES128-GCM-SHA256|ECDHE-ECDSA-CHACHA20-POLY1305]",
    "[ECDHE-RSA-AES128-GCM-SHA256|ECDHE-RSA-CHACHA20-POLY1305]",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
)
TLS_VERSIONS = {
    "1.1": pb.TlsParameters.TLSv1_1,
    "1.2": pb.TlsParameters.TLSv1_2,
    "1.3": pb.TlsParameters.TLSv1_3,
}
HTTP_ALPN = ("h2", "http/1.1")


def listener(
    name: str,
    address: str,
    port: int,
    *,
    filter_chains: Iterable[pb.FilterChain] = (),
    listener_filters: Iterable[pb.ListenerFilter] = (),
) -> pb.Listener:
    return pb.Listener(
        name=name,
        address=socket_address(address, port),
        filter_chains=filter_chains,
        listener_filters=listener_filters,
    )


def listener_filters(*, proxy_protocol: bool, tls_inspector: bool) -> list[pb.ListenerFilter]:
    """[proxy_protocol (optional), tls_inspector (optional)], in that order."""
    out = []
    if proxy_protocol:
        out.append(pb.ListenerFilter(name=PROXY_PROTOCOL, typed_config=any_of(pb.ProxyProtocol())))
    if tls_inspector:
        out.append(pb.ListenerFilter(name=TLS_INSPECTOR, typed_config=any_of(pb.TlsInspector())))
    return out


def http_filter(name: str, config: pb.Any) -> pb.HttpFilter:
    return pb.HttpFilter(name=name, typed_config=config)


def http_connection_manager(
    route_config_name: str, access_log: str, *, xds_cluster: str = "", stat_prefix: str = "",
    auth_filters: Sequence[pb.HttpFilter] = (),
    forward_client_cert: tuple[str, ...] | None = None,
    rate_limit: Sequence[pb.HttpFilter] = (),
    scoped: bool = False,
) -> pb.Filter:
    """The HCM of ingress_http/ingress_https: routes by RDS (ADS unless `xds_cluster`),
    through the per-vhost/route switchable filters (filters.hcm_filters), then a secure
    vhost's own `auth_filters` (jwt_authn, ext_authz) and the global `rate_limit` filter
    just before the router, as upstream orders them; `forward_client_cert` sets
    X-Forwarded-Client-Cert (SANITIZE_SET). gzip (`envoy.gzip`) is deprecated in v3
    (compressor replaces it) and is omitted. `scoped`: routes by the scopes named
    `route_config_name` (scoped_routes) instead, the Host lowercased first."""
    http_filters = filters.hcm_filters()
    http_filters[-1:-1] = [*auth_filters, *rate_limit]
    if scoped:
        http_filters.insert(0, lowercase_authority_filter())
    hcm = pb.HttpConnectionManager(
        stat_prefix=stat_prefix or route_config_name,
        http_filters=http_filters,
        http_protocol_options=pb.Http1ProtocolOptions(accept_http_10=True),
        access_log=[file_access_log(access_log)],
        use_remote_address=pb.BoolValue(value=True),
        normalize_path=pb.BoolValue(value=True),
        common_http_protocol_options=pb.CoreHttpProtocolOptions(
            idle_timeout=duration(HTTP_IDLE_TIMEOUT)
        ),
        preserve_external_request_id=True,
    )
    if scoped:
        hcm.scoped_routes.CopyFrom(scoped_routes(route_config_name, xds_cluster))
    else:
        hcm.rds.CopyFrom(pb.Rds(route_config_name=route_config_name,
                                config_source=config_source(xds_cluster)))
    if forward_client_cert is not None:
        hcm.forward_client_cert_details = pb.HttpConnectionManager.SANITIZE_SET
        hcm.set_current_client_cert_details.CopyFrom(client_cert_details(forward_client_cert))
    return pb.Filter(name=HTTP_CONNECTION_MANAGER, typed_config=any_of(hcm))


def scoped_routes(name: str, xds_cluster: str = "") -> pb.ScopedRoutes:
    """Scoped RDS over ADS (unless `xds_cluster`): the scope set `name`, one scope per Host
    up to its first `:` (the port dropped), each scope's table inline in it (no RDS per
    scope: +70% Envoy CPU at cold with 50k, BENCHMARKS.md "Route layouts")."""
    source = config_source(xds_cluster)
    extractor = pb.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor(
        name=":authority", element_separator=":", index=0)
    return pb.ScopedRoutes(
        name=name,
        scope_key_builder=pb.ScopedRoutes.ScopeKeyBuilder(fragments=[
            pb.ScopedRoutes.ScopeKeyBuilder.FragmentBuilder(header_value_extractor=extractor)]),
        rds_config_source=source,
        scoped_rds=pb.ScopedRds(scoped_rds_config_source=source),
    )


LOWERCASE_AUTHORITY = """
function envoy_on_request(handle)
  local authority = handle:headers():get(":authority")
  if authority ~= nil then
    local lower = string.lower(authority)
    if lower ~= authority then handle:headers():replace(":authority", lower) end
  end
end
"""
"""The first HTTP filter of a scoped HCM: the scope key is the raw header (scope lookup is
case-sensitive, vhost matching is not: `Host: APP.EXAMPLE.COM` got 404 without it); Envoy
recomputes the scope after a filter changed the headers (measured, BENCHMARKS.md "Route
layouts"). It also forwards the lowercased Host upstream, which the single layout does
not. Cost: below what this machine resolves (Envoy CPU per proxied request, median 144 µs
with it and 129 µs without, runs spread over 90–174 µs; BENCHMARKS.md "Scoped layout in
production")."""
LOWERCASE_AUTHORITY_FILTER = "contour.lowercase_authority"


def lowercase_authority_filter() -> pb.HttpFilter:
    """The Lua filter running LOWERCASE_AUTHORITY."""
    lua = pb.Lua(default_source_code=pb.DataSource(inline_string=LOWERCASE_AUTHORITY))
    return http_filter(LOWERCASE_AUTHORITY_FILTER, any_of(lua))


def client_cert_details(forward: tuple[str, ...]
                        ) -> pb.HttpConnectionManager.SetCurrentClientCertDetails:
    """XFCC's details: each of forward's (model_auth.FORWARD_DETAILS) set to true."""
    return pb.HttpConnectionManager.SetCurrentClientCertDetails(
        subject=pb.BoolValue(value="subject" in forward), cert="cert" in forward,
        chain="chain" in forward, dns="dns" in forward, uri="uri" in forward)


def tcp_proxy(proxy: model.TCPProxy, access_log: str) -> pb.Filter:
    """One cluster, or weighted_clusters of weight 1 each sorted by name (spec §3.5); a
    proxy without clusters (a TLSRoute whose backends are all unresolved) closes the
    connection instead (`closing_filter`)."""
    if not proxy.clusters:
        return closing_filter()
    config = pb.TcpProxy(
        stat_prefix="ingress_https",
        access_log=[file_access_log(access_log)],
        idle_timeout=duration(TCP_PROXY_IDLE_TIMEOUT),
    )
    names = sorted(cluster_name(c) for c in proxy.clusters)
    if len(names) == 1:
        config.cluster = names[0]
    else:
        config.weighted_clusters.clusters.extend(
            pb.TcpProxy.WeightedCluster.ClusterWeight(name=n, weight=1) for n in names
        )
    return pb.Filter(name=TCP_PROXY, typed_config=any_of(config))


def closing_filter() -> pb.Filter:
    """A network filter that closes every connection at once, writing nothing: the client
    sees EOF (the Gateway API's "connection rejected", where a TLSRoute's backends are
    unresolved; its SNI must not fall through to another filter chain)."""
    return pb.Filter(name=DIRECT_RESPONSE, typed_config=any_of(pb.DirectResponseConfig()))


def tls_version(version: str) -> pb.TlsParameters.TlsProtocol.ValueType:
    return TLS_VERSIONS.get(version, pb.TlsParameters.TLSv1_1)


def downstream_tls_context(
    secret_name: str,
    min_version: str,
    *,
    max_version: str = "",
    alpn: Sequence[str] = (),
    xds_cluster: str = "",
    client_validation: model.ClientValidation | None = None,
) -> pb.DownstreamTlsContext:
    """TLS termination with the certificate fetched by SDS name (over ADS by default),
    between `min_version` and `max_version` (empty: TLS 1.3); with `client_validation`,
    client certificates are requested (required unless optional) and verified."""
    common = pb.CommonTlsContext(
        tls_params=pb.TlsParameters(
            tls_minimum_protocol_version=tls_version(min_version),
            tls_maximum_protocol_version=TLS_VERSIONS.get(max_version, pb.TlsParameters.TLSv1_3),
            cipher_suites=CIPHER_SUITES,
        ),
        tls_certificate_sds_secret_configs=[
            pb.SdsSecretConfig(name=secret_name, sds_config=config_source(xds_cluster))
        ],
        alpn_protocols=alpn,
    )
    out = pb.DownstreamTlsContext(common_tls_context=common)
    if client_validation is not None:
        out.common_tls_context.validation_context.CopyFrom(
            client_validation_context(client_validation))
        out.require_client_certificate.value = not client_validation.optional
    return out


def client_validation_context(cv: model.ClientValidation) -> pb.CertificateValidationContext:
    """The CA and CRL inlined (upstream v1.33 inlines them too: no SDS round trip, and
    the bundle changes with the Secret like the listener does); skipClientCertValidation
    accepts untrusted certificates."""
    out = pb.CertificateValidationContext(
        trust_chain_verification=pb.CertificateValidationContext.ACCEPT_UNTRUSTED
        if cv.skip_verify else pb.CertificateValidationContext.VERIFY_TRUST_CHAIN)
    if cv.ca:
        out.trusted_ca.inline_bytes = cv.ca
    if cv.crl:
        out.crl.inline_bytes = cv.crl
        out.only_verify_leaf_cert_crl = cv.crl_only_leaf
    return out


def filter_chain(
    server_name: str, network_filter: pb.Filter, tls: pb.DownstreamTlsContext | None = None
) -> pb.FilterChain:
    """A chain selected by SNI (`*`: any, a Gateway listener without hostname); no
    transport socket means TLS passthrough."""
    names = [] if server_name == "*" else [server_name]
    chain = pb.FilterChain(
        filter_chain_match=pb.FilterChainMatch(server_names=names),
        filters=[network_filter],
    )
    if tls is not None:
        chain.transport_socket.CopyFrom(tls_transport_socket(tls))
    return chain


FALLBACK_CHAIN = "fallback-certificate"


def fallback_filter_chain(
    network_filter: pb.Filter, tls: pb.DownstreamTlsContext
) -> pb.FilterChain:
    """The chain of TLS connections no SNI chain matches (no SNI, or an unknown name):
    upstream's `fallback-certificate`, matched on the transport protocol alone."""
    return pb.FilterChain(
        name=FALLBACK_CHAIN,
        filter_chain_match=pb.FilterChainMatch(transport_protocol="tls"),
        filters=[network_filter],
        transport_socket=tls_transport_socket(tls),
    )


def stats_listener(address: str, port: int) -> pb.Listener:
    """`stats-health`: /healthz answered by Envoy itself, /stats proxied to the admin API."""
    return listener(
        STATS_LISTENER,
        address,
        port,
        filter_chains=[pb.FilterChain(filters=[_stats_connection_manager()])],
    )


def _stats_connection_manager() -> pb.Filter:
    stats_route = pb.Route(
        match=pb.RouteMatch(prefix="/stats"), route=pb.RouteAction(cluster=STATS_CLUSTER)
    )
    health = pb.HealthCheckFilter(
        pass_through_mode=pb.BoolValue(value=False),
        headers=[pb.HeaderMatcher(name=":path", string_match=pb.StringMatcher(exact="/healthz"))],
    )
    hcm = pb.HttpConnectionManager(
        stat_prefix="stats",
        route_config=pb.RouteConfiguration(
            virtual_hosts=[pb.VirtualHost(name="backend", domains=["*"], routes=[stats_route])]
        ),
        http_filters=[
            http_filter(HEALTH_CHECK, any_of(health)),
            http_filter(filters.ROUTER, any_of(pb.Router())),
        ],
        normalize_path=pb.BoolValue(value=True),
    )
    return pb.Filter(name=HTTP_CONNECTION_MANAGER, typed_config=any_of(hcm))
