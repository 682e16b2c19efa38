"""External authorization of an HTTPProxy virtual host (v1.33
computeSecureVirtualHostAuthorization, NewExternalAuthorization,
validateExternalAuthExtensionService) and its routes' `authPolicy`.

Only a root that terminates TLS may name an authorization server (the ext_authz filter
sits on its own SNI filter chain); each of its routes is checked unless its
`authPolicy.disabled` (or the vhost's) says otherwise, with the vhost's context entries
overridden by the route's.
"""

from __future__ import annotations

from typing import NamedTuple

from controller.dag import policy as pol
from controller.dag import proxystatus as ps
from controller.dag.model import ExtensionCluster, ExternalAuthorization
from controller.k8s.extension_views import AuthorizationView, AuthPolicyView

API_VERSION = "projectcontour.io/v1alpha1"
DEFAULT_MAX_REQUEST_BYTES = 1024
NOT_PERMITTED = ("Spec.VirtualHost.Authorization.ExtensionServiceRef can only be defined for "
                 "root HTTPProxies that terminate TLS")
FALLBACK_INCOMPATIBLE = "Spec.Virtualhost.TLS fallback & client authorization are incompatible"


class RouteAuth(NamedTuple):
    """What a root's authorization gives each of its routes by default."""

    disabled: bool
    context: tuple[tuple[str, str], ...]


def external_authorization(view: AuthorizationView, extension: ExtensionCluster | None,
                           cond: ps.ProxyConditions) -> ExternalAuthorization | None:
    """The vhost's ext_authz settings, or None after recording v1.33's error. `extension`
    is the referenced ExtensionService's cluster (None: missing or invalid)."""
    version = view.api_version or API_VERSION
    if version != API_VERSION:
        cond.error("AuthError", "AuthBadResourceVersion",
                   "Spec.Virtualhost.Authorization.extensionRef specifies an unsupported "
                   f"resource version {ps.go_quote(version)}")
        return None
    if extension is None:
        name = ps.go_quote(f"{view.extension[0]}/{view.extension[1]}")
        cond.error("AuthError", "ExtensionServiceNotFound",
                   f"Spec.Virtualhost.Authorization.ServiceRef extension service {name} not found")
        return None
    try:
        timeout = pol.timeout_setting(view.response_timeout)
    except pol.PolicyError as err:
        cond.error("AuthError", "AuthResponseTimeoutInvalid",
                   f"Spec.Virtualhost.Authorization.ResponseTimeout is invalid: {err}")
        return None
    if timeout is None:
        timeout = extension.response_timeout
    body = None
    if view.with_request_body is not None:
        size, partial, as_bytes = view.with_request_body
        body = (size or DEFAULT_MAX_REQUEST_BYTES, partial, as_bytes)
    return ExternalAuthorization(extension.cluster_name, extension.subject_name, view.fail_open,
                                 timeout, body)


def route_defaults(view: AuthorizationView | None) -> RouteAuth | None:
    """The routes' defaults under a root with `authorization` (None: no authorization)."""
    if view is None:
        return None
    policy = view.policy
    return RouteAuth(policy.disabled, policy.context) if policy else RouteAuth(False, ())


def route_auth(defaults: RouteAuth, policy: AuthPolicyView | None
               ) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """(disabled, context) of one route: its own policy overrides the vhost's."""
    if policy is None:
        return defaults.disabled, defaults.context
    context = dict(defaults.context)
    context.update(policy.context)
    return policy.disabled, tuple(sorted(context.items()))
