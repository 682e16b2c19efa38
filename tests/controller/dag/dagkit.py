"""Object factories for the DAG tests: raw Kubernetes dicts, as a source would hand them over."""

from __future__ import annotations

import base64
import datetime
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from controller.config import BuilderSettings
from controller.dag.builder import build
from controller.dag.incremental import IncrementalBuilder
from controller.dag.model import DAG, Route, SecureVirtualHost, VirtualHost
from controller.dag.store import ObjectStore
from controller.k8s.objects import key_of, kind_of

Obj = dict[str, Any]


def meta(name: str, ns: str | None = "default", annotations: dict[str, str] | None = None) -> Obj:
    m: Obj = {"name": name}
    if ns is not None:
        m["namespace"] = ns
    if annotations:
        m["annotations"] = annotations
    return m


def svc(name: str, port: Any, **extra: Any) -> Obj:
    """An IngressRoute `services[]` entry."""
    return {"name": name, "port": port, **extra}


def route(match: Any, *services: Obj, delegate: Any = None, **extra: Any) -> Obj:
    r: Obj = {"match": match, **extra}
    if services:
        r["services"] = list(services)
    if delegate is not None:
        r["delegate"] = {"name": delegate} if isinstance(delegate, str) else delegate
    return r


def ir(
    name: str,
    ns: str = "default",
    *,
    fqdn: Any = None,
    routes: Any = None,
    tls: Any = None,
    tcpproxy: Any = None,
    annotations: dict[str, str] | None = None,
    root: bool | None = None,
) -> Obj:
    """An IngressRoute; a root when `fqdn` or `tls` is given (or `root=True`)."""
    spec: Obj = {}
    if root or fqdn is not None or tls is not None:
        vh: Obj = {} if fqdn is None else {"fqdn": fqdn}
        if tls is not None:
            vh["tls"] = tls
        spec["virtualhost"] = vh
    if routes is not None:
        spec["routes"] = routes
    if tcpproxy is not None:
        spec["tcpproxy"] = tcpproxy
    return {
        "apiVersion": "contour.heptio.com/v1beta1",
        "kind": "IngressRoute",
        "metadata": meta(name, ns, annotations),
        "spec": spec,
    }


def service(
    name: str,
    ns: str = "default",
    ports: Any = ((None, 80),),
    *,
    annotations: dict[str, str] | None = None,
    external_name: str | None = None,
) -> Obj:
    spec: Obj = {"ports": [({"name": n} if n else {}) | {"port": p} for n, p in ports]}
    if external_name is not None:
        spec |= {"type": "ExternalName", "externalName": external_name}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, ns, annotations),
        "spec": spec,
    }


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def secret(
    name: str,
    ns: str = "default",
    *,
    cert: bytes | None = None,
    key: bytes | None = None,
    ca: bytes | None = None,
    type: str = "kubernetes.io/tls",
) -> Obj:
    if cert is None and key is None and type == "kubernetes.io/tls":
        cert, key = tls_pair()
    data = {}
    for k, v in (("tls.crt", cert), ("tls.key", key), ("ca.crt", ca)):
        if v is not None:
            data[k] = b64(v)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": type,
        "metadata": meta(name, ns),
        "data": data,
    }


def delegation(name: str, ns: str, *grants: tuple[str, list[str]]) -> Obj:
    return {
        "apiVersion": "contour.heptio.com/v1beta1",
        "kind": "TLSCertificateDelegation",
        "metadata": meta(name, ns),
        "spec": {"delegations": [{"secretName": s, "targetNamespaces": t} for s, t in grants]},
    }


def backend(name: str, port: int | str) -> Obj:
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": name, "port": {key: port}}}


def path(p: str | None, be: Obj, path_type: str | None = "ImplementationSpecific") -> Obj:
    out: Obj = {"backend": be}
    if p is not None:
        out["path"] = p
    if path_type is not None:
        out["pathType"] = path_type
    return out


def rule(host: str | None, *paths: Obj) -> Obj:
    r: Obj = {"http": {"paths": list(paths)}}
    if host is not None:
        r["host"] = host
    return r


def ingress(
    name: str,
    ns: str = "default",
    *,
    rules: list[Obj] | None = None,
    default: Obj | None = None,
    tls: list[Obj] | None = None,
    annotations: dict[str, str] | None = None,
    class_name: str | None = None,
) -> Obj:
    spec: Obj = {}
    if rules is not None:
        spec["rules"] = rules
    if default is not None:
        spec["defaultBackend"] = default
    if tls is not None:
        spec["tls"] = tls
    if class_name is not None:
        spec["ingressClassName"] = class_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta(name, ns, annotations),
        "spec": spec,
    }


# -- certificates ---------------------------------------------------------------------------


def _pem_key(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificate(key: Any, cn: str = "example.com") -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@lru_cache(maxsize=8)
def ec_key(n: int = 0, curve: str = "p256") -> Any:
    curves = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "k256": ec.SECP256K1()}
    return ec.generate_private_key(curves[curve])


@lru_cache(maxsize=4)
def rsa_key(bits: int = 2048) -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@lru_cache(maxsize=8)
def tls_pair(n: int = 0) -> tuple[bytes, bytes]:
    """A matching (cert, key) PEM pair; different `n` → a different key."""
    key = ec_key(n)
    return certificate(key), _pem_key(key)


def pem_key(key: Any) -> bytes:
    return _pem_key(key)


# -- building -------------------------------------------------------------------------------


def store_of(*objs: Obj, settings: BuilderSettings | None = None) -> ObjectStore:
    store = ObjectStore(settings or BuilderSettings())
    for obj in objs:
        store.upsert(obj)
    return store


def build_dag(*objs: Obj, settings: BuilderSettings | None = None) -> DAG:
    """The DAG of `objs`, from both builders (see build_both)."""
    return build_both(*objs, settings=settings)


def build_full(*objs: Obj, settings: BuilderSettings | None = None) -> DAG:
    """The full builder only: for timing tests, where replaying every object through the
    incremental builder would measure the test."""
    settings = settings or BuilderSettings()
    return build(store_of(*objs, settings=settings), settings)


def statuses(dag: DAG) -> dict[str, tuple[str, str]]:
    """ "ns/name" → (currentStatus, description)."""
    return {f"{s.namespace}/{s.name}": (s.current, s.description) for s in dag.statuses}


def http_vhost(dag: DAG, host: str) -> VirtualHost | None:
    return next((v for v in dag.http if v.host == host), None)


def https_vhost(dag: DAG, host: str) -> SecureVirtualHost | None:
    return next((v for v in dag.https if v.host == host), None)


def http_routes(dag: DAG, host: str) -> dict[str, Route]:
    vh = http_vhost(dag, host)
    return {r.match: r for r in vh.routes} if vh else {}


def https_routes(dag: DAG, host: str) -> dict[str, Route]:
    vh = https_vhost(dag, host)
    return {r.match: r for r in vh.routes} if vh else {}


def upstreams(r: Route) -> list[tuple[str, int, int]]:
    """(ns/name, port, weight) per cluster."""
    return [
        (f"{c.service.namespace}/{c.service.name}", c.service.port, c.weight) for c in r.clusters
    ]


# -- HTTPProxy ------------------------------------------------------------------------------


def hp_svc(name: str, port: Any = 80, **extra: Any) -> Obj:
    """An HTTPProxy `services[]` entry."""
    return {"name": name, "port": port, **extra}


def hp_route(*services: Obj, conditions: list[Obj] | None = None, **extra: Any) -> Obj:
    r: Obj = {**extra}
    if services:
        r["services"] = list(services)
    if conditions is not None:
        r["conditions"] = conditions
    return r


def include(name: str, ns: str | None = None, conditions: list[Obj] | None = None) -> Obj:
    inc: Obj = {"name": name}
    if ns is not None:
        inc["namespace"] = ns
    if conditions is not None:
        inc["conditions"] = conditions
    return inc


def hp(
    name: str,
    ns: str = "default",
    *,
    fqdn: Any = None,
    routes: list[Obj] | None = None,
    includes: list[Obj] | None = None,
    tls: Obj | None = None,
    tcpproxy: Obj | None = None,
    vhost: Obj | None = None,
    annotations: dict[str, str] | None = None,
) -> Obj:
    """An HTTPProxy; a root when `fqdn` (or `vhost`) is given. `vhost` adds virtualhost
    fields (corsPolicy, ipAllowPolicy, rateLimitPolicy...)."""
    spec: Obj = {}
    if fqdn is not None or vhost is not None:
        vh: Obj = {"fqdn": fqdn or "", **(vhost or {})}
        if tls is not None:
            vh["tls"] = tls
        spec["virtualhost"] = vh
    for key, value in (("routes", routes), ("includes", includes), ("tcpproxy", tcpproxy)):
        if value is not None:
            spec[key] = value
    return {
        "apiVersion": "projectcontour.io/v1",
        "kind": "HTTPProxy",
        "metadata": meta(name, ns, annotations),
        "spec": spec,
    }


def hp_delegation(name: str, ns: str, *grants: tuple[str, list[str]]) -> Obj:
    obj = delegation(name, ns, *grants)
    obj["apiVersion"] = "projectcontour.io/v1"
    return obj


def condition(dag: DAG, ns: str, name: str, kind: str = "HTTPProxy") -> Any:
    """The Valid condition of one object's status (KeyError when it has none)."""
    for s in dag.statuses:
        if (s.namespace, s.name, s.kind) == (ns, name, kind):
            return s.conditions[0]
    raise KeyError((ns, name, kind))


def build_both(*objs: Obj, settings: BuilderSettings | None = None) -> DAG:
    """The DAG of `objs` from the full builder, after checking that the incremental builder
    gives the same one, both at once and object by object (every table test runs here)."""
    settings = settings or BuilderSettings()
    store = store_of(*objs, settings=settings)
    full = build(store, settings)
    assert IncrementalBuilder(store, settings).build()[0] == full
    store = ObjectStore(settings)
    incremental = IncrementalBuilder(store, settings)
    for obj in objs:
        store.upsert(obj)
        incremental.touch(kind_of(obj), *key_of(obj))
        incremental.build()
    assert incremental.build()[0] == full
    return full


def hp_status(dag: DAG, ns: str, name: str) -> tuple[str, list[tuple[str, str, str]],
                                                   list[tuple[str, str, str]]]:
    """(currentStatus, [(type, reason, message)] errors, the same for warnings)."""
    c = condition(dag, ns, name)
    s = next(s for s in dag.statuses if (s.namespace, s.name, s.kind) == (ns, name, "HTTPProxy"))
    return (s.current, [(e.type, e.reason, e.message) for e in c.errors],
            [(w.type, w.reason, w.message) for w in c.warnings])


def apply_events(store: ObjectStore, builder: IncrementalBuilder,
                 events: list[tuple[str, str, str, Obj | None]]) -> Any:
    """Store each (kind, namespace, name, object or None for a delete), touch it, and
    return the incremental build (DAG, changes)."""
    for kind, ns, name, obj in events:
        if obj is None:
            store.remove(kind, ns, name)
        else:
            store.upsert(obj)
        builder.touch(kind, ns, name)
    return builder.build()
