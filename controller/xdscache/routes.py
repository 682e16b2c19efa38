"""RDS: the DAG's vhosts → exactly two RouteConfigurations, `ingress_http` and `ingress_https`
(spec §3.2). Also the wire-level assembly of a RouteConfiguration from cached vhost bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controller.dag import model
from controller.envoy import filters, pb
from controller.envoy import route as envoy_route
from controller.envoy.core import length_delimited
from controller.xdscache import listeners as lds

HTTP_ROUTES = "ingress_http"
HTTPS_ROUTES = "ingress_https"
FALLBACK_ROUTES = lds.FALLBACK_ROUTES
_NAME_FIELD = pb.RouteConfiguration.DESCRIPTOR.fields_by_name["name"].number
_VHOSTS_FIELD = pb.RouteConfiguration.DESCRIPTOR.fields_by_name["virtual_hosts"].number
# The table-wide fields (numbers above name's and virtual_hosts'), serialized once: fields
# go out in number order, so they follow the vhosts.
TABLE_SETTINGS = envoy_route.route_configuration("").SerializeToString()


def envoy_routes(routes: Sequence[model.Route], *, secure: bool, vhost: str = "") -> list[pb.Route]:
    """Routes most specific first (model.route_order_key). The HTTPS redirect applies on
    port 80 only; a route with no action (no cluster, direct response or redirect) is
    dropped. `vhost` is the vhost's host name (rate limit stats: `vhost.<host>`, as
    upstream)."""
    out = []
    ordered = routes if len(routes) < 2 else sorted(routes, key=model.route_order_key,
                                                     reverse=True)
    for r in ordered:
        if r.https_redirect and not secure:
            out.append(envoy_route.redirect_route(r))
        elif r.forwards:
            out.append(envoy_route.route(r, vhost, secure=secure))
    return out


def _virtual_host(vh: model.VirtualHost | model.SecureVirtualHost, *,
                  secure: bool) -> pb.VirtualHost | None:
    routes = envoy_routes(vh.routes, secure=secure, vhost=vh.host)
    if not routes:
        return None
    per_filter = filters.per_filter_config(vh.host, cors=vh.cors, ip=vh.ip_filter,
                                           rate_limit=vh.rate_limit)
    return envoy_route.virtual_host(vh.host, routes, per_filter, vh.global_rate_limits)


def http_virtual_host(vh: model.VirtualHost) -> pb.VirtualHost | None:
    """The port-80 vhost, or None when no route survives."""
    return _virtual_host(vh, secure=False)


def https_virtual_host(svh: model.SecureVirtualHost) -> pb.VirtualHost | None:
    """The port-443 vhost, or None for a TCP proxy or a vhost without routes."""
    if svh.tcp_proxy is not None:
        return None
    return _virtual_host(svh, secure=True)


MISDIRECTED = model.Route("/", direct_response=model.DirectResponse(421), auth_disabled=True)
"""What a strict-SNI chain answers for a Host that is not its SNI (v1.33), without asking
an authorization server first (v1.33's misdirected-request filter runs before ext_authz)."""


def misdirected_virtual_host() -> pb.VirtualHost:
    """The `*` vhost of a strict-SNI table: every other Host gets 421 Misdirected Request."""
    return envoy_route.virtual_host("*", envoy_routes([MISDIRECTED], secure=True, vhost="*"))


MISDIRECTED_BYTES = misdirected_virtual_host().SerializeToString(deterministic=True)


def strict_table(svh: model.SecureVirtualHost) -> pb.RouteConfiguration | None:
    """The own RouteConfiguration of a strict-SNI vhost's chain: the vhost and the 421 `*`
    vhost, sorted by name; None when the vhost is not strict or serves no route."""
    vhost = https_virtual_host(svh) if svh.strict_sni else None
    if vhost is None:
        return None
    name = lds.own_route_table(svh.host)
    return envoy_route.route_configuration(
        name, _sorted_vhosts((vhost, misdirected_virtual_host())))


def strict_table_bytes(host: str, vhost: tuple[str, bytes]) -> tuple[str, bytes]:
    """`strict_table` from the serialized vhost: (table name, bytes), byte-identical."""
    name = lds.own_route_table(host)
    ordered = sorted([vhost, (misdirected_virtual_host().name, MISDIRECTED_BYTES)])
    return name, route_configuration_bytes(name, [data for _, data in ordered])


def routes(dag: model.DAG) -> dict[str, pb.RouteConfiguration]:
    """Both shared route tables (even when empty), vhosts sorted by name; each strict-SNI
    vhost's own table (`strict_table`), which the shared one leaves out; and
    `ingress_fallbackcert` (the secure vhosts that enable the fallback certificate) when
    its chain exists."""
    http = (http_virtual_host(vh) for vh in dag.http)
    https = (https_virtual_host(svh) for svh in dag.https if not svh.strict_sni)
    out = {
        HTTP_ROUTES: envoy_route.route_configuration(HTTP_ROUTES, _sorted_vhosts(http)),
        HTTPS_ROUTES: envoy_route.route_configuration(HTTPS_ROUTES, _sorted_vhosts(https)),
    }
    for svh in dag.https:
        table = strict_table(svh)
        if table is not None:
            out[table.name] = table
    if lds.fallback_secret(dag) is not None:
        fallback = (https_virtual_host(s) for s in dag.https if lds.serves_fallback(s))
        out[FALLBACK_ROUTES] = envoy_route.route_configuration(
            FALLBACK_ROUTES, _sorted_vhosts(fallback))
    return dict(sorted(out.items()))


def _sorted_vhosts(vhosts: Iterable[pb.VirtualHost | None]) -> list[pb.VirtualHost]:
    return sorted((v for v in vhosts if v is not None), key=lambda v: v.name)


def route_configuration_bytes(name: str, vhosts: Iterable[bytes]) -> bytes:
    """The serialized RouteConfiguration `name` holding these serialized vhosts, in order:
    byte-identical to building and serializing the whole message."""
    parts = [length_delimited(_NAME_FIELD, name.encode())]
    parts.extend(length_delimited(_VHOSTS_FIELD, v) for v in vhosts)
    parts.append(TABLE_SETTINGS)
    return b"".join(parts)
