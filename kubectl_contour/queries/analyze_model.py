"""What `analyze` reports: coded findings (severity, stable code, object, message, fix hint),
the table of codes, and the inputs every analyzer reads.

Codes are stable: a code never changes meaning, a retired code is never reused. Families:
CTR1xxx objects and their links, CTR2xxx routes and backends, CTR3xxx hosts and TLS,
CTR4xxx what the controller does not watch, CTR5xxx the Gateway API. docs/plugin.md lists them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kubectl_contour.objects import HTTPPROXY, INGRESSROUTE, Obj, Snapshot, key_of

if TYPE_CHECKING:
    from controller.config import BuilderSettings
    from controller.dag.model import DAG
    from controller.dag.store import ObjectStore

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)
"""Most severe first: the order findings are listed in."""


@dataclass(frozen=True, slots=True)
class Code:
    severity: str
    title: str
    hint: str


CODES: dict[str, Code] = {
    "CTR1001": Code(WARNING, "orphaned: no root delegates to or includes it",
                    "delegate to it from a root (routes[].delegate, includes[]) or delete it"),
    "CTR1002": Code(ERROR, "a delegate or include names an object that does not exist",
                    "create the object, or fix the name and namespace of the reference"),
    "CTR1003": Code(ERROR, "invalid: the builder refuses it (its status says why)",
                    "fix what the message says; `kubectl contour tree` shows where it sits"),
    "CTR1004": Code(ERROR, "refused by the validation boundary: treated as absent",
                    "fix the fields named; the API server's CRD schema refuses them too"),
    "CTR1005": Code(WARNING, "served, with a warning from the builder",
                    "remove or change the field the message names"),
    "CTR1006": Code(WARNING, "an Ingress path is not served",
                    "create the Service and port, or fix the path"),
    "CTR2001": Code(WARNING, "a route is replaced by a later route with the same match",
                    "give one of the routes other conditions, or delete it"),
    "CTR2002": Code(WARNING, "a route is never selected: an earlier route matches all of it",
                    "narrow the earlier route's match, or delete the unreachable one"),
    "CTR2003": Code(ERROR, "no backend of a route has a ready endpoint: Envoy answers 503",
                    "check the Service's selector and its pods' readiness"),
    "CTR2004": Code(WARNING, "a Service of a route has no ready endpoint: its share gets 503",
                    "check the Service's selector and its pods' readiness, or weigh it 0"),
    "CTR2005": Code(WARNING, "a service weighted 0 next to weighted ones gets no traffic",
                    "give it a weight, or remove it from the route"),
    "CTR2006": Code(INFO, "every weight is 0: traffic is split evenly",
                    "set the weights you mean explicitly"),
    "CTR2007": Code(WARNING, "Envoy's active health check fails on endpoints",
                    "make the health-check path answer 2xx, or fix path and host"),
    "CTR3001": Code(ERROR, "an fqdn is used by several roots of one kind: none is served",
                    "keep one root per fqdn; move the others' routes under it"),
    "CTR3002": Code(ERROR, "an fqdn is claimed by an HTTPProxy and an IngressRoute",
                    "the HTTPProxy keeps it: delete the IngressRoute root or change its fqdn"),
    "CTR3003": Code(WARNING, "a host is served by an Ingress and by a root: routes merge",
                    "serve the host from one kind of object"),
    "CTR3004": Code(ERROR, "a TLS secret of another namespace is used without delegation",
                    "create a TLSCertificateDelegation in the secret's namespace for it"),
    "CTR3005": Code(ERROR, "the TLS certificate has expired",
                    "renew the certificate in the Secret"),
    "CTR3006": Code(WARNING, "the TLS certificate expires within 30 days",
                    "renew the certificate in the Secret"),
    "CTR3007": Code(ERROR, "the TLS certificate's names do not cover the host",
                    "issue a certificate whose subjectAltName covers the host"),
    "CTR5001": Code(ERROR, "a Gateway API route is not accepted by its parent",
                    "fix what the reason says (listener hostname, sectionName, allowedRoutes)"),
    "CTR5002": Code(ERROR, "a Gateway API reference is not resolved",
                    "create the Service or Secret, or a ReferenceGrant in its namespace"),
    "CTR5003": Code(WARNING, "a Gateway API route names no Gateway this controller serves",
                    "set parentRefs to the served Gateway (`kubectl contour tree`)"),
    "CTR5004": Code(ERROR, "the served Gateway or a listener is not programmed",
                    "fix the listener (port 80/443, protocol, certificateRefs)"),
    "CTR5005": Code(ERROR, "every backendRef of a rule is weighted 0: it answers 500",
                    "give a backendRef a weight"),
    "CTR4001": Code(INFO, "ignored: its ingress class is not the controller's",
                    "set the class the controller runs with (--ingress-class), or none"),
}

EXPIRY_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    kind: str
    namespace: str
    name: str
    message: str
    hint: str

    def sort_key(self) -> tuple[int, str, str, str, str, str]:
        return (SEVERITIES.index(self.severity), self.code, self.namespace, self.name,
                self.kind, self.message)


def finding(code: str, kind: str, key: tuple[str, str], message: str) -> Finding:
    """A finding of `code` (its severity and hint from CODES) about KIND `key`."""
    c = CODES[code]
    return Finding(code, c.severity, kind, key[0], key[1], message, c.hint)


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the analyzers read: the objects, the controller's store and DAG built from them,
    the builder settings, the time certificates are judged at, and each reachable Envoy's
    `/clusters?format=json` (empty: no Envoy was asked)."""

    snapshot: Snapshot
    store: ObjectStore
    dag: DAG
    settings: BuilderSettings
    now: datetime
    envoys: tuple[tuple[str, Any], ...] = ()


def holds(inputs: Inputs, kind: str, key: tuple[str, str]) -> bool:
    """Does the controller's store hold this IngressRoute or HTTPProxy (present, and of
    the controller's ingress class)?"""
    views = inputs.store.ingressroutes if kind == INGRESSROUTE else inputs.store.httpproxies
    return key in views


def held_proxies(inputs: Inputs) -> Iterator[tuple[str, Obj]]:
    """(kind, raw object) of every IngressRoute and HTTPProxy the store holds."""
    for kind in (INGRESSROUTE, HTTPPROXY):
        for obj in inputs.snapshot.of_kind(kind):
            if holds(inputs, kind, key_of(obj)):
                yield kind, obj
