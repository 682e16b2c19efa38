"""TLS listeners and TLSRoutes, the rules the conformance suite's TLS profile checks: a
listener in mode Terminate is not accepted and supports no kind, and a TLSRoute whose
backends are all unresolved rejects its connections (through both builders and both
translators)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.config import ListenerSettings
from controller.envoy import pb
from controller.envoy.listener import DIRECT_RESPONSE, TCP_PROXY
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode
from tests.controller.dag import gwkit as g
from tests.controller.dag.dagkit import build_both, https_vhost, secret, service

PASSTHROUGH = g.listener("tls", "TLS", 443, tls={"mode": "Passthrough"})


@pytest.mark.parametrize("port", [443, 8443])
def test_a_terminate_tls_listener_is_unsupported_value_with_no_kinds(port: int) -> None:
    """UnsupportedValue whatever the port (the mode is what is unsupported), and an empty
    supportedKinds: TLSRouteListenerTerminateNotSupported."""
    li = g.listener("tls-terminate", "TLS", port, hostname="terminate.example.com",
                    allowedRoutes={"kinds": [{"kind": "TLSRoute"}]},
                    tls={"mode": "Terminate", "certificateRefs": [{"name": "tls"}]})
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", li), secret("tls"))
    (ls,) = g.status_of(dag, "Gateway", "default", "gw").listeners
    got = {c.type: (c.status, c.reason) for c in ls.conditions}
    assert got["Accepted"] == ("False", "UnsupportedValue")
    assert ls.supported_kinds == () and ls.attached_routes == 0


def _tls_route(*backends: dict[str, Any]) -> dict[str, Any]:
    return g.httproute("t", "default", {"backendRefs": list(backends)},
                       hostnames=["example.com"], kind="TLSRoute")


UNRESOLVED = [
    (g.backend("nonexistent", 443), "BackendNotFound"),
    (g.backend("tls-backend", 443, group="unknownkind.example.com", kind="NonExistent"),
     "InvalidKind"),
    (g.backend("s1", 443, weight=0), None),
]


@pytest.mark.parametrize("ref, reason", UNRESOLVED, ids=["nonexistent", "unknown-kind", "weight-0"])
def test_a_tlsroute_without_a_resolved_backend_rejects_its_sni(ref: dict[str, Any],
                                                                reason: str | None) -> None:
    """The route is Accepted with ResolvedRefs False, and its hostname gets a passthrough
    vhost without clusters: a chain of its own, so that another Gateway's catch-all HTTPS
    listener does not answer the handshake (TLSRouteInvalidBackendRef*)."""
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", PASSTHROUGH),
                     service("s1", ports=((None, 443),)), _tls_route(ref))
    svh = https_vhost(dag, "example.com")
    assert svh is not None and svh.secret is None
    assert svh.tcp_proxy is not None and svh.tcp_proxy.clusters == ()
    got = g.parent_conditions(g.status_of(dag, "TLSRoute", "default", "t"))
    assert got["Accepted"] == ("True", "Accepted")
    assert got["ResolvedRefs"] == (("False", reason) if reason else ("True", "ResolvedRefs"))


def _chain_filters(dag: Any) -> dict[str, list[str]]:
    """Server name → the network filters of its chain on ingress_https, as both translators
    produce it (they must agree byte for byte)."""
    full = Translator(ListenerSettings()).translate(dag)
    incremental = IncrementalTranslator(ListenerSettings())
    incremental.update(dag)
    assert incremental.resources() == full
    listener = decode(full)[pb.LISTENER_TYPE]["ingress_https"]
    assert isinstance(listener, pb.Listener)
    return {",".join(c.filter_chain_match.server_names): [f.name for f in c.filters]
            for c in listener.filter_chains}


def test_the_rejecting_chain_closes_connections_and_beats_a_catch_all() -> None:
    """Another Gateway's HTTPS listener without hostname terminates any SNI; the rejecting
    chain of the TLSRoute's hostname is an exact server name, which Envoy prefers."""
    other = g.gateway("other", "default", g.https_listener(), created="2024-01-02T00:00:00Z")
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", PASSTHROUGH), other,
                     secret("tls"), _tls_route(g.backend("nonexistent", 443)))
    chains = _chain_filters(dag)
    assert chains["example.com"] == [DIRECT_RESPONSE]
    assert "" in chains  # the catch-all (no server_names) is still there, for other SNIs


def test_a_working_tlsroute_still_proxies() -> None:
    dag = build_both(g.gateway_class(), g.gateway("gw", "default", PASSTHROUGH),
                     service("s1", ports=((None, 443),)),
                     _tls_route(g.backend("nonexistent", 443), g.backend("s1", 443)))
    assert _chain_filters(dag)["example.com"] == [TCP_PROXY]
