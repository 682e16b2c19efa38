"""HTTP filters that ask an extension service over gRPC: ext_authz (a secure vhost's
`authorization`) and the global ratelimit filter (the controller's `rateLimitService`),
with their per-route settings and a route's or vhost's `rate_limits` (upstream v1.33
envoy/v3 listener.go FilterExternalAuthz, ratelimit.go, route.go routeAuthz*).

Filter order in the connection manager (upstream's AddFilter calls): the default filters,
then ext_authz, then ratelimit, the router always last (listener.http_connection_manager).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from controller.dag import model
from controller.envoy import pb
from controller.envoy.core import any_of, duration
from controller.envoy.route_match import header_matcher

EXT_AUTHZ = "envoy.filters.http.ext_authz"
GLOBAL_RATE_LIMIT = "envoy.filters.http.ratelimit"


def timeout(seconds: float | None) -> pb.Duration | None:
    """None: unset (Envoy's default); Timeout.INFINITE (negative) is Envoy's 0s."""
    return None if seconds is None else duration(max(seconds, 0))


def grpc_service(cluster_name: str, sni: str, seconds: float | None = None) -> pb.GrpcService:
    """Envoy's own gRPC client to the extension cluster; the :authority is the TLS server
    name when there is one, else the cluster name with dots for slashes (upstream)."""
    out = pb.GrpcService(envoy_grpc=pb.GrpcService.EnvoyGrpc(
        cluster_name=cluster_name, authority=sni or cluster_name.replace("/", ".")))
    limit = timeout(seconds)
    if limit is not None:
        out.timeout.CopyFrom(limit)
    return out


def ext_authz_filter(auth: model.ExternalAuthorization) -> pb.HttpFilter:
    """Every request is checked (a per-route config may turn it off); an unreachable or
    failing server answers 403 unless `fail_open`. The route cache is cleared so that
    headers the server adds can change the route."""
    config = pb.ExtAuthz(
        grpc_service=grpc_service(auth.cluster_name, auth.sni, auth.response_timeout),
        clear_route_cache=True,
        failure_mode_allow=auth.fail_open,
        status_on_error=pb.HttpStatus(code=403),  # type: ignore[arg-type]
        transport_api_version=pb.ApiVersion.V3,
        include_peer_certificate=True,
    )
    if auth.with_request_body is not None:
        size, partial, as_bytes = auth.with_request_body
        config.with_request_body.CopyFrom(pb.BufferSettings(
            max_request_bytes=size, allow_partial_message=partial, pack_as_bytes=as_bytes))
    return pb.HttpFilter(name=EXT_AUTHZ, typed_config=any_of(config))


def rate_limit_filter(service: model.RateLimitService) -> pb.HttpFilter:
    """Descriptors from the vhost's and route's `rate_limits` are sent to the service of
    `domain`; a failed call denies (500) unless `fail_open`."""
    headers = pb.RateLimitFilter.DRAFT_VERSION_03 if service.enable_x_ratelimit_headers \
        else pb.RateLimitFilter.OFF
    config = pb.RateLimitFilter(
        domain=service.domain,
        failure_mode_deny=not service.fail_open,
        rate_limit_service=pb.RateLimitServiceConfig(
            grpc_service=grpc_service(service.cluster_name, service.sni),
            transport_api_version=pb.ApiVersion.V3),
        enable_x_ratelimit_headers=headers,
        rate_limited_as_resource_exhausted=service.enable_resource_exhausted_code,
    )
    limit = timeout(service.timeout)
    if limit is not None:
        config.timeout.CopyFrom(limit)
    return pb.HttpFilter(name=GLOBAL_RATE_LIMIT, typed_config=any_of(config))


def auth_per_route(disabled: bool, context: Sequence[tuple[str, str]]) -> pb.Any | None:
    """A route's ext_authz override: off, or its context extensions; None: the default."""
    if disabled:
        return any_of(pb.ExtAuthzPerRoute(disabled=True))
    if context:
        return any_of(pb.ExtAuthzPerRoute(check_settings=pb.CheckSettings(
            context_extensions=dict(context))))
    return None


def ignore_vhost_rate_limits() -> pb.Any:
    """A route whose `global.disabled` leaves out its vhost's descriptors."""
    return any_of(pb.RateLimitPerRoute(vh_rate_limits=pb.RateLimitPerRoute.IGNORE))


def rate_limits(descriptors: Iterable[model.RateLimitDescriptor]) -> list[pb.RouteRateLimit]:
    """One Envoy rate limit (a descriptor) per DAG descriptor, its entries as actions."""
    return [pb.RouteRateLimit(actions=[_action(e) for e in d]) for d in descriptors]


def _action(entry: model.RateLimitEntry) -> pb.RouteRateLimit.Action:
    action = pb.RouteRateLimit.Action
    if entry.kind == "generic_key":
        return action(generic_key=action.GenericKey(descriptor_key=entry.key,
                                                    descriptor_value=entry.value))
    if entry.kind == "request_header":
        return action(request_headers=action.RequestHeaders(header_name=entry.header_name,
                                                            descriptor_key=entry.key))
    if entry.kind == "header_value_match":
        return action(header_value_match=action.HeaderValueMatch(
            descriptor_value=entry.value, expect_match=pb.BoolValue(value=entry.expect_match),
            headers=[header_matcher(h) for h in entry.headers]))
    return action(remote_address=action.RemoteAddress())
