"""Typed views of what external services an HTTPProxy uses (v1.33): ExtensionService
(projectcontour.io/v1alpha1) objects, a virtual host's `authorization`, a route's
`authPolicy` and the `global` part of a `rateLimitPolicy` (also the controller config's
`defaultGlobalRateLimitPolicy`, which has the same shape).

Tolerant like httpproxy_parts.py: a field of the wrong type, or missing, is treated as
absent (the validation boundary has normally refused such objects already).
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.k8s import httpproxy_parts as parts
from controller.k8s.httpproxy_parts import MatchConditionView, UpstreamValidationView
from controller.k8s.objects import as_bool, as_dict, as_int, as_list, as_str, key_of

# -- ExtensionService --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExtensionTargetView:
    name: str
    port: int
    weight: int = 0


@dataclass(frozen=True, slots=True)
class ExtensionServiceView:
    namespace: str
    name: str
    services: tuple[ExtensionTargetView, ...] = ()
    protocol: str = ""
    """"h2" | "h2c"; empty: unset (h2)."""
    timeout: parts.TimeoutPolicyView | None = None
    strategy: str = ""
    validation: UpstreamValidationView | None = None
    circuit_breakers: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def _int(value: object) -> int:
    n = as_int(value)
    return n if n is not None else 0


def _validation(raw: object) -> UpstreamValidationView | None:
    """caSecret with subjectName, or the first of subjectNames (v1.33 SNI takes the first)."""
    if not isinstance(raw, dict):
        return None
    names = [as_str(n) for n in as_list(raw.get("subjectNames"))]
    subject = as_str(raw.get("subjectName")) or (names[0] if names else "")
    return UpstreamValidationView(as_str(raw.get("caSecret")), subject)


def extension_service_view(obj: object) -> ExtensionServiceView:
    namespace, name = key_of(obj)
    spec = as_dict(as_dict(obj).get("spec"))
    breakers = as_dict(spec.get("circuitBreakerPolicy"))
    return ExtensionServiceView(
        namespace=namespace,
        name=name,
        services=tuple(
            ExtensionTargetView(as_str(as_dict(s).get("name")), _int(as_dict(s).get("port")),
                                _int(as_dict(s).get("weight")))
            for s in as_list(spec.get("services"))
        ),
        protocol=as_str(spec.get("protocol")),
        timeout=parts.timeout(spec.get("timeoutPolicy")),
        strategy=as_str(as_dict(spec.get("loadBalancerPolicy")).get("strategy")),
        validation=_validation(spec.get("validation")),
        circuit_breakers=(_int(breakers.get("maxConnections")),
                          _int(breakers.get("maxPendingRequests")),
                          _int(breakers.get("maxRequests")), _int(breakers.get("maxRetries"))),
    )


# -- authorization ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthPolicyView:
    disabled: bool = False
    context: tuple[tuple[str, str], ...] = ()
    """Sorted by key."""


@dataclass(frozen=True, slots=True)
class AuthorizationView:
    """virtualhost.authorization; `extension` is the extensionRef (namespace defaulted to
    the proxy's), `api_version` its apiVersion (empty: unset)."""

    extension: tuple[str, str]
    api_version: str = ""
    fail_open: bool = False
    response_timeout: str = ""
    policy: AuthPolicyView | None = None
    with_request_body: tuple[int, bool, bool] | None = None

    @property
    def configured(self) -> bool:
        """v1.33 ExtensionServiceReference.IsConfigured: a name is given."""
        return bool(self.extension[1])


def auth_policy(raw: object) -> AuthPolicyView | None:
    if not isinstance(raw, dict):
        return None
    context = as_dict(raw.get("context"))
    return AuthPolicyView(as_bool(raw.get("disabled")),
                          tuple(sorted((str(k), as_str(v)) for k, v in context.items())))


def authorization(raw: object, namespace: str) -> AuthorizationView | None:
    if not isinstance(raw, dict):
        return None
    ref = as_dict(raw.get("extensionRef"))
    body = raw.get("withRequestBody")
    buffer = None
    if isinstance(body, dict):
        buffer = (_int(body.get("maxRequestBytes")), as_bool(body.get("allowPartialMessage")),
                  as_bool(body.get("packAsBytes")))
    return AuthorizationView(
        extension=(as_str(ref.get("namespace")) or namespace, as_str(ref.get("name"))),
        api_version=as_str(ref.get("apiVersion")),
        fail_open=as_bool(raw.get("failOpen")),
        response_timeout=as_str(raw.get("responseTimeout")),
        policy=auth_policy(raw.get("authPolicy")),
        with_request_body=buffer,
    )


# -- global rate limits ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DescriptorEntryView:
    """One descriptor entry; v1.33 requires exactly one of the four to be set."""

    generic_key: tuple[str, str] | None = None
    request_header: tuple[str, str] | None = None
    """(headerName, descriptorKey)."""
    header_value_match: tuple[tuple[MatchConditionView, ...], bool, str] | None = None
    """(headers as header match conditions, expectMatch (default true), value)."""
    remote_address: bool = False


@dataclass(frozen=True, slots=True)
class GlobalRateLimitView:
    disabled: bool = False
    descriptors: tuple[tuple[DescriptorEntryView, ...], ...] = ()


def _entry(raw: object) -> DescriptorEntryView:
    d = as_dict(raw)
    generic, header, match = d.get("genericKey"), d.get("requestHeader"), d.get(
        "requestHeaderValueMatch")
    return DescriptorEntryView(
        generic_key=((as_str(generic.get("key")), as_str(generic.get("value")))
                     if isinstance(generic, dict) else None),
        request_header=((as_str(header.get("headerName")), as_str(header.get("descriptorKey")))
                        if isinstance(header, dict) else None),
        header_value_match=_header_value_match(match),
        remote_address=isinstance(d.get("remoteAddress"), dict),
    )


def _header_value_match(raw: object) -> tuple[tuple[MatchConditionView, ...], bool, str] | None:
    if not isinstance(raw, dict):
        return None
    headers = parts.conditions([{"header": h} for h in as_list(raw.get("headers"))])
    return headers, as_bool(raw.get("expectMatch", True)), as_str(raw.get("value"))


def global_rate_limit(raw: object) -> GlobalRateLimitView | None:
    """A `global` rate limit policy (the rateLimitPolicy's `global`, or the config file's
    `defaultGlobalRateLimitPolicy`)."""
    if not isinstance(raw, dict):
        return None
    descriptors = tuple(
        tuple(_entry(e) for e in as_list(as_dict(d).get("entries")))
        for d in as_list(raw.get("descriptors"))
    )
    return GlobalRateLimitView(as_bool(raw.get("disabled")), descriptors)
