"""DAG values shared by the translator tests."""

from __future__ import annotations

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
