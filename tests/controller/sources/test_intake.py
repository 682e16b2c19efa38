"""The boundary both sources share: every raw value becomes exactly one event with a string
key, valid objects are upserts, everything else is a reject with the path and the reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from controller.events import REJECT, UPSERT
from controller.sources.intake import admit_event

IR: dict[str, Any] = {
    "apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
    "metadata": {"name": "r", "namespace": "team"},
    "spec": {"virtualhost": {"fqdn": "a.example.com"},
             "routes": [{"match": "/", "services": [{"name": "s", "port": 80}]}]},
}


def with_weight(value: object) -> dict[str, Any]:
    routes = [{"match": "/", "services": [{"name": "s", "port": 80, "weight": value}]}]
    return {**IR, "spec": {**IR["spec"], "routes": routes}}


@pytest.mark.parametrize(
    ("raw", "op", "key", "reason"),
    [
        pytest.param(IR, UPSERT, ("IngressRoute", "team", "r"), None, id="valid"),
        pytest.param(with_weight("abc"), REJECT, ("IngressRoute", "team", "r"),
                     "spec.routes[0].services[0].weight", id="weight-string"),
        pytest.param(with_weight(True), REJECT, ("IngressRoute", "team", "r"),
                     "spec.routes[0].services[0].weight", id="weight-bool"),
        pytest.param({"kind": 5, "metadata": {"name": "x"}}, REJECT, ("", "", "f#0"), "kind",
                     id="kind-not-a-string"),
        pytest.param({**IR, "metadata": {"name": ["x"]}}, REJECT, ("IngressRoute", "", "f#0"),
                     "metadata.name", id="name-a-list"),
        pytest.param(["not", "an", "object"], REJECT, ("", "", "f#0"), None, id="a-list"),
        pytest.param(None, REJECT, ("", "", "f#0"), None, id="null"),
    ],
)
def test_admit_event(raw: object, op: str, key: tuple[str, str, str], reason: str | None):
    event = admit_event(raw, source="f", fallback_name="f#0")
    assert (event.op, event.key, event.source) == (op, key, "f")
    if op == REJECT:
        assert event.reasons and event.obj is None
    if reason is not None:
        assert any(r.startswith(reason) for r in event.reasons), event.reasons


def test_an_ingress_path_the_builder_skips_is_admitted_with_a_warning():
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "i", "namespace": "default"},
               "spec": {"rules": [{"host": "a.example.com", "http": {"paths": [
                   {"path": "/a[", "pathType": "ImplementationSpecific",
                    "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}
    event = admit_event(ingress, source="f", fallback_name="f#0")
    assert event.op == UPSERT
    assert event.warnings == ("host 'a.example.com' path '/a[': not a regular expression "
                              "RE2 accepts within Envoy's program size; the path is skipped",)


JSON = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.floats(allow_nan=False) | hs.text(max_size=8),
    lambda inner: hs.lists(inner, max_size=4) | hs.dictionaries(hs.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(spec=JSON, meta=JSON)
def test_any_value_gives_one_event_with_a_string_key(spec: object, meta: object):
    for raw in ({**IR, "spec": spec}, {**IR, "metadata": meta}, spec):
        event = admit_event(raw, source="f", fallback_name="f#0")
        assert event.op in (UPSERT, REJECT)
        assert all(isinstance(part, str) for part in event.key) and event.name
