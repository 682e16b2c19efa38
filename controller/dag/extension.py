"""ExtensionService (v1alpha1) → ExtensionCluster, with its Valid condition (v1.33
extension_processor.go).

`extension_cluster(view, reads)` reads the store only through `reads` (the store, or a
deps.Recorder while an HTTPProxy root that references the service is processed), so the
incremental builder learns which Services and Secrets an authorizing root depends on.
An ExtensionService with any error has no cluster: HTTPProxies referencing it see
"not found", as upstream's `GetExtensionCluster` answers them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol as TypingProtocol

from controller.dag import policy as pol
from controller.dag import proxystatus as ps
from controller.dag.model import (
    INVALID,
    VALID,
    Condition,
    ExtensionCluster,
    Provenance,
    Secret,
    ServicePort,
    Status,
)
from controller.dag.secrets import split_secret
from controller.k8s.extension_views import ExtensionServiceView
from controller.k8s.objects import EXTENSION_SERVICE, Key

VALID_MESSAGE = "Valid ExtensionService"


class ExtensionReads(TypingProtocol):
    """What building an extension cluster reads (the store's API, or deps.Recorder)."""

    def service_port(self, key: Key, port: int) -> ServicePort | None: ...

    def service_exists(self, key: Key) -> bool: ...

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]: ...

    def ca_certificate(self, key: Key) -> bytes: ...


def extension_cluster(view: ExtensionServiceView, reads: ExtensionReads
                      ) -> tuple[ExtensionCluster | None, ps.ProxyConditions]:
    """(the cluster, or None when an error was found; the findings), in v1.33's order."""
    cond = ps.ProxyConditions()
    try:
        response, idle, idle_connection = pol.timeout_policy(view.timeout)
    except pol.PolicyError as err:
        cond.error("SpecError", "TimeoutPolicyNotValid",
                   f"spec.timeoutPolicy failed to parse: {err}")
        response = idle = idle_connection = None
    strategy = _strategy(view, cond)
    if view.timeout is not None and view.timeout.idle:
        cond.warning("SpecError", "IgnoredField", 'ignoring field ".Spec.TimeoutPolicy.Idle"; '
                     "idle timeouts are not supported for ExtensionClusters")
    del idle
    protocol = "h2c" if view.protocol == "h2c" else "h2"
    validation = None
    if view.validation is not None:
        validation = _validation(view, reads, cond)
        if validation is None:
            return None, cond
        if protocol != "h2":
            cond.error("SpecError", "InconsistentProtocol",
                       f"upstream TLS validation not supported for {ps.go_quote(view.protocol)} "
                       "protocol")
    services = _services(view, reads, cond)
    if not cond.ok:
        return None, cond
    ca, subject, secret = validation or (b"", "", "")
    return ExtensionCluster(view.namespace, view.name, services, protocol, strategy, ca, subject,
                            response, idle_connection, view.circuit_breakers, secret,
                            Provenance(EXTENSION_SERVICE, (view.key,))), cond


def _strategy(view: ExtensionServiceView, cond: ps.ProxyConditions) -> str:
    """Cookie and RequestHash balancing need a route: ignored (warned) for extensions."""
    if view.strategy in (pol.COOKIE, pol.REQUEST_HASH):
        cond.warning("SpecError", "IgnoredField",
                     'ignoring field ".Spec.LoadBalancerPolicy"; '
                     f"{view.strategy} load balancer policy is not supported for "
                     "ExtensionClusters")
        return ""
    return view.strategy if view.strategy in (pol.WEIGHTED_LEAST_REQUEST, "Random") else ""


def _validation(view: ExtensionServiceView, reads: ExtensionReads,
                cond: ps.ProxyConditions) -> tuple[bytes, str, str] | None:
    """(CA, subject name, CA Secret name), or None after an error. v1.33
    LookupUpstreamValidation: a CA of another namespace must be delegated."""
    assert view.validation is not None
    key = split_secret(view.validation.ca_secret, view.namespace)
    name = ps.go_quote(f"{key[0]}/{key[1]}")
    if not reads.tls_secret(key, view.namespace)[1]:
        cond.error("TLSError", "CACertificateNotDelegated",
                   f"service.UpstreamValidation.CACertificate Secret {name} is not configured "
                   "for certificate delegation")
        return None
    ca = reads.ca_certificate(key)
    problem = "" if ca else f"invalid CA Secret {name}: Secret not found"
    if not problem and not view.validation.subject_name:
        problem = "missing subject alternative name"
    if problem:
        cond.error("SpecError", "TLSUpstreamValidation",
                   f"TLS upstream validation policy error: {problem}")
        return None
    return ca, view.validation.subject_name, view.validation.ca_secret


def _services(view: ExtensionServiceView, reads: ExtensionReads, cond: ps.ProxyConditions
              ) -> tuple[tuple[str, int], ...]:
    """Same-namespace Services only (a cross-namespace reference could subvert Contour);
    ExternalName Services are not supported (v1.33)."""
    out = []
    for target in view.services:
        key = (view.namespace, target.name)
        quoted = ps.go_quote(f"{key[0]}/{key[1]}")
        port = reads.service_port(key, target.port)
        if port is None:
            err = (ps.service_port_not_matched(key, target.port) if reads.service_exists(key)
                   else ps.service_not_found(key))
            cond.error("ServiceError", "ServiceUnresolvedReference",
                       f"unresolved service {quoted}: {err}")
            continue
        if port.external_name:
            cond.error("ServiceError", "UnsupportedServiceType",
                       f'Service {quoted} is of unsupported type "ExternalName".')
            continue
        out.append((port.eds_name, target.weight))
    return tuple(out)


def extension_status(key: Key, cond: ps.ProxyConditions) -> Status:
    """v1.33's ExtensionService status: only the Valid condition."""
    errors, warnings = tuple(cond.errors), tuple(cond.warnings)
    if not errors:
        valid = Condition("Valid", "True", "Valid", VALID_MESSAGE, (), warnings)
        return Status(key[0], key[1], VALID, VALID_MESSAGE, "", EXTENSION_SERVICE, (valid,))
    invalid = Condition("Valid", "False", "ErrorPresent", ps.ERROR_PRESENT, errors, warnings)
    return Status(key[0], key[1], INVALID, ps.ERROR_PRESENT, "", EXTENSION_SERVICE, (invalid,))


def extensions(views: Iterable[ExtensionServiceView], reads: ExtensionReads
               ) -> tuple[tuple[ExtensionCluster, ...], list[Status]]:
    """Every ExtensionService: the valid ones' clusters and everyone's status, by key."""
    clusters, statuses = [], []
    for view in sorted(views, key=lambda v: v.key):
        cluster, cond = extension_cluster(view, reads)
        if cluster is not None:
            clusters.append(cluster)
        statuses.append(extension_status(view.key, cond))
    return tuple(clusters), statuses
