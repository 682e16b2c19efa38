"""LDS: `ingress_http`, `ingress_https` (one SNI filter chain per secure vhost) and the static
`stats-health` listener, sorted by name (spec §3.1)."""

from __future__ import annotations

from collections.abc import Iterable

from controller.config import ListenerSettings
from controller.dag import model
from controller.envoy import extfilters, pb
from controller.envoy import listener as envoy_listener
from controller.envoy.core import length_delimited
from controller.envoy.jwt import jwt_authn_filter
from controller.envoy.names import secret_name

HTTP_LISTENER = "ingress_http"
HTTPS_LISTENER = "ingress_https"
FALLBACK_ROUTES = "ingress_fallbackcert"
STATS_LISTENER = envoy_listener.STATS_LISTENER
_CHAINS_FIELD = pb.Listener.DESCRIPTOR.fields_by_name["filter_chains"].number


def rate_limit_filters(service: model.RateLimitService | None) -> list[pb.HttpFilter]:
    """The global ratelimit filter every connection manager has when it is configured."""
    return [] if service is None else [extfilters.rate_limit_filter(service)]


def http_listener(settings: ListenerSettings,
                  rate_limit: model.RateLimitService | None = None, *,
                  scoped: bool = False) -> pb.Listener:
    """Port 80, routed by the `ingress_http` table, or by the `ingress_http` scopes when
    `scoped` (xdscache/scopes.py says when)."""
    hcm = envoy_listener.http_connection_manager(HTTP_LISTENER, settings.http_access_log,
                                                 rate_limit=rate_limit_filters(rate_limit),
                                                 scoped=scoped)
    return envoy_listener.listener(
        HTTP_LISTENER,
        settings.http_address,
        settings.http_port,
        filter_chains=[pb.FilterChain(filters=[hcm])],
        listener_filters=envoy_listener.listener_filters(
            proxy_protocol=settings.use_proxy_protocol, tls_inspector=False
        ),
    )


def http_listener_variants(settings: ListenerSettings,
                           rate_limit: model.RateLimitService | None) -> dict[bool, bytes]:
    """`ingress_http` serialized, routed by the table (False) and by the scopes (True)."""
    return {scoped: http_listener(settings, rate_limit, scoped=scoped).SerializeToString()
            for scoped in (False, True)}


def https_listener(
    settings: ListenerSettings, filter_chains: Iterable[pb.FilterChain] = ()
) -> pb.Listener:
    return envoy_listener.listener(
        HTTPS_LISTENER,
        settings.https_address,
        settings.https_port,
        filter_chains=filter_chains,
        listener_filters=envoy_listener.listener_filters(
            proxy_protocol=settings.use_proxy_protocol, tls_inspector=True
        ),
    )


def stats_listener(settings: ListenerSettings) -> pb.Listener:
    return envoy_listener.stats_listener(settings.stats_address, settings.stats_port)


def min_tls_version(svh: model.SecureVirtualHost, settings: ListenerSettings) -> str:
    """The stricter of the global floor and the vhost's own minimum ("1.1" < "1.2" < "1.3")."""
    return max(settings.min_tls_version, svh.min_tls_version)


def https_filter_chain(
    svh: model.SecureVirtualHost, settings: ListenerSettings,
    rate_limit: model.RateLimitService | None = None, table: str = "",
) -> pb.FilterChain | None:
    """The SNI chain of one secure vhost: a TCP proxy (passthrough when there is no secret),
    or TLS-terminated HTTP (through its ext_authz filter when it has `authorization`),
    routed by `table` (an isolated Gateway listener's; default `ingress_https`, or the
    vhost's own when strict SNI); None for a vhost that serves nothing."""
    log = settings.https_access_log
    tls = None
    if svh.secret is not None:
        alpn = () if svh.tcp_proxy is not None else envoy_listener.HTTP_ALPN
        tls = envoy_listener.downstream_tls_context(
            secret_name(svh.secret), min_tls_version(svh, settings),
            max_version=svh.max_tls_version, alpn=alpn, client_validation=svh.client_validation,
        )
    if svh.tcp_proxy is not None:
        return envoy_listener.filter_chain(
            svh.host, envoy_listener.tcp_proxy(svh.tcp_proxy, log), tls
        )
    if tls is None:
        return None
    routes = table or (own_route_table(svh.host) if svh.strict_sni else HTTPS_LISTENER)
    cv = svh.client_validation
    auth = [jwt_authn_filter(svh.jwt_providers)] if svh.jwt_providers else []
    if svh.authorization is not None:
        auth.append(extfilters.ext_authz_filter(svh.authorization))
    hcm = envoy_listener.http_connection_manager(
        routes, log, stat_prefix=table or HTTPS_LISTENER, auth_filters=auth,
        forward_client_cert=cv.forward if cv is not None else None,
        rate_limit=rate_limit_filters(rate_limit))
    return envoy_listener.filter_chain(svh.host, hcm, tls)


def own_route_table(host: str) -> str:
    """The RouteConfiguration of a strict-SNI vhost's chain (v1.33's name)."""
    return f"https/{host}"


def fallback_filter_chain(secret: model.Secret, settings: ListenerSettings,
                          rate_limit: model.RateLimitService | None = None) -> pb.FilterChain:
    """The fallback-certificate chain: TLS with `secret` between the global floor and 1.3,
    HTTP routed by Host through the `ingress_fallbackcert` table."""
    tls = envoy_listener.downstream_tls_context(
        secret_name(secret), settings.min_tls_version, alpn=envoy_listener.HTTP_ALPN
    )
    hcm = envoy_listener.http_connection_manager(
        FALLBACK_ROUTES, settings.https_access_log, stat_prefix=HTTPS_LISTENER,
        rate_limit=rate_limit_filters(rate_limit),
    )
    return envoy_listener.fallback_filter_chain(hcm, tls)


def serves_fallback(svh: model.SecureVirtualHost) -> bool:
    """Whether the vhost is also routed through the fallback-certificate chain: it enables
    it and terminates TLS for HTTP routes."""
    return svh.fallback_certificate and svh.secret is not None and svh.tcp_proxy is None


def fallback_secret(dag: model.DAG) -> model.Secret | None:
    """The DAG's fallback secret when a surviving vhost uses it, else None."""
    if dag.fallback_secret is None or not any(serves_fallback(s) for s in dag.https):
        return None
    return dag.fallback_secret


def https_filter_chains(dag: model.DAG, settings: ListenerSettings) -> list[pb.FilterChain]:
    """One chain per secure vhost, sorted by server name; then the fallback chain."""
    rls = dag.rate_limit_service
    chains = (https_filter_chain(svh, settings, rls) for svh in sorted(dag.https, key=_host))
    out = [c for c in chains if c is not None]
    secret = fallback_secret(dag)
    if secret is not None:
        out.append(fallback_filter_chain(secret, settings, rls))
    return out


def _host(svh: model.SecureVirtualHost) -> str:
    return svh.host


def listeners(dag: model.DAG, settings: ListenerSettings) -> dict[str, pb.Listener]:
    """ingress_http when any insecure vhost survived, ingress_https when it has a chain, and
    stats-health always; sorted by name."""
    out: dict[str, pb.Listener] = {}
    if dag.http:
        out[HTTP_LISTENER] = http_listener(settings, dag.rate_limit_service)
    chains = https_filter_chains(dag, settings)
    if chains:
        out[HTTPS_LISTENER] = https_listener(settings, chains)
    out[STATS_LISTENER] = stats_listener(settings)
    return out


def listener_bytes(listener: pb.Listener, chains: Iterable[bytes]) -> bytes:
    """`listener` (without filter chains) serialized with these serialized chains spliced in
    at their field position: byte-identical to serializing the whole message."""
    head = pb.Listener(name=listener.name, address=listener.address)
    tail = pb.Listener()
    tail.CopyFrom(listener)
    tail.ClearField("name")
    tail.ClearField("address")
    tail.ClearField("filter_chains")
    middle = b"".join(length_delimited(_CHAINS_FIELD, c) for c in chains)
    return head.SerializeToString() + middle + tail.SerializeToString()
