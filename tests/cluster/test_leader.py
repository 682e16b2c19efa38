"""Leader election with two controller replicas against the real API server.

Both replicas run `contour serve --enable-leader-election` with the ServiceAccount's token
(its Role grants Leases in heptio-contour only) and both serve xDS; exactly one writes
status. A clean stop (SIGTERM) hands the lease over at once; after a SIGKILL the other
replica takes over once the lease has expired (15 s, plus at most two retry periods of
2 s: one to see the last renewal, one to act).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clusterkit import (
    NAMESPACE,
    ClusterController,
    Identity,
    admin_api,  # noqa: F401 - fixture
    contour_identity,  # noqa: F401 - fixture
    delete_namespace_objects,
    ensure_namespace,
    ingressroute,
    ir_status,
    wait_for,
)
from harness.kubeapi import KubeApi

from controller.k8s.leader import LEASE_SECONDS, RETRY_PERIOD

NS = "leader-test"
LEASE = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases/contour"
VALID = ("valid", "valid IngressRoute")


def holder(api: KubeApi) -> str:
    return str((api.json("GET", LEASE).get("spec") or {}).get("holderIdentity") or "")


@pytest.fixture
def replicas(tmp_path: Path, admin_api: KubeApi,  # noqa: F811
             contour_identity: Identity) -> Iterator[Any]:  # noqa: F811
    """A factory of replicas (named a, b, ...); all stopped and the namespace emptied at
    the end. A Lease left by another test would delay the first election: removed."""
    admin_api.json("DELETE", LEASE, ok=(404,))
    ensure_namespace(admin_api, NS)
    delete_namespace_objects(admin_api, NS)
    admin_api.apply({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "s", "namespace": NS},
                     "spec": {"ports": [{"name": "http", "port": 80}]}})
    made: list[ClusterController] = []

    def start(name: str) -> ClusterController:
        ctl = ClusterController(tmp_path / name, contour_identity.kubeconfig, name=name,
                                leader_election=True)
        made.append(ctl)
        return ctl

    yield start
    for ctl in made:
        ctl.stop()
    delete_namespace_objects(admin_api, NS)
    admin_api.json("DELETE", LEASE, ok=(404,))  # other tests create their own


def settled(count: Any, quiet: float = 2.0, timeout: float = 20.0) -> int:
    """`count()` once it has not changed for `quiet` seconds (at most `timeout`)."""
    deadline = time.monotonic() + timeout
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.2)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
    return int(last)


def route(api: KubeApi, name: str) -> None:
    """A new valid IngressRoute, and wait until some replica has written its status."""
    api.apply(ingressroute(NS, name, f"{name}.leader.test", "s"))
    wait_for(f"status of {name}", lambda: ir_status(api, NS, name) == VALID, 15)


def test_one_writer_and_takeover_after_sigterm_and_sigkill(
        replicas: Any, admin_api: KubeApi) -> None:  # noqa: F811
    a = replicas("a")
    a.wait_healthy()
    wait_for("a leads", a.is_leader, 2 * RETRY_PERIOD + 5)
    b = replicas("b")
    b.wait_healthy()
    assert holder(admin_api) == "a"

    # both serve xDS (a snapshot is published on each); only the leader writes status
    for ctl in (a, b):
        versions = ctl.debug("/debug/xds")["versions"]
        assert any(versions.values()), (ctl.name, versions)
    # Objects other tests left in the shared API server get their statuses written too:
    # count from a settled baseline, so only this test's two objects are counted.
    base = settled(a.status_writes)
    route(admin_api, "one")
    route(admin_api, "two")
    # `route` saw both statuses stored; the metric may lag a moment on a loaded machine
    wait_for("a counted both writes", lambda: a.status_writes() - base >= 2, 10)
    time.sleep(1.5)  # a follower that writes would have written by now
    assert (a.status_writes() - base, b.status_writes()) == (2, 0)
    assert not b.is_leader()

    # SIGTERM: a releases the lease on its way out; b takes over within a retry period
    t0 = time.monotonic()
    a.terminate()
    wait_for("b leads after a's clean stop", b.is_leader, 2 * RETRY_PERIOD + 3)
    print(f"takeover after SIGTERM: {time.monotonic() - t0:.1f}s")
    assert holder(admin_api) == "b"
    route(admin_api, "three")
    wait_for("b wrote it", lambda: b.status_writes() == 1, 3)

    # a new follower; then SIGKILL the leader: no release, the lease must expire
    c = replicas("c")
    c.wait_healthy()
    route(admin_api, "four")
    wait_for("b wrote it", lambda: b.status_writes() == 2, 3)
    assert c.status_writes() == 0
    b.kill()
    t0 = time.monotonic()
    wait_for("c leads after b was killed", c.is_leader, LEASE_SECONDS + 2 * RETRY_PERIOD + 3)
    took = time.monotonic() - t0
    print(f"takeover after SIGKILL: {took:.1f}s (lease {LEASE_SECONDS}s)")
    assert holder(admin_api) == "c"
    route(admin_api, "five")
    wait_for("c wrote it", lambda: c.status_writes() == 1, 3)
