"""Settings: frozen dataclasses built once from flags, env and the config file (spec §4.2)."""

from __future__ import annotations

from dataclasses import dataclass, field


class ConfigError(Exception):
    """The controller cannot start with what it was given (exit 2 with this message)."""


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """Config file `rateLimitService` (v1.33): the global rate limit service Envoy asks."""

    extension_service: tuple[str, str]
    """`extensionService: namespace/name` as (namespace, name)."""
    domain: str = ""
    fail_open: bool = False
    enable_x_ratelimit_headers: bool = False
    enable_resource_exhausted_code: bool = False
    default_global_policy: object = field(default=None, hash=False)
    """`defaultGlobalRateLimitPolicy` as given (a mapping with `descriptors`), applied to
    every HTTPProxy virtual host that has no global policy of its own nor opts out; the
    builder reads it with the HTTPProxy parser (k8s/extension_views.py)."""


@dataclass(frozen=True, slots=True)
class BuilderSettings:
    """What the pure DAG builder needs to know about the controller's configuration."""

    root_namespaces: frozenset[str] = frozenset()
    """--root-namespaces (and the older --ingressroute-root-namespaces): namespaces where
    IngressRoute and HTTPProxy roots may live; empty means anywhere."""
    ingress_class: str = "contour"
    """--ingress-class-name; objects annotated with another class are not stored."""
    disable_permit_insecure: bool = False
    """Config file `disablePermitInsecure`: ignore routes[].permitInsecure."""
    fallback_certificate: tuple[str, str] | None = None
    """Config file `tls.fallback-certificate` {name, namespace} as (namespace, name): the
    certificate served to TLS clients whose SNI matches no HTTPProxy virtual host."""
    gateway_controller_name: str = "projectcontour.io/gateway-controller"
    """--gateway-controller-name: the GatewayClass `spec.controllerName` this controller
    accepts (Contour's default)."""
    gateway_ref: tuple[str, str] | None = None
    """--gateway-ref NS/NAME (Contour's gateway.gatewayRef): the one Gateway served; None
    serves every Gateway of an accepted GatewayClass (docs/decisions.md)."""
    envoy_service: tuple[str, str] = ("heptio-contour", "contour")
    """--envoy-service NS/NAME: the Service in front of the Envoys (manifests/04-service.yaml);
    its addresses are the served Gateway's `status.addresses`."""
    gateway_ports: tuple[int, int] | None = None
    """--gateway-listener-ports FROM-TO: isolated Gateways (without --gateway-ref): each gets
    Envoy listeners of its own on ports of this range and a Service of its own (its
    address). None: every served Gateway shares the Envoy Service's listeners."""
    rate_limit_service: RateLimitSettings | None = None
    """Config file `rateLimitService`; None: no global rate limiting."""


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    """What the listener translator needs: Envoy's public listeners and their options."""

    http_address: str = "0.0.0.0"
    http_port: int = 8080
    https_address: str = "0.0.0.0"
    https_port: int = 8443
    http_access_log: str = "/dev/stdout"
    https_access_log: str = "/dev/stdout"
    use_proxy_protocol: bool = False
    stats_address: str = "0.0.0.0"
    stats_port: int = 8002
    min_tls_version: str = "1.1"
    """Config file `tls.minimum-protocol-version`: a floor for every TLS vhost."""
    xds_cluster: str = "contour"
    """Name of the bootstrap cluster that points back at this controller."""
    route_layout: str = "single"
    """--route-layout / config file `route-layout` (ROUTE_LAYOUTS): `single` routes port 80
    by the one `ingress_http` table (RDS); `scoped` by one scope per host (scoped RDS keyed
    on the Host, each scope carrying its one-vhost table), falling back to the one table
    while a `*` or wildcard host exists (controller/xdscache/scopes.py)."""


@dataclass(frozen=True, slots=True)
class TLSFiles:
    cafile: str = ""
    certfile: str = ""
    keyfile: str = ""

    def given(self) -> int:
        return sum(1 for f in (self.cafile, self.certfile, self.keyfile) if f)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything `contour serve` runs with."""

    builder: BuilderSettings = field(default_factory=BuilderSettings)
    listeners: ListenerSettings = field(default_factory=ListenerSettings)
    xds_address: str = "127.0.0.1"
    xds_port: int = 8001
    insecure: bool = False
    tls: TLSFiles = field(default_factory=TLSFiles)
    debug_address: str = "127.0.0.1"
    debug_port: int = 6060
    metrics_address: str = "0.0.0.0"
    metrics_port: int = 8000
    source_dir: str = ""
    kubeconfig: str = ""
    incluster: bool = False
    enable_leader_election: bool = False
    namespace: str = "heptio-contour"


ROUTE_LAYOUTS = ("scoped", "single")


def parse_route_layout(value: object, source: str) -> str:
    """`value` when it is one of ROUTE_LAYOUTS (surrounding blanks ignored); ConfigError
    naming `source` (the flag or config key) otherwise."""
    text = value.strip() if isinstance(value, str) else value
    if text not in ROUTE_LAYOUTS:
        raise ConfigError(f"{source}: {value!r} is not a route layout "
                          f"(one of: {', '.join(ROUTE_LAYOUTS)})")
    return str(text)


def parse_tls_version(value: object) -> str:
    """"1.3" and "1.2" are honoured; anything else means 1.1 (spec §1.1)."""
    text = str(value).strip() if value is not None else ""
    return text if text in ("1.2", "1.3") else "1.1"
