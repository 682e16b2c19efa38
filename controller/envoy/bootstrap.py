"""`contour bootstrap`: Envoy's v3 bootstrap pointing at this controller over ADS (spec §4.1,
with §0's decisions: API v3, one ADS stream)."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToJson

from controller.envoy import pb
from controller.envoy.core import (
    api_config_source,
    config_source,
    duration,
    http2_protocol_options,
    is_ip_literal,
    socket_address,
    transport_socket,
)
from controller.envoy.endpoint import cluster_load_assignment

XDS_CLUSTER = "contour"
STATS_CLUSTER = "service-stats"
XDS_SERVER_NAME = "contour"  # the SAN Contour's serving certificate carries
TLS_FILES_ERROR = (
    "You must supply all three TLS parameters - --envoy-cafile, --envoy-cert-file, "
    "--envoy-key-file, or none of them."
)
DEFAULT_ADMIN_ADDRESS = "127.0.0.1"
DEFAULT_ADMIN_PORT = 9001
DEFAULT_XDS_ADDRESS = "127.0.0.1"
DEFAULT_XDS_PORT = 8001
DEFAULT_NAMESPACE = "heptio-contour"
DELTA, SOTW = "delta", "sotw"
XDS_PROTOCOLS = (DELTA, SOTW)
ESSENTIAL, ALL, NONE = "essential", "all", "none"
CLUSTER_STATS = (ESSENTIAL, ALL, NONE)
ESSENTIAL_CLUSTER_STATS = (
    "upstream_rq_total", "upstream_rq_completed", "upstream_rq_active", "upstream_rq_[1-5]xx",
    "upstream_rq_time", "upstream_rq_timeout", "upstream_rq_retry", "upstream_cx_active",
    "upstream_cx_total", "upstream_cx_connect_fail", "membership_healthy", "membership_total",
    "membership_degraded", "membership_excluded", r"health_check\.[a-z_]+",
    r"outlier_detection\.[a-z_]+",
)
"""What operators and `kubectl contour rollout` read per cluster: request totals, responses
by class, the request-time histogram, connections, health and outlier counters, membership.
Envoy creates ~100 stats per cluster otherwise (perf: at 10k clusters its CDS update and RSS
are dominated by them, issue 12)."""
NOT_A_CLUSTER_STAT = (
    "(?:[^c]|c[^l]|cl[^u]|clu[^s]|clus[^t]|clust[^e]|cluste[^r]|cluster[^.]).*"
    "|c|cl|clu|clus|clust|cluste|cluster"
)
"""Names not starting with `cluster.`, as a whole-name RE2 match (Envoy's safe_regex matches
the whole name; RE2 has no negative lookahead): server.*, http.*, listener.*,
cluster_manager.* ... are all kept."""


def bootstrap(
    *,
    admin_address: str = DEFAULT_ADMIN_ADDRESS,
    admin_port: int = DEFAULT_ADMIN_PORT,
    xds_address: str = DEFAULT_XDS_ADDRESS,
    xds_port: int = DEFAULT_XDS_PORT,
    namespace: str = DEFAULT_NAMESPACE,
    cafile: str = "",
    certfile: str = "",
    keyfile: str = "",
    node_id: str = "",
    node_cluster: str = "",
    exclude_cluster_stats: bool = False,
    cluster_stats: str = ESSENTIAL,
    xds_protocol: str = DELTA,
) -> pb.Bootstrap:
    """Static clusters `contour` (xDS) and `service-stats` (admin), LDS and CDS over ADS, and
    the admin listener. Empty or zero values take the defaults. The node id and cluster are
    normally given on Envoy's command line (--service-node/--service-cluster), as upstream
    does; set them here to make the file self-contained. `cluster_stats` says which per-cluster
    stats Envoy keeps (CLUSTER_STATS); `exclude_cluster_stats` is the old spelling of NONE.
    Raises ValueError when only some of the three TLS files are given, or for an unknown
    `cluster_stats`."""
    files = (cafile, certfile, keyfile)
    if any(files) and not all(files):
        raise ValueError(TLS_FILES_ERROR)
    admin_address = admin_address or DEFAULT_ADMIN_ADDRESS
    admin_port = admin_port or DEFAULT_ADMIN_PORT
    xds_address = xds_address or DEFAULT_XDS_ADDRESS
    xds_port = xds_port or DEFAULT_XDS_PORT
    namespace = namespace or DEFAULT_NAMESPACE
    out = pb.Bootstrap(
        static_resources=pb.Bootstrap.StaticResources(
            clusters=[
                xds_cluster(xds_address, xds_port, namespace=namespace, tls_files=files),
                stats_cluster(admin_address, admin_port, namespace=namespace),
            ]
        ),
        dynamic_resources=dynamic_resources(delta=xds_protocol == DELTA),
        admin=pb.Admin(address=socket_address(admin_address, admin_port)),
    )
    if node_id or node_cluster:
        out.node.id, out.node.cluster = node_id, node_cluster
    stats = stats_config(NONE if exclude_cluster_stats else cluster_stats)
    if stats.ByteSize():  # ALL: Envoy's default, no stats_config at all
        out.stats_config.CopyFrom(stats)
    if stats.stats_matcher.HasField("inclusion_list"):  # ESSENTIAL
        out.deferred_stat_options.CopyFrom(deferred_stat_options())
    return out


def deferred_stat_options() -> pb.Bootstrap.DeferredStatOptions:
    """Envoy creates a cluster's traffic stats (upstream_rq_*, upstream_cx_*: most of the
    kept ones) on the cluster's first use instead of with the cluster. perf: at 10k clusters
    with ESSENTIAL, Envoy start -> last host served 3.2-4.4 -> 2.2-2.3 s and RSS 433 -> 399 MB
    (loaded machine, BENCHMARKS.md "Deferred cluster stats"). A cluster that never carried a
    request reports no traffic stats (an absent counter reads as 0); ALL stays Envoy's own
    eager default."""
    return pb.Bootstrap.DeferredStatOptions(enable_deferred_creation_stats=True)


def stats_config(cluster_stats: str) -> pb.StatsConfig:
    """Envoy's stats matcher for `cluster_stats`: ESSENTIAL keeps every stat but the
    per-cluster ones outside ESSENTIAL_CLUSTER_STATS; ALL is Envoy's default; NONE drops
    every `cluster.*` stat."""
    config = pb.StatsConfig()
    if cluster_stats == ALL:
        return config
    matcher = config.stats_matcher
    if cluster_stats == NONE:
        matcher.exclusion_list.patterns.add(prefix="cluster.")
    elif cluster_stats == ESSENTIAL:
        essential = "|".join(ESSENTIAL_CLUSTER_STATS)
        matcher.inclusion_list.patterns.add(safe_regex=pb.RegexMatcher(
            regex=f"{NOT_A_CLUSTER_STAT}|cluster\\.[^.]+\\.(?:{essential})"))
    else:
        raise ValueError(f"cluster stats must be one of {', '.join(CLUSTER_STATS)}, "
                         f"not {cluster_stats!r}")
    return config


def dynamic_resources(*, delta: bool = False) -> pb.Bootstrap.DynamicResources:
    """LDS and CDS over ADS; the resources they deliver use ADS for RDS, EDS and SDS. With
    `delta`, Envoy applies one changed cluster instead of the whole set again (10k clusters,
    a blue/green switch adding a cluster: p50 244 ms over state-of-the-world, 145 ms over
    delta; BENCHMARKS.md). Not the default yet: `kubectl contour diff` compares Envoy's
    config_dump versions as state-of-the-world reports them (one per type)."""
    ads = api_config_source(XDS_CLUSTER)
    if delta:
        ads.api_type = pb.ApiConfigSource.DELTA_GRPC
    return pb.Bootstrap.DynamicResources(
        ads_config=ads, lds_config=config_source(), cds_config=config_source())


def xds_cluster(
    address: str, port: int, *, namespace: str, tls_files: tuple[str, str, str]
) -> pb.Cluster:
    """The cluster Envoy reaches Contour through. It must speak HTTP/2 (gRPC), else Envoy
    fails silently; STATIC accepts only IP literals, so a host name needs STRICT_DNS."""
    cluster = pb.Cluster(
        name=XDS_CLUSTER,
        alt_stat_name=f"{namespace}_{XDS_CLUSTER}_{port}",
        type=pb.Cluster.STATIC if is_ip_literal(address) else pb.Cluster.STRICT_DNS,
        connect_timeout=duration(5),
        load_assignment=cluster_load_assignment(XDS_CLUSTER, [socket_address(address, port)]),
        circuit_breakers=xds_circuit_breakers(),
        typed_extension_protocol_options=http2_protocol_options(),
    )
    keepalive = cluster.upstream_connection_options.tcp_keepalive
    keepalive.keepalive_probes.value = 3
    keepalive.keepalive_time.value = 30
    keepalive.keepalive_interval.value = 5
    if all(tls_files):
        cluster.transport_socket.CopyFrom(transport_socket(xds_tls_context(*tls_files)))
    return cluster


def xds_circuit_breakers() -> pb.CircuitBreakers:
    """Generous limits at HIGH and DEFAULT priority: one gRPC stream carries everything."""
    return pb.CircuitBreakers(
        thresholds=[
            pb.CircuitBreakers.Thresholds(
                priority=priority,
                max_connections=pb.UInt32Value(value=100000),
                max_pending_requests=pb.UInt32Value(value=100000),
                max_requests=pb.UInt32Value(value=60000000),
                max_retries=pb.UInt32Value(value=50),
            )
            for priority in (pb.RoutingPriority.HIGH, pb.RoutingPriority.DEFAULT)
        ]
    )


def xds_tls_context(cafile: str, certfile: str, keyfile: str) -> pb.UpstreamTlsContext:
    """mTLS to Contour: present Envoy's certificate, verify Contour's (SAN `contour`).
    ALPN h2, because gRPC servers insist on it."""
    san = pb.SubjectAltNameMatcher(
        san_type=pb.SubjectAltNameMatcher.DNS, matcher=pb.StringMatcher(exact=XDS_SERVER_NAME)
    )
    common = pb.CommonTlsContext(
        tls_certificates=[
            pb.TlsCertificate(
                certificate_chain=pb.DataSource(filename=certfile),
                private_key=pb.DataSource(filename=keyfile),
            )
        ],
        validation_context=pb.CertificateValidationContext(
            trusted_ca=pb.DataSource(filename=cafile), match_typed_subject_alt_names=[san]
        ),
        alpn_protocols=["h2"],
    )
    return pb.UpstreamTlsContext(common_tls_context=common)


def stats_cluster(address: str, port: int, *, namespace: str) -> pb.Cluster:
    """The admin API, target of the stats-health listener's /stats route."""
    return pb.Cluster(
        name=STATS_CLUSTER,
        alt_stat_name=f"{namespace}_{STATS_CLUSTER}_{port}",
        type=pb.Cluster.STATIC if is_ip_literal(address) else pb.Cluster.LOGICAL_DNS,
        connect_timeout=duration(0.25),
        load_assignment=cluster_load_assignment(STATS_CLUSTER, [socket_address(address, port)]),
    )


def bootstrap_json(**kwargs: Any) -> str:
    """bootstrap(**kwargs) as JSON with the proto field names (snake_case)."""
    return to_json(bootstrap(**kwargs))


def to_json(message: pb.Bootstrap) -> str:
    return MessageToJson(message, preserving_proto_field_name=True, indent=2) + "\n"
