"""Cluster constructors: cluster(), upstream_tls_context(), health_check() (spec §3.4, §2.4)."""

from __future__ import annotations

from controller.dag import model
from controller.envoy import pb
from controller.envoy.core import (
    config_source,
    duration,
    socket_address,
    transport_socket,
    upstream_http_options,
)
from controller.envoy.endpoint import cluster_load_assignment
from controller.envoy.names import cluster_name

CONNECT_TIMEOUT = 0.25
HEALTH_CHECK_HOST = "contour-envoy-healthcheck"
HEALTH_CHECK_TIMEOUT = 2
HEALTH_CHECK_INTERVAL = 10
HEALTH_CHECK_UNHEALTHY = 3
HEALTH_CHECK_HEALTHY = 2

_LB_POLICY = {
    "WeightedLeastRequest": pb.Cluster.LEAST_REQUEST,
    "Random": pb.Cluster.RANDOM,
    "Cookie": pb.Cluster.RING_HASH,
}


def lb_policy(strategy: str) -> pb.Cluster.LbPolicy.ValueType:
    """Anything unknown, including "RoundRobin" and "", is ROUND_ROBIN."""
    return _LB_POLICY.get(strategy, pb.Cluster.ROUND_ROBIN)


def _defaults() -> pb.Cluster:
    out = pb.Cluster(connect_timeout=duration(CONNECT_TIMEOUT))
    out.common_lb_config.healthy_panic_threshold.value = 0  # panic mode off: 503, not spray
    return out


def _eds_defaults() -> pb.Cluster:
    out = _defaults()
    out.type = pb.Cluster.EDS
    out.eds_cluster_config.eds_config.CopyFrom(config_source())
    return out


# Read-only templates: copying one is several times faster than building the same fields.
_DEFAULTS = _defaults()
_EDS_DEFAULTS = _eds_defaults()


def cluster(c: model.Cluster) -> pb.Cluster:
    """The Envoy cluster for one upstream use of a service port: EDS over ADS, or STRICT_DNS
    for an ExternalName service."""
    svc = c.service
    out = pb.Cluster()
    if svc.external_name:
        out.CopyFrom(_DEFAULTS)
        out.type = pb.Cluster.STRICT_DNS
        out.load_assignment.CopyFrom(external_name_assignment(svc))
    else:
        out.CopyFrom(_EDS_DEFAULTS)
        out.eds_cluster_config.service_name = svc.eds_name
    out.name = cluster_name(c)
    out.alt_stat_name = f"{svc.namespace}_{svc.name}_{svc.port}"
    out.lb_policy = lb_policy(c.strategy)
    _set_health_check(out, c.health_check)
    if svc.max_connections or svc.max_pending_requests or svc.max_requests or svc.max_retries:
        out.circuit_breakers.CopyFrom(circuit_breakers(svc))
    _set_protocol(out, svc.protocol, c.validation)
    h2 = svc.protocol in (model.Protocol.H2, model.Protocol.H2C)
    for key, value in upstream_http_options(h2=h2, idle_timeout=c.idle_connection_timeout).items():
        out.typed_extension_protocol_options[key].CopyFrom(value)
    if c.slow_start is not None:
        _set_slow_start(out, c.slow_start)
    return out


def external_name_assignment(svc: model.ServicePort) -> pb.ClusterLoadAssignment:
    """The DNS name and port of an ExternalName service. The trailing "/" of an unnamed
    port is kept in the name, as upstream does (spec §3.4)."""
    name = f"{svc.namespace}/{svc.name}/{svc.port_name}"
    return cluster_load_assignment(name, [socket_address(svc.external_name, svc.port)])


def _set_health_check(out: pb.Cluster, hc: model.HealthCheck | None) -> None:
    if hc is None:
        return
    out.health_checks.append(health_check(hc))
    # v2's drain_connections_on_host_removal is v3's ignore_health_on_host_removal.
    out.ignore_health_on_host_removal = True


def _set_protocol(
    out: pb.Cluster, protocol: model.Protocol, validation: model.UpstreamValidation | None
) -> None:
    if protocol is model.Protocol.H2:
        out.transport_socket.CopyFrom(transport_socket(upstream_tls_context(alpn=("h2",))))
    elif protocol is model.Protocol.TLS:
        out.transport_socket.CopyFrom(transport_socket(upstream_tls_context(validation)))


SLOW_START_RUNTIME_KEY = "contour.slowstart.aggression"


def _set_slow_start(out: pb.Cluster, slow: model.SlowStart) -> None:
    """Slow start on the LB config of round robin or least request; Envoy has none for
    the other policies, so there it is left out (as upstream does)."""
    config = pb.Cluster.SlowStartConfig(
        slow_start_window=duration(slow.window),
        aggression=pb.RuntimeDouble(default_value=slow.aggression,
                                    runtime_key=SLOW_START_RUNTIME_KEY),
        min_weight_percent=pb.Percent(value=slow.min_weight_percent),
    )
    if out.lb_policy == pb.Cluster.ROUND_ROBIN:
        out.round_robin_lb_config.slow_start_config.CopyFrom(config)
    elif out.lb_policy == pb.Cluster.LEAST_REQUEST:
        out.least_request_lb_config.slow_start_config.CopyFrom(config)


def health_check(hc: model.HealthCheck) -> pb.HealthCheck:
    """An active HTTP health check; zero values take Contour's defaults (spec §1.1)."""
    return pb.HealthCheck(
        timeout=duration(hc.timeout_seconds or HEALTH_CHECK_TIMEOUT),
        interval=duration(hc.interval_seconds or HEALTH_CHECK_INTERVAL),
        unhealthy_threshold=pb.UInt32Value(value=hc.unhealthy_threshold or HEALTH_CHECK_UNHEALTHY),
        healthy_threshold=pb.UInt32Value(value=hc.healthy_threshold or HEALTH_CHECK_HEALTHY),
        http_health_check=pb.HealthCheck.HttpHealthCheck(
            path=hc.path,
            host=hc.host or HEALTH_CHECK_HOST,
            expected_statuses=[pb.Int64Range(start=a, end=b) for a, b in hc.expected_statuses],
        ),
    )


def circuit_breakers(svc: model.ServicePort) -> pb.CircuitBreakers:
    """One default-priority threshold holding only the non-zero annotation values."""
    threshold = pb.CircuitBreakers.Thresholds()
    for field in ("max_connections", "max_pending_requests", "max_requests", "max_retries"):
        value = getattr(svc, field)
        if value > 0:
            getattr(threshold, field).value = value
    return pb.CircuitBreakers(thresholds=[threshold])


def upstream_tls_context(
    validation: model.UpstreamValidation | None = None, *, alpn: tuple[str, ...] = ()
) -> pb.UpstreamTlsContext:
    """TLS to the upstream. Without `validation` the certificate is not verified (upstream
    behavior); with it, the CA is inlined and the DNS SAN must equal the subject name."""
    common = pb.CommonTlsContext(alpn_protocols=alpn)
    if validation is not None:
        common.validation_context.CopyFrom(validation_context(validation))
    return pb.UpstreamTlsContext(common_tls_context=common)


def validation_context(validation: model.UpstreamValidation) -> pb.CertificateValidationContext:
    san = pb.SubjectAltNameMatcher(
        san_type=pb.SubjectAltNameMatcher.DNS,
        matcher=pb.StringMatcher(exact=validation.subject_name),
    )
    return pb.CertificateValidationContext(
        trusted_ca=pb.DataSource(inline_bytes=validation.ca_cert),
        match_typed_subject_alt_names=[san],
    )


def extension_cluster(ext: model.ExtensionCluster) -> pb.Cluster:
    """An ExtensionService's cluster: HTTP/2 to its Services' endpoints (EDS: the
    assignment of its own name gathers them, xdscache/extension_endpoints.py), over TLS
    for h2 (verified when `validation`, with the subject name as SNI), cleartext for h2c."""
    out = pb.Cluster()
    out.CopyFrom(_EDS_DEFAULTS)
    out.name = ext.cluster_name
    out.alt_stat_name = f"extension_{ext.namespace}_{ext.name}"
    out.eds_cluster_config.service_name = ext.cluster_name
    out.lb_policy = lb_policy(ext.strategy)
    if any(ext.circuit_breakers):
        out.circuit_breakers.CopyFrom(_limits(*ext.circuit_breakers))
    if ext.protocol == "h2":
        validation = (model.UpstreamValidation(ext.ca_secret, ext.ca_cert, ext.subject_name)
                      if ext.ca_cert else None)
        tls = upstream_tls_context(validation, alpn=("h2",))
        tls.sni = ext.subject_name
        out.transport_socket.CopyFrom(transport_socket(tls))
    options = upstream_http_options(h2=True, idle_timeout=ext.idle_connection_timeout)
    for key, value in options.items():
        out.typed_extension_protocol_options[key].CopyFrom(value)
    return out


def _limits(connections: int, pending: int, requests: int, retries: int) -> pb.CircuitBreakers:
    """circuit_breakers() for values that do not come from Service annotations."""
    svc = model.ServicePort("", "", 0, max_connections=connections,
                            max_pending_requests=pending, max_requests=requests,
                            max_retries=retries)
    return circuit_breakers(svc)
