"""The projectcontour.io CRDs of Contour v1.33, as `crds.CRD` descriptions: HTTPProxy (v1),
TLSCertificateDelegation (v1) and ExtensionService (v1alpha1), with their status schemas
(apis/projectcontour/v1/detailedconditions.go: metav1.Condition plus `errors` and
`warnings` sub-conditions), printer columns, short names and status subresources.
"""

from __future__ import annotations

from controller.validation import crd_httpproxy as hp
from controller.validation.crds import CRD, proxy_columns
from controller.validation.openapi import (
    STRING,
    Schema,
    array,
    fields,
    integer,
    obj,
    one_of,
    string,
    with_default,
)

GROUP = "projectcontour.io"
_QUALIFIED_NAME = (r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                   r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$")
_REASON = string(r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$", maxLength=1024, minLength=1)
_STATUS = one_of("True", "False", "Unknown")
_TYPE = string(_QUALIFIED_NAME, maxLength=316)
_MESSAGE = string(maxLength=32768)

SUB_CONDITION = obj(("message", "reason", "status", "type"), message=_MESSAGE, reason=_REASON,
                    status=_STATUS, type=_TYPE)
DETAILED_CONDITION = obj(
    ("lastTransitionTime", "message", "reason", "status", "type"),
    errors=array(SUB_CONDITION),
    lastTransitionTime=string(format="date-time"),
    message=_MESSAGE,
    observedGeneration=integer("int64", minimum=0),
    reason=_REASON,
    status=_STATUS,
    type=_TYPE,
    warnings=array(SUB_CONDITION),
)


def conditions() -> Schema:
    """`status.conditions`: a list map keyed by `type`."""
    return {**array(DETAILED_CONDITION), "x-kubernetes-list-map-keys": ["type"],
            "x-kubernetes-list-type": "map"}


def _atomic(node: Schema) -> Schema:
    return {**node, "x-kubernetes-list-type": "atomic"}


LOAD_BALANCER_STATUS = obj(ingress=_atomic(array(obj(
    hostname=STRING, ip=STRING, ipMode=STRING,
    ports=_atomic(array(obj(("port", "protocol"), error=_TYPE, port=integer("int32"),
                            protocol=STRING))),
))))  # fmt: skip

HTTPPROXY_STATUS = with_default(
    obj(conditions=conditions(), currentStatus=STRING, description=STRING,
        loadBalancer=LOAD_BALANCER_STATUS),
    {"currentStatus": "NotReconciled", "description": "Waiting for controller"},
)
HTTPPROXY = CRD(
    group=GROUP, version="v1", kind="HTTPProxy", plural="httpproxies",
    short_names=("proxy", "proxies"),
    spec=hp.SPEC, status=HTTPPROXY_STATUS, required=("metadata", "spec"),
    columns=proxy_columns("HTTPProxy"),
)  # fmt: skip

TLS_CERTIFICATE_DELEGATION = CRD(
    group=GROUP, version="v1", kind="TLSCertificateDelegation",
    plural="tlscertificatedelegations", short_names=("tlscerts",),
    spec=obj(("delegations",), delegations=array(obj(
        ("secretName", "targetNamespaces"), secretName=STRING,
        targetNamespaces=array(STRING)))),
    status=obj(conditions=conditions()), required=("metadata", "spec"),
)  # fmt: skip

CIRCUIT_BREAKERS = fields({name: integer("int32") for name in (
    "maxConnections", "maxPendingRequests", "maxRequests", "maxRetries",
    "perHostMaxConnections")})  # fmt: skip
EXTENSION_SERVICE = CRD(
    group=GROUP, version="v1alpha1", kind="ExtensionService", plural="extensionservices",
    short_names=("extensionservice", "extensionservices"),
    spec=obj(
        ("services",),
        circuitBreakerPolicy=CIRCUIT_BREAKERS,
        loadBalancerPolicy=hp.LOAD_BALANCER,
        protocol=one_of("h2", "h2c"),
        protocolVersion=one_of("v3"),
        services=array(obj(("name", "port"), name=STRING, port=hp.SERVICE["properties"]["port"],
                           weight=integer("int32")), minItems=1),
        timeoutPolicy=hp.TIMEOUT_POLICY,
        validation=hp.UPSTREAM_VALIDATION,
    ),
    status=obj(conditions=conditions()),
)  # fmt: skip

CRDS = (EXTENSION_SERVICE, HTTPPROXY, TLS_CERTIFICATE_DELEGATION)
