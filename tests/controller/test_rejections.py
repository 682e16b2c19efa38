"""The reports of rejected and pruned objects: what /debug/sources, /metrics and statuses show,
and when a log line is written."""

from __future__ import annotations

import logging

import pytest

from controller.dag import status as st
from controller.dag.model import Condition, Status, SubCondition
from controller.events import ObjectEvent
from controller.rejections import (
    Rejections,
    merged_statuses,
    with_translation_rejections,
)

IR = {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
      "metadata": {"name": "r", "namespace": "default"}, "spec": {}}


def reject(kind: str = "IngressRoute", name: str = "r", reason: str = "spec: bad") -> ObjectEvent:
    return ObjectEvent.reject(kind, "default", name, source="f.yaml", reasons=(reason,))


@pytest.mark.parametrize(
    ("events", "rejected", "status_changes"),
    [
        pytest.param([reject()], ["r"], [True], id="reject"),
        pytest.param([reject(), reject()], ["r"], [True, False], id="same-again-no-change"),
        pytest.param([reject(), reject(reason="spec: worse")], ["r"], [True, True],
                     id="new-reason"),
        pytest.param([reject(), ObjectEvent.upsert(IR)], [], [True, True], id="fixed"),
        pytest.param([reject(), ObjectEvent.delete("IngressRoute", "default", "r")], [],
                     [True, True], id="deleted"),
        pytest.param([reject("Service", "s")], ["s"], [False], id="no-status-kind"),
    ],
)
def test_record(events: list[ObjectEvent], rejected: list[str], status_changes: list[bool]):
    r = Rejections()
    assert [r.record(e) for e in events] == status_changes
    assert [row["name"] for row in r.report()["rejected"]] == rejected


def test_a_log_line_names_the_object_once(caplog: pytest.LogCaptureFixture):
    r = Rejections()
    with caplog.at_level(logging.WARNING, logger="controller.rejections"):
        r.record(reject("Service", "s"))
        r.record(reject("Service", "s"))
    assert [m.getMessage() for m in caplog.records] == [
        "rejected Service default/s from f.yaml: spec: bad"]


def test_report_rows_and_counts():
    r = Rejections()
    r.record(reject("Service", "s"))
    r.record(ObjectEvent.upsert(IR, source="g.yaml", warnings=("spec.x: unknown field, pruned",)))
    assert r.report() == {
        "rejected": [{"kind": "Service", "namespace": "default", "name": "s",
                      "source": "f.yaml", "reasons": ["spec: bad"]}],
        "warnings": [{"kind": "IngressRoute", "namespace": "default", "name": "r",
                      "source": "g.yaml", "warnings": ["spec.x: unknown field, pruned"]}],
    }
    assert r.counts() == {"Service": 1}


def test_rejected_ingressroutes_get_an_invalid_status_merged_in_order():
    r = Rejections()
    r.record(reject(name="b", reason="spec.routes: must be an array"))
    built = (st.valid(("default", "a"), "a.io"), st.valid(("default", "c"), "c.io"))
    merged = merged_statuses(built, r.statuses())
    assert [(s.name, s.current, s.description) for s in merged] == [
        ("a", "valid", "valid IngressRoute"),
        ("b", "invalid", "spec.routes: must be an array"),
        ("c", "valid", "valid IngressRoute"),
    ]
    assert merged_statuses(built, ()) is built


def test_a_host_the_translators_refused_makes_its_root_invalid():
    built = (st.valid(("default", "a"), "a.io"), st.valid(("default", "b"), "b.io"))
    out = with_translation_rejections(built, {"b.io": "Envoy would reject virtual host 'b.io'"})
    assert [(s.name, s.current, s.description) for s in out] == [
        ("a", "valid", "valid IngressRoute"),
        ("b", "invalid", "Envoy would reject virtual host 'b.io'"),
    ]
    assert with_translation_rejections(built, {}) is built


# -- HTTPProxy: v1.33-shaped statuses --------------------------------------------------------

HP_VALID = Status("default", "p", "valid", "Valid HTTPProxy", "p.io", kind="HTTPProxy",
                  conditions=(Condition("Valid", "True", "Valid", "Valid HTTPProxy", warnings=(
                      SubCondition("SpecError", "IgnoredField", "ignored"),)),))


def test_a_rejected_httpproxy_gets_a_v1_33_invalid_status():
    r = Rejections()
    assert r.record(reject("HTTPProxy", "p", "spec.virtualhost.fqdn: is required"))
    r.record(ObjectEvent.reject("HTTPProxy", "default", "p", source="f.yaml",
                                reasons=("a: bad", "b: worse")))
    (status,) = r.statuses()
    assert (status.kind, status.namespace, status.name, status.current, status.description) == (
        "HTTPProxy", "default", "p", "invalid",
        "At least one error present, see Errors for details")
    assert status.conditions == (Condition(
        "Valid", "False", "ErrorPresent", "At least one error present, see Errors for details",
        errors=(SubCondition("SpecError", "Invalid", "a: bad; b: worse"),)),)


def test_a_host_the_translators_refused_adds_an_error_to_its_httpproxy():
    out = with_translation_rejections((HP_VALID,), {"p.io": "Envoy would reject it"})
    (status,) = out
    assert (status.current, status.vhost) == ("invalid", "p.io")
    (valid,) = status.conditions
    assert (valid.status, valid.reason) == ("False", "ErrorPresent")
    assert valid.errors == (SubCondition("VirtualHostError", "EnvoyConstraint",
                                         "Envoy would reject it"),)
    assert valid.warnings == HP_VALID.conditions[0].warnings

