"""The status writer without an API server: what it patches, where, and when it does not
(unchanged status, a follower, an object gone); tests/cluster proves it against a real one."""

from __future__ import annotations

from typing import Any

import pytest

from controller.dag import status as st
from controller.dag.model import Condition, Status, SubCondition
from controller.k8s.status import (
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
