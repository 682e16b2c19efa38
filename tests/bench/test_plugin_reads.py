"""`bench.plugin_reads` through a real Envoy at tiny N (no timing assertions)."""

from __future__ import annotations

import asyncio

import pytest

from bench.plugin_reads import run


@pytest.mark.parametrize(("name", "tables"), [("single", 1), ("scoped-inline", 20)])
def test_plugin_reads_bench_reads_every_table(name: str, tables: int) -> None:
    result = asyncio.run(run(20, name, 1))
    assert result["tables"] == tables
    assert set(result) >= {"fetch_parse_ms", "route_tables_ms", "vhost_routes_ms", "bytes"}
