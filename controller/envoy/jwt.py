"""JWT verification (upstream v1.33 listener.go FilterJWTAuthN, cluster.go DNSNameCluster):
the jwt_authn HTTP filter of a secure vhost's connection manager, a route's requirement,
and the cluster Envoy fetches a remote JWKS through.

One requirement per provider, named after it: a route names the requirement it needs
(`jwt_per_route`), so no route match is repeated in the filter's own rules and the route
order already computed applies.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.dag import model
from controller.envoy import pb
from controller.envoy.cluster import CONNECT_TIMEOUT, upstream_tls_context
from controller.envoy.core import any_of, duration, socket_address, transport_socket
from controller.envoy.endpoint import cluster_load_assignment

JWT_AUTHN = "envoy.filters.http.jwt_authn"
_DNS_FAMILY = {
    "auto": pb.Cluster.AUTO,
    "v4": pb.Cluster.V4_ONLY,
    "v6": pb.Cluster.V6_ONLY,
    "all": pb.Cluster.ALL,
}


def jwt_authn_filter(providers: Sequence[model.JWTProvider]) -> pb.HttpFilter:
    """The jwt_authn filter with every provider (remote JWKS through its cluster) and one
    requirement per provider; no rules (routes choose their requirement)."""
    config = pb.JwtAuthentication()
    for p in providers:
        remote = pb.RemoteJwks(http_uri=pb.HttpUri(uri=p.uri, cluster=p.cluster.name,
                                                   timeout=duration(p.timeout)))
        if p.cache_duration is not None:
            remote.cache_duration.CopyFrom(duration(p.cache_duration))
        config.providers[p.name].CopyFrom(pb.JwtProvider(
            issuer=p.issuer, audiences=p.audiences, remote_jwks=remote, forward=p.forward))
        config.requirement_map[p.name].provider_name = p.name
    return pb.HttpFilter(name=JWT_AUTHN, typed_config=any_of(config))


def jwt_per_route(provider: str) -> pb.Any:
    """A route's typed_per_filter_config entry: require the provider's requirement."""
    return any_of(pb.JwtPerRoute(requirement_name=provider))


def jwks_cluster(c: model.JWKSCluster) -> pb.Cluster:
    """The JWKS server's cluster: STRICT_DNS on its host and port (LOGICAL_DNS for the
    family "all", as upstream), TLS with SNI for https, verified when a CA is given."""
    family = _DNS_FAMILY.get(c.dns_lookup_family, pb.Cluster.AUTO)
    out = pb.Cluster(
        name=c.name,
        connect_timeout=duration(CONNECT_TIMEOUT),
        type=pb.Cluster.LOGICAL_DNS if family == pb.Cluster.ALL else pb.Cluster.STRICT_DNS,
        dns_lookup_family=family,
        load_assignment=cluster_load_assignment(c.name, [socket_address(c.address, c.port)]),
    )
    if c.scheme == "https":
        validation = (model.UpstreamValidation("", c.ca_cert, c.subject_name) if c.ca_cert
                      else None)
        tls = upstream_tls_context(validation)
        tls.sni = c.address
        out.transport_socket.CopyFrom(transport_socket(tls))
    return out
