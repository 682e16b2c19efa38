"""Status gauges count each kind on its own."""

from __future__ import annotations

from types import SimpleNamespace

from controller.dag import status as st
from controller.dag.model import Status
from controller.webapp import ControllerCollector, xds_status
from controller.xds.registry import NodeRegistry
from controller.xdscache.snapshot import (
    CLUSTER,
    ENDPOINT,
    LISTENER,
    ROUTE,
    SCOPED_ROUTE,
    SECRET,
    SnapshotCache,
)


def test_status_gauges_per_kind() -> None:
    statuses = (st.valid(("d", "r"), "r.io"),
                Status("d", "p", "invalid", "x", kind="HTTPProxy"),
                Status("d", "q", "orphaned", "y", kind="HTTPProxy"))
    collector = ControllerCollector(SimpleNamespace(statuses=statuses))  # type: ignore[arg-type]
    samples = {(m.name.split("_")[1], s.labels["status"]): s.value
               for m in collector._status_metrics() for s in m.samples}
    assert samples == {
        ("ingressroute", "invalid"): 0, ("ingressroute", "orphaned"): 0,
        ("ingressroute", "valid"): 1, ("httpproxy", "invalid"): 1,
        ("httpproxy", "orphaned"): 1, ("httpproxy", "valid"): 0,
    }


def test_debug_xds_lists_layout_types_only_when_they_hold_resources() -> None:
    cache = SnapshotCache()
    view = SimpleNamespace(registry=NodeRegistry(), cache=cache)
    classic = sorted((CLUSTER, ENDPOINT, SECRET, LISTENER, ROUTE))
    assert sorted(xds_status(view)["versions"]) == classic  # type: ignore[arg-type]
    cache.publish({SCOPED_ROUTE: {"ingress_http/a.io": b"\x0a\x01a"}})
    assert sorted(xds_status(view)["versions"]) == sorted([*classic, SCOPED_ROUTE])  # type: ignore[arg-type]


def test_debug_xds_resources_lists_scopes_only_while_served() -> None:
    """`kubectl contour diff` checks the scope names Envoy holds against these."""
    from controller.webapp import xds_resources

    cache = SnapshotCache()
    view = SimpleNamespace(registry=NodeRegistry(), cache=cache)
    assert sorted(xds_resources(view)) == sorted([ROUTE, SECRET])  # type: ignore[arg-type]
    cache.publish({SCOPED_ROUTE: {"ingress_http/a.io": b"\x0a\x01a"}})
    scopes = xds_resources(view)[SCOPED_ROUTE]  # type: ignore[arg-type]
    assert list(scopes) == ["ingress_http/a.io"]
    assert scopes["ingress_http/a.io"] == cache.snapshot.get(SCOPED_ROUTE).resources[
        "ingress_http/a.io"].version
