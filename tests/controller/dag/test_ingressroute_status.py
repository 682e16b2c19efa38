"""IngressRoute statuses: every rule and every description string of spec §1.8, exactly."""

from __future__ import annotations

from typing import Any

import pytest
from dagkit import build_dag, delegation, ir, route, secret, service, statuses, svc, tls_pair

from controller.config import BuilderSettings

Obj = dict[str, Any]

SERVICES = [
    service("kuard", ports=[("http", 8080)]),
    service("home", ports=[(None, 80)]),
    service(
        "tlsbackend",
        ports=[("https", 443)],
        annotations={"contour.heptio.com/upstream-protocol.tls": "https"},
    ),
]
V = ("valid", "valid IngressRoute")
ORPHAN = (
    "orphaned",
    "this IngressRoute is not part of a delegation chain from a root IngressRoute",
)


def inv(description: str) -> tuple[str, str]:
    return ("invalid", description)


KUARD = svc("kuard", 8080)
ROOTS_ONLY = BuilderSettings(root_namespaces=frozenset({"roots"}))
CASES = [
    pytest.param(
        [ir("root", fqdn="example.com", routes=[route("/", KUARD)])],
        {"default/root": V},
        id="valid",
    ),
    pytest.param([ir("child", routes=[route("/", KUARD)])], {"default/child": ORPHAN}, id="orphan"),
    pytest.param(
        [
            ir("example-com", fqdn="example.com", routes=[route("/", KUARD)]),
            ir("other-example", fqdn="example.com", routes=[route("/", KUARD)]),
        ],
        {
            n: inv(
                'fqdn "example.com" is used in multiple IngressRoutes: '
                "default/example-com, default/other-example"
            )
            for n in ("default/example-com", "default/other-example")
        },
        id="duplicate-fqdn",
    ),
    pytest.param(
        [
            ir("b", "ns2", fqdn="Example.COM", routes=[route("/", KUARD)]),
            ir("a", "ns1", fqdn="example.com", routes=[route("/", KUARD)]),
        ],
        {
            n: inv('fqdn "example.com" is used in multiple IngressRoutes: ns1/a, ns2/b')
            for n in ("ns1/a", "ns2/b")
        },
        id="duplicate-fqdn-differing-by-case",
    ),
    pytest.param(
        [
            ir("a", root=True, routes=[route("/", delegate="c")]),
            ir("b", root=True),
            ir("c", routes=[route("/", KUARD)]),
        ],
        {
            "default/a": inv('fqdn "" is used in multiple IngressRoutes: default/a, default/b'),
            "default/c": ORPHAN,
        },
        id="duplicate-empty-fqdn-orphans-children",
    ),
    pytest.param(
        [ir("root", fqdn="example.com", routes=[route("/", KUARD)])],
        {"default/root": inv("root IngressRoute cannot be defined in this namespace")},
        ROOTS_ONLY,
        id="root-namespace",
    ),
    pytest.param(
        [ir("root", fqdn="  ", routes=[route("/", KUARD)])],
        {"default/root": inv("Spec.VirtualHost.Fqdn must be specified")},
        id="blank-fqdn",
    ),
    pytest.param(
        [ir("root", root=True, routes=[route("/", KUARD)])],
        {"default/root": inv("Spec.VirtualHost.Fqdn must be specified")},
        id="missing-fqdn",
    ),
    pytest.param(
        [ir("root", fqdn="example.*.com", routes=[route("/", KUARD)])],
        {"default/root": inv('Spec.VirtualHost.Fqdn "example.*.com" cannot use wildcards')},
        id="wildcard-fqdn",
    ),
    pytest.param(
        [ir("root", fqdn="exa mple.com", routes=[route("/", KUARD)])],
        {
            "default/root": inv(
                'Spec.VirtualHost.Fqdn "exa mple.com" is not a valid host '
                "name (letters, digits, '-', '_' and '.' only)"
            )
        },
        id="fqdn-invalid-characters",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", tls={"secretName": "missing"}, routes=[route("/", KUARD)])],
        {"default/root": inv("TLS Secret [missing] not found or is malformed")},
        id="tls-secret-missing",
    ),
    pytest.param(
        [
            secret("bad", cert=b"x", key=b"y"),
            ir("root", fqdn="a.com", tls={"secretName": "bad"}, routes=[route("/", KUARD)]),
        ],
        {"default/root": inv("TLS Secret [bad] not found or is malformed")},
        id="tls-secret-malformed",
    ),
    pytest.param(
        [
            secret("opaque", type="Opaque", ca=tls_pair()[0]),
            ir("root", fqdn="a.com", tls={"secretName": "opaque"}, routes=[route("/", KUARD)]),
        ],
        {"default/root": inv("TLS Secret [opaque] not found or is malformed")},
        id="tls-secret-opaque",
    ),
    pytest.param(
        [
            secret("tls", cert=tls_pair()[0], key=tls_pair(1)[1]),
            ir("root", fqdn="a.com", tls={"secretName": "tls"}, routes=[route("/", KUARD)]),
        ],
        {"default/root": inv("TLS Secret [tls] not found or is malformed")},
        id="tls-cert-not-matching-key",
    ),
    pytest.param(
        [
            secret("tls", "certs"),
            ir("root", fqdn="a.com", tls={"secretName": "certs/tls"}, routes=[route("/", KUARD)]),
        ],
        {"default/root": V},
        id="tls-not-delegated-is-still-valid",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", tls={"passthrough": True}, routes=[route("/", KUARD)])],
        {"default/root": V},
        id="passthrough-without-tcpproxy",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", routes=[route("/foo", KUARD, delegate="child")])],
        {
            "default/root": inv(
                'route "/foo": cannot specify services and delegate in the same route'
            )
        },
        id="services-and-delegate",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                routes=[route("/ws", KUARD, svc("home", 80), enableWebsockets=True)],
            )
        ],
        {
            "default/root": inv(
                'route "/ws": cannot specify multiple services and enable websockets'
            )
        },
        id="websockets-multiple-services",
    ),
    pytest.param(
        [
            ir("root", fqdn="a.com", routes=[route("/prefix", delegate="child")]),
            ir("child", routes=[route("/doesnotmatch", KUARD)]),
        ],
        {
            "default/root": V,
            "default/child": inv(
                'the path prefix "/doesnotmatch" does not match the parent\'s path prefix "/prefix"'
            ),
        },
        id="prefix-mismatch",
    ),
    pytest.param(
        [
            ir("root", fqdn="a.com", routes=[route("/foo", delegate="child")]),
            ir("child", routes=[route("/foobar", KUARD)]),
        ],
        {
            "default/child": inv(
                'the path prefix "/foobar" does not match the parent\'s path prefix "/foo"'
            )
        },
        id="prefix-segment-boundary",
    ),
    *[
        pytest.param(
            [ir("root", fqdn="a.com", routes=[route("/foo", svc("home", port))])],
            {
                "default/root": inv(
                    'route "/foo": service "home": port must be in the range 1-65535'
                )
            },
            id=f"port-{port}",
        )
        for port in (0, 65536, -1, "80", None)
    ],
    pytest.param(
        [ir("root", fqdn="a.com", routes=[route("/foo", svc("home", 80, weight=-1))])],
        {
            "default/root": inv(
                'route "/foo": service "home": weight must be greater than or equal to zero'
            )
        },
        id="negative-weight",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", routes=[route("/", svc("invalid", 8080))])],
        {"default/root": inv("Service [invalid:8080] is invalid or missing")},
        id="service-missing",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", routes=[route("/", svc("kuard", 9999))])],
        {"default/root": inv("Service [kuard:9999] is invalid or missing")},
        id="service-port-missing",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                routes=[
                    route(
                        "/",
                        svc(
                            "tlsbackend",
                            443,
                            validation={"caSecret": "missing", "subjectName": "x"},
                        ),
                    )
                ],
            )
        ],
        {
            "default/root": inv(
                'route "/": service "tlsbackend": upstreamValidation '
                "requested but secret not found or misconfigured"
            )
        },
        id="ca-secret-missing",
    ),
    pytest.param(
        [
            secret("ca", type="Opaque", ca=tls_pair()[0]),
            ir(
                "root",
                fqdn="a.com",
                routes=[route("/", svc("tlsbackend", 443, validation={"caSecret": "ca"}))],
            ),
        ],
        {
            "default/root": inv(
                'route "/": service "tlsbackend": upstreamValidation '
                "requested but subject alt name not found or misconfigured"
            )
        },
        id="subject-name-missing",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                routes=[route("/", svc("kuard", 8080, validation={"caSecret": "missing"}))],
            )
        ],
        {"default/root": V},
        id="validation-ignored-without-tls",
    ),
    pytest.param(
        [
            ir("parent", "roots", fqdn="a.com", routes=[route("/", delegate="child")]),
            ir("child", "roots", routes=[route("/", delegate="parent")]),
        ],
        {
            "roots/parent": V,
            "roots/child": inv(
                "route creates a delegation cycle: roots/parent -> roots/child -> roots/parent"
            ),
        },
        id="cycle-child-to-parent",
    ),
    pytest.param(
        [ir("self", "roots", fqdn="a.com", routes=[route("/", delegate="self")])],
        {"roots/self": inv("route creates a delegation cycle: roots/self -> roots/self")},
        id="cycle-self",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", routes=[route("/", delegate="missing")])],
        {"default/root": V},
        id="delegate-missing",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                routes=[route("/a", delegate="good"), route("/b", delegate="bad")],
            ),
            ir("good", routes=[route("/a", KUARD)]),
            ir("bad", routes=[route("/b", svc("kuard", 0))]),
        ],
        {
            "default/root": V,
            "default/good": V,
            "default/bad": inv('route "/b": service "kuard": port must be in the range 1-65535'),
        },
        id="one-invalid-child",
    ),
    pytest.param(
        [
            ir("bad", root=True, routes=[route("/", delegate="child")]),
            ir("good", fqdn="a.com", routes=[route("/", delegate="child")]),
            ir("child", routes=[route("/", KUARD)]),
        ],
        {"default/child": V},
        id="child-with-one-valid-parent-is-not-orphaned",
    ),
    pytest.param(
        [
            ir("parent", fqdn="parent.com", routes=[route("/child", delegate="child")]),
            ir("child", fqdn="child.com", routes=[route("/child", KUARD)]),
        ],
        {"default/parent": V, "default/child": V},
        id="child-with-own-virtualhost",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                routes=[route("/", svc("kuard", 1)), route("/x", svc("kuard", 0))],
            )
        ],
        {"default/root": inv("Service [kuard:1] is invalid or missing")},
        id="first-writer-wins",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", tcpproxy={"services": [svc("kuard", 8080)]})],
        {"default/root": inv("tcpproxy: needs a usable tls.secretName or tls.passthrough: "
                             "true (and no routes are given)")},
        id="tcpproxy-without-tls-and-no-routes-is-invalid",
    ),
    pytest.param([ir("root", fqdn="a.com")], {"default/root": ("valid", "valid IngressRoute")},
                 id="no-routes-key-is-valid"),
    pytest.param([ir("root", fqdn="a.com", routes=[])], {"default/root": V}, id="empty-routes"),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"services": [KUARD], "delegate": {"name": "x"}},
            )
        ],
        {
            "default/root": inv(
                "tcpproxy: cannot specify services and delegate in the same tcpproxy"
            )
        },
        id="tcpproxy-services-and-delegate",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"services": [svc("kuard", 8081)]},
            )
        ],
        {"default/root": inv("tcpproxy: service default/kuard/8081: not found")},
        id="tcpproxy-service-missing",
    ),
    pytest.param(
        [
            ir(
                "b",
                "a",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"delegate": {"name": "d", "namespace": "c"}},
            ),
            ir("d", "c", tcpproxy={"delegate": {"name": "b", "namespace": "a"}}),
        ],
        {"a/b": V, "c/d": inv("tcpproxy creates a delegation cycle: a/b -> c/d -> a/b")},
        id="tcpproxy-cycle",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"delegate": {"name": "child"}},
            ),
            ir("child", routes=[route("/", KUARD)]),
        ],
        {
            "default/root": inv("tcpproxy: delegate default/child has no tcpproxy"),
            "default/child": ORPHAN,
        },
        id="tcpproxy-delegate-without-tcpproxy",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"delegate": {"name": "child"}},
            ),
            ir("child", tcpproxy={"services": [KUARD]}),
        ],
        {"default/root": V, "default/child": V},
        id="tcpproxy-delegate",
    ),
    pytest.param(
        [ir("root", fqdn="a.com", tls={"passthrough": True}, tcpproxy={})],
        {"default/root": inv("tcpproxy: must specify services or a delegate")},
        id="tcpproxy-empty",
    ),
    pytest.param(
        [
            ir(
                "root",
                fqdn="a.com",
                tls={"passthrough": True},
                tcpproxy={"delegate": {"name": "missing"}},
            )
        ],
        {"default/root": V},
        id="tcpproxy-delegate-missing",
    ),
]


@pytest.mark.parametrize(
    ("objs", "expected", "settings"),
    [p if len(p.values) == 3 else pytest.param(*p.values, None, id=p.id) for p in CASES],
)
def test_status(
    objs: list[Obj], expected: dict[str, tuple[str, str]], settings: BuilderSettings | None
) -> None:
    got = statuses(build_dag(*SERVICES, secret("tls"), *objs, settings=settings))
    assert {k: got.get(k) for k in expected} == expected
    if not expected:
        assert got == {}


def test_statuses_sorted_and_labelled() -> None:
    dag = build_dag(
        service("kuard", "b", [(None, 8080)]),
        ir("z", "b", fqdn="Z.com", routes=[route("/", KUARD)]),
        ir("a", "b", fqdn="a.com", routes=[route("/", svc("nope", 1))]),
        ir("m", "a", fqdn="m.com", routes=[route("/", svc("home", 0))]),
    )
    assert [(s.namespace, s.name, s.vhost) for s in dag.statuses] == [
        ("a", "m", "m.com"),
        ("b", "a", ""),
        ("b", "z", "z.com"),
    ]


def test_root_namespaces_allow_children_anywhere() -> None:
    settings = BuilderSettings(root_namespaces=frozenset({"roots"}))
    dag = build_dag(
        service("kuard", "apps"),
        ir(
            "root",
            "roots",
            fqdn="a.com",
            routes=[route("/", delegate={"name": "child", "namespace": "apps"})],
        ),
        ir("child", "apps", routes=[route("/", svc("kuard", 80))]),
        ir("other", "default", fqdn="b.com", routes=[route("/", svc("kuard", 80))]),
        settings=settings,
    )
    assert statuses(dag) == {
        "roots/root": V,
        "apps/child": V,
        "default/other": inv("root IngressRoute cannot be defined in this namespace"),
    }


def test_child_with_own_vhost_in_wrong_namespace_first_writer() -> None:
    """Delegated to from a valid root processed earlier, the child's "valid" comes first."""
    settings = BuilderSettings(root_namespaces=frozenset({"a"}))
    dag = build_dag(
        service("kuard", "b"),
        ir(
            "root",
            "a",
            fqdn="a.com",
            routes=[route("/", delegate={"name": "child", "namespace": "b"})],
        ),
        ir("child", "b", fqdn="b.com", routes=[route("/", svc("kuard", 80))]),
        settings=settings,
    )
    assert statuses(dag)["b/child"] == V


def test_tls_delegated_secret() -> None:
    objs = [
        secret("tls", "certs"),
        delegation("d", "certs", ("tls", ["default"])),
        ir("root", fqdn="a.com", tls={"secretName": "certs/tls"}, routes=[route("/", KUARD)]),
    ]
    dag = build_dag(*SERVICES, *objs)
    assert statuses(dag)["default/root"] == V
    assert [v.host for v in dag.https] == ["a.com"]
