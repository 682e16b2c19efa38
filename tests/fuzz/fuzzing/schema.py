"""The schemas the fuzzer's oracle judges objects by.

The CRD kinds (IngressRoute, HTTPProxy, both TLSCertificateDelegations, ExtensionService):
the CRDs' `openAPIV3Schema` read from manifests/01-crds.yaml (the single source of truth;
their CEL rules are the manifests' too, see oracle.py), plus overlays for the bounds the
IngressRoute CRD leaves to the builder on purpose (ports, weights, host names, paths,
durations Envoy can hold). Core kinds: the API server's rules for the fields the
controller reads, written here in the same JSON-schema subset (a test oracle, independent
of controller/validation).

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
    path = {**obj(("backend",), path=string(), backend=backend,
                  pathType=string(enum=["Exact", "Prefix", "ImplementationSpecific"])),
            "x-check": "ingress-http-path"}
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


V1_DELEGATION = "TLSCertificateDelegation.projectcontour.io"
"""projectcontour.io's TLSCertificateDelegation shares its kind name with contour.heptio.com's:
its schema is keyed (and the controller reports it) as this kind."""
DURATION_MARK = r"(\d*(\.\d*)?h)"
"""Part of every Go duration pattern of the projectcontour.io CRDs (crd_httpproxy.duration)."""


def schema_key(obj: Any) -> str:
    """The kind an object is judged and reported as: its `kind`, except a projectcontour.io
    TLSCertificateDelegation (V1_DELEGATION), as the controller's event kind."""
    kind = obj.get("kind") if isinstance(obj, dict) else None
    api = obj.get("apiVersion") if isinstance(obj, dict) else None
    if kind == "TLSCertificateDelegation" and isinstance(api, str) and \
            api.startswith("projectcontour.io/"):
        return V1_DELEGATION
    return str(kind)


@functools.cache
def manifest_schemas() -> dict[str, Schema]:
    """schema_key → the CRD's own openAPIV3Schema in manifests/01-crds.yaml (every group)."""
    out: dict[str, Schema] = {}
    for doc in yaml.safe_load_all((ROOT / "manifests" / "01-crds.yaml").read_text()):
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        version = doc["spec"]["versions"][0]
        out[schema_key({"kind": kind, "apiVersion": f"{group}/{version['name']}"})] = \
            version["schema"]["openAPIV3Schema"]
    return out


def _api_versions(key: str) -> list[str]:
    for doc in yaml.safe_load_all((ROOT / "manifests" / "01-crds.yaml").read_text()):
        group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
        versions = [f"{group}/{v['name']}" for v in doc["spec"]["versions"]]
        if schema_key({"kind": kind, "apiVersion": versions[0]}) == key:
            return versions
    raise KeyError(key)


@functools.cache
def crd_schemas() -> dict[str, Schema]:
    """schema_key → openAPIV3Schema of manifests/01-crds.yaml, with metadata rules (the API
    server's), the IngressRoute overlays, and the fuzzer's marks (`x-fuzz`: where a
    duration or a regex is, for the mutations)."""
    out: dict[str, Schema] = {}
    for key, crd in manifest_schemas().items():
        schema = copy.deepcopy(crd)
        schema["properties"]["metadata"] = _metadata(DNS1123_SUBDOMAIN, 253)
        schema["required"] = sorted({"apiVersion", "kind", "metadata",
                                     *schema.get("required", ())})
        schema["properties"]["apiVersion"]["enum"] = _api_versions(key)
        _mark(schema, "")
        out[key] = schema
    for path, extra in IR_OVERLAYS.items():
        at(out["IngressRoute"], path).update(extra)
    return out


def _mark(schema: Schema, key: str) -> None:
    """Tag duration strings (by their pattern) and regex fields (by name) with `x-fuzz`."""
    if DURATION_MARK in str(schema.get("pattern", "")):
        schema["x-fuzz"] = "duration"
    elif key == "regex" and schema.get("type") == "string":
        schema["x-fuzz"] = "regex"
    for name, sub in (schema.get("properties") or {}).items():
        _mark(sub, name)
    if isinstance(schema.get("items"), dict):
        _mark(schema["items"], "")


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
