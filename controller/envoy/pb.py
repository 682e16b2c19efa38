"""The one import point for the generated Envoy v3 protos (from the `xds-protos` wheel).

Every other module imports message classes from here, so a moved or renamed proto module is
a one-line fix. Names are the proto message names; a few are prefixed where two packages use
the same message name (e.g. `Cluster`, `HealthCheck`, `Secret`, `HttpProtocolOptions`).
"""

from __future__ import annotations

from envoy.config.accesslog.v3.accesslog_pb2 import AccessLog
from envoy.config.bootstrap.v3.bootstrap_pb2 import Admin, Bootstrap
from envoy.config.cluster.v3.circuit_breaker_pb2 import CircuitBreakers
from envoy.config.cluster.v3.cluster_pb2 import Cluster
from envoy.config.core.v3.address_pb2 import Address, CidrRange, SocketAddress, TcpKeepalive
from envoy.config.core.v3.base_pb2 import (
    DataSource,
    HeaderValue,
    HeaderValueOption,
    RoutingPriority,
    RuntimeDouble,
    RuntimeFractionalPercent,
    TransportSocket,
)
from envoy.config.core.v3.config_source_pb2 import (
    AggregatedConfigSource,
    ApiConfigSource,
    ApiVersion,
    ConfigSource,
)
from envoy.config.core.v3.grpc_service_pb2 import GrpcService
from envoy.config.core.v3.health_check_pb2 import HealthCheck
from envoy.config.core.v3.http_uri_pb2 import HttpUri
from envoy.config.core.v3.protocol_pb2 import (
    Http1ProtocolOptions,
    Http2ProtocolOptions,
)
from envoy.config.core.v3.protocol_pb2 import (
    HttpProtocolOptions as CoreHttpProtocolOptions,
)
from envoy.config.endpoint.v3.endpoint_components_pb2 import (
    Endpoint,
    LbEndpoint,
    LocalityLbEndpoints,
)
from envoy.config.endpoint.v3.endpoint_pb2 import ClusterLoadAssignment
from envoy.config.listener.v3.listener_components_pb2 import (
    Filter,
    FilterChain,
    FilterChainMatch,
    ListenerFilter,
)
from envoy.config.listener.v3.listener_pb2 import Listener
from envoy.config.metrics.v3.stats_pb2 import StatsConfig, StatsMatcher
from envoy.config.ratelimit.v3.rls_pb2 import RateLimitServiceConfig
from envoy.config.rbac.v3.rbac_pb2 import RBAC as RBACRules
from envoy.config.rbac.v3.rbac_pb2 import Permission, Policy, Principal
from envoy.config.route.v3.route_components_pb2 import (
    DirectResponseAction,
    HeaderMatcher,
    InternalRedirectPolicy,
    QueryParameterMatcher,
    RedirectAction,
    RetryPolicy,
    Route,
    RouteAction,
    RouteMatch,
    VirtualHost,
    WeightedCluster,
)
from envoy.config.route.v3.route_components_pb2 import RateLimit as RouteRateLimit
from envoy.config.route.v3.route_pb2 import RouteConfiguration
from envoy.config.route.v3.scoped_route_pb2 import ScopedRouteConfiguration
from envoy.extensions.access_loggers.file.v3.file_pb2 import FileAccessLog
from envoy.extensions.filters.http.cors.v3.cors_pb2 import Cors, CorsPolicy
from envoy.extensions.filters.http.ext_authz.v3.ext_authz_pb2 import (
    BufferSettings,
    CheckSettings,
    ExtAuthz,
    ExtAuthzPerRoute,
)
from envoy.extensions.filters.http.grpc_web.v3.grpc_web_pb2 import GrpcWeb
from envoy.extensions.filters.http.health_check.v3.health_check_pb2 import (
    HealthCheck as HealthCheckFilter,
)
from envoy.extensions.filters.http.jwt_authn.v3.config_pb2 import (
    JwtAuthentication,
    JwtProvider,
    JwtRequirement,
    RemoteJwks,
)
from envoy.extensions.filters.http.jwt_authn.v3.config_pb2 import (
    PerRouteConfig as JwtPerRoute,
)
from envoy.extensions.filters.http.local_ratelimit.v3.local_rate_limit_pb2 import (
    LocalRateLimit,
)
from envoy.extensions.filters.http.lua.v3.lua_pb2 import Lua, LuaPerRoute
from envoy.extensions.filters.http.ratelimit.v3.rate_limit_pb2 import (
    RateLimit as RateLimitFilter,
)
from envoy.extensions.filters.http.ratelimit.v3.rate_limit_pb2 import RateLimitPerRoute
from envoy.extensions.filters.http.rbac.v3.rbac_pb2 import RBAC, RBACPerRoute
from envoy.extensions.filters.http.router.v3.router_pb2 import Router
from envoy.extensions.filters.listener.proxy_protocol.v3.proxy_protocol_pb2 import ProxyProtocol
from envoy.extensions.filters.listener.tls_inspector.v3.tls_inspector_pb2 import TlsInspector
from envoy.extensions.filters.network.direct_response.v3.config_pb2 import (
    Config as DirectResponseConfig,
)
from envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2 import (  # noqa: E501
    HttpConnectionManager,
    HttpFilter,
    Rds,
    ScopedRds,
    ScopedRoutes,
)
from envoy.extensions.filters.network.tcp_proxy.v3.tcp_proxy_pb2 import TcpProxy
from envoy.extensions.transport_sockets.tls.v3.common_pb2 import (
    CertificateValidationContext,
    SubjectAltNameMatcher,
    TlsCertificate,
    TlsParameters,
)
from envoy.extensions.transport_sockets.tls.v3.secret_pb2 import SdsSecretConfig, Secret
from envoy.extensions.transport_sockets.tls.v3.tls_pb2 import (
    CommonTlsContext,
    DownstreamTlsContext,
    UpstreamTlsContext,
)
from envoy.extensions.upstreams.http.v3.http_protocol_options_pb2 import HttpProtocolOptions
from envoy.type.matcher.v3.regex_pb2 import RegexMatchAndSubstitute, RegexMatcher
from envoy.type.matcher.v3.string_pb2 import ListStringMatcher, StringMatcher
from envoy.type.v3.http_status_pb2 import HttpStatus
from envoy.type.v3.percent_pb2 import FractionalPercent, Percent
from envoy.type.v3.range_pb2 import Int64Range
from envoy.type.v3.token_bucket_pb2 import TokenBucket
from google.protobuf.any_pb2 import Any
from google.protobuf.duration_pb2 import Duration
from google.protobuf.struct_pb2 import Struct
from google.protobuf.wrappers_pb2 import BoolValue, UInt32Value

from controller.envoy.type_urls import (  # noqa: E402, F401 - re-exported
    CLUSTER_TYPE,
    ENDPOINT_TYPE,
    LISTENER_TYPE,
    ROUTE_TYPE,
    SCOPED_ROUTE_TYPE,
    SECRET_TYPE,
    TYPE_PREFIX,
)

__all__ = [
    "CLUSTER_TYPE",
    "ENDPOINT_TYPE",
    "LISTENER_TYPE",
    "BufferSettings",
    "CheckSettings",
    "ExtAuthz",
    "ExtAuthzPerRoute",
    "RateLimitFilter",
    "RateLimitPerRoute",
    "RateLimitServiceConfig",
    "RouteRateLimit",
    "RBAC",
    "ROUTE_TYPE",
    "SCOPED_ROUTE_TYPE",
    "SECRET_TYPE",
    "TYPE_PREFIX",
    "AccessLog",
    "Address",
    "Admin",
    "AggregatedConfigSource",
    "Any",
    "ApiConfigSource",
    "ApiVersion",
    "BoolValue",
    "HttpUri",
    "JwtAuthentication",
    "JwtPerRoute",
    "JwtProvider",
    "JwtRequirement",
    "Lua",
    "LuaPerRoute",
    "RemoteJwks",
    "Struct",
    "Bootstrap",
    "CertificateValidationContext",
    "CidrRange",
    "CircuitBreakers",
    "Cluster",
    "ClusterLoadAssignment",
    "CommonTlsContext",
    "ConfigSource",
    "CoreHttpProtocolOptions",
    "Cors",
    "CorsPolicy",
    "DataSource",
    "DirectResponseAction",
    "DirectResponseConfig",
    "DownstreamTlsContext",
    "Duration",
    "Endpoint",
    "FileAccessLog",
    "Filter",
    "FilterChain",
    "FilterChainMatch",
    "FractionalPercent",
    "GrpcService",
    "GrpcWeb",
    "HeaderMatcher",
    "HeaderValue",
    "HeaderValueOption",
    "HealthCheck",
    "HealthCheckFilter",
    "Http1ProtocolOptions",
    "Http2ProtocolOptions",
    "HttpConnectionManager",
    "HttpFilter",
    "HttpProtocolOptions",
    "HttpStatus",
    "Int64Range",
    "InternalRedirectPolicy",
    "LbEndpoint",
    "ListStringMatcher",
    "Listener",
    "ListenerFilter",
    "LocalRateLimit",
    "LocalityLbEndpoints",
    "Percent",
    "Permission",
    "Policy",
    "Principal",
    "ProxyProtocol",
    "QueryParameterMatcher",
    "RBACPerRoute",
    "RBACRules",
    "Rds",
    "ScopedRds",
    "ScopedRoutes",
    "ScopedRouteConfiguration",
    "RedirectAction",
    "RegexMatchAndSubstitute",
    "RegexMatcher",
    "RetryPolicy",
    "Route",
    "RouteAction",
    "RouteConfiguration",
    "RouteMatch",
    "Router",
    "RoutingPriority",
    "RuntimeDouble",
    "RuntimeFractionalPercent",
    "SdsSecretConfig",
    "Secret",
    "SocketAddress",
    "StatsConfig",
    "StatsMatcher",
    "StringMatcher",
    "SubjectAltNameMatcher",
    "TcpKeepalive",
    "TcpProxy",
    "TlsCertificate",
    "TlsInspector",
    "TlsParameters",
    "TokenBucket",
    "TransportSocket",
    "UInt32Value",
    "UpstreamTlsContext",
    "VirtualHost",
    "WeightedCluster",
]
