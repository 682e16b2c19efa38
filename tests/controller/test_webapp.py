"""Status gauges count each kind on its own."""

from __future__ import annotations

from types import SimpleNamespace

from controller.dag import status as st
from controller.dag.model import Status
from controller.webapp import ControllerCollector


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
