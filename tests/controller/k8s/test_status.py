"""The status writer without an API server: what it patches, where, and when it does not
(unchanged status, a follower, an object gone); tests/cluster proves it against a real one."""

from __future__ import annotations

from typing import Any

import pytest

from controller.dag import status as st
from controller.dag.model import Condition, Status, SubCondition
from controller.k8s.client import ApiError
from controller.k8s.inflight import Window
from controller.k8s.status import (
    RETRY_SECONDS,
    SKIPPED,
    Observed,
    StatusWriter,
    observed_status,
    wanted_status,
)

ERROR = "At least one error present, see Errors for details"
PROXY = Status("apps", "p", "invalid", ERROR, kind="HTTPProxy", conditions=(
    Condition("Valid", "False", "ErrorPresent", ERROR,
              errors=(SubCondition("IncludeError", "IncludeNotFound", "include x/y not found"),)),
))


class FakeClient:
    def __init__(self) -> None:
        self.patches: list[tuple[str, dict[str, Any]]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> bytes:
        assert method == "PATCH" and kwargs["content_type"] == "application/merge-patch+json"
        self.patches.append((path, kwargs["body"]))
        return b"{}"


def writer(seen: dict[tuple[str, str, str], Observed], leader: bool = True,
           ) -> tuple[StatusWriter, FakeClient]:
    client = FakeClient()
    w = StatusWriter(client, lambda *key: seen.get(key), lambda: leader)  # type: ignore[arg-type]
    w.now = lambda: "2026-01-01T00:00:00Z"
    return w, client


def run_once(w: StatusWriter, statuses: tuple[Status, ...]) -> list[str]:
    """One round of `run` on this thread: what each write did."""
    w.submit(statuses)
    with w._wake:
        batch = w._take()
    return [w._write(s) for s in batch.values()]


def test_an_httpproxy_status_is_patched_with_conditions_and_generation() -> None:
    seen = {("HTTPProxy", "apps", "p"): Observed("NotReconciled", "Waiting for controller",
                                                 "7", (), 4)}
    w, client = writer(seen)
    run_once(w, (PROXY,))
    ((path, body),) = client.patches
    assert path == "/apis/projectcontour.io/v1/namespaces/apps/httpproxies/p/status"
    (cond,) = body["status"]["conditions"]
    assert (body["status"]["currentStatus"], body["status"]["description"]) == ("invalid", ERROR)
    assert (cond["observedGeneration"], cond["lastTransitionTime"]) == (4, "2026-01-01T00:00:00Z")
    assert cond["errors"][0]["reason"] == "IncludeNotFound"
    assert "warnings" not in cond  # omitempty, as v1.33 writes it
    assert body["status"]["loadBalancer"] == {}


def test_an_unchanged_status_is_not_patched() -> None:
    stored = dict(wanted_status(PROXY, 4))
    stored["conditions"] = [{**c, "lastTransitionTime": "long ago"} for c in stored["conditions"]]
    obj = {"metadata": {"resourceVersion": "9", "generation": 4}, "status": stored}
    w, client = writer({("HTTPProxy", "apps", "p"): observed_status(obj)})
    assert run_once(w, (PROXY,)) == [SKIPPED]
    assert client.patches == []


@pytest.mark.parametrize(("seen", "leader"), [
    ({}, True),  # gone
    ({("HTTPProxy", "apps", "p"): Observed("", "", "1", (), 1)}, False),  # a follower
])
def test_nothing_is_patched_for_a_gone_object_or_by_a_follower(seen, leader) -> None:
    w, client = writer(seen, leader)
    run_once(w, (PROXY,))
    assert client.patches == []


def test_ingressroute_and_httpproxy_of_one_name_are_told_apart() -> None:
    seen = {("IngressRoute", "apps", "p"): Observed("", "", "1"),
            ("HTTPProxy", "apps", "p"): Observed("", "", "1", (), 1)}
    w, client = writer(seen)
    run_once(w, (st.valid(("apps", "p"), "p.io"), PROXY))
    paths = sorted(p for p, _ in client.patches)
    assert paths == ["/apis/contour.heptio.com/v1beta1/namespaces/apps/ingressroutes/p/status",
                     "/apis/projectcontour.io/v1/namespaces/apps/httpproxies/p/status"]
    bodies = {p: b for p, b in client.patches}
    assert "conditions" not in bodies[paths[0]]["status"]


def test_observed_status_reads_any_shape() -> None:
    assert observed_status(None) == Observed("", "")
    assert observed_status({"status": "x", "metadata": {"generation": True}}) == Observed("", "")
    assert observed_status({"status": {"conditions": [1, {"type": "Valid"}]}}).conditions == (
        {"type": "Valid"},)


def test_a_batch_writes_the_latest_submission() -> None:
    """A status superseded while its batch was being written goes out as the newer one:
    one write per object, not the stale copy and then the new one."""
    from dataclasses import replace

    seen = {("HTTPProxy", "apps", "p"): Observed("NotReconciled", "", "7", (), 4)}
    w, client = writer(seen)
    w.submit((PROXY,))
    with w._wake:
        batch = w._take()
    newer = replace(PROXY, description="newer")
    w.submit((newer,))
    assert [w._write(s) for s in batch.values()] == ["written"]
    ((_, body),) = client.patches
    assert body["status"]["description"] == "newer"


def test_a_batch_skips_what_the_latest_submission_left_out() -> None:
    """An HTTPProxy the latest build holds back (waiting for its Envoys) keeps its stored
    status: the batch's older copy is not written either."""
    seen = {("HTTPProxy", "apps", "p"): Observed("NotReconciled", "", "7", (), 4)}
    w, client = writer(seen)
    w.submit((PROXY,))
    with w._wake:
        batch = w._take()
    w.submit(())
    assert [w._write(s) for s in batch.values()] == [SKIPPED]
    assert client.patches == []


# -- Gateway API statuses ---------------------------------------------------------------------


def _gateway_records() -> tuple[Any, Any]:
    from controller.dag.gateway_model import (
        GatewayAPIStatus,
        ListenerStatus,
        ParentRef,
        RouteParentStatus,
        condition,
    )
    gw = GatewayAPIStatus("Gateway", "infra", "gw", conditions=(
        condition("Accepted", True, "Accepted"), condition("Programmed", True, "Programmed")),
        listeners=(ListenerStatus("http", (("gateway.networking.k8s.io", "HTTPRoute"),), 2,
                                  (condition("Accepted", True, "Accepted"),)),))
    route = GatewayAPIStatus("HTTPRoute", "apps", "r", parents=(RouteParentStatus(
        ParentRef("gateway.networking.k8s.io", "Gateway", "gw", "infra", "http"),
        "projectcontour.io/gateway-controller",
        (condition("Accepted", False, "NotAllowedByListeners", "no"),)),))
    return gw, route


def run_gateway_once(w: StatusWriter, records: tuple[Any, ...]) -> list[str]:
    w.submit((), records)
    with w._wake:
        batch = w._take()
    return [w._write(s) for s in batch.values()]


def test_a_gateway_status_is_patched_with_listeners_generation_and_times() -> None:
    gw, _ = _gateway_records()
    old = {"conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                           "message": "", "observedGeneration": 1,
                           "lastTransitionTime": "2025-01-01T00:00:00Z"}]}
    seen = {("Gateway", "infra", "gw"): Observed("", "", "5", (), 2, old)}
    w, client = writer(seen)
    assert run_gateway_once(w, (gw,)) == ["written"]
    ((path, body),) = client.patches
    assert path == "/apis/gateway.networking.k8s.io/v1/namespaces/infra/gateways/gw/status"
    accepted, programmed = body["status"]["conditions"]
    assert accepted["lastTransitionTime"] == "2025-01-01T00:00:00Z"  # status unchanged
    assert programmed["lastTransitionTime"] == "2026-01-01T00:00:00Z"
    assert accepted["observedGeneration"] == 2
    (listener,) = body["status"]["listeners"]
    assert listener["attachedRoutes"] == 2 and listener["supportedKinds"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}]
    # the watch shows what was written: nothing more to write
    seen[("Gateway", "infra", "gw")] = observed_status(
        {"metadata": {"generation": 2, "resourceVersion": "6"}, "status": body["status"]})
    assert run_gateway_once(w, (gw,)) == [SKIPPED]


def test_a_route_status_keeps_other_controllers_parents() -> None:
    _, route = _gateway_records()
    other = {"parentRef": {"name": "theirs"}, "controllerName": "example.com/other",
             "conditions": [{"type": "Accepted", "status": "True", "reason": "Accepted",
                             "message": "", "lastTransitionTime": "2025-01-01T00:00:00Z"}]}
    ours_before = {"parentRef": {"name": "gone"},
                   "controllerName": "projectcontour.io/gateway-controller", "conditions": []}
    seen = {("HTTPRoute", "apps", "r"): Observed("", "", "1", (), None,
                                                 {"parents": [other, ours_before]})}
    w, client = writer(seen)
    run_gateway_once(w, (route,))
    ((path, body),) = client.patches
    assert path == "/apis/gateway.networking.k8s.io/v1/namespaces/apps/httproutes/r/status"
    first, ours = body["status"]["parents"]
    assert first == other
    assert ours["parentRef"] == {"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                 "name": "gw", "namespace": "infra", "sectionName": "http"}
    assert ours["conditions"][0]["reason"] == "NotAllowedByListeners"
    assert ours["conditions"][0]["lastTransitionTime"] == "2026-01-01T00:00:00Z"


def test_a_gateway_class_status_path_is_cluster_scoped() -> None:
    from controller.dag.gateway_model import GatewayAPIStatus, condition
    cls = GatewayAPIStatus("GatewayClass", "", "contour",
                           conditions=(condition("Accepted", True, "Accepted"),))
    w, client = writer({("GatewayClass", "", "contour"): Observed("", "")})
    run_gateway_once(w, (cls,))
    assert [p for p, _ in client.patches] == [
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses/contour/status"]


def test_a_route_no_longer_ours_loses_our_entry_and_others_are_not_written() -> None:
    from controller.dag.gateway_model import GatewayAPIStatus
    other = {"parentRef": {"name": "theirs"}, "controllerName": "example.com/other",
             "conditions": []}
    ours = {"parentRef": {"name": "gw"}, "controllerName": "projectcontour.io/gateway-controller",
            "conditions": []}
    seen = {("HTTPRoute", "apps", "was-ours"): Observed("", "", "1", (), None,
                                                        {"parents": [other, ours]}),
            ("HTTPRoute", "apps", "theirs"): Observed("", "", "1", (), None,
                                                      {"parents": [other]}),
            ("HTTPRoute", "apps", "bare"): Observed("", "", "1", (), None, {})}
    w, client = writer(seen)
    records = tuple(GatewayAPIStatus("HTTPRoute", "apps", n) for n in ("was-ours", "theirs",
                                                                       "bare"))
    run_gateway_once(w, records)
    assert client.patches == [
        ("/apis/gateway.networking.k8s.io/v1/namespaces/apps/httproutes/was-ours/status",
         {"status": {"parents": [other]}})]


def test_a_gateway_status_carries_the_addresses_when_known() -> None:
    from dataclasses import replace

    gw, _ = _gateway_records()
    w, client = writer({("Gateway", "infra", "gw"): Observed("", "")})
    run_gateway_once(w, (replace(gw, addresses=(("IPAddress", "192.0.2.1"),)),))
    ((_, body),) = client.patches
    assert body["status"]["addresses"] == [{"type": "IPAddress", "value": "192.0.2.1"}]
    w, client = writer({("Gateway", "infra", "gw"): Observed("", "")})
    run_gateway_once(w, (gw,))
    ((_, body),) = client.patches
    assert "addresses" not in body["status"]


class ScriptedClient(FakeClient):
    """Answers the PATCH of a path with the errors scripted for it, in turn, then 2xx."""

    def __init__(self, script: dict[str, list[Exception]]) -> None:
        super().__init__()
        self.script = script
        self.tries: list[str] = []

    def request(self, method: str, path: str, **kwargs: Any) -> bytes:
        self.tries.append(path)
        errors = self.script.get(path.split("/")[-2], [])
        if errors:
            raise errors.pop(0)
        return super().request(method, path, **kwargs)


def _ir(name: str) -> Status:
    return Status("apps", name, "valid", "valid IngressRoute")


def _batch_writer(script: dict[str, list[Exception]], names: list[str],
                  ) -> tuple[StatusWriter, ScriptedClient, list[Status]]:
    seen = {("IngressRoute", "apps", n): Observed("", "", "1") for n in names}
    client = ScriptedClient(script)
    w = StatusWriter(client, lambda *key: seen.get(key), lambda: True)  # type: ignore[arg-type]
    w.window = Window(limit=1, low=1, high=1)  # one at a time: answers in batch order
    statuses = [_ir(n) for n in names]
    w.submit(tuple(statuses))
    return w, client, statuses


@pytest.mark.parametrize(("script", "written", "retried", "pause", "sent"), [
    # a 429 pauses for its Retry-After; the batch sends nothing more and retries the rest
    ({"b": [ApiError(429, b"{}", "PATCH", "7")]}, ["a"], ["b", "c"], 7.0, ["a", "b"]),
    # a 5xx (or no server) is retried after RETRY_SECONDS; the others are still written
    ({"b": [ApiError(503, b"{}", "PATCH")]}, ["a", "c"], ["b"], RETRY_SECONDS,
     ["a", "b", "c"]),
    ({"a": [ConnectionError("refused")]}, ["b", "c"], ["a"], RETRY_SECONDS, ["a", "b", "c"]),
    # refused for good (422) or gone (404): not retried
    ({"b": [ApiError(422, b"{}", "PATCH")], "c": [ApiError(404, b"{}", "PATCH")]}, ["a"], [],
     0.0, ["a", "b", "c"]),
])
def test_a_batch_retries_what_the_api_server_pushed_back(
        script: dict[str, list[Exception]], written: list[str], retried: list[str],
        pause: float, sent: list[str]) -> None:
    w, client, statuses = _batch_writer(script, ["a", "b", "c"])
    retry, waited = w.write_batch(statuses)
    assert sorted(name for _, _, name in retry) == retried
    assert waited == pause
    assert [p.split("/")[-2] for p in client.tries] == sent
    assert sorted(p.split("/")[-2] for p, _ in client.patches) == written
    assert w.writes == len(written)


def test_the_retry_round_writes_each_object_once() -> None:
    """After a 429 and a 5xx, the next round writes what is left: 1 write per object."""
    w, client, statuses = _batch_writer(
        {"b": [ApiError(429, b"{}", "PATCH", "0")], "d": [ApiError(500, b"{}", "PATCH")]},
        ["a", "b", "c", "d"])
    w.window = Window(limit=4, low=1)
    retry, _ = w.write_batch(statuses)
    w.write_batch([retry[k] for k in sorted(retry)])
    assert sorted(p.split("/")[-2] for p, _ in client.patches) == ["a", "b", "c", "d"]
    assert w.writes == 4
    assert w.window.limit < 4  # overloaded twice: the window shrank
