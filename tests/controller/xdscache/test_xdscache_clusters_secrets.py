"""CDS and SDS: reachable clusters de-duplicated and sorted; secrets of secure vhosts."""

from __future__ import annotations

from xdscache_samples import CERT, KEY, KUARD, SECRET, forward, service

from controller.dag import model as m
from controller.envoy.names import secret_name
from controller.xdscache.clusters import clusters, unique_clusters
from controller.xdscache.secrets import secrets


def test_clusters_sorted_and_deduplicated_by_name() -> None:
    b, a = m.Cluster(service("b"), weight=10), m.Cluster(service("a"), weight=90)
    vh = m.VirtualHost("x.io", (forward("/", b, a), forward("/b", m.Cluster(service("b")))))
    got = clusters(m.DAG(http=(vh,)))
    assert list(got) == ["default/a/80/da39a3ee5e", "default/b/80/da39a3ee5e"]
    assert got["default/a/80/da39a3ee5e"].eds_cluster_config.service_name == "default/a"


def test_first_visited_wins() -> None:
    first = m.Cluster(KUARD, health_check=m.HealthCheck("/hz", host="first"))
    second = m.Cluster(KUARD, health_check=m.HealthCheck("/hz", host="second"))  # same name
    dag = m.DAG(
        http=(
            m.VirtualHost("a.io", (forward("/", first),)),
            m.VirtualHost("b.io", (forward("/", second),)),
        )
    )
    (only,) = unique_clusters(dag).values()
    assert only is first


def test_strategy_makes_a_distinct_cluster() -> None:
    vh = m.VirtualHost(
        "a.io",
        (forward("/", m.Cluster(KUARD)), forward("/rr", m.Cluster(KUARD, strategy="RoundRobin"))),
    )
    assert list(clusters(m.DAG(http=(vh,)))) == [
        "default/kuard/80/da39a3ee5e",
        "default/kuard/80/f3b72af6a9",
    ]


def test_tcp_proxy_clusters_are_included() -> None:
    svh = m.SecureVirtualHost("t.io", tcp_proxy=m.TCPProxy((m.Cluster(service("tcp")),)))
    assert list(clusters(m.DAG(https=(svh,)))) == ["default/tcp/80/da39a3ee5e"]


def test_secrets_of_secure_vhosts_only_sorted() -> None:
    other = m.Secret("alpha", "tls", CERT + b"x", KEY)
    dag = m.DAG(
        https=(
            m.SecureVirtualHost("a.io", secret=SECRET),
            m.SecureVirtualHost("b.io", secret=other, tcp_proxy=m.TCPProxy((m.Cluster(KUARD),))),
            m.SecureVirtualHost("c.io", tcp_proxy=m.TCPProxy((m.Cluster(KUARD),))),
            m.SecureVirtualHost("d.io", secret=SECRET),
        )
    )
    got = secrets(dag)
    assert list(got) == sorted([secret_name(SECRET), secret_name(other)])
    assert got[secret_name(SECRET)].tls_certificate.certificate_chain.inline_bytes == CERT
