"""`bench.bench peer` still runs: upstream Contour (scripts/upstream-contour.sh, cached) and
this controller on one API server, both kinds, tiny N, no timing assertions (~30 s)."""

from __future__ import annotations

import json

from bench.peer import run_peer


def test_peer_bench_runs_both_controllers_on_both_kinds() -> None:
    result = run_peer(10, 2)
    json.dumps(result)
    assert result["upstream"] == "version: v1.33.8"
    for kind in ("ingress", "httpproxy"):
        for name in ("upstream", "this"):
            run = result[kind][name]
            assert run["cold_to_last_host_s"] > 0 and run["hosts_late"] == 0, (kind, name)
            assert run["change_to_envoy_ms"]["n"] == 2
            assert run["controller_memory"]["VmRSS"] > 0 and run["envoy_memory"]["VmRSS"] > 0
        assert set(result[kind]["ratio_upstream_to_this"]) >= {"cold_to_last_host",
                                                                "change_p50", "controller_rss"}
    assert result["ingress"]["upstream"]["status_writes"] == 0  # no Envoy Service: none
    # preset statuses: upstream writes one per change (the new observedGeneration)
    assert result["httpproxy"]["upstream"]["status_writes"] == 2
