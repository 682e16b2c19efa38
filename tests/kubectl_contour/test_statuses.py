"""queries/statuses.py: computed statuses (an HTTPProxy's reason is its first error) and
`[KIND/][NS/]NAME` resolution across IngressRoutes and HTTPProxies."""

from __future__ import annotations

import pytest

from controller.dag.model import Condition, Status, SubCondition
from kubectl_contour.errors import NotFound, UsageError
from kubectl_contour.objects import Snapshot
from kubectl_contour.queries.statuses import computed_statuses, resolve_proxy, split_kind


def obj(kind: str, ns: str, name: str) -> dict[str, object]:
    return {"kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": {}}


SNAPSHOT = Snapshot((obj("IngressRoute", "a", "both"), obj("HTTPProxy", "a", "both"),
                     obj("HTTPProxy", "a", "hp"), obj("HTTPProxy", "b", "hp"),
                     obj("IngressRoute", "a", "ir")))


@pytest.mark.parametrize(("text", "namespace", "want"), [
    pytest.param("ir", None, ("IngressRoute", ("a", "ir")), id="bare-ingressroute"),
    pytest.param("a/hp", None, ("HTTPProxy", ("a", "hp")), id="namespaced"),
    pytest.param("hp", "b", ("HTTPProxy", ("b", "hp")), id="with-n"),
    pytest.param("httpproxy/both", None, ("HTTPProxy", ("a", "both")), id="kind-prefix"),
    pytest.param("ingressroute/a/both", None, ("IngressRoute", ("a", "both")),
                 id="kind-and-namespace"),
    pytest.param("proxy/both", None, ("HTTPProxy", ("a", "both")), id="short-kind"),
])
def test_resolve_proxy(text: str, namespace: str | None, want: tuple[str, object]) -> None:
    assert resolve_proxy(SNAPSHOT, text, namespace=namespace) == want


@pytest.mark.parametrize(("text", "error", "message"), [
    pytest.param("both", UsageError, "names both an IngressRoute and an HTTPProxy",
                 id="both-kinds"),
    pytest.param("hp", UsageError, "ambiguous: a/hp, b/hp", id="two-namespaces"),
    pytest.param("nope", NotFound, "IngressRoute or HTTPProxy 'nope' not found", id="none"),
    pytest.param("ingressroute/hp", NotFound, "IngressRoute 'hp' not found", id="wrong-kind"),
])
def test_resolve_proxy_refuses(text: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        resolve_proxy(SNAPSHOT, text, namespace=None)


@pytest.mark.parametrize(("text", "want"), [
    ("httpproxy/x", ("HTTPProxy", "x")), ("HTTPProxies/n/x", ("HTTPProxy", "n/x")),
    ("ns/x", (None, "ns/x")), ("x", (None, "x")),
])
def test_split_kind(text: str, want: tuple[str | None, str]) -> None:
    assert split_kind(text) == want


@pytest.mark.parametrize(("errors", "reason"), [
    pytest.param((), "At least one error present", id="description-without-errors"),
    pytest.param((SubCondition("IncludeError", "IncludeNotFound", "first"),
                  SubCondition("ServiceError", "X", "second")), "first", id="first-error"),
])
def test_httpproxy_reason(errors: tuple[SubCondition, ...], reason: str) -> None:
    st = Status("a", "hp", "invalid", "At least one error present", kind="HTTPProxy",
                conditions=(Condition("Valid", "False", "ErrorPresent", "m", errors),))
    computed = computed_statuses([st])[("HTTPProxy", "a", "hp")]
    assert computed.reason == reason
    assert computed.summary() == f"invalid: {reason}"
