"""Malformed and hostile objects: never raise, never hand Envoy something it rejects, and say
clearly what is wrong (spec §0.5)."""

from __future__ import annotations

from typing import Any

import pytest
from dagkit import (
    backend,
    build_dag,
    build_full,
    http_routes,
    ingress,
    ir,
    path,
    route,
    rule,
    secret,
    service,
    statuses,
    store_of,
    svc,
)

from controller.config import BuilderSettings
from controller.dag.builder import build
from controller.dag.walk_limits import MAX_DEPTH, MAX_VISITS

Obj = dict[str, Any]
KUARD = svc("kuard", 80)


def raw(kind: str, spec: Any = None, **meta: Any) -> Obj:
    return {"kind": kind, "metadata": {"name": "x", "namespace": "default", **meta}, "spec": spec}


GARBAGE: list[Any] = [
    None,
    [],
    "IngressRoute",
    5,
    {},
    {"kind": None},
    {"kind": "IngressRoute"},
    {"kind": "IngressRoute", "metadata": "x"},
    {"kind": "IngressRoute", "metadata": {"name": 5}},
    {"kind": "Service", "metadata": {"name": "s", "namespace": None}},
    raw("IngressRoute", []),
    raw("IngressRoute", "spec"),
    raw("IngressRoute", None),
    raw("IngressRoute", {"virtualhost": "x", "routes": "x", "tcpproxy": "x"}),
    raw("IngressRoute", {"virtualhost": {"fqdn": 5, "tls": "x"}, "routes": [None, 5, "x", {}]}),
    raw(
        "IngressRoute",
        {
            "virtualhost": {"fqdn": "a.com", "tls": {"secretName": 5, "passthrough": "yes"}},
            "routes": [
                {"match": None, "services": {"name": "x"}},
                {"match": "/", "services": [None, {"port": "80"}, 5]},
            ],
        },
    ),
    raw(
        "IngressRoute",
        {
            "virtualhost": {"fqdn": "b.com"},
            "routes": [
                {"match": "/", "delegate": "child"},
                {"match": "/d", "delegate": {"name": None}},
                {
                    "match": "/t",
                    "services": [
                        {
                            "name": "kuard",
                            "port": 80,
                            "weight": 1.5,
                            "healthCheck": "x",
                            "validation": 7,
                        }
                    ],
                    "timeoutPolicy": "1s",
                    "retryPolicy": {"count": "3", "perTryTimeout": 5},
                    "enableWebsockets": "true",
                    "permitInsecure": 1,
                    "prefixRewrite": None,
                },
            ],
        },
    ),
    raw(
        "IngressRoute",
        {
            "virtualhost": {"fqdn": "c.com", "tls": {"passthrough": True}},
            "tcpproxy": {"services": "x", "delegate": 5},
        },
    ),
    raw("IngressRoute", {"routes": [{"match": "/"}]}, annotations="x"),
    raw("IngressRoute", {"routes": []}, annotations={"contour.heptio.com/ingress.class": 5}),
    raw("Ingress", {"rules": "x", "tls": "x", "defaultBackend": "x"}),
    raw(
        "Ingress",
        {
            "rules": [
                None,
                {"http": "x"},
                {
                    "host": 5,
                    "http": {
                        "paths": [
                            None,
                            {"path": 5},
                            {
                                "path": "/",
                                "backend": {"service": {"name": "kuard", "port": {"number": "80"}}},
                            },
                            {"path": "/", "backend": {"service": "kuard"}},
                            {"backend": {"resource": {"kind": "Bucket"}}},
                        ]
                    },
                },
            ],
            "tls": [None, {"hosts": "a.com", "secretName": None}, {"hosts": [5, None, ""]}],
            "ingressClassName": 5,
        },
    ),
    raw(
        "Service",
        {
            "ports": [None, {"port": "80"}, {"port": 70000}, {"port": 80, "name": 5}],
            "type": "ExternalName",
        },
    ),
    raw(
        "Service",
        {"ports": "x"},
        annotations={
            "contour.heptio.com/upstream-protocol.tls": "a,,b, ",
            "contour.heptio.com/max-connections": "99999999999",
        },
    ),
    raw("Secret", None) | {"type": "kubernetes.io/tls", "data": "x"},
    raw("Secret", None) | {"type": "kubernetes.io/tls", "data": {"tls.crt": 5, 7: "x"}},
    raw("Secret", None) | {"type": 5, "data": {"ca.crt": None}},
    raw("Secret", None) | {"type": "Opaque", "stringData": {"ca.crt": 5}},
    raw(
        "TLSCertificateDelegation",
        {"delegations": [None, {"secretName": 5, "targetNamespaces": "x"}]},
    ),
    raw("TLSCertificateDelegation", {"delegations": "x"}),
    raw("Endpoints", "x"),
    raw("EndpointSlice", None),
    raw("HTTPProxy", []),
    raw("HTTPProxy", {"virtualhost": "x", "routes": "x", "includes": "x", "tcpproxy": "x"}),
    raw("HTTPProxy", {"virtualhost": {"fqdn": 5, "tls": "x", "corsPolicy": "x",
                                      "ipAllowPolicy": [None, {"cidr": 5}],
                                      "rateLimitPolicy": {"local": {"requests": "x"}}},
                      "includes": [None, {"name": 5, "conditions": [None, {"prefix": 5}]}],
                      "routes": [None, 5, {}, {"services": [None, {"port": "80"}]}]}),
    raw("HTTPProxy", {
        "virtualhost": {"fqdn": "hp.com", "tls": {"passthrough": True, "secretName": None},
                        "corsPolicy": {"allowOrigin": ["(("], "allowMethods": "GET",
                                       "maxAge": "x"}},
        "routes": [{"conditions": [{"header": {"name": "x", "regex": "(("}},
                                   {"queryParameter": {"name": None, "exact": 5}}],
                    "services": [{"name": "kuard", "port": 80, "protocol": "h3",
                                  "slowStartPolicy": {"window": "x", "aggression": "y"}}],
                    "timeoutPolicy": {"response": "forever"},
                    "retryPolicy": {"count": "3", "retryOn": "5xx"},
                    "loadBalancerPolicy": {"strategy": "RequestHash",
                                           "requestHashPolicies": [None, {"hashSourceIP": 1}]},
                    "healthCheckPolicy": {"expectedStatuses": [{"start": 1, "end": 9000}]},
                    "pathRewritePolicy": {"replacePrefix": [None, {"prefix": 5}]},
                    "requestHeadersPolicy": {"set": [{"name": "a b", "value": None}]},
                    "requestRedirectPolicy": {"path": "/a", "prefix": "/b"}}],
    }),
    raw("HTTPProxy", {"virtualhost": {"fqdn": "hq.com", "tls": {"passthrough": True}},
                      "tcpproxy": {"include": {"name": None}, "services": [None]}}),
]


@pytest.mark.parametrize("obj", GARBAGE, ids=lambda o: repr(o)[:60])
def test_garbage_never_raises(obj: Any) -> None:
    store = store_of(service("kuard"), ir("child", routes=[route("/", KUARD)]))
    store.upsert(obj)
    build(store, BuilderSettings())
    if isinstance(obj, dict) and obj.get("kind") and isinstance(obj.get("metadata"), dict):
        store.remove(obj["kind"], "default", "x")
    build(store, BuilderSettings())


def test_all_garbage_together() -> None:
    objs: list[Obj] = []
    for i, o in enumerate(GARBAGE):  # distinct names so nothing overwrites
        if isinstance(o, dict):
            meta = o.get("metadata")
            objs.append(o | {"metadata": meta | {"name": f"x{i}"}} if isinstance(meta, dict) else o)
    dag = build_dag(service("kuard"), *objs)
    assert all(s.current in ("valid", "invalid", "orphaned") for s in dag.statuses)


def bad(description: str) -> tuple[str, str]:
    return ("invalid", description)


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/foo\n", KUARD)]),
            bad(
                'route "/foo\\n": match must start with "/" and contain no whitespace or '
                "control characters"
            ),
            id="match-newline",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/a b", KUARD)]),
            bad(
                'route "/a b": match must start with "/" and contain no whitespace or '
                "control characters"
            ),
            id="match-space",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("foo", KUARD)]),
            bad(
                'route "foo": match must start with "/" and contain no whitespace or '
                "control characters"
            ),
            id="match-relative",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route(None, KUARD)]),
            bad(
                'route "": match must start with "/" and contain no whitespace or '
                "control characters"
            ),
            id="match-missing",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/\x00", KUARD)]),
            bad(
                'route "/\\x00": match must start with "/" and contain no whitespace or '
                "control characters"
            ),
            id="match-nul-go-quoted",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/", KUARD, prefixRewrite="/\r\n")]),
            bad('route "/": prefixRewrite must contain no control characters'),
            id="prefix-rewrite-crlf",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/", svc("kuard", 80, healthCheck={}))]),
            bad(
                'route "/": service "kuard": healthCheck path must start with "/", and '
                "path and host must contain no whitespace or control characters"
            ),
            id="health-check-without-path",
        ),
        pytest.param(
            ir(
                "r",
                fqdn="a.com",
                routes=[route("/", svc("kuard", 80, healthCheck={"path": "/h", "host": "a\nb"}))],
            ),
            bad(
                'route "/": service "kuard": healthCheck path must start with "/", and '
                "path and host must contain no whitespace or control characters"
            ),
            id="health-check-host-newline",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/", svc("kuard", 80, weight=2**32))]),
            bad('route "/": service "kuard": weight must be less than or equal to 4294967295'),
            id="weight-too-large",
        ),
        pytest.param(
            ir(
                "r",
                fqdn="a.com",
                routes=[route("/", svc("kuard", 80, weight=2**31), svc("kuard", 80, weight=2**31))],
            ),
            bad('route "/": the sum of the weights must not exceed 4294967295'),
            id="total-weight-too-large",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/", svc("kuard", 10**30))]),
            bad('route "/": service "kuard": port must be in the range 1-65535'),
            id="huge-port",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route("/", svc("kuard", True))]),
            bad('route "/": service "kuard": port must be in the range 1-65535'),
            id="bool-port",
        ),
        pytest.param(
            ir("r", fqdn="a.com.", routes=[route("/", KUARD)]),
            bad(
                'Spec.VirtualHost.Fqdn "a.com." is not a valid host name (letters, '
                "digits, '-', '_' and '.' only)"
            ),
            id="fqdn-trailing-dot",
        ),
        pytest.param(
            ir("r", fqdn="a.com:8080", routes=[route("/", KUARD)]),
            bad(
                'Spec.VirtualHost.Fqdn "a.com:8080" is not a valid host name (letters, '
                "digits, '-', '_' and '.' only)"
            ),
            id="fqdn-with-port",
        ),
        pytest.param(
            ir("r", fqdn="ünï.com", routes=[route("/", KUARD)]),
            bad(
                'Spec.VirtualHost.Fqdn "ünï.com" is not a valid host name (letters, '
                "digits, '-', '_' and '.' only)"
            ),
            id="fqdn-unicode",
        ),
        pytest.param(
            ir("r", fqdn="a" * 64 + ".com", routes=[route("/", KUARD)]),
            bad(
                f'Spec.VirtualHost.Fqdn "{"a" * 64}.com" is not a valid host name '
                "(letters, digits, '-', '_' and '.' only)"
            ),
            id="fqdn-long-label",
        ),
        pytest.param(
            ir("r", fqdn="a.com", routes=[route('/"q"\\', KUARD)]),
            ("valid", "valid IngressRoute"),
            id="quotes-in-match-are-fine",
        ),
    ],
)
def test_hostile_ingressroute_fields(root: Obj, expected: tuple[str, str]) -> None:
    dag = build_dag(service("kuard"), root)
    assert statuses(dag)["default/r"] == expected
    if expected[0] == "invalid":
        assert dag.http == ()


def test_hosts_differing_only_by_case_are_duplicates() -> None:
    dag = build_dag(
        service("kuard"),
        ir("a", fqdn="Example.com", routes=[route("/", KUARD)]),
        ir("b", fqdn="example.COM", routes=[route("/", KUARD)]),
    )
    assert dag.http == ()
    assert statuses(dag)["default/a"] == bad(
        'fqdn "Example.com" is used in multiple IngressRoutes: default/a, default/b'
    )


def test_cert_not_matching_key_is_not_served() -> None:
    from dagkit import tls_pair

    objs = [
        service("kuard"),
        secret("tls", cert=tls_pair(0)[0], key=tls_pair(1)[1]),
        ir("r", fqdn="a.com", tls={"secretName": "tls"}, routes=[route("/", KUARD)]),
        ingress(
            "i",
            tls=[{"hosts": ["b.com"], "secretName": "tls"}],
            rules=[rule("b.com", path("/", backend("kuard", 80)))],
        ),
    ]
    dag = build_dag(*objs)
    assert dag.https == ()
    assert statuses(dag)["default/r"] == bad("TLS Secret [tls] not found or is malformed")
    assert not http_routes(dag, "a.com")["/"].https_redirect


def test_deep_delegation_chain_is_cut() -> None:
    n = MAX_DEPTH + 50
    chain = [ir(f"c{i}", routes=[route("/", delegate=f"c{i + 1}")]) for i in range(n)]
    chain.append(ir(f"c{n}", routes=[route("/", KUARD)]))
    dag = build_dag(
        service("kuard"), ir("root", fqdn="a.com", routes=[route("/", delegate="c0")]), *chain
    )
    got = statuses(dag)
    cut = [k for k, v in got.items() if "deeper than" in v[1]]
    assert len(cut) == 1 and got["default/root"][0] == "valid"
    assert http_routes(dag, "a.com") == {}


def test_exponential_diamond_lattice_is_bounded() -> None:
    levels = 40  # 2**40 paths: unbounded walking would never finish
    objs = [
        service("kuard"),
        ir("root", fqdn="a.com", routes=[route("/", delegate="l0a"), route("/", delegate="l0b")]),
    ]
    for i in range(levels):
        nxt = [route("/", delegate=f"l{i + 1}a"), route("/", delegate=f"l{i + 1}b")]
        for side in "ab":
            objs.append(ir(f"l{i}{side}", routes=nxt if i < levels - 1 else [route("/", KUARD)]))
    dag = build_full(*objs)  # an unbounded walk would not return: the status proves the cut
    assert statuses(dag)["default/root"] == bad(
        f"delegation graph visits more than {MAX_VISITS} IngressRoutes from this root"
    )


def test_many_roots_build() -> None:
    """10k roots with a delegated child each: every host and every status is there (their
    speed is the bench's to measure, bench/, not a timed test's)."""
    objs = []
    for i in range(10_000):
        ns = f"ns{i % 50}"
        objs += [
            service(f"s{i}", ns),
            ir(
                f"r{i}",
                ns,
                fqdn=f"h{i}.example.com",
                routes=[route("/", svc(f"s{i}", 80)), route("/c", delegate=f"c{i}")],
            ),
            ir(f"c{i}", ns, routes=[route("/c", svc(f"s{i}", 80))]),
        ]
    dag = build(store_of(*objs), BuilderSettings())
    assert len(dag.http) == 10_000 and len(dag.statuses) == 20_000
    assert {s.current for s in dag.statuses} == {"valid"}
