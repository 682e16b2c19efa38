"""Global rate limiting (v1.33 globalRateLimitPolicy, computeVirtualHostRateLimitPolicy,
rateLimitPerRoute): a `rateLimitPolicy.global` → descriptors of model.RateLimitEntry, which
the translator turns into Envoy `rate_limits` actions for the ratelimit HTTP filter of the
controller's `rateLimitService`.

`descriptors` raises PolicyError with v1.33's message; the callers frame it (route or vhost).
"""

from __future__ import annotations

from controller.config import RateLimitSettings
from controller.dag import conditions as cnd
from controller.dag.model import RateLimitDescriptor, RateLimitEntry, RateLimitService
from controller.dag.policy import PolicyError
from controller.k8s.extension_views import (
    DescriptorEntryView,
    GlobalRateLimitView,
    global_rate_limit,
)

ONE_FIELD = "rate limit descriptor entry must have exactly one field set"


def descriptors(view: GlobalRateLimitView | None) -> tuple[RateLimitDescriptor, ...]:
    """The policy's descriptors; none when it is absent or disabled."""
    if view is None or view.disabled:
        return ()
    return tuple(tuple(_entry(e) for e in d) for d in view.descriptors)


def _entry(view: DescriptorEntryView) -> RateLimitEntry:
    given = [view.generic_key is not None, view.request_header is not None,
             view.header_value_match is not None, view.remote_address]
    if sum(given) != 1:
        raise PolicyError(ONE_FIELD)
    if view.generic_key is not None:
        return RateLimitEntry("generic_key", key=view.generic_key[0], value=view.generic_key[1])
    if view.request_header is not None:
        header, key = view.request_header
        return RateLimitEntry("request_header", key=key, header_name=header)
    if view.header_value_match is not None:
        headers, expect, value = view.header_value_match
        return RateLimitEntry("header_value_match", value=value,
                              headers=cnd.merge_headers(headers), expect_match=expect)
    return RateLimitEntry("remote_address")


def ignores_vhost(view: GlobalRateLimitView | None) -> bool:
    """A route's `global.disabled`: the vhost's descriptors do not apply to it."""
    return view is not None and view.disabled


def vhost_descriptors(view: GlobalRateLimitView | None, settings: RateLimitSettings | None
                      ) -> tuple[RateLimitDescriptor, ...]:
    """The vhost's own descriptors, else the configured default policy's unless the vhost
    opts out (`global.disabled`). PolicyError names which policy is invalid."""
    try:
        own = descriptors(view)
    except PolicyError as err:
        raise PolicyError(f"Spec.VirtualHost.RateLimitPolicy is invalid: {err}") from None
    if own or view is not None and view.disabled:
        return own
    default = settings.default_global_policy if settings is not None else None
    if default is None:
        return ()
    try:
        return descriptors(global_rate_limit(default))
    except PolicyError as err:
        raise PolicyError(f"Default Global RateLimit Policy is invalid: {err}") from None


def rate_limit_service(settings: RateLimitSettings | None, extensions: dict[tuple[str, str],
                       tuple[float | None, str]]) -> RateLimitService | None:
    """The filter's service: the settings, with the timeout and server name of the
    ExtensionService they name when it is valid (`extensions`: key → (timeout, sni))."""
    if settings is None:
        return None
    timeout, sni = extensions.get(settings.extension_service, (None, ""))
    ns, name = settings.extension_service
    return RateLimitService(ns, name, settings.domain, settings.fail_open,
                            settings.enable_x_ratelimit_headers,
                            settings.enable_resource_exhausted_code, timeout, sni)
