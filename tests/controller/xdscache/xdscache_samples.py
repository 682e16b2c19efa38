"""DAG values shared by the translator tests."""

from __future__ import annotations

from controller.config import ROUTE_LAYOUTS, ListenerSettings
from controller.dag import model as m

CERT = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
SECRET = m.Secret("default", "tls", CERT, KEY)

KUARD = m.ServicePort("default", "kuard", 80)
OTHER = m.ServicePort("default", "other", 8080, port_name="http")


def service(name: str, port: int = 80) -> m.ServicePort:
    return m.ServicePort("default", name, port)


def forward(match: str, *clusters: m.Cluster, regex: bool = False) -> m.Route:
    return m.Route(match, clusters=clusters or (m.Cluster(KUARD),), regex=regex)


def redirect(match: str) -> m.Route:
    return m.Route(match, clusters=(m.Cluster(KUARD),), https_redirect=True)


def many_vhosts(n: int, *, changed: int = -1) -> m.DAG:
    """n insecure vhosts of two routes each, every tenth also on 443 with its own secret."""
    http, https = [], []
    for i in range(n):
        svc = m.ServicePort("default", f"svc{i}", 80, port_name="http")
        routes = (
            m.Route("/", clusters=(m.Cluster(svc),)),
            m.Route(
                "/api" if i != changed else "/v2", clusters=(m.Cluster(svc, strategy="Cookie"),)
            ),
        )
        host = f"host{i}.example.com"
        http.append(m.VirtualHost(host, routes))
        if i % 10 == 0:
            secret = m.Secret("default", f"tls{i}", b"cert%d" % i, KEY)
            https.append(m.SecureVirtualHost(host, routes, secret=secret))
    return m.DAG(http=tuple(http), https=tuple(https))


# -- HTTPProxy features: one vhost using every field the translators know ---------------------

MIRROR = m.ServicePort("default", "mirror", 80)
HEADERS_IN = m.HeadersPolicy(set=(("x-b", "2"), ("x-a", "1")), remove=("x-drop",),
                             host_rewrite="internal.example.com")
HEADERS_OUT = m.HeadersPolicy(set=(("x-served-by", "contour"),), remove=("server",))
CORS = m.CORSPolicy(allow_origin=(("https://a.example.com", False), (r"https://.*\.b\.io", True)),
                    allow_methods=("GET", "POST"), allow_headers=("authorization",),
                    expose_headers=("x-trace",), max_age="600", allow_credentials=True)
ALLOW_LOOPBACK = m.IPFilter(allow=True, rules=(m.CIDR("127.0.0.1", 32),
                                               m.CIDR("10.0.0.0", 8, remote=True)))
DENY_LOOPBACK = m.IPFilter(allow=False, rules=(m.CIDR("127.0.0.0", 8),))
LIMIT = m.LocalRateLimit(max_tokens=2, tokens_per_fill=1, fill_interval=60.0,
                         headers=(("x-limited", "yes"),))


def httpproxy_routes(svc: m.ServicePort = KUARD) -> tuple[m.Route, ...]:
    """Routes exercising every HTTPProxy route field (matches, actions, policies)."""
    slow = m.Cluster(svc, 0, health_check=m.HealthCheck("/hz", expected_statuses=((200, 300),)),
                     slow_start=m.SlowStart(10.0, 1.5, 20), idle_connection_timeout=30.0)
    shaped = m.Cluster(svc, request_headers=HEADERS_IN, response_headers=HEADERS_OUT)
    return (
        m.Route("/exact", (m.Cluster(svc),), exact=True),
        m.Route("/headers", (m.Cluster(svc),), headers=(
            m.HeaderMatch("x-present", "present"),
            m.HeaderMatch("x-absent", "notpresent"),
            m.HeaderMatch("x-exact", "exact", "yes", ignore_case=True),
            m.HeaderMatch("x-notexact", "notexact", "no", treat_missing_as_empty=True),
            m.HeaderMatch("x-contains", "contains", "abc"),
            m.HeaderMatch("x-notcontains", "notcontains", "zzz"),
            m.HeaderMatch("x-regex", "regex", "^v[0-9]+$"),
        )),
        m.Route("/query", (m.Cluster(svc),), query_params=(
            m.QueryMatch("q", "exact", "1"), m.QueryMatch("p", "prefix", "ab", ignore_case=True),
            m.QueryMatch("s", "suffix", "yz"), m.QueryMatch("r", "regex", "^[a-z]+$"),
            m.QueryMatch("c", "contains", "mid"), m.QueryMatch("x", "present"),
        )),
        m.Route("/direct", direct_response=m.DirectResponse(418, "teapot")),
        m.Route("/empty", direct_response=m.DirectResponse(204)),
        m.Route("/moved", redirect=m.Redirect("https", "new.example.com", 8443, path="/new",
                                              status_code=301)),
        m.Route("/shaped", (shaped,), request_headers=HEADERS_IN, response_headers=HEADERS_OUT,
                replace_prefix=(("", "/default"), ("/shaped", "/rewritten"))),
        m.Route("/mirror", (m.Cluster(svc, 70), slow), mirrors=(m.Cluster(MIRROR, 50),),
                idle_timeout=m.Timeout.INFINITE, internal_redirect=True,
                retry=m.RetryPolicy("retriable-status-codes", 2, 1.0, (503, 504)),
                hash_policies=(m.HashPolicy("header", "x-user", terminal=True),
                               m.HashPolicy("query", "id"), m.HashPolicy("source_ip"))),
        m.Route("/limited", (m.Cluster(svc),), rate_limit=LIMIT),
        m.Route("/private", (m.Cluster(svc),), ip_filter=DENY_LOOPBACK),
        m.Route("/", (m.Cluster(svc),)),
    )


def httpproxy_dag() -> m.DAG:
    """Port 80 and 443 vhosts with every HTTPProxy field, the secure one also reachable
    through the fallback certificate; plus a plain IngressRoute-style vhost."""
    routes = httpproxy_routes()
    return m.DAG(
        http=(m.VirtualHost("proxy.example.com", routes, cors=CORS, ip_filter=ALLOW_LOOPBACK,
                            rate_limit=LIMIT),
              m.VirtualHost("plain.example.com", (forward("/"),))),
        https=(m.SecureVirtualHost("proxy.example.com", routes, secret=SECRET, cors=CORS,
                                   ip_filter=ALLOW_LOOPBACK, max_tls_version="1.2",
                                   min_tls_version="1.2", fallback_certificate=True),),
        fallback_secret=m.Secret("default", "fallback", CERT, KEY),
    )


LAYOUTS = {layout: ListenerSettings(route_layout=layout) for layout in ROUTE_LAYOUTS}
"""Listener settings per route layout: the full-vs-incremental tests run in each."""
