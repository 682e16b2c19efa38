"""Typed views of raw objects: keys, defaults, and tolerance of wrong types."""

from __future__ import annotations

from typing import Any

import pytest
from dagkit import ir, route, svc

from controller.k8s import objects as o
from controller.k8s import views as v


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        pytest.param(
            {"kind": "Service", "metadata": {"name": "a", "namespace": "ns"}},
            ("ns", "a"),
            id="namespaced",
        ),
        pytest.param(
            {"kind": "Service", "metadata": {"name": "a"}}, ("default", "a"), id="default-namespace"
        ),
        pytest.param(
            {"kind": "Namespace", "metadata": {"name": "ns", "namespace": "x"}},
            ("", "ns"),
            id="cluster-scoped",
        ),
        pytest.param(
            {"kind": "Service", "metadata": {"name": 5, "namespace": 7}},
            ("default", ""),
            id="wrong-types",
        ),
        pytest.param(None, ("default", ""), id="not-a-dict"),
    ],
)
def test_key_of(obj: Any, key: o.Key) -> None:
    assert o.key_of(obj) == key


def test_ingressroute_view_defaults_delegate_namespace_to_the_holder() -> None:
    view = v.ingressroute_view(
        ir(
            "r",
            "apps",
            routes=[
                route("/a", delegate="child"),
                route("/b", delegate={"name": "c", "namespace": "x"}),
                route("/c", svc("s", 80, weight=None)),
            ],
        )
    )
    assert view.routes is not None and not view.is_root
    assert [r.delegate for r in view.routes] == [("apps", "child"), ("x", "c"), None]
    assert view.routes[2].services[0] == v.IRServiceView("s", 80, 0, "")


@pytest.mark.parametrize(
    ("routes", "expected"),
    [(None, None), ([], ()), ("x", None)],
    ids=["absent", "empty-list", "wrong-type"],
)
def test_routes_absent_is_not_empty(routes: Any, expected: tuple[()] | None) -> None:
    obj = ir("r", fqdn="a.com")
    if routes is not None:
        obj["spec"]["routes"] = routes
    assert v.ingressroute_view(obj).routes == expected


def test_ingress_view_accepts_v1beta1_backends() -> None:
    view = v.ingress_view(
        {
            "kind": "Ingress",
            "metadata": {"name": "i"},
            "spec": {
                "backend": {"serviceName": "web", "servicePort": "http"},
                "rules": [
                    {
                        "host": "a.com",
                        "http": {
                            "paths": [
                                {"path": "/", "backend": {"serviceName": "web", "servicePort": 80}}
                            ]
                        },
                    }
                ],
            },
        }
    )
    assert [(r.host, [p.backend for p in r.paths]) for r in view.rules] == [
        ("a.com", [v.BackendView("web", 80, "")]),
        ("", [v.BackendView("web", None, "http")]),
    ]


@pytest.mark.parametrize(
    ("host", "wildcard", "ok"),
    [
        ("example.com", False, True),
        ("a_b.example", False, True),
        ("localhost", False, True),
        ("*.example.com", True, True),
        ("*.example.com", False, False),
        ("a.*.com", True, False),
        ("-a.com", False, False),
        ("a..com", False, False),
        ("", False, False),
        ("A.com", False, False),
        ("a.com\n", False, False),
        ("a" * 254, False, False),
    ],
)
def test_valid_hostname(host: str, wildcard: bool, ok: bool) -> None:
    assert o.valid_hostname(host, allow_wildcard=wildcard) is ok
