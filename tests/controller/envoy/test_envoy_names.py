"""Resource names: hashname vectors (upstream TestHashname/TestTruncate) and spec §3.4's table."""

from __future__ import annotations

import hashlib

import pytest

from controller.dag.model import (
    Cluster,
    HeadersPolicy,
    HealthCheck,
    Secret,
    ServicePort,
    SlowStart,
    UpstreamValidation,
)
from controller.envoy.names import (
    cluster_hash,
    cluster_name,
    go_duration,
    hashname,
    secret_name,
    vhost_name,
)

LONG_HOST = "my-very-very-long-service-host-name.my.domainname"
LONG_SERVICE = "kbujbkuhdod66gjdmwmijz8xzgsx1nkfbrloezdjiulquzk4x3p0nnvpzi8r"


@pytest.mark.parametrize(
    ("limit", "parts", "want"),
    [
        pytest.param(99, (), "", id="empty"),
        pytest.param(99, ("alpha",), "alpha", id="single element"),
        pytest.param(12, ("gammagammagamma",), "0d350ea5c204", id="long single element, hashed"),
        pytest.param(4, ("alpha",), "8ed3", id="single element, truncated"),
        pytest.param(19, ("gammagamma", "betabeta"), "ga-edf159/betabeta", id="two, truncated"),
        pytest.param(99, ("alpha", "beta", "gamma"), "alpha/beta/gamma", id="three elements"),
        pytest.param(
            60,
            ("default", "my-service-name", LONG_HOST),
            "default/my-service-name/my-very-very--c4d2d4",
            id="issue/25",
        ),
        pytest.param(5, ("abcde",), hashlib.sha256(b"abcde").hexdigest()[:5], id="equal to limit"),
    ],
)
def test_hashname(limit: int, parts: tuple[str, ...], want: str) -> None:
    assert hashname(limit, *parts) == want


@pytest.mark.parametrize(
    ("seconds", "want"),
    [
        (1, "1s"),
        (2, "2s"),
        (59, "59s"),
        (60, "1m0s"),
        (90, "1m30s"),
        (3600, "1h0m0s"),
        (3661, "1h1m1s"),
        (90000, "25h0m0s"),
        (0, "0s"),
        (1.5, "1.5s"),
        (0.5, "500ms"),
        (0.0015, "1.5ms"),
        (2e-6, "2µs"),
        (61.25, "1m1.25s"),
    ],
)
def test_go_duration(seconds: float, want: str) -> None:
    assert go_duration(seconds) == want


KUARD = ServicePort("default", "kuard", 80)


@pytest.mark.parametrize(
    ("cluster", "want"),
    [
        pytest.param(Cluster(KUARD), "da39a3ee5e", id="plain"),
        pytest.param(Cluster(KUARD, strategy="RoundRobin"), "f3b72af6a9", id="RoundRobin"),
        pytest.param(Cluster(KUARD, strategy="WeightedLeastRequest"), "8bf87fefba", id="WLR"),
        pytest.param(Cluster(KUARD, strategy="Random"), "58d888c08a", id="Random"),
        pytest.param(Cluster(KUARD, strategy="Cookie"), "e4f81994fe", id="Cookie"),
        pytest.param(Cluster(KUARD, health_check=HealthCheck("/healthz")), "bc862a33ca", id="hc"),
        pytest.param(
            Cluster(KUARD, validation=UpstreamValidation("foo", b"PEM", "subjname")),
            "98c0f31c72",
            id="validation",
        ),
        pytest.param(Cluster(KUARD, weight=90), "da39a3ee5e", id="weight is not in the name"),
        pytest.param(Cluster(KUARD, request_headers=HeadersPolicy(set=(("a", "b"),))),
                     "da39a3ee5e", id="header policies are not in the name"),
    ],
)
def test_cluster_hash_worked_values(cluster: Cluster, want: str) -> None:
    assert cluster_hash(cluster) == want


@pytest.mark.parametrize(
    ("cluster", "buf"),
    [
        pytest.param(Cluster(KUARD, idle_connection_timeout=90.0), "1m30s", id="idle timeout"),
        pytest.param(Cluster(KUARD, idle_connection_timeout=-1.0), "0s", id="idle infinite"),
        pytest.param(Cluster(KUARD, strategy="Random", slow_start=SlowStart(10.0, 1.5, 20)),
                     "Random10s1.50000020", id="slow start after strategy"),
    ],
)
def test_cluster_hash_httpproxy_parts(cluster: Cluster, buf: str) -> None:
    assert cluster_hash(cluster) == hashlib.sha1(buf.encode()).hexdigest()[:10]


def test_cluster_hash_health_check_order_and_host_excluded() -> None:
    hc = HealthCheck(
        "/hz",
        host="ignored",
        interval_seconds=5,
        timeout_seconds=90,
        unhealthy_threshold=3,
        healthy_threshold=2,
    )
    buf = "Cookie" + "1m30s" + "5s" + "3" + "2" + "/hz" + "ca" + "subj"
    cluster = Cluster(
        KUARD, strategy="Cookie", health_check=hc, validation=UpstreamValidation("ca", b"", "subj")
    )
    assert cluster_hash(cluster) == hashlib.sha1(buf.encode()).hexdigest()[:10]


def test_cluster_name() -> None:
    assert cluster_name(Cluster(KUARD)) == "default/kuard/80/da39a3ee5e"
    long = Cluster(ServicePort("default", LONG_SERVICE, 8080))
    assert cluster_name(long) == "default/kbujbkuh-c83ceb/8080/da39a3ee5e"


def test_secret_name_follows_certificate() -> None:
    digest = hashlib.sha1(b"CERT").hexdigest()[:10]
    assert secret_name(Secret("default", "tls", b"CERT", b"KEY")) == f"default/tls/{digest}"
    assert secret_name(Secret("default", "tls", b"CERT2", b"KEY")) != f"default/tls/{digest}"


def test_vhost_name() -> None:
    assert vhost_name("example.com") == "example.com"
    assert vhost_name("*") == "*"
    long = "a" * 60 + ".example.com"
    assert vhost_name(long) == hashlib.sha256(long.encode()).hexdigest()[:60]
