"""HTTPProxy features through a real Envoy: the translator's output for model values is
served over ADS and requests prove each feature routes as claimed (matches, direct
response, header policies, mirror, CORS preflight, IP allow/deny, local rate limit and
the fallback certificate)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from test_xds_envoy_e2e import NODE, Envoy, envoy, free_port  # noqa: F401 (fixture)
from xds_testkit import eventually, serve_http

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy.endpoint import ip_port_assignment
from controller.xds.registry import NodeRegistry
from controller.xdscache.listeners import STATS_LISTENER
from controller.xdscache.snapshot import ENDPOINT, LISTENER, SnapshotCache
from controller.xdscache.translator import Translator
from tests.e2e.harness.certs import HarnessCA, cert_cn

HOST, ALLOWED, DENIED = "proxy.example.com", "allowed.example.com", "denied.example.com"
ORIGIN = "https://app.example.com"


@dataclass
class Upstream:
    """A backend answering JSON {label, path, headers}; every request is kept."""

    label: str
    port: int = 0
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def serve(upstream: Upstream) -> Iterator[Upstream]:
    def respond(path: str, headers: dict[str, str]) -> bytes:
        upstream.seen.append((path, headers))
        return json.dumps({"label": upstream.label, "headers": headers}).encode()

    for upstream.port in serve_http(respond):
        yield upstream


@pytest.fixture
def primary() -> Iterator[Upstream]:
    yield from serve(Upstream("primary"))


@pytest.fixture
def fallback_route() -> Iterator[Upstream]:
    yield from serve(Upstream("default"))


@pytest.fixture
def shadow() -> Iterator[Upstream]:
    yield from serve(Upstream("shadow"))


A = m.ServicePort("default", "primary", 80)
B = m.ServicePort("default", "default", 80)
MIRROR = m.ServicePort("default", "shadow", 80)


def _routes() -> tuple[m.Route, ...]:
    to_a, to_b = (m.Cluster(A),), (m.Cluster(B),)
    return (
        m.Route("/", to_b),
        m.Route("/exact", to_a, exact=True),
        m.Route("/hdr", to_a, headers=(m.HeaderMatch("x-env", "exact", "blue"),
                                       m.HeaderMatch("x-debug", "notpresent"))),
        m.Route("/hdr", to_b),
        m.Route("/q", to_a, query_params=(m.QueryMatch("env", "exact", "blue"),)),
        m.Route("/direct", direct_response=m.DirectResponse(418, "teapot")),
        m.Route("/policy", (m.Cluster(A, request_headers=m.HeadersPolicy(set=(("x-svc", "a"),))),),
                request_headers=m.HeadersPolicy(set=(("x-added", "yes"),), remove=("x-secret",),
                                                host_rewrite="rewritten.example.com"),
                response_headers=m.HeadersPolicy(set=(("x-resp", "1"),))),
        m.Route("/mirror", to_a, mirrors=(m.Cluster(MIRROR),)),
        m.Route("/limited", to_a, rate_limit=m.LocalRateLimit(1, 1, 60.0)),
        m.Route("/private", to_a, ip_filter=m.IPFilter(False, (m.CIDR("127.0.0.0", 8),))),
    )


def allow(address: str, prefix_len: int) -> m.IPFilter:
    return m.IPFilter(True, (m.CIDR(address, prefix_len),))


def _dag(ca: HarnessCA) -> m.DAG:
    cors = m.CORSPolicy(allow_origin=((ORIGIN, False),), allow_methods=("GET", "PUT"))
    leaf, fallback = ca.issue(HOST, [HOST]), ca.issue("fallback", ["fallback"])
    only_a = (m.Route("/", (m.Cluster(A),)),)
    return m.DAG(
        http=(m.VirtualHost(HOST, _routes(), cors=cors),
              m.VirtualHost(ALLOWED, only_a, ip_filter=allow("127.0.0.1", 32)),
              m.VirtualHost(DENIED, only_a, ip_filter=allow("10.0.0.0", 8))),
        https=(m.SecureVirtualHost(HOST, only_a, secret=m.Secret("default", "tls", leaf.cert_pem,
                                                                 leaf.key_pem),
                                   fallback_certificate=True),),
        fallback_secret=m.Secret("default", "fallback", fallback.cert_pem, fallback.key_pem),
    )


@dataclass
class Client:
    http_port: int
    https_port: int

    def get(self, path: str, host: str = HOST, method: str = "GET",
            **headers: str) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=3)
        return _exchange(conn, method, path, host, headers)

    def get_tls_without_sni(self, path: str, host: str = HOST) -> tuple[int, str, str]:
        """Over TLS to 127.0.0.1 (Python sends no SNI for an IP): status, body, cert CN."""
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=3,
                                           context=context)
        status, _, body = _exchange(conn, "GET", path, host, {})
        return status, body, cert_cn(_peer_cert(self.https_port, context)) or ""


def _exchange(conn: http.client.HTTPConnection, method: str, path: str, host: str,
              headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    try:
        conn.request(method, path, headers={"Host": host, **{
            k.replace("_", "-"): v for k, v in headers.items()}})
        response = conn.getresponse()
        body = response.read().decode()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    except OSError:
        return 0, {}, ""
    finally:
        conn.close()


def _peer_cert(port: int, context: ssl.SSLContext) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as raw, \
            context.wrap_socket(raw) as tls:
        return tls.getpeercert(binary_form=True) or b""


def _label(response: tuple[int, dict[str, str], str]) -> str:
    status, _, body = response
    return json.loads(body)["label"] if status == 200 else str(status)


async def test_httpproxy_features_through_envoy(
    cache: SnapshotCache, registry: NodeRegistry, envoy: Envoy,  # noqa: F811
    primary: Upstream, fallback_route: Upstream, shadow: Upstream,
) -> None:
    client = Client(envoy.listener_port, free_port())
    settings = ListenerSettings(http_address="127.0.0.1", http_port=client.http_port,
                                https_address="127.0.0.1", https_port=client.https_port,
                                stats_address="127.0.0.1", stats_port=free_port())
    translator = Translator(settings)
    resources = translator.translate(_dag(HarnessCA()))
    assert translator.rejected == {}
    # stats-health proxies to the bootstrap's service-stats cluster, absent from this one.
    del resources[LISTENER][STATS_LISTENER]
    resources[ENDPOINT] = {
        svc.eds_name: ip_port_assignment(svc.eds_name, [("127.0.0.1", u.port)]).SerializeToString()
        for svc, u in ((A, primary), (B, fallback_route), (MIRROR, shadow))}
    cache.publish(resources)
    cache.mark_ready()
    await eventually(lambda: _label(client.get("/")) == "default", 20)

    # Matching: exact path, header conditions (notpresent included), query parameters.
    assert _label(client.get("/exact")) == "primary"
    assert _label(client.get("/exact/more")) == "default"
    assert _label(client.get("/hdr", x_env="blue")) == "primary"
    assert _label(client.get("/hdr", x_env="blue", x_debug="1")) == "default"
    assert _label(client.get("/q?env=blue")) == "primary"
    assert _label(client.get("/q?env=red")) == "default"

    assert client.get("/direct")[0::2] == (418, "teapot")

    # Header policies: route-level set/remove/host rewrite, per-cluster set, response set.
    status, headers, body = client.get("/policy", x_secret="s")
    seen = json.loads(body)["headers"]
    assert status == 200 and headers.get("x-resp") == "1"
    assert (seen.get("x-added"), seen.get("x-svc"), seen.get("host")) == (
        "yes", "a", "rewritten.example.com")
    assert "x-secret" not in seen

    # Mirror: the shadow backend gets a copy (Envoy adds "-shadow" to the host).
    assert _label(client.get("/mirror")) == "primary"
    await eventually(lambda: any(path == "/mirror" for path, _ in shadow.seen))

    # CORS preflight answered by Envoy for an allowed origin.
    status, headers, _ = client.get("/", method="OPTIONS", origin=ORIGIN,
                                    access_control_request_method="PUT")
    assert status == 200
    assert headers.get("access-control-allow-origin") == ORIGIN
    assert "PUT" in headers.get("access-control-allow-methods", "")

    # IP filters: deny on a route, allow on vhosts (loopback allowed / not allowed).
    assert client.get("/private")[0] == 403
    assert _label(client.get("/", host=ALLOWED)) == "primary"
    assert client.get("/", host=DENIED)[0] == 403

    # Local rate limit: one token, refilled every minute.
    assert _label(client.get("/limited")) == "primary"
    assert client.get("/limited")[0] == 429

    # Fallback certificate: TLS without SNI gets the fallback cert and is routed by Host.
    status, body, cn = await eventually(lambda: _fallback(client), 10)  # type: ignore[misc]
    assert (status, json.loads(body)["label"], cn) == (200, "primary", "fallback")

    node = registry.node(NODE)
    assert node is not None and not node.nacks  # Envoy ACKed every resource
    assert set(node.acked) >= set(resources)


def _fallback(client: Client) -> tuple[int, str, str] | None:
    try:
        result = client.get_tls_without_sni("/")
    except OSError:
        return None
    return result if result[0] == 200 else None
