"""HTTPProxy statuses (Contour v1.33's `status.conditions` and the strings around them).

A processing run records, per HTTPProxy it visits, one `ProxyConditions`: the errors and
warnings of v1.33's Valid DetailedCondition. Unlike IngressRoute (first writer wins), every
visit's findings are kept: `merge` unions the records of every root that visited a proxy
(in root order, duplicates dropped), and `status` turns the union into the `Status` row:
`valid` with "Valid HTTPProxy", `orphaned`, or `invalid` with "At least one error present".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from controller.dag.model import INVALID, ORPHANED, VALID, Condition, Status, SubCondition
from controller.dag.status import go_quote
from controller.k8s.objects import HTTPPROXY, Key

VALID_DESCRIPTION = "Valid HTTPProxy"
ERROR_PRESENT = "At least one error present, see Errors for details"
ORPHANED_MESSAGE = "this HTTPProxy is not part of a delegation chain from a root HTTPProxy"
ORPHANED_TYPE = "Orphaned"
MAX_MESSAGE = 32760
"""v1.33 truncates a sub-condition message to this many bytes (LongMessageLength)."""


@dataclass(slots=True)
class ProxyConditions:
    """What one visit found wrong with one HTTPProxy; `vhost` is set for roots."""

    vhost: str = ""
    errors: list[SubCondition] = field(default_factory=list)
    warnings: list[SubCondition] = field(default_factory=list)

    def error(self, type_: str, reason: str, message: str) -> None:
        self.errors.append(SubCondition(type_, reason, message[:MAX_MESSAGE]))

    def warning(self, type_: str, reason: str, message: str) -> None:
        self.warnings.append(SubCondition(type_, reason, message[:MAX_MESSAGE]))

    @property
    def ok(self) -> bool:
        return not self.errors


def merge(records: Sequence[ProxyConditions]) -> ProxyConditions:
    """The union of several visits' findings, first-seen order, each entry once (not to be
    mutated: one clean record is returned as it is)."""
    if len(records) == 1 and not records[0].errors and not records[0].warnings:
        return records[0]  # perf: the common case, a valid proxy visited once
    out = ProxyConditions()
    for r in records:
        out.vhost = out.vhost or r.vhost
        out.errors.extend(e for e in r.errors if e not in out.errors)
        out.warnings.extend(w for w in r.warnings if w not in out.warnings)
    return out


_VALID = Condition("Valid", "True", "Valid", VALID_DESCRIPTION)


def status(key: Key, record: ProxyConditions) -> Status:
    """The status row of one HTTPProxy: v1.33's proxystatus Mutate."""
    errors, warnings = tuple(record.errors), tuple(record.warnings)
    if not errors:
        cond = _VALID if not warnings else Condition("Valid", "True", "Valid",
                                                     VALID_DESCRIPTION, (), warnings)
        return Status(key[0], key[1], VALID, VALID_DESCRIPTION, record.vhost, HTTPPROXY, (cond,))
    cond = Condition("Valid", "False", "ErrorPresent", ERROR_PRESENT, errors, warnings)
    orphan = next((e for e in errors if e.type == ORPHANED_TYPE), None)
    current, description = (ORPHANED, orphan.message) if orphan else (INVALID, ERROR_PRESENT)
    return Status(key[0], key[1], current, description, record.vhost, HTTPPROXY, (cond,))


def with_error(prior: Status, type_: str, reason: str, message: str) -> Status:
    """`prior` (an HTTPProxy status) with one more error, as v1.33's
    DetailedCondition.AddError adds it: warnings kept, the status invalid. Used for what is
    found after the build (the validation boundary, the translators' Envoy checks)."""
    valid = next((c for c in prior.conditions if c.type == "Valid"), None)
    record = ProxyConditions(prior.vhost, list(valid.errors) if valid else [],
                             list(valid.warnings) if valid else [])
    record.error(type_, reason, message)
    return status((prior.namespace, prior.name), record)


def orphaned(key: Key) -> Status:
    record = ProxyConditions()
    record.error(ORPHANED_TYPE, "Orphaned", ORPHANED_MESSAGE)
    return status(key, record)


def go_join(keys: Iterable[Key]) -> str:
    return ", ".join(f"{ns}/{name}" for ns, name in keys)


# -- messages (v1.33.6 verbatim; %q is Go quoting) ----------------------------------------------


def duplicate_vhost(fqdn: str, keys: Iterable[Key]) -> str:
    return f"fqdn {go_quote(fqdn)} is used in multiple HTTPProxies: {go_join(sorted(keys))}"


FQDN_NOT_SPECIFIED = "Spec.VirtualHost.Fqdn must be specified"
ROOT_NAMESPACE = "root HTTPProxy cannot be defined in this namespace"
NOTHING_DEFINED = "HTTPProxy.Spec must have at least one Route, Include, or a TCPProxy"
IP_BOTH_VHOST = ("Spec.VirtualHost.IPAllowFilterPolicy and Spec.VirtualHost.IPDepnyFilterPolicy "
                 "cannot both be defined.")
IP_BOTH = "cannot specify both `ipAllowPolicy` and `ipDenyPolicy`"
TLS_PASSTHROUGH_AND_FALLBACK = ("Spec.VirtualHost.TLS: both Passthrough and "
                                "enableFallbackCertificate were specified")
TLS_PASSTHROUGH_AND_SECRET = "Spec.VirtualHost.TLS: both Passthrough and SecretName were specified"
TLS_NEITHER = "Spec.VirtualHost.TLS: neither Passthrough nor SecretName were specified"
TLS_PASSTHROUGH_CLIENT_VALIDATION = ("Spec.VirtualHost.TLS passthrough cannot be combined with "
                                     "tls.clientValidation")
TLS_VERSIONS = ("Spec.Virtualhost.TLS the minimum protocol version is greater than the maximum "
                "protocol version")
TLS_FALLBACK_CLIENT_VALIDATION = ("Spec.Virtualhost.TLS fallback & client validation are "
                                  "incompatible")
FALLBACK_NOT_PRESENT = ("Spec.Virtualhost.TLS enabled fallback but the fallback Certificate Secret "
                        "is not configured in Contour configuration file")
TCPPROXY_NEEDS_TLS = ("Spec.TCPProxy requires that either Spec.TLS.Passthrough or "
                      "Spec.TLS.SecretName be set")
TCPPROXY_SERVICES_AND_INCLUDE = "cannot specify services and include in the same httpproxy"
TCPPROXY_NOTHING = "either services or inclusion must be specified"
DUPLICATE_INCLUDE = "duplicate conditions defined on an include"
ROUTE_ACTION_COUNT = ("must set exactly one of route.services or route.requestRedirectPolicy or "
                      "route.directResponsePolicy")
MUST_HAVE_PREFIX = "cannot specify prefix replacements without a prefix condition"
ONLY_ONE_MIRROR = "only one service per route may be nominated as mirror"
SLOW_START_STRATEGY = ("slow start is only supported with RoundRobin or WeightedLeastRequest load "
                       "balancer strategy")


def tls_delegation(secret_name: str) -> str:
    return (f"Spec.VirtualHost.TLS Secret {go_quote(secret_name)} certificate delegation "
            "not permitted")


def tls_invalid(secret_name: str, err: str) -> str:
    return f"Spec.VirtualHost.TLS Secret {go_quote(secret_name)} is invalid: {err}"


def fallback_not_delegated(secret: Key) -> str:
    return (f"Spec.VirtualHost.TLS Secret {go_quote(f'{secret[0]}/{secret[1]}')} is not "
            "configured for certificate delegation")


def fallback_invalid(secret: Key, err: str) -> str:
    return (f"Spec.Virtualhost.TLS Secret {go_quote(f'{secret[0]}/{secret[1]}')} fallback "
            f"certificate is invalid: {err}")


def include_cycle(path: Iterable[Key]) -> str:
    return "include creates an include cycle: " + " -> ".join(f"{n}/{m}" for n, m in path)


def tcp_include_cycle(path: Iterable[Key]) -> str:
    return "include creates a cycle: " + " -> ".join(f"{n}/{m}" for n, m in path)


def include_not_found(key: Key) -> str:
    return f"include {key[0]}/{key[1]} not found"


def root_includes_root(key: Key) -> str:
    return f"root httpproxy cannot include another root httpproxy ({key[0]}/{key[1]})"


def service_port_invalid(name: str) -> str:
    return f"service {go_quote(name)}: port must be in the range 1-65535"


def service_not_found(key: Key) -> str:
    return f"service {go_quote(f'{key[0]}/{key[1]}')} not found"


def service_port_not_matched(key: Key, port: int) -> str:
    return f"port {go_quote(str(port))} on service {go_quote(f'{key[0]}/{key[1]}')} not matched"


def unresolved(where: str, err: str) -> str:
    """`where` is "Spec.Routes" or "Spec.TCPProxy"."""
    return f"{where} unresolved service reference: {err}"


def unsupported_protocol(protocol: str) -> str:
    return f"unsupported protocol: {protocol}"


def delegation_too_deep(limit: int) -> str:
    """Project addition (hostile input): v1.33 has no bound."""
    return f"include chain is deeper than {limit} HTTPProxies"


def delegation_too_large(limit: int) -> str:
    """Project addition (hostile input): v1.33 has no bound."""
    return f"include graph visits more than {limit} HTTPProxies from this root"


def not_supported(paths: Iterable[str]) -> str:
    """Project addition: a policy this controller does not translate yet."""
    return (f"{', '.join(paths)}: not supported by this controller yet; the virtual host is "
            "not served, since serving it without the policy would bypass it")


def ignored_unsupported(paths: Iterable[str]) -> str:
    """Project addition: fields without a security role that are not translated yet."""
    return f'ignoring field(s) {", ".join(paths)}: not supported by this controller yet'


def claimed_by_httpproxy(fqdn: str, keys: Iterable[Key]) -> str:
    """Project rule (docs/decisions.md): an fqdn an HTTPProxy root names is not served by an
    IngressRoute root."""
    return f"fqdn {go_quote(fqdn)} is used by HTTPProxy {go_join(sorted(keys))}"
