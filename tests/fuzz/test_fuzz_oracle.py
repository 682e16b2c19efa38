"""The fuzzer's oracle: the verdict of known hostile objects (table-driven, the cases of
issue 7, and HTTPProxy / v1 TLSCertificateDelegation by the projectcontour.io CRDs), Go
duration parsing, and that valid objects are judged good."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import pytest
from fuzzing import valid
from fuzzing import valid_proxy as vp
from fuzzing.mutate import set_at
from fuzzing.oracle import ANY, BAD, GOOD, WARN, go_duration_seconds, judge
from fuzzing.schema import V1_DELEGATION, schema_key
from fuzzing.secrets import b64, leaves

Obj = dict[str, Any]
RND = random.Random(7)


def ir() -> Obj:
    return valid.root(random.Random(0), "fz-a", "r", "r.fuzz.test", "svc")


def endpoints() -> Obj:
    return valid.endpoints("fz-a", "svc")


def ingress() -> Obj:
    return valid.ingress(random.Random(0), "fz-a", "ing", "a.fuzz.test", "svc")


def secret() -> Obj:
    return valid.tls_secret("fz-a", "s")


def at(path: tuple[Any, ...], value: Any) -> Callable[[Obj], None]:
    return lambda o: set_at(o, path, copy.deepcopy(value))


SVC = ("spec", "routes", 0, "services", 0)
ROUTE = ("spec", "routes", 0)
PATH0 = ("spec", "rules", 0, "http", "paths", 0)
ADDR = ("subsets", 0, "addresses", 0, "ip")
EP_PORT = ("subsets", 0, "ports", 0, "port")

CASES = [
    # (label, valid object, mutation, verdict)
    ("ip 999.1.1.1", endpoints, at(ADDR, "999.1.1.1"), BAD),
    ("ip 12345", endpoints, at(ADDR, 12345), BAD),
    ("ip hostname", endpoints, at(ADDR, "host.example"), BAD),
    ("ip ::zz", endpoints, at(ADDR, "::zz"), BAD),
    ("ip with a space", endpoints, at(ADDR, " 1.2.3.4"), BAD),
    ("ip v6 ok", endpoints, at(ADDR, "2001:db8::1"), GOOD),
    ("port -1", endpoints, at(EP_PORT, -1), BAD),
    ("port 70000", endpoints, at(EP_PORT, 70000), BAD),
    ("port 2**63", endpoints, at(EP_PORT, 2**63), BAD),
    ("addresses: str", endpoints, at(("subsets", 0, "addresses"), "str"), BAD),
    ("subsets: map", endpoints, at(("subsets",), {"a": 1}), BAD),
    ("weight abc", ir, at((*SVC, "weight"), "abc"), BAD),
    ("weight true", ir, at((*SVC, "weight"), True), BAD),
    ("weight -1", ir, at((*SVC, "weight"), -1), BAD),
    ("port 0", ir, at((*SVC, "port"), 0), BAD),
    ("routes: 3", ir, at(("spec", "routes"), 3), BAD),
    ("enableWebsockets yes", ir, at((*ROUTE, "enableWebsockets"), "yes"), BAD),
    ("tls: x", ir, at(("spec", "virtualhost", "tls"), "x"), BAD),
    ("prefixRewrite list", ir, at((*ROUTE, "prefixRewrite"), ["/"]), BAD),
    ("retry count string", ir, at((*ROUTE, "retryPolicy"), {"count": "3"}), BAD),
    ("healthCheck: x", ir, at((*SVC, "healthCheck"), "x"), BAD),
    ("match with a newline", ir, at((*ROUTE, "match"), "/a\nb"), BAD),
    ("fqdn 300 chars", ir, at(("spec", "virtualhost", "fqdn"), "a" * 300), BAD),
    ("strategy junk", ir, at((*SVC, "strategy"), "roundrobin"), BAD),
    ("timeout too big for Go: unparsable, infinite", ir,
     at((*ROUTE, "timeoutPolicy"), {"request": "99999999999999h"}), GOOD),
    ("timeout ok", ir, at((*ROUTE, "timeoutPolicy"), {"request": "90s"}), GOOD),
    ("unknown field", ir, at(("spec", "bogus"), 1), WARN),
    ("null field", ir, at((*ROUTE, "match"), None), ANY),
    ("kind: 5", ir, at(("kind",), 5), BAD),
    ("name: list", ir, at(("metadata", "name"), ["a"]), BAD),
    ("namespace: list", ir, at(("metadata", "namespace"), ["a"]), BAD),
    ("no apiVersion", ir, lambda o: o.pop("apiVersion"), BAD),
    ("pathType junk", ingress, at((*PATH0, "pathType"), "Foo"), BAD),
    ("rules: map", ingress, at(("spec", "rules"), {"a": 1}), BAD),
    ("path with a newline", ingress, at((*PATH0, "path"), "/a\nb"), BAD),
    ("regex RE2 refuses", ingress, at((*PATH0, "path"), "/(?=x)*"), BAD),
    ("lookahead without a regex character: a plain prefix", ingress,
     at((*PATH0, "path"), "/(?=x)"), GOOD),
    ("ingressClassName: 5", ingress, at(("spec", "ingressClassName"), 5), BAD),
    ("secret: other key", secret, at(("data", "tls.key"), b64(leaves()[1].key_pem)), BAD),
    ("secret: no key", secret, lambda o: o["data"].pop("tls.key"), BAD),
    ("secret: not base64", secret, at(("data", "tls.crt"), "!!"), BAD),
    ("a foreign kind", ir, at(("kind",), "ConfigMap"), ANY),
    ("an integer beyond int64", ir, at((*SVC, "healthCheck"), {"path": "/", "timeoutSeconds":
                                                                 2**63}), BAD),
    ("a slice without addressType", lambda: valid.endpoint_slice("fz-a", "s-1", "s"),
     lambda o: o.pop("addressType"), BAD),
    ("a slice with 101 addresses", lambda: valid.endpoint_slice("fz-a", "s-1", "s"),
     at(("endpoints", 0, "addresses"), ["127.0.0.1"] * 101), BAD),
    ("a namespace's namespace: list", lambda: valid.namespace("n"),
     at(("metadata", "namespace"), ["x"]), BAD),
    ("ingress backend name {{x}}", ingress,
     at((*PATH0, "backend", "service", "name"), "{{x}}"), BAD),
]


@pytest.mark.parametrize(("make", "mutation", "verdict"),
                         [pytest.param(m, f, v, id=label) for label, m, f, v in CASES])
def test_verdict_of_known_objects(make: Callable[[], Obj], mutation: Callable[[Obj], None],
                                  verdict: str) -> None:
    obj = make()
    assert judge(obj).verdict == GOOD, judge(obj)
    mutation(obj)
    assert judge(obj).verdict == verdict, judge(obj)


@pytest.mark.parametrize(("text", "seconds"), [
    ("1s", 1.0), ("1m30s", 90.0), ("-2.5s", -2.5), ("0", 0.0), ("250ms", 0.25),
    ("1h1h", 7200.0), ("2562047h", 2562047 * 3600.0),
    ("2562048h", None), ("99999999999999h", None), ("1e9h", None), ("", None), ("abc", None),
    ("1.5.3s", None), ("infinity", None), ("5", None),
])
def test_go_durations(text: str, seconds: float | None) -> None:
    assert go_duration_seconds(text) == seconds


def test_every_valid_builder_is_judged_good() -> None:
    rnd = random.Random(3)
    objs = [valid.namespace("fz-a"), valid.service("fz-a", "s"), endpoints(), secret(),
            valid.endpoint_slice("fz-a", "s-1", "s"), ingress(),
            valid.delegation("fz-a", "d", "s", ["fz-b"]),
            valid.child(rnd, "fz-a", "c", "/c", "s"),
            valid.root(rnd, "fz-b", "r", "r.fuzz.test", "s", tls_secret_name="fz-a/s",
                       delegate={"name": "c", "namespace": "fz-a"})]
    for obj in objs:
        assert judge(obj).verdict == GOOD, (obj["kind"], judge(obj))


def proxy() -> Obj:
    return vp.hp_root(random.Random(0), "fz-a", "p", "p.fuzz.test", "svc",
                      includes=[vp.include("c", "fz-b", "/c")])


def delegation_v1() -> Obj:
    return vp.delegation_v1("fz-a", "d", "s", ["fz-b"])


HP_SVC = ("spec", "routes", 0, "services", 0)
HP_ROUTE = ("spec", "routes", 0)
UPSTREAM = {"caSecret": "ca", "subjectName": "a.example"}

PROXY_CASES = [
    # (label, valid object, mutation, verdict): the projectcontour.io CRDs and their CEL rule
    ("port 65535", proxy, at((*HP_SVC, "port"), 65535), GOOD),
    ("port 65536 (exclusiveMaximum)", proxy, at((*HP_SVC, "port"), 65536), BAD),
    ("weight abc", proxy, at((*HP_SVC, "weight"), "abc"), BAD),
    ("retry count -2", proxy, at((*HP_ROUTE, "retryPolicy"), {"count": -2}), BAD),
    ("timeout not a duration", proxy, at((*HP_ROUTE, "timeoutPolicy"), {"response": "soon"}),
     BAD),
    ("timeout beyond Go's range: the pattern admits it", proxy,
     at((*HP_ROUTE, "timeoutPolicy"), {"response": "99999999999999h"}), GOOD),
    ("fqdn upper case", proxy, at(("spec", "virtualhost", "fqdn"), "P.fuzz.test"), BAD),
    ("fqdn with a trailing newline ($ is the end of the text)", proxy,
     at(("spec", "virtualhost", "fqdn"), "p.fuzz.test\n"), BAD),
    ("unicode digit in a duration (\\d is ASCII)", proxy,
     at((*HP_ROUTE, "timeoutPolicy"), {"response": "\u0663s"}), BAD),
    ("int32 overflow", proxy, at((*HP_ROUTE, "rateLimitPolicy"), {"local": {
        "requests": 2**31, "unit": "second"}}), BAD),
    ("int64 field takes 2**40", proxy, at((*HP_ROUTE, "healthCheckPolicy"), {
        "path": "/h", "intervalSeconds": 2**40}), GOOD),
    ("CEL: subjectNames[0] must be subjectName", proxy, at((*HP_SVC, "validation"), {
        **UPSTREAM, "subjectNames": ["b.example"]}), BAD),
    ("CEL holds", proxy, at((*HP_SVC, "validation"), {**UPSTREAM,
                                                       "subjectNames": ["a.example"]}), GOOD),
    ("no spec", proxy, lambda o: o.pop("spec"), BAD),
    ("include without a name", proxy, lambda o: o["spec"]["includes"][0].pop("name"), BAD),
    ("a regex RE2 refuses: the schema admits it", proxy,
     at((*HP_ROUTE, "conditions"), [{"regex": "/(?=x)"}]), GOOD),
    ("cors method with a space", proxy, at(("spec", "virtualhost", "corsPolicy"), {
        "allowOrigin": ["*"], "allowMethods": ["GET POST"]}), BAD),
    ("cors maxAge 0", proxy, at(("spec", "virtualhost", "corsPolicy"), {
        "allowOrigin": ["*"], "allowMethods": ["GET"], "maxAge": "0"}), GOOD),
    ("ip filter source junk", proxy, at(("spec", "virtualhost", "ipAllowPolicy"), [
        {"cidr": "10.0.0.0/8", "source": "Client"}]), BAD),
    ("unknown field", proxy, at((*HP_ROUTE, "fuzzUnknown"), 1), WARN),
    ("v1 delegation: targetNamespaces a string", delegation_v1,
     at(("spec", "delegations", 0, "targetNamespaces"), "fz-b"), BAD),
    ("v1 delegation: no secretName", delegation_v1,
     lambda o: o["spec"]["delegations"][0].pop("secretName"), BAD),
    ("v1 delegation: apiVersion v2", delegation_v1, at(("apiVersion",), "projectcontour.io/v2"),
     BAD),
    ("v1 delegation: unknown field", delegation_v1, at(("spec", "fuzzUnknown"), 1), WARN),
]


@pytest.mark.parametrize(("make", "mutation", "verdict"),
                         [pytest.param(m, f, v, id=label) for label, m, f, v in PROXY_CASES])
def test_verdict_of_projectcontour_objects(make: Callable[[], Obj],
                                           mutation: Callable[[Obj], None],
                                           verdict: str) -> None:
    test_verdict_of_known_objects(make, mutation, verdict)


def test_the_two_delegations_are_judged_by_their_own_schemas() -> None:
    v1beta1 = valid.delegation("fz-a", "d", "s", ["fz-b"])
    assert schema_key(v1beta1) == "TLSCertificateDelegation"
    assert schema_key(delegation_v1()) == V1_DELEGATION
    for obj in (v1beta1, delegation_v1()):
        obj["spec"]["delegations"][0]["fuzzUnknown"] = 1
        assert judge(obj).unknown == [".spec.delegations[0].fuzzUnknown"]


def test_every_projectcontour_builder_is_judged_good() -> None:
    rnd = random.Random(4)
    objs = [proxy(), delegation_v1(), vp.hp_child(rnd, "fz-b", "c", "svc"),
            vp.hp_root(rnd, "fz-c", "t", "t.fuzz.test", "svc", tls_secret_name="fz-a/s")]
    for obj in objs:
        assert judge(obj).verdict == GOOD, (obj["kind"], judge(obj))
