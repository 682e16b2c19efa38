"""The runner's checks (one scenario entry each) and how a failure report shows them and
the scenario's world (controller, Envoy, backends)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the annotation; runner.py imports this module
    from .runner import ScenarioRun

STATUS_LIMIT = 12000  # characters of status JSON in a report (HTTPProxy rows are long)


@dataclass
class Check:
    """One entry being converged: what it expects and what its last attempt saw."""

    label: str
    kind: str  # request | status | observed
    spec: dict[str, Any]
    negative: bool = False
    deadline: float = 0.0
    held: bool = False
    attempts: int = 0
    last_seen: str = "<never attempted>"
    last_mismatch: list[str] = field(default_factory=list)
    last_at: float = 0.0


def _fmt(d: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in d.items()) + "}"


def check_lines(checks: list[Check]) -> list[str]:
    """Every check: held ones in one line, the others with their last observation and
    every mismatch."""
    out = []
    for c in checks:
        if c.held:
            out.append(f"  [ok]     {c.label}: {_fmt(c.spec)}")
            continue
        kind = "negative" if c.negative else "positive"
        state = "NOT CHECKED" if c.attempts == 0 else "FAILED"
        out.append(f"  [{state}] {c.label} ({c.kind}, {kind}, {c.attempts} attempts): "
                   f"{_fmt(c.spec)}")
        if c.attempts:
            out.append(f"      last attempt saw: {c.last_seen}")
            out += [f"      mismatch: {m}" for m in c.last_mismatch]
    return out


def _status_lines(run: ScenarioRun) -> list[str]:
    if run.controller is None:
        return []
    data, err = run.controller.debug_status()
    out = ["--- controller /debug/status ---",
           err if err else json.dumps(data, indent=1, sort_keys=True)[:STATUS_LIMIT]]
    if run.sink.mode != "folder":
        data, err = run.sink.statuses(run.controller)
        out += [f"--- statuses in the {run.sink.mode} ---",
                err if err else json.dumps(data, indent=1, sort_keys=True)[:STATUS_LIMIT]]
    return out


def _envoy_lines(run: ScenarioRun) -> list[str]:
    if run.envoy is None:
        return []
    clusters = run.envoy.admin("/clusters", limit=200000)
    lines = [ln for ln in clusters.splitlines()
             if "::health_flags::" in ln or "::cx_active::" in ln or "added_via_api" in ln]
    return ["--- envoy admin /listeners ---", run.envoy.admin("/listeners"),
            "--- envoy admin /clusters (filtered) ---", "\n".join(lines[:60])]


def world_lines(run: ScenarioRun) -> list[str]:
    """Progress, ports, statuses, Envoy's listeners and clusters, the backends and the log
    tails of the controller and Envoy."""
    out = [f"progress: {'; '.join(run.log) or '-'}", f"timings: {run.timings}"]
    if run.ports:
        out.append(f"ports: {run.ports}")
    out.append(f"workdir: {run.workdir}")
    out += _status_lines(run) + _envoy_lines(run)
    if run.pool is not None:
        out.append("--- backends ---")
        out += [f"  {b.describe()}" for b in run.pool.all]
        out.append(f"  Endpoints written for: {run.live}")
    for p in (run.controller, run.envoy):
        if p is not None:
            out += [f"--- {p.proc.describe()} ---", p.proc.tail(50)]
    return out
