"""Valid objects of every kind the controller reads, with random but valid optional fields.

Every builder takes a `random.Random` (or Hypothesis' `st.randoms()`), so the same code is
seeded and reproducible in the fuzzer and shrinkable in the property tests. Endpoints point
at DEAD_IP:DEAD_PORT, a loopback port where nothing listens: Envoy's connections and health
checks are refused at once, and never leave the machine (the workplace allows traffic only
to loopback and to the run's own test hosts). The API server refuses loopback Endpoints, so
the cluster fuzzer moves them to its own test host first (`moved_to`).
"""

from __future__ import annotations

import random
from typing import Any

from fuzzing.secrets import b64, leaves

Obj = dict[str, Any]
IR_API = "contour.heptio.com/v1beta1"
FUZZ_NAMESPACES = ("fz-a", "fz-b", "fz-c")
DEAD_IP = "127.0.0.1"
DEAD_PORT = 9
"""The discard port: nothing listens on it here, so a connection is refused at once."""
STRATEGIES = ("RoundRobin", "WeightedLeastRequest", "Random", "Cookie")
TIMEOUTS = ("1s", "30s", "1m30s", "infinity", "250ms")


def meta(namespace: str | None, name: str, **extra: Any) -> Obj:
    out: Obj = {"name": name, **extra}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(None, name)}


def service(ns: str, name: str, port: int = 80) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(ns, name),
            "spec": {"ports": [{"name": "http", "port": port, "protocol": "TCP",
                                "targetPort": port}]}}


def endpoints(ns: str, name: str, ip: str = DEAD_IP, port: int = DEAD_PORT) -> Obj:
    return {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta(ns, name),
            "subsets": [{"addresses": [{"ip": ip}],
                         "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}]}


def endpoint_slice(ns: str, name: str, svc: str, ip: str = DEAD_IP,
                   port: int = DEAD_PORT) -> Obj:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": meta(ns, name, labels={"kubernetes.io/service-name": svc}),
            "addressType": "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
            "ports": [{"name": "http", "port": port, "protocol": "TCP"}]}


def tls_secret(ns: str, name: str, which: int = 0) -> Obj:
    leaf = leaves()[which]
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(ns, name),
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64(leaf.cert_pem), "tls.key": b64(leaf.key_pem)}}


def delegation(ns: str, name: str, secret: str, targets: list[str]) -> Obj:
    return {"apiVersion": IR_API, "kind": "TLSCertificateDelegation",
            "metadata": meta(ns, name),
            "spec": {"delegations": [{"secretName": secret, "targetNamespaces": targets}]}}


def ir_service(rnd: random.Random, name: str, port: int = 80) -> Obj:
    out: Obj = {"name": name, "port": port}
    if rnd.random() < 0.3:
        out["weight"] = rnd.randint(0, 100)
    if rnd.random() < 0.3:
        out["strategy"] = rnd.choice(STRATEGIES)
    if rnd.random() < 0.2:
        out["healthCheck"] = {"path": "/healthz", "intervalSeconds": rnd.randint(1, 30),
                              "timeoutSeconds": rnd.randint(1, 5),
                              "unhealthyThresholdCount": 3, "healthyThresholdCount": 2}
    return out


def ir_route(rnd: random.Random, match: str, services: list[Obj]) -> Obj:
    out: Obj = {"match": match, "services": services}
    if rnd.random() < 0.2:
        out["timeoutPolicy"] = {"request": rnd.choice(TIMEOUTS)}
    if rnd.random() < 0.2:
        out["retryPolicy"] = {"count": rnd.randint(1, 5), "perTryTimeout": "150ms"}
    if rnd.random() < 0.2:
        out["enableWebsockets"] = rnd.random() < 0.5
    if rnd.random() < 0.2:
        out["permitInsecure"] = rnd.random() < 0.5
    if rnd.random() < 0.2 and match != "/":
        out["prefixRewrite"] = "/"
    return out


def ingressroute(ns: str, name: str, spec: Obj) -> Obj:
    return {"apiVersion": IR_API, "kind": "IngressRoute", "metadata": meta(ns, name),
            "spec": spec}


def root(rnd: random.Random, ns: str, name: str, fqdn: str, svc: str,
         tls_secret_name: str | None = None, delegate: Obj | None = None) -> Obj:
    vhost: Obj = {"fqdn": fqdn}
    if tls_secret_name is not None:
        vhost["tls"] = {"secretName": tls_secret_name}
        if rnd.random() < 0.3:
            vhost["tls"]["minimumProtocolVersion"] = rnd.choice(("1.2", "1.3"))
    routes = [ir_route(rnd, "/", [ir_service(rnd, svc)])]
    if delegate is not None:
        routes.append({"match": "/child", "delegate": delegate})
    return ingressroute(ns, name, {"virtualhost": vhost, "routes": routes})


def child(rnd: random.Random, ns: str, name: str, match: str, svc: str) -> Obj:
    return ingressroute(ns, name, {"routes": [ir_route(rnd, match, [ir_service(rnd, svc)])]})


def ingress(rnd: random.Random, ns: str, name: str, host: str, svc: str,
            tls_secret_name: str | None = None) -> Obj:
    backend = {"service": {"name": svc, "port": {"number": 80}}}
    paths = [{"path": "/", "pathType": rnd.choice(("Prefix", "ImplementationSpecific")),
              "backend": backend}]
    if rnd.random() < 0.3:
        paths.append({"path": "/app", "pathType": "Exact", "backend": backend})
    spec: Obj = {"rules": [{"host": host, "http": {"paths": paths}}]}
    if tls_secret_name is not None:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret_name}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(ns, name),
            "spec": spec}


def backing(rnd: random.Random, ns: str, svc: str) -> list[Obj]:
    """A Service and its endpoints (an Endpoints object or an EndpointSlice)."""
    if rnd.random() < 0.5:
        return [service(ns, svc), endpoints(ns, svc)]
    return [service(ns, svc), endpoint_slice(ns, f"{svc}-x1", svc)]


def moved_to(obj: Any, ip: str) -> Any:
    """A copy of `obj` with every DEAD_IP string replaced by `ip` (the cluster fuzzer's test
    host: the API server refuses loopback Endpoints)."""
    if isinstance(obj, dict):
        return {k: moved_to(v, ip) for k, v in obj.items()}
    if isinstance(obj, list):
        return [moved_to(v, ip) for v in obj]
    return ip if obj == DEAD_IP else obj
