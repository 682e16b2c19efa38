"""jwt_authn, downstream client validation, XFCC and cookie-rewrite Lua through both
translators: byte-identical, accepted by the constraint checker, in upstream's shape."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from controller.config import ListenerSettings
from controller.envoy import pb
from controller.envoy.cookies import LUA, SCRIPT_NAME
from controller.envoy.jwt import JWT_AUTHN
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dag"))
import dagkit as k  # noqa: E402

HOME = k.hp_route(k.hp_svc("s1"), cookieRewritePolicies=[{"name": "c", "secure": True}])
VHOST: dict[str, Any] = {
    "tls": {"secretName": "tls", "clientValidation": {
        "caSecret": "ca", "forwardClientCertificate": {"subject": True, "cert": True}}},
    "jwtProviders": [{"name": "p", "default": True, "issuer": "i", "audiences": ["a"],
                      "remoteJWKS": {"uri": "https://jwks.example.com:8443/k",
                                     "cacheDuration": "5m"}}],
}
OBJS = [k.service("s1"), k.secret("tls"),
        k.secret("ca", type="Opaque", cert=None, key=None, ca=k.tls_pair(1)[0]),
        k.hp("a", fqdn="a.com", routes=[HOME], vhost=VHOST)]


def _translate() -> dict[str, dict[str, Message]]:
    dag = k.build_both(*OBJS)
    full = Translator(ListenerSettings())
    resources = full.translate(dag)
    assert full.rejected == {}
    incremental = IncrementalTranslator(ListenerSettings())
    incremental.update(dag)
    assert incremental.resources() == resources
    return decode(resources)


def _unpack(any_: pb.Any, message: Message) -> Any:
    assert any_.Unpack(message)
    return message


def test_chain_has_validation_xfcc_and_jwt_authn_before_the_router() -> None:
    listener = _translate()[pb.LISTENER_TYPE]["ingress_https"]
    assert isinstance(listener, pb.Listener)
    (chain,) = listener.filter_chains
    tls = _unpack(chain.transport_socket.typed_config, pb.DownstreamTlsContext())
    vc = tls.common_tls_context.validation_context
    assert vc.trusted_ca.inline_bytes == k.tls_pair(1)[0]
    assert vc.trust_chain_verification == pb.CertificateValidationContext.VERIFY_TRUST_CHAIN
    assert tls.require_client_certificate.value
    hcm = _unpack(chain.filters[0].typed_config, pb.HttpConnectionManager())
    names = [f.name for f in hcm.http_filters]
    assert names[-2:] == [JWT_AUTHN, "envoy.filters.http.router"] and LUA in names
    assert hcm.forward_client_cert_details == pb.HttpConnectionManager.SANITIZE_SET
    assert hcm.set_current_client_cert_details.subject.value
    jwt = _unpack(hcm.http_filters[-2].typed_config, pb.JwtAuthentication())
    provider = jwt.providers["p"]
    assert (provider.issuer, list(provider.audiences)) == ("i", ["a"])
    assert provider.remote_jwks.http_uri.cluster == "dnsname/https/jwks.example.com"
    assert provider.remote_jwks.cache_duration.seconds == 300
    assert jwt.requirement_map["p"].provider_name == "p"


def test_jwks_cluster_and_route_configs() -> None:
    out = _translate()
    cluster = out[pb.CLUSTER_TYPE]["dnsname/https/jwks.example.com"]
    assert isinstance(cluster, pb.Cluster)
    assert cluster.type == pb.Cluster.STRICT_DNS
    address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address
    assert (address.socket_address.address, address.socket_address.port_value) == (
        "jwks.example.com", 8443)
    upstream = _unpack(cluster.transport_socket.typed_config, pb.UpstreamTlsContext())
    assert upstream.sni == "jwks.example.com"
    table = out[pb.ROUTE_TYPE]["https/a.com"]
    assert isinstance(table, pb.RouteConfiguration)
    route = next(r for vh in table.virtual_hosts for r in vh.routes if r.HasField("route"))
    per_route = _unpack(route.typed_per_filter_config[JWT_AUTHN], pb.JwtPerRoute())
    assert per_route.requirement_name == "p"
    (entry,) = route.route.weighted_clusters.clusters
    lua = _unpack(entry.typed_per_filter_config[LUA], pb.LuaPerRoute())
    assert lua.name == SCRIPT_NAME
    rules = lua.filter_context.fields["cookie_rewrite_rules"].struct_value.fields
    assert rules["c"].struct_value.fields["Secure"].bool_value is True
    http = out[pb.ROUTE_TYPE]["ingress_http"]
    assert isinstance(http, pb.RouteConfiguration)
    assert all(JWT_AUTHN not in r.typed_per_filter_config
               for vh in http.virtual_hosts for r in vh.routes)
