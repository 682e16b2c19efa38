"""Rule 1 of the boundary: apiVersion, kind and the ObjectMeta fields read, for every kind
(unknown kinds included), and who a rejection names."""

from __future__ import annotations

import pytest
from validationkit import DELETE, VALID, ingressroute, mutate, namespace, service

from controller.validation import Admitted, Rejected, admit

SUBDOMAIN = (
    "must be a lowercase RFC 1123 subdomain (dot-separated labels of a-z, 0-9 and '-', "
    "starting and ending with a letter or digit, at most 253 characters)"
)
LABEL = ("must be a lowercase RFC 1123 label (a-z, 0-9 and '-', starting and ending with a "
         "letter or digit, at most 63 characters)")  # fmt: skip
DNS1035 = ("must be a lowercase RFC 1035 label (a-z, 0-9 and '-', starting with a letter and "
           "ending with a letter or digit, at most 63 characters)")  # fmt: skip

CASES = [
    # (make, path, value, Rejected(kind, namespace, name, reasons))
    (ingressroute, ("kind",), 5, ("", "", "root"), "kind: must be a string"),
    (ingressroute, ("kind",), DELETE, ("", "", "root"), "kind: is required"),
    (ingressroute, ("apiVersion",), 1, ("IngressRoute", "team", "root"),
     "apiVersion: must be a string"),
    (ingressroute, ("metadata",), "x", ("IngressRoute", "", ""), "metadata: must be an object"),
    (ingressroute, ("metadata",), DELETE, ("IngressRoute", "", ""), "metadata: is required"),
    (ingressroute, ("metadata", "name"), ["a"], ("IngressRoute", "team", ""),
     "metadata.name: must be a string"),
    (ingressroute, ("metadata", "name"), DELETE, ("IngressRoute", "team", ""),
     "metadata.name: is required"),
    (ingressroute, ("metadata", "name"), "", ("IngressRoute", "team", ""),
     f"metadata.name: {SUBDOMAIN}"),
    (ingressroute, ("metadata", "name"), "Root", ("IngressRoute", "team", "Root"),
     f"metadata.name: {SUBDOMAIN}"),
    (ingressroute, ("metadata", "name"), "a" * 254, ("IngressRoute", "team", "a" * 254),
     f"metadata.name: {SUBDOMAIN}"),
    (ingressroute, ("metadata", "name"), "a_b", ("IngressRoute", "team", "a_b"),
     f"metadata.name: {SUBDOMAIN}"),
    (ingressroute, ("metadata", "namespace"), ["team"], ("IngressRoute", "", "root"),
     "metadata.namespace: must be a string"),
    (ingressroute, ("metadata", "namespace"), "a.b", ("IngressRoute", "a.b", "root"),
     f"metadata.namespace: {LABEL} or empty"),
    (ingressroute, ("metadata", "namespace"), "a" * 64, ("IngressRoute", "a" * 64, "root"),
     f"metadata.namespace: {LABEL} or empty"),
    (ingressroute, ("metadata", "labels"), {"app": 1}, ("IngressRoute", "team", "root"),
     "metadata.labels.app: must be a string"),
    (ingressroute, ("metadata", "labels"), {1: "a"}, ("IngressRoute", "team", "root"),
     "metadata.labels: keys must be strings, not int"),
    (ingressroute, ("metadata", "annotations"), ["a"], ("IngressRoute", "team", "root"),
     "metadata.annotations: must be an object"),
    (ingressroute, ("metadata", "annotations"), {"example.com/x": True},
     ("IngressRoute", "team", "root"), "metadata.annotations[example.com/x]: must be a string"),
    (namespace, ("metadata", "name"), "a.b", ("Namespace", "", "a.b"),
     f"metadata.name: {LABEL}"),
    (service, ("metadata", "name"), "1web", ("Service", "team", "1web"),
     f"metadata.name: {DNS1035}"),
    (service, ("metadata", "name"), "web.a", ("Service", "team", "web.a"),
     f"metadata.name: {DNS1035}"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "path", "value", "who", "reason"), CASES,
                         ids=lambda v: getattr(v, "__name__", None))  # fmt: skip
def test_metadata_rejections(make, path, value, who, reason) -> None:  # type: ignore[no-untyped-def]
    kind, namespace, name = who
    assert admit(mutate(make(), path, value)) == Rejected(kind, namespace, name, (reason,))


@pytest.mark.parametrize("kind", sorted(VALID))
def test_every_known_kind_needs_a_name(kind: str) -> None:
    verdict = admit(mutate(VALID[kind](), ("metadata", "name"), DELETE))
    assert isinstance(verdict, Rejected) and verdict.reasons == ("metadata.name: is required",)


def test_a_namespaced_object_without_namespace_is_named_in_default() -> None:
    obj = mutate(mutate(ingressroute(), ("metadata", "namespace"), DELETE), ("spec",), 1)
    assert admit(obj) == Rejected("IngressRoute", "default", "root", ("spec: must be an object",))


def test_an_empty_namespace_is_unset_as_the_api_server_takes_it() -> None:
    """Found by the fuzzer (an EndpointSlice with `namespace: ""`): the API server puts such
    an object in the request's namespace instead of refusing it."""
    from controller.events import ObjectEvent

    obj = mutate(ingressroute(), ("metadata", "namespace"), "")
    verdict = admit(obj)
    assert isinstance(verdict, Admitted)
    assert ObjectEvent.upsert(verdict.obj).key == ("IngressRoute", "default", "root")


@pytest.mark.parametrize("value", [None, 5, "x", [1], True, 1.5])
def test_not_an_object(value: object) -> None:
    assert admit(value) == Rejected("", "", "", ("(root): must be an object",))


def test_unknown_kinds_are_admitted_unchanged_when_their_metadata_is_good() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "system:controller:contour"}, "rules": "anything"}  # fmt: skip
    verdict = admit(role)
    assert verdict == Admitted(role, ()) and verdict.obj is role
    for name, reason in [("a/b", "must be a non-empty name other than '.' and '..', without "
                                 "'/' or '%'"), ("..", None), ("", None), (5, "must be a string")]:
        bad = admit(mutate(role, ("metadata", "name"), name))
        assert isinstance(bad, Rejected), name
        assert bad.kind == "ClusterRole"
        if reason:
            assert bad.reasons == (f"metadata.name: {reason}",)


def test_labels_and_annotations_may_be_null() -> None:
    obj = mutate(ingressroute(), ("metadata", "labels"), None)
    assert admit(obj) == Admitted(ingressroute(), ("metadata.labels: null, pruned",))


def test_core_kind_at_an_unknown_api_version() -> None:
    verdict = admit(mutate(service(), ("apiVersion",), "v2"))
    assert verdict == Rejected("Service", "team", "web", ('apiVersion: must be one of ["v1"]',))
