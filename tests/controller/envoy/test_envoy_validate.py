"""The real Envoy accepts what every constructor produces: a representative DAG is translated
(through the caching Translator), its listeners, clusters and secrets become static resources
of a bootstrap (route tables inlined into the connection managers, an EDS assignment as a
static cluster's load_assignment), and `envoy --mode validate` must say OK."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.bootstrap import bootstrap
from controller.envoy.core import any_of
from controller.envoy.listener import HTTP_CONNECTION_MANAGER
from controller.xdscache.endpoints import endpoints_from_endpoints
from controller.xdscache.translator import Translator, decode
from tests.controller.xdscache.xdscache_samples import httpproxy_dag

Validate = Callable[..., subprocess.CompletedProcess[str]]

SETTINGS = ListenerSettings(
    http_address="::",
    http_port=18080,
    https_port=18443,
    stats_port=18002,
    use_proxy_protocol=True,
    min_tls_version="1.2",
)


def _dag(cert: bytes, key: bytes) -> m.DAG:
    secret = m.Secret("default", "tls", cert, key)
    kuard = m.ServicePort("default", "kuard", 80, max_connections=100, max_retries=3)
    grpc = m.ServicePort("default", "grpc", 443, port_name="grpc", protocol=m.Protocol.H2)
    h2c = m.ServicePort("default", "h2c", 80, protocol=m.Protocol.H2C)
    secure = m.ServicePort("default", "secure", 443, protocol=m.Protocol.TLS)
    ext = m.ServicePort("default", "ext", 80, external_name="example.org")
    validated = m.Cluster(secure, validation=m.UpstreamValidation("ca", cert, "example.com"))
    routes = (
        m.Route(
            "/",
            clusters=(
                m.Cluster(kuard, 90, "Cookie"),
                m.Cluster(kuard, 10, health_check=m.HealthCheck("/healthz")),
            ),
        ),
        m.Route(
            "/ws",
            clusters=(m.Cluster(kuard, strategy="Random"),),
            websocket=True,
            prefix_rewrite="/",
            timeout=m.Timeout.INFINITE,
        ),
        m.Route(
            "/[^/]+/invoices(/.*|/?)",
            clusters=(m.Cluster(ext),),
            regex=True,
            timeout=90.0,
            retry=m.RetryPolicy(num_retries=3, per_try_timeout=0.5),
        ),
        m.Route("/grpc", clusters=(m.Cluster(grpc, strategy="WeightedLeastRequest"),)),
        m.Route("/h2c", clusters=(m.Cluster(h2c),)),
        m.Route("/tls", clusters=(validated, m.Cluster(secure, 0))),
    )
    redirects = tuple(m.Route(r.match, r.clusters, r.regex, https_redirect=True) for r in routes)
    proxy = m.TCPProxy((m.Cluster(kuard, 1), m.Cluster(secure, 1)))
    return m.DAG(
        http=(m.VirtualHost("*", routes[:2]), m.VirtualHost("example.com", redirects)),
        https=(
            m.SecureVirtualHost("example.com", routes, secret=secret, min_tls_version="1.3"),
            m.SecureVirtualHost("pass.example.com", tcp_proxy=proxy),
            m.SecureVirtualHost(
                "tcp.example.com", secret=secret, tcp_proxy=m.TCPProxy((m.Cluster(kuard, 1),))
            ),
        ),
    )


def _inline_routes(listener: pb.Listener, tables: dict[str, pb.RouteConfiguration]) -> None:
    for chain in listener.filter_chains:
        for f in chain.filters:
            if f.name != HTTP_CONNECTION_MANAGER:
                continue
            hcm = pb.HttpConnectionManager()
            f.typed_config.Unpack(hcm)
            if hcm.HasField("rds"):
                hcm.route_config.CopyFrom(tables[hcm.rds.route_config_name])
                f.typed_config.CopyFrom(any_of(hcm))


def _endpoint_cluster() -> pb.Cluster:
    obj = {
        "metadata": {"namespace": "default", "name": "kuard"},
        "subsets": [
            {
                "addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
                "ports": [{"name": "http", "port": 8080}],
            }
        ],
    }
    (cla,) = endpoints_from_endpoints(obj).values()
    return pb.Cluster(name=cla.cluster_name, type=pb.Cluster.STATIC, load_assignment=cla)


def static_bootstrap(out: dict[str, dict[str, Any]], admin_port: int) -> pb.Bootstrap:
    """A bootstrap holding the translated listeners (route tables inlined) and clusters."""
    config = bootstrap(admin_port=admin_port, node_id="validate", node_cluster="contour")
    static = config.static_resources
    for listener in out[pb.LISTENER_TYPE].values():
        _inline_routes(listener, out[pb.ROUTE_TYPE])
        static.listeners.append(listener)
    static.clusters.extend(out[pb.CLUSTER_TYPE].values())
    return config


def test_envoy_accepts_translated_resources(
    envoy_validate: Validate, certificate: tuple[bytes, bytes]
) -> None:
    out = decode(Translator(SETTINGS).translate(_dag(*certificate)))
    config = static_bootstrap(out, admin_port=19911)
    static = config.static_resources
    static.clusters.append(_endpoint_cluster())
    static.secrets.extend(out[pb.SECRET_TYPE].values())
    assert [len(out[t]) for t in (pb.LISTENER_TYPE, pb.CLUSTER_TYPE, pb.SECRET_TYPE)] == [3, 9, 1]

    result = envoy_validate(config)
    assert result.returncode == 0, result.stderr


def test_envoy_accepts_every_httpproxy_feature(
    envoy_validate: Validate, certificate: tuple[bytes, bytes]
) -> None:
    dag = httpproxy_dag()
    secret = m.Secret("default", "tls", *certificate)
    dag = replace(dag, https=tuple(replace(s, secret=secret) for s in dag.https),
                  fallback_secret=m.Secret("default", "fallback", *certificate))
    translator = Translator(SETTINGS)
    out = decode(translator.translate(dag))
    assert translator.rejected == {}
    config = static_bootstrap(out, admin_port=19912)
    config.static_resources.secrets.extend(out[pb.SECRET_TYPE].values())

    result = envoy_validate(config)
    assert result.returncode == 0, result.stderr
