"""Valid objects of every kind the boundary knows, and `mutate()` for table-driven cases."""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
Path = tuple[str | int, ...]

IR_API = "contour.heptio.com/v1beta1"


def ingressroute() -> Obj:
    return {
        "apiVersion": IR_API,
        "kind": "IngressRoute",
        "metadata": {"name": "root", "namespace": "team"},
        "spec": {
            "virtualhost": {"fqdn": "a.example.com",
                            "tls": {"secretName": "cert", "minimumProtocolVersion": "1.2"}},
            "routes": [{
                "match": "/",
                "services": [{"name": "web", "port": 80, "weight": 10, "strategy": "Random",
                              "healthCheck": {"path": "/healthz", "intervalSeconds": 5}}],
                "enableWebsockets": True,
                "prefixRewrite": "/app",
                "timeoutPolicy": {"request": "1s"},
                "retryPolicy": {"count": 3, "perTryTimeout": "100ms"},
            }, {"match": "/child", "delegate": {"name": "child", "namespace": "other"}}],
        },
    }  # fmt: skip


def delegation() -> Obj:
    return {
        "apiVersion": IR_API,
        "kind": "TLSCertificateDelegation",
        "metadata": {"name": "grant", "namespace": "certs"},
        "spec": {"delegations": [{"secretName": "wild", "targetNamespaces": ["*"]}]},
    }


def service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": "team", "labels": {"app": "web"},
                     "annotations": {"contour.heptio.com/upstream-protocol.h2c": "80"}},
        "spec": {"type": "ClusterIP", "ports": [
            {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
            {"name": "admin", "port": 9000, "targetPort": "admin"},
        ]},
    }  # fmt: skip


def endpoints() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "web", "namespace": "team"},
        "subsets": [{
            "addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1", "hostname": "web-0"}],
            "notReadyAddresses": [{"ip": "10.0.0.2"}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        }],
    }  # fmt: skip


def endpointslice(address_type: str = "IPv4", address: str = "10.0.0.1") -> Obj:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": "web-abc", "namespace": "team",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": address_type,
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
    }  # fmt: skip


def secret() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cert", "namespace": "team"},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"},
        "stringData": {"ca.crt": "plain"},
    }


def _backend() -> Obj:
    return {"service": {"name": "web", "port": {"number": 80}}}


def ingress() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "team",
                     "annotations": {"kubernetes.io/ingress.class": "contour"}},
        "spec": {
            "ingressClassName": "contour",
            "defaultBackend": _backend(),
            "rules": [{"host": "a.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": _backend()},
                {"path": "/x", "pathType": "Exact",
                 "backend": {"service": {"name": "web", "port": {"name": "http"}}}},
            ]}}, {"host": "b.example.com"}],
            "tls": [{"hosts": ["a.example.com"], "secretName": "cert"}],
        },
    }  # fmt: skip


def ingress_v1beta1() -> Obj:
    backend = {"serviceName": "web", "servicePort": "http"}
    return {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": "old", "namespace": "team"},
        "spec": {"backend": {"serviceName": "web", "servicePort": 80},
                 "rules": [{"http": {"paths": [{"path": "/", "backend": backend}]}}]},
    }  # fmt: skip


def namespace() -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}


def ingressclass() -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": "contour"},
        "spec": {"controller": "projectcontour.io/contour"},
    }


HP_API = "projectcontour.io/v1"


def httpproxy() -> Obj:
    """A root HTTPProxy using much of v1.33's API (every value schema-valid)."""
    service = {"name": "web", "port": 80, "weight": 10, "protocol": "tls",
               "validation": {"caSecret": "ca", "subjectName": "web.team",
                              "subjectNames": ["web.team", "web"]},
               "requestHeadersPolicy": {"set": [{"name": "X-A", "value": "1"}]},
               "slowStartPolicy": {"window": "5s", "aggression": "1.5"}}
    return {
        "apiVersion": HP_API,
        "kind": "HTTPProxy",
        "metadata": {"name": "root", "namespace": "team"},
        "spec": {
            "virtualhost": {"fqdn": "*.example.com",
                            "tls": {"secretName": "cert", "minimumProtocolVersion": "1.2"},
                            "corsPolicy": {"allowOrigin": ["*"], "allowMethods": ["GET"],
                                           "maxAge": "10m"},
                            "ipAllowPolicy": [{"source": "Peer", "cidr": "10.0.0.0/8"}]},
            "routes": [{
                "conditions": [{"prefix": "/"}, {"header": {"name": "x", "present": True}}],
                "services": [service],
                "timeoutPolicy": {"response": "1s", "idle": "infinity"},
                "retryPolicy": {"count": 3, "perTryTimeout": "100ms", "retryOn": ["5xx"],
                                "retriableStatusCodes": [503]},
                "loadBalancerPolicy": {"strategy": "RequestHash", "requestHashPolicies": [
                    {"headerHashOptions": {"headerName": "x-user"}, "terminal": True}]},
                "healthCheckPolicy": {"path": "/healthz", "intervalSeconds": 5,
                                      "expectedStatuses": [{"start": 200, "end": 300}]},
                "rateLimitPolicy": {"local": {"requests": 10, "unit": "second"}},
            }, {
                "conditions": [{"exact": "/moved"}],
                "requestRedirectPolicy": {"scheme": "https", "statusCode": 301},
            }],
            "includes": [{"name": "child", "namespace": "other",
                          "conditions": [{"prefix": "/child"}]}],
        },
    }  # fmt: skip


def delegation_v1() -> Obj:
    return {**delegation(), "apiVersion": HP_API}


def extensionservice() -> Obj:
    return {
        "apiVersion": "projectcontour.io/v1alpha1",
        "kind": "ExtensionService",
        "metadata": {"name": "authz", "namespace": "auth"},
        "spec": {"protocol": "h2c", "services": [{"name": "authz", "port": 9000}],
                 "timeoutPolicy": {"response": "1s"}},
    }


VALID = {
    "HTTPProxy": httpproxy, "TLSCertificateDelegation-v1": delegation_v1,
    "ExtensionService": extensionservice,
    "IngressRoute": ingressroute, "TLSCertificateDelegation": delegation,
    "Service": service, "Endpoints": endpoints, "EndpointSlice": endpointslice,
    "Secret": secret, "Ingress": ingress, "Ingress-v1beta1": ingress_v1beta1,
    "Namespace": namespace, "IngressClass": ingressclass,
}  # fmt: skip

DELETE = object()


def mutate(obj: Obj, path: Path, value: object) -> Obj:
    """A deep copy of `obj` with `value` at `path` (DELETE removes the key)."""
    out = copy.deepcopy(obj)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out
