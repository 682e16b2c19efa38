"""The schemas the fuzzer's oracle judges objects by.

IngressRoute and TLSCertificateDelegation: the CRDs' `openAPIV3Schema` read from
manifests/01-crds.yaml (the single source of truth), plus overlays for the bounds the CRDs
leave to the builder on purpose (ports, weights, host names, paths, durations Envoy can
hold). Core kinds: the API server's rules for the fields the controller reads, written here
in the same JSON-schema subset (a test oracle, independent of controller/validation).

Extensions understood by `oracle.py`: `x-check` (a named predicate, see oracle.CHECKS) and
`x-open` (an object whose other keys are not unknown fields).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import yaml

from fuzzing import ROOT

Schema = dict[str, Any]
ITEMS = "[]"  # a path step meaning "every item of the array"

DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS1035_LABEL = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# a port's name may be empty (a Service or Endpoints with one port needs none)
PORT_NAME: Schema = {"type": "string", "pattern": r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$",
                     "maxLength": 15}
PORT: Schema = {"type": "integer", "minimum": 1, "maximum": 65535}
V1 = ["v1"]
INGRESS_VERSIONS = ["networking.k8s.io/v1", "networking.k8s.io/v1beta1", "extensions/v1beta1"]
PROTOCOL: Schema = {"type": "string", "enum": ["TCP", "UDP", "SCTP"]}


def _metadata(name_pattern: str, name_max: int, namespaced: bool = True) -> Schema:
    """What the API server checks of metadata for every kind."""
    props: Schema = {
        "name": {"type": "string", "pattern": name_pattern, "minLength": 1,
                 "maxLength": name_max},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    }
    # a cluster-scoped object's namespace is ignored, but it must still decode as a string
    # "" is an unset namespace (kubectl and the folder source put the object in `default`)
    props["namespace"] = {"type": "string", "pattern": f"^$|{DNS1123_LABEL}", "maxLength": 63} \
        if namespaced else {"type": "string"}
    return {"type": "object", "required": ["name"], "properties": props, "x-open": True}


def _top(api_versions: list[str], metadata: Schema, **fields: Schema) -> Schema:
    """A kind read at `api_versions` (a missing or other apiVersion is refused, as kubectl
    and the API server refuse it)."""
    return {"type": "object", "required": ["apiVersion", "kind", "metadata"], "x-open": True,
            "properties": {"apiVersion": {"type": "string", "enum": api_versions},
                           "kind": {"type": "string"}, "metadata": metadata, **fields}}


def obj(required: tuple[str, ...] = (), open_: bool = False, **props: Schema) -> Schema:
    """An object schema (`open_`: other keys are not unknown fields)."""
    out: Schema = {"type": "object", "properties": props}
    if required:
        out["required"] = list(required)
    if open_:
        out["x-open"] = True
    return out


def arr(items: Schema, min_items: int = 0, max_items: int = 0) -> Schema:
    out: Schema = {"type": "array", "items": items}
    if min_items:
        out["minItems"] = min_items
    if max_items:
        out["maxItems"] = max_items
    return out


def string(**rules: Any) -> Schema:
    return {"type": "string", **rules}


def _ports(required: bool, **extra: Schema) -> Schema:
    return arr(obj(("port",) if required else (), True, name=PORT_NAME, port=PORT,
                   protocol=PROTOCOL, **extra))


def _service() -> Schema:
    kinds = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
    return _top(V1, _metadata(DNS1035_LABEL, 63), spec=obj(
        open_=True, type=string(enum=kinds), externalName=string(**{"x-check": "hostname"}),
        ports=_ports(True, targetPort={"type": ["integer", "string"]})))


def _endpoints() -> Schema:
    addresses = arr(obj(("ip",), True, ip=string(**{"x-check": "ip"}),
                        hostname=string(pattern=DNS1123_LABEL), nodeName=string()))
    return _top(V1, _metadata(DNS1123_SUBDOMAIN, 253), subsets=arr(obj(
        addresses=addresses, notReadyAddresses=addresses, ports=_ports(True))))


def _endpoint_slice() -> Schema:
    boolean: Schema = {"type": "boolean"}
    conditions = obj(ready=boolean, serving=boolean, terminating=boolean)
    endpoint = obj(("addresses",), True, conditions=conditions,
                   addresses=arr(string(**{"x-check": "ip"}), min_items=1, max_items=100))
    schema = _top(["discovery.k8s.io/v1", "discovery.k8s.io/v1beta1"],
                  _metadata(DNS1123_SUBDOMAIN, 253), addressType=string(enum=["IPv4", "IPv6"]),
                  endpoints=arr(endpoint, max_items=1000),
                  ports=_ports(False))  # a slice's port may be absent
    schema["properties"]["ports"]["maxItems"] = 100
    schema["required"].append("addressType")
    return schema


def _secret() -> Schema:
    base64_map = {"type": "object", "additionalProperties": string(**{"x-check": "base64"})}
    plain_map = {"type": "object", "additionalProperties": string()}
    return {**_top(V1, _metadata(DNS1123_SUBDOMAIN, 253), type=string(), data=base64_map,
                   stringData=plain_map), "x-check": "tls-secret"}


def _ingress() -> Schema:
    # the API server: "port name or number is required"
    port = {**obj(number=PORT, name=string(pattern=DNS1123_LABEL, maxLength=15)),
            "minProperties": 1}
    backend = obj(open_=True, service=obj(
        ("name", "port"), name=string(pattern=DNS1035_LABEL, maxLength=63), port=port))
    path = obj(("backend",), path=string(**{"x-check": "ingress-path"}), backend=backend,
               pathType=string(enum=["Exact", "Prefix", "ImplementationSpecific"]))
    rule = obj(host=string(**{"x-check": "ingress-host"}),
               http=obj(("paths",), paths=arr(path)))
    tls = obj(hosts=arr(string(**{"x-check": "ingress-host"})),
              secretName=string())  # `ns/name` with a delegation (spec §2)
    return _top(INGRESS_VERSIONS, _metadata(DNS1123_SUBDOMAIN, 253), spec=obj(
        open_=True, ingressClassName=string(pattern=DNS1123_SUBDOMAIN), defaultBackend=backend,
        rules=arr(rule), tls=arr(tls)))


def core_schemas() -> dict[str, Schema]:
    """Service, Endpoints, EndpointSlice, Secret, Ingress, Namespace."""
    return {"Service": _service(), "Endpoints": _endpoints(),
            "EndpointSlice": _endpoint_slice(), "Secret": _secret(), "Ingress": _ingress(),
            "Namespace": _top(V1, _metadata(DNS1123_LABEL, 63, namespaced=False))}


_SERVICE = ("services", ITEMS)
# The builder's bounds that the CRDs leave open on purpose (docs/decisions.md), and what
# Envoy refuses: these make an IngressRoute `invalid` although the API server admits it.
IR_OVERLAYS: dict[tuple[str, ...], Schema] = {
    ("spec", "virtualhost", "fqdn"): {"x-check": "hostname"},
    ("spec", "routes", ITEMS, "match"): {"x-check": "path"},
    ("spec", "routes", ITEMS, "prefixRewrite"): {"x-check": "rewrite"},
    ("spec", "routes", ITEMS, *_SERVICE, "port"): {"minimum": 1, "maximum": 65535},
    ("spec", "routes", ITEMS, *_SERVICE, "weight"): {"minimum": 0, "maximum": 2**32 - 1},
    ("spec", "routes", ITEMS, *_SERVICE, "healthCheck", "path"): {"x-check": "path"},
    ("spec", "routes", ITEMS, "timeoutPolicy", "request"): {"x-check": "duration"},
    ("spec", "routes", ITEMS, "retryPolicy", "perTryTimeout"): {"x-check": "duration"},
    ("spec", "tcpproxy", *_SERVICE, "port"): {"minimum": 1, "maximum": 65535},
}


FUZZED_GROUP = "contour.heptio.com"
"""The fuzzer writes the IngressRoute era's kinds; projectcontour.io's TLSCertificateDelegation
has the same kind name, so only this group's CRDs are read."""


@functools.cache
def crd_schemas() -> dict[str, Schema]:
    """kind → openAPIV3Schema of manifests/01-crds.yaml (FUZZED_GROUP), with metadata rules
    and overlays."""
    out: dict[str, Schema] = {}
    text = (ROOT / "manifests" / "01-crds.yaml").read_text()
    for doc in yaml.safe_load_all(text):
        if doc["spec"]["group"] != FUZZED_GROUP:
            continue
        kind = doc["spec"]["names"]["kind"]
        schema = copy.deepcopy(doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
        schema["properties"]["metadata"] = _metadata(DNS1123_SUBDOMAIN, 253)
        schema["required"] = ["apiVersion", "kind", "metadata"]
        schema["properties"]["apiVersion"]["enum"] = [
            f"{doc['spec']['group']}/{v['name']}" for v in doc["spec"]["versions"]]
        schema.pop("x-open", None)
        out[kind] = schema
    for path, extra in IR_OVERLAYS.items():
        at(out["IngressRoute"], path).update(extra)
    return out


@functools.cache
def all_schemas() -> dict[str, Schema]:
    return {**crd_schemas(), **core_schemas()}


def at(schema: Schema, path: tuple[str, ...]) -> Schema:
    """The sub-schema at `path` (ITEMS steps into an array's items); KeyError if absent."""
    for step in path:
        schema = schema["items"] if step == ITEMS else schema["properties"][step]
    return schema


def child(schema: Schema | None, key: str | int) -> Schema | None:
    """The sub-schema of one key or index; None when the schema says nothing of it."""
    if schema is None:
        return None
    if isinstance(key, int):
        items = schema.get("items")
        return items if isinstance(items, dict) else None
    props = schema.get("properties") or {}
    if key in props:
        return props[key]  # type: ignore[no-any-return]
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None
