"""Valid projectcontour.io objects: HTTPProxy roots (fqdn, TLS, CORS, rate limits, IP
filters), children reached by includes with conditions, routes with conditions and
policies (timeouts, retries, headers, load balancing, health checks, rate limits, path
rewrites), and v1 TLSCertificateDelegations.

Each optional part is drawn from the `random.Random` given, as in valid.py; every object
built here is judged good by the oracle (tests/fuzz/test_fuzz_oracle.py). The policies are
ones that need no other object (`authorization` needs a valid ExtensionService, without
which the root is `invalid`: it is left to the mutations).
"""

from __future__ import annotations

import random
from typing import Any

from fuzzing.valid import meta

Obj = dict[str, Any]
HP_API = "projectcontour.io/v1"
HP_STRATEGIES = ("RoundRobin", "WeightedLeastRequest", "Random", "Cookie")
HP_TIMEOUTS = ("1s", "30s", "1m30s", "infinity", "250ms", "2h")
RETRY_ON = ("5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx")
HEADER_MATCHES = ({"present": True}, {"exact": "yes"}, {"contains": "fuzz"},
                  {"notexact": "no"}, {"regex": "^v[0-9]+$"}, {"regex": "a.*b"},
                  {"notpresent": True})


def httpproxy(ns: str, name: str, spec: Obj) -> Obj:
    return {"apiVersion": HP_API, "kind": "HTTPProxy", "metadata": meta(ns, name), "spec": spec}


def delegation_v1(ns: str, name: str, secret: str, targets: list[str]) -> Obj:
    return {"apiVersion": HP_API, "kind": "TLSCertificateDelegation",
            "metadata": meta(ns, name),
            "spec": {"delegations": [{"secretName": secret, "targetNamespaces": targets}]}}


def _maybe(rnd: random.Random, p: float, out: Obj, key: str, value: Any) -> None:
    if rnd.random() < p:
        out[key] = value


def headers_policy(rnd: random.Random) -> Obj:
    return {"set": [{"name": "X-Fuzz", "value": rnd.choice(("a", "b c", "%REQ(Host)%"))}],
            "remove": ["X-Remove-Me"]}


def hp_service(rnd: random.Random, name: str, port: int = 80) -> Obj:
    out: Obj = {"name": name, "port": port}
    _maybe(rnd, 0.3, out, "weight", rnd.randint(0, 100))
    _maybe(rnd, 0.2, out, "requestHeadersPolicy", headers_policy(rnd))
    _maybe(rnd, 0.2, out, "responseHeadersPolicy", headers_policy(rnd))
    return out


def conditions(rnd: random.Random, prefix: str) -> list[Obj]:
    """A path prefix, sometimes with a header or a query parameter match."""
    out: list[Obj] = [{"prefix": prefix}]
    if rnd.random() < 0.4:
        out.append({"header": {"name": "x-fuzz", **rnd.choice(HEADER_MATCHES)}})
    if rnd.random() < 0.2:
        out.append({"queryParameter": {"name": "q", "exact": "1"}})
    return out


def _route_policies(rnd: random.Random, out: Obj) -> None:
    _maybe(rnd, 0.2, out, "timeoutPolicy", {"response": rnd.choice(HP_TIMEOUTS),
                                            "idle": rnd.choice(HP_TIMEOUTS)})
    _maybe(rnd, 0.2, out, "retryPolicy", {"count": rnd.randint(1, 5), "perTryTimeout": "150ms",
                                          "retryOn": rnd.sample(RETRY_ON, 2)})
    _maybe(rnd, 0.2, out, "requestHeadersPolicy", headers_policy(rnd))
    _maybe(rnd, 0.2, out, "responseHeadersPolicy", headers_policy(rnd))
    _maybe(rnd, 0.2, out, "loadBalancerPolicy", {"strategy": rnd.choice(HP_STRATEGIES)})
    _maybe(rnd, 0.15, out, "healthCheckPolicy", {
        "path": "/healthz", "intervalSeconds": rnd.randint(1, 30),
        "timeoutSeconds": rnd.randint(1, 5), "unhealthyThresholdCount": 3,
        "healthyThresholdCount": 2})
    _maybe(rnd, 0.15, out, "rateLimitPolicy", {"local": {
        "requests": rnd.randint(1, 100), "unit": rnd.choice(("second", "minute", "hour")),
        "burst": rnd.randint(0, 10)}})
    _maybe(rnd, 0.15, out, "ipAllowPolicy", [{"cidr": "10.0.0.0/8", "source": "Peer"}])
    _maybe(rnd, 0.1, out, "enableWebsockets", rnd.random() < 0.5)


def hp_route(rnd: random.Random, prefix: str | None, services: list[Obj]) -> Obj:
    """A route onto `services` (prefix None: no conditions, the include's own)."""
    out: Obj = {"services": services}
    if prefix is not None:
        out["conditions"] = conditions(rnd, prefix)
    _route_policies(rnd, out)
    if prefix not in (None, "/") and rnd.random() < 0.2:
        out["pathRewritePolicy"] = {"replacePrefix": [{"prefix": prefix, "replacement": "/"}]}
    return out


def _vhost(rnd: random.Random, fqdn: str, tls_secret_name: str | None) -> Obj:
    vhost: Obj = {"fqdn": fqdn}
    if tls_secret_name is not None:
        vhost["tls"] = {"secretName": tls_secret_name}
        _maybe(rnd, 0.3, vhost["tls"], "minimumProtocolVersion", rnd.choice(("1.2", "1.3")))
    _maybe(rnd, 0.2, vhost, "corsPolicy", {
        "allowOrigin": [rnd.choice(("*", "https://a.fuzz.test"))],
        "allowMethods": ["GET", "POST"], "allowHeaders": ["x-fuzz"], "maxAge": "10m",
        "allowCredentials": rnd.random() < 0.5})
    _maybe(rnd, 0.15, vhost, "rateLimitPolicy", {"local": {"requests": 100, "unit": "second"}})
    _maybe(rnd, 0.15, vhost, "ipDenyPolicy", [{"cidr": "192.0.2.0/24", "source": "Remote"}])
    return vhost


def hp_root(rnd: random.Random, ns: str, name: str, fqdn: str, svc: str,
            tls_secret_name: str | None = None, includes: list[Obj] | None = None) -> Obj:
    """A root serving `svc` at `/`, including `includes` (name, namespace, conditions)."""
    spec: Obj = {"virtualhost": _vhost(rnd, fqdn, tls_secret_name),
                 "routes": [hp_route(rnd, "/", [hp_service(rnd, svc)])]}
    if includes:
        spec["includes"] = includes
    return httpproxy(ns, name, spec)


def hp_child(rnd: random.Random, ns: str, name: str, svc: str) -> Obj:
    """A child serving `svc` under its include's conditions (sometimes at a sub-path)."""
    prefix = rnd.choice((None, "/", "/sub"))
    return httpproxy(ns, name, {"routes": [hp_route(rnd, prefix, [hp_service(rnd, svc)])]})


def include(name: str, ns: str, prefix: str) -> Obj:
    return {"name": name, "namespace": ns, "conditions": [{"prefix": prefix}]}
