"""`bench.bench fanout` still runs: light delta ADS clients in two processes and real Envoys
on one `contour serve --source-dir`, tiny N, no timing assertions (~10 s), in both route
layouts (scoped: the clients ask as Envoys on the scoped listener, the Envoys' probes
route by the scopes)."""

from __future__ import annotations

import json

import pytest

from bench.fanout import run_fanout


@pytest.mark.parametrize("route_layout", ["single", "scoped"])
def test_fanout_bench_runs(route_layout: str) -> None:
    result = run_fanout(50, 2, clients=20, procs=2, envoys=2, route_layout=route_layout)
    json.dumps(result)
    assert result["connect_all_served_ms"]["n"] == 20
    assert result["change"]["clients_ms"]["n"] == 40  # every client, every change
    assert result["change"]["envoys_ms"]["n"] == 4
    assert result["reconnect_storm_served_ms"]["n"] == 20
    assert result["per_client"]["rss_kb"] is not None
