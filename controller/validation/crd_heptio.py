"""The contour.heptio.com/v1beta1 CRDs (spec §1.1, §1.8): IngressRoute and
TLSCertificateDelegation.

The validation is the upstream CRD's (fqdn/secretName/match/path patterns,
minimumProtocolVersion and strategy enums, required service name+port, delegate
name/namespace). Port range and negative weights are deliberately NOT bounded here, as
upstream: the controller reports them as `invalid` with Contour's exact description, so the
same object behaves the same from a folder and from a cluster.
"""

from __future__ import annotations

from controller.validation.crds import CRD, Column, proxy_columns
from controller.validation.openapi import BOOLEAN, STRING, array, integer, obj, one_of, string

GROUP = "contour.heptio.com"
LABELS = {"component": "ingressroute"}
PATH = string(r"^\/.*$")

HEALTH_CHECK = obj(
    ("path",), path=PATH, host=STRING, intervalSeconds=integer(), timeoutSeconds=integer(),
    unhealthyThresholdCount=integer(), healthyThresholdCount=integer(),
)  # fmt: skip
SERVICE = obj(
    ("name", "port"),
    name=string(r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
    port=integer(),
    weight=integer(),
    strategy=one_of("RoundRobin", "WeightedLeastRequest", "Random", "Cookie"),
    healthCheck=HEALTH_CHECK,
    validation=obj(caSecret=STRING, subjectName=STRING),
)
DELEGATE = obj(
    ("name",),
    name=string(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
    namespace=string(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
)
ROUTE = obj(
    ("match",),
    match=PATH,
    services=array(SERVICE),
    delegate=DELEGATE,
    enableWebsockets=BOOLEAN,
    permitInsecure=BOOLEAN,
    prefixRewrite=STRING,
    timeoutPolicy=obj(request=STRING),
    retryPolicy=obj(count=integer(), perTryTimeout=STRING),
)
VIRTUAL_HOST = obj(
    fqdn=string(r"^([a-zA-Z0-9]+(-[a-zA-Z0-9]+)*\.)+[\-a-z0-9]{2,}|[\-a-z0-9]+$"),
    tls=obj(
        secretName=string(
            r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([\.\/][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        minimumProtocolVersion=one_of("1.3", "1.2", "1.1"),
        passthrough=BOOLEAN,
    ),
)

INGRESSROUTE = CRD(
    group=GROUP, version="v1beta1", kind="IngressRoute", plural="ingressroutes",
    labels=LABELS,
    spec=obj(virtualhost=VIRTUAL_HOST, routes=array(ROUTE),
             tcpproxy=obj(services=array(SERVICE), delegate=DELEGATE)),
    status=obj(currentStatus=STRING, description=STRING),
    columns=proxy_columns("IngressRoute",
                          Column("First route", ".spec.routes[0].match", "First routes defined")),
)  # fmt: skip

TLS_CERTIFICATE_DELEGATION = CRD(
    group=GROUP, version="v1beta1", kind="TLSCertificateDelegation",
    plural="tlscertificatedelegations", labels=LABELS,
    spec=obj(delegations=array(obj(("secretName", "targetNamespaces"), secretName=STRING,
                                   targetNamespaces=array(STRING)))),
)  # fmt: skip

CRDS = (INGRESSROUTE, TLS_CERTIFICATE_DELEGATION)
