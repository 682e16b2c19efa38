"""/debug/status rows: IngressRoute rows as before; HTTPProxy rows carry the conditions the
scenarios README shows (empty errors/warnings omitted, as v1.33's omitempty does), with
observedGeneration when the object's generation is known."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from controller.dag import status as st
from controller.dag.model import DAG, Condition, Status, SubCondition
from controller.k8s.status import Observed
from controller.state_view import StateView

ERROR = "At least one error present, see Errors for details"
CHILD = Status("default", "child", "invalid", ERROR, kind="HTTPProxy", conditions=(
    Condition("Valid", "False", "ErrorPresent", ERROR, errors=(SubCondition(
        "IncludeError", "IncludeCreatesCycle",
        "include creates an include cycle: default/parent -> default/child -> default/child"),
    )),))  # fmt: skip


def rows(statuses: tuple[Status, ...], stored: dict[Any, Observed]) -> list[dict[str, Any]]:
    routing = SimpleNamespace(statuses=statuses, stored_statuses=stored,
                              programmed_states=dict, dag=DAG())
    view = StateView(*([None] * 7))  # type: ignore[arg-type]
    view.routing = routing  # type: ignore[assignment]
    return view.status_rows()


def test_httpproxy_rows_carry_conditions_as_the_scenarios_readme_shows() -> None:
    assert rows((CHILD,), {}) == [{
        "kind": "HTTPProxy", "namespace": "default", "name": "child",
        "currentStatus": "invalid", "description": ERROR,
        "conditions": [{
            "type": "Valid", "status": "False", "reason": "ErrorPresent", "message": ERROR,
            "errors": [{"type": "IncludeError", "status": "True", "reason": "IncludeCreatesCycle",
                        "message": "include creates an include cycle: default/parent -> "
                                   "default/child -> default/child"}],
        }],
    }]


def test_observed_generation_when_known() -> None:
    stored = {("HTTPProxy", "default", "child"): Observed("", "", "5", (), 3)}
    (row,) = rows((CHILD,), stored)
    assert row["conditions"][0]["observedGeneration"] == 3


def test_ingressroute_rows_have_no_conditions() -> None:
    assert rows((st.valid(("default", "r"), "r.io"),), {}) == [{
        "kind": "IngressRoute", "namespace": "default", "name": "r",
        "currentStatus": "valid", "description": "valid IngressRoute"}]


def test_gateway_api_rows_show_the_status_to_write() -> None:
    from controller.config import Settings
    from controller.dag.gateway_model import (
        GatewayAPIStatus,
        ParentRef,
        RouteParentStatus,
        condition,
    )

    route = GatewayAPIStatus("HTTPRoute", "default", "r", parents=(RouteParentStatus(
        ParentRef("gateway.networking.k8s.io", "Gateway", "gw", "default"),
        "projectcontour.io/gateway-controller",
        (condition("Accepted", True, "Accepted", "ok"),)),))
    other = {"parentRef": {"name": "x"}, "controllerName": "example.com/other",
             "conditions": []}
    stored = {("HTTPRoute", "default", "r"): Observed("", "", generation=3,
                                                      status={"parents": [other]})}
    routing = SimpleNamespace(statuses=(), stored_statuses=stored, programmed_states=dict,
                              dag=DAG(gateway_statuses=(route,)))
    view = StateView(Settings(), *([None] * 6))  # type: ignore[arg-type]
    view.routing = routing  # type: ignore[assignment]
    assert view.status_rows() == [{
        "kind": "HTTPRoute", "namespace": "default", "name": "r", "status": {"parents": [
            other,
            {"parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                           "name": "gw", "namespace": "default"},
             "controllerName": "projectcontour.io/gateway-controller",
             "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                             "message": "ok", "observedGeneration": 3}]}]}}]
