"""The core kinds' rules: the API server's, for the fields the controller reads
(controller/k8s/views.py, k8s/endpoints.py, xdscache/endpoints.py, dag/secrets.py,
dag/ingress.py), with their types. Other fields are neither checked nor pruned.

No field here is nullable: a null at a declared field is dropped before validation
(prune.py), which is what the API server's decoding does (a JSON null is the Go zero
value, omitted when the object is read back); a null inside a list is a type error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.validation import formats
from controller.validation.openapi import BOOLEAN, STRING, Schema, array, obj, one_of

PORT: Schema = {"type": "integer", "minimum": 1, "maximum": 65535}
PORT_OR_NAME: Schema = {
    "anyOf": [PORT, formats.iana_svc_name()],
    formats.REASON: "must be a port number (1-65535) or an IANA service name",
}


PROTOCOL = one_of("TCP", "UDP", "SCTP")
PORT_NAME = formats.dns1123_label(allow_empty=True)

SERVICE = obj(spec=obj(
    type=one_of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"),
    externalName=formats.dns1123_subdomain(trailing_dot=True),
    ports=array(obj(("port",), port=PORT, name=PORT_NAME, protocol=PROTOCOL,
                    targetPort=PORT_OR_NAME)),
))  # fmt: skip

_ENDPOINT_ADDRESS = obj(("ip",), ip=formats.ip_address())
ENDPOINTS = obj(subsets=array(obj(
    addresses=array(_ENDPOINT_ADDRESS),
    notReadyAddresses=array(_ENDPOINT_ADDRESS),
    ports=array(obj(("port",), port=PORT, name=PORT_NAME, protocol=PROTOCOL)),
)))  # fmt: skip

ADDRESS_TYPES = ("IPv4", "IPv6", "FQDN")


def endpointslice(address: Schema) -> Schema:
    """An EndpointSlice whose addresses follow `address` (chosen by its addressType)."""
    endpoint = obj(
        ("addresses",),
        addresses=array(address, minItems=1, maxItems=100),
        conditions=obj(ready=BOOLEAN, serving=BOOLEAN, terminating=BOOLEAN),
    )
    return obj(
        ("addressType",),
        addressType=one_of(*ADDRESS_TYPES),
        endpoints=array(endpoint, maxItems=1000),
        ports=array(obj(port=PORT, name=PORT_NAME, protocol=PROTOCOL), maxItems=100),
    )


# FQDN slices are valid (the API server takes them) but carry no IP the controller can use.
ENDPOINTSLICE_BY_ADDRESS_TYPE = {
    "IPv4": endpointslice(formats.ip_address("IPv4")),
    "IPv6": endpointslice(formats.ip_address("IPv6")),
    "FQDN": endpointslice(formats.dns1123_subdomain()),
}
ENDPOINTSLICE = endpointslice(STRING)  # an addressType outside the enum fails on it

_DATA_KEYS = f"^{formats.CONFIG_KEY_PATTERN}$"
SECRET = obj(
    type=STRING,
    data={"type": "object", "patternProperties": {_DATA_KEYS: formats.base64()},
          "additionalProperties": False, formats.REASON: formats.CONFIG_KEY_REASON},
    stringData={"type": "object", "patternProperties": {_DATA_KEYS: STRING},
                "additionalProperties": False, formats.REASON: formats.CONFIG_KEY_REASON},
)  # fmt: skip

# networking.k8s.io/v1, and the v1beta1 shapes the views accept (serviceName/servicePort,
# spec.backend) in any version
_BACKEND = obj(
    service=obj(("name", "port"), name=formats.dns1035_label(),
                port={**obj(number=PORT, name=STRING), "minProperties": 1}),
    serviceName=formats.dns1035_label(),
    servicePort={"type": ["integer", "string"], "minimum": 1, "maximum": 65535},
    resource={"type": "object"},
)
_HTTP_PATH = {
    **obj(("backend",),
          path={"type": "string", "pattern": r"^(/[\s\S]*)?$",
                formats.REASON: "must be an absolute path (start with '/')"},
          pathType=one_of("Exact", "Prefix", "ImplementationSpecific"),
          backend=_BACKEND),
    # the API server's rule for Exact and Prefix: a path, absolute and without sequences
    # that normalize away (ImplementationSpecific may be empty and hold anything). Draft 4
    # has no if/then: either the pathType is neither, or the path keeps the rule.
    "allOf": [{"anyOf": [
        {"not": {"required": ["pathType"],
                 "properties": {"pathType": {"enum": ["Exact", "Prefix"]}}}},
        {"required": ["path"], "properties": {"path": {"type": "string", "pattern": "^/", "not": {
            "pattern": r"//|/\./|/\.\./|%2[fF]|/\.\.?$"}}}},
        {"required": ["path"], "properties": {"path": {"not": {"type": "string"}}}},  # said once
    ], formats.REASON: "an Exact or Prefix path must be absolute (start with '/'), hold no "
                       "'//', '/./', '/../' or '%2f', and not end with '/..' or '/.'"}],
}
INGRESS = obj(spec=obj(
    ingressClassName=STRING,
    defaultBackend=_BACKEND,
    backend=_BACKEND,
    rules=array(obj(host=formats.ingress_host(),
                    http=obj(("paths",), paths=array(_HTTP_PATH)))),
    tls=array(obj(hosts=array(formats.ingress_host()), secretName=STRING)),
))  # fmt: skip

INGRESS_CLASS = obj(spec=obj(controller=STRING))


@dataclass(frozen=True)
class CoreKind:
    """A core kind: its schema, the apiVersions it is read from, its name rule, and
    `variants`: schemas chosen by the value of the `variant_field` (an EndpointSlice's
    addressType decides what an address must be)."""

    kind: str
    api_versions: tuple[str, ...]
    schema: Schema
    name_rule: Schema = field(default_factory=formats.dns1123_subdomain)
    namespaced: bool = True
    variant_field: str = ""
    variants: dict[str, Schema] = field(default_factory=dict)


CORE_KINDS = (
    CoreKind("Service", ("v1",), SERVICE, name_rule=formats.dns1035_label()),
    CoreKind("Endpoints", ("v1",), ENDPOINTS),
    CoreKind("EndpointSlice", ("discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"),
             ENDPOINTSLICE, variant_field="addressType",
             variants=ENDPOINTSLICE_BY_ADDRESS_TYPE),
    CoreKind("Secret", ("v1",), SECRET),
    CoreKind("Ingress", ("networking.k8s.io/v1", "networking.k8s.io/v1beta1",
                         "extensions/v1beta1"), INGRESS),
    CoreKind("Namespace", ("v1",), obj(), name_rule=formats.dns1123_label(),
             namespaced=False),
    CoreKind("IngressClass", ("networking.k8s.io/v1", "networking.k8s.io/v1beta1"),
             INGRESS_CLASS, namespaced=False),
)  # fmt: skip
