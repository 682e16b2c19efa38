"""Bad input stays in its own virtual host: with any hostile object added, the resources of
every other virtual host are byte-identical, and Envoy accepts everything that is produced."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from conftest import self_signed
from test_envoy_validate import _inline_routes

from controller.config import BuilderSettings, ListenerSettings
from controller.dag.builder import build
from controller.dag.store import ObjectStore
from controller.envoy import pb
from controller.envoy.bootstrap import bootstrap
from controller.xdscache.translator import Translator, decode

Obj = dict[str, Any]
CERT, KEY = self_signed("b.com")
OTHER_CERT, _ = self_signed("other.com")


def b64(data: bytes | str) -> str:
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


def meta(name: str, ns: str = "default", **annotations: str) -> Obj:
    return {"name": name, "namespace": ns, "annotations": annotations}


def service(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name),
            "spec": {"ports": [{"name": "http", "port": 80}]}}


def root(name: str, fqdn: Any, routes: Any, **vhost: Any) -> Obj:
    return {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
            "metadata": meta(name), "spec": {"virtualhost": {"fqdn": fqdn, **vhost},
                                             "routes": routes}}


def ingress(name: str, host: str, path: str) -> Obj:
    backend = {"service": {"name": "bad", "port": {"number": 80}}}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta(name),
            "spec": {"rules": [{"host": host, "http": {"paths": [
                {"path": path, "pathType": "ImplementationSpecific", "backend": backend}]}}]}}


def tls_secret(name: str, cert: bytes, key: bytes) -> Obj:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta(name),
            "type": "kubernetes.io/tls", "data": {"tls.crt": b64(cert), "tls.key": b64(key)}}


GOOD = [
    service("a"), service("b"), service("bad"), tls_secret("b-tls", CERT, KEY),
    root("a", "a.com", [{"match": "/", "services": [{"name": "a", "port": 80}]}]),
    root("b", "b.com", [{"match": "/", "services": [{"name": "b", "port": 80}]}],
         tls={"secretName": "b-tls"}),
]
ROUTE_TO_BAD = [{"match": "/", "services": [{"name": "bad", "port": 80}]}]
HOSTILE: dict[str, Obj] = {
    "fqdn-case-duplicate": root("dup", "A.COM", ROUTE_TO_BAD),
    "fqdn-control-chars": root("x", "x\r\n.com", ROUTE_TO_BAD),
    "fqdn-wildcard": root("x", "*.com", ROUTE_TO_BAD),
    "match-with-newline": root("x", "x.com", [{"match": "/a\nb", "services": [
        {"name": "bad", "port": 80}]}]),
    "negative-weight": root("x", "x.com", [{"match": "/", "services": [
        {"name": "bad", "port": 80, "weight": -1}, {"name": "a", "port": 80}]}]),
    "absurd-port": root("x", "x.com", [{"match": "/", "services": [
        {"name": "bad", "port": 10**12}]}]),
    "wrong-types": root("x", ["x.com"], {"match": 5}),
    "huge-route-list": root("x", "x.com", [{"match": f"/{i}", "services": [
        {"name": "bad", "port": 80}]} for i in range(2000)]),
    "self-delegation": root("x", "x.com", [{"match": "/", "delegate": {"name": "x"}}]),
    "cert-not-matching-key": tls_secret("b-tls", OTHER_CERT, KEY),
    "tls-secret-garbage": tls_secret("x-tls", b"not a cert", b"not a key"),
    "regex-lookahead": ingress("x", "x.com", "/(?=a)[a-z]+"),
    "regex-invalid": ingress("x", "x.com", "/[unclosed"),
    "ingress-host-control-chars": ingress("x", "x\x00.com", "/"),
    "prefix-rewrite-crlf": root("x", "x.com", [{"match": "/", "prefixRewrite": "/\r\n",
                                                "services": [{"name": "bad", "port": 80}]}]),
}
KEPT = {"cert-not-matching-key"}  # replaces b's secret: b loses HTTPS, nothing else changes
# A duplicate fqdn darkens that host for both claimants (spec §1.2): the host it names is its
# own victim; every other host stays identical.
TARGETS = {"fqdn-case-duplicate": ["b.com"], "cert-not-matching-key": ["a.com"]}


def translate(objects: list[Obj]) -> dict[str, dict[str, Any]]:
    store = ObjectStore(BuilderSettings())
    for obj in objects:
        store.upsert(obj)
    return decode(Translator(ListenerSettings()).translate(build(store, BuilderSettings())))


def vhost_bytes(out: dict[str, dict[str, Any]], host: str) -> dict[str, bytes]:
    found = {}
    for table in out[pb.ROUTE_TYPE].values():
        for vh in table.virtual_hosts:
            if vh.name == host:
                found[table.name] = vh.SerializeToString(deterministic=True)
    return found


def cluster_bytes(out: dict[str, dict[str, Any]], service_name: str) -> dict[str, bytes]:
    return {name: c.SerializeToString(deterministic=True)
            for name, c in out[pb.CLUSTER_TYPE].items() if f"/{service_name}/" in name}


BASELINE = translate(GOOD)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_other_vhosts_are_byte_identical(case: str) -> None:
    out = translate(GOOD + [HOSTILE[case]])
    for host in TARGETS.get(case, ["a.com", "b.com"]):
        assert vhost_bytes(out, host) == vhost_bytes(BASELINE, host), host
        assert cluster_bytes(out, host[0]) == cluster_bytes(BASELINE, host[0])
    if case not in KEPT:
        assert out[pb.SECRET_TYPE].keys() == BASELINE[pb.SECRET_TYPE].keys()


def test_envoy_accepts_everything_hostile_input_produces(envoy_validate: Any) -> None:
    hostile = [dict(o, metadata=dict(o["metadata"], name=f"h{i}"))
               for i, o in enumerate(HOSTILE[k] for k in sorted(HOSTILE) if k not in KEPT)]
    out = translate(GOOD + hostile)
    config = bootstrap(admin_port=19912, node_id="validate", node_cluster="contour")
    for listener in out[pb.LISTENER_TYPE].values():
        _inline_routes(listener, out[pb.ROUTE_TYPE])
        config.static_resources.listeners.append(listener)
    config.static_resources.clusters.extend(out[pb.CLUSTER_TYPE].values())
    config.static_resources.secrets.extend(out[pb.SECRET_TYPE].values())
    result = envoy_validate(config)
    assert result.returncode == 0, result.stderr
