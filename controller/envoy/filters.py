"""HTTP filters configured per virtual host or per route: CORS, IP allow/deny (RBAC) and
local rate limiting (upstream v1.33 route.go corsPolicy/ipFilterConfig, ratelimit.go).

The HTTP connection manager carries each filter once with an empty (inactive) config,
before the router (`hcm_filters`); a vhost or route switches it on with its
`typed_per_filter_config` entry, built here.
"""

from __future__ import annotations

from collections.abc import Sequence

from controller.dag import model
from controller.envoy import pb
from controller.envoy.cookies import cookie_rewrite_filter
from controller.envoy.core import any_of, duration

GRPC_WEB = "envoy.filters.http.grpc_web"
CORS = "envoy.filters.http.cors"
LOCAL_RATE_LIMIT = "envoy.filters.http.local_ratelimit"
RBAC = "envoy.filters.http.rbac"
ROUTER = "envoy.filters.http.router"
IP_RULES = "ip-rules"
HCM_RATE_LIMIT_STAT_PREFIX = "http"
DEFAULT_RATE_LIMIT_STATUS = 429


def hcm_filters() -> list[pb.HttpFilter]:
    """The HCM's HTTP filters in upstream's order: grpc_web, cors, local_ratelimit (no
    token bucket: off until a vhost or route configures it), lua (cookie rewriting, off
    until a route entry names its script: cookies.py), rbac (no rules: allows all)
    and the router, last."""
    return [
        pb.HttpFilter(name=GRPC_WEB, typed_config=any_of(pb.GrpcWeb())),
        pb.HttpFilter(name=CORS, typed_config=any_of(pb.Cors())),
        pb.HttpFilter(name=LOCAL_RATE_LIMIT, typed_config=any_of(
            pb.LocalRateLimit(stat_prefix=HCM_RATE_LIMIT_STAT_PREFIX))),
        cookie_rewrite_filter(),
        pb.HttpFilter(name=RBAC, typed_config=any_of(pb.RBAC())),
        pb.HttpFilter(name=ROUTER, typed_config=any_of(pb.Router())),
    ]


def header_options(pairs: Sequence[tuple[str, str]],
                   appended: Sequence[tuple[str, str]] = ()) -> list[pb.HeaderValueOption]:
    """Headers that replace any value the message has (or are added), sorted by name;
    then the `appended` ones (added to any value there is), sorted by name."""
    replace = pb.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    append = pb.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD
    return [
        pb.HeaderValueOption(header=pb.HeaderValue(key=key, value=value), append_action=action)
        for action, group in ((replace, pairs), (append, appended))
        for key, value in sorted(group)
    ]


def cors_policy(cors: model.CORSPolicy) -> pb.CorsPolicy:
    """Lists joined by ","; exact origins match case-insensitively (Envoy always lets `*`
    through an exact matcher), regex origins as RE2."""
    out = pb.CorsPolicy(
        allow_methods=",".join(cors.allow_methods),
        allow_headers=",".join(cors.allow_headers),
        expose_headers=",".join(cors.expose_headers),
        max_age=cors.max_age,
        allow_credentials=pb.BoolValue(value=cors.allow_credentials),
        allow_private_network_access=pb.BoolValue(value=cors.allow_private_network),
    )
    for value, is_regex in cors.allow_origin:
        if is_regex:
            out.allow_origin_string_match.add(safe_regex=pb.RegexMatcher(regex=value))
        else:
            out.allow_origin_string_match.add(exact=value, ignore_case=True)
    return out


def ip_filter(rules: model.IPFilter) -> pb.RBACPerRoute:
    """One `ip-rules` policy allowing (or denying) any request from the listed ranges: the
    peer address (direct_remote_ip), or the X-Forwarded-For client (remote_ip)."""
    principals = []
    for cidr in rules.rules:
        cidr_range = pb.CidrRange(address_prefix=cidr.address,
                                  prefix_len=pb.UInt32Value(value=cidr.prefix_len))
        if cidr.remote:
            principals.append(pb.Principal(remote_ip=cidr_range))
        else:
            principals.append(pb.Principal(direct_remote_ip=cidr_range))
    action = pb.RBACRules.ALLOW if rules.allow else pb.RBACRules.DENY
    policy = pb.Policy(permissions=[pb.Permission(any=True)], principals=principals)
    return pb.RBACPerRoute(rbac=pb.RBAC(rules=pb.RBACRules(action=action,
                                                            policies={IP_RULES: policy})))


def local_rate_limit(limit: model.LocalRateLimit, host: str) -> pb.LocalRateLimit:
    """A token bucket, enabled and enforced for every request; stats under `vhost.<host>`.
    The status is left to Envoy's default (429) unless another."""
    always = pb.RuntimeFractionalPercent(default_value=pb.FractionalPercent(
        numerator=100, denominator=pb.FractionalPercent.HUNDRED))
    out = pb.LocalRateLimit(
        stat_prefix=f"vhost.{host}",
        token_bucket=pb.TokenBucket(
            max_tokens=limit.max_tokens,
            tokens_per_fill=pb.UInt32Value(value=limit.tokens_per_fill),
            fill_interval=duration(limit.fill_interval),
        ),
        response_headers_to_add=header_options(limit.headers),
        filter_enabled=always,
        filter_enforced=always,
    )
    if limit.status != DEFAULT_RATE_LIMIT_STATUS:
        out.status.code = limit.status  # type: ignore[assignment]
    return out


def per_filter_config(
    host: str,
    *,
    cors: model.CORSPolicy | None = None,
    ip: model.IPFilter | None = None,
    rate_limit: model.LocalRateLimit | None = None,
) -> dict[str, pb.Any]:
    """The typed_per_filter_config entries of a vhost or route (empty when none apply)."""
    out: dict[str, pb.Any] = {}
    if cors is not None:
        out[CORS] = any_of(cors_policy(cors))
    if rate_limit is not None:
        out[LOCAL_RATE_LIMIT] = any_of(local_rate_limit(rate_limit, host))
    if ip is not None and ip.rules:  # no rules: no policy (Envoy needs a principal)
        out[RBAC] = any_of(ip_filter(ip))
    return out
