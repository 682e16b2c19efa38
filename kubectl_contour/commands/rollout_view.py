"""What `rollout` shows: the plan before it starts, a recorded state (`rollout status`),
and the progress while it runs (a live step bar and numbers per Envoy on a terminal; one
line per event on stderr when piped)."""

from __future__ import annotations

import dataclasses
from typing import Any

from kubectl_contour.queries.rollout_gate import ms, percent
from kubectl_contour.queries.rollout_state import ABORTED, DONE, Rollout, Thresholds

PHASE_STYLES = {"running": "yellow", DONE: "green", ABORTED: "bold red"}


def thresholds_text(t: Thresholds) -> str:
    p99 = "off" if t.max_p99 is None else ms(t.max_p99)
    return (f"interval {t.interval:g}s, max 5xx {percent(t.max_5xx)}, max p99 {p99}, "
            f"min {t.min_requests} requests on TO")


def steps_parts(state: Rollout, *, planned: bool = False) -> list[tuple[str, str]]:
    """`10% → [25%] → 50% → 100%`: done steps green, the current one bold (none when only
    `planned`)."""
    parts: list[tuple[str, str]] = []
    for i, w in enumerate(state.steps):
        if i:
            parts.append((" → ", "dim"))
        current = i == state.step and state.phase != ABORTED and not planned
        style = "bold" if current else "green" if i < state.step and not planned else ""
        parts.append((f"[{w}%]" if current else f"{w}%", style))
    return parts


def fields(pairs: list[tuple[str, Any]], *, rich: bool) -> Any:
    """`name:  value` lines (a value may be a list of Parts)."""
    from kubectl_contour.render.text import cell_text, to_rich_text

    if not rich:
        return "\n".join(f"{k + ':':<9} {cell_text(v)}".rstrip() for k, v in pairs)
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    for _ in range(2):
        grid.add_column()
    for k, v in pairs:
        grid.add_row(f"{k}:", to_rich_text(v) if isinstance(v, list) else str(v))
    return grid


def state_view(state: Rollout, *, rich: bool) -> Any:
    from kubectl_contour.render.text import sections

    step = f"{state.step + 1}/{len(state.steps)} ({state.steps[state.step]}% to {state.target})"
    pairs: list[tuple[str, Any]] = [
        ("rollout", f"{state.kind} {state.root}: {state.source} → {state.target}"),
        ("phase", [(state.phase, PHASE_STYLES.get(state.phase, ""))]),
        ("step", step if state.phase != ABORTED else f"{step}, then back to {state.source}"),
        ("steps", steps_parts(state)), ("gates", thresholds_text(state.thresholds)),
        ("started", state.started), ("updated", state.updated)]
    if state.reason:
        pairs.append(("reason", state.reason))
    return sections([fields(pairs, rich=rich), gates_table(state, rich=rich)], rich=rich)


def side_cells(side: dict[str, Any]) -> list[str]:
    requests, errors = int(side.get("requests") or 0), int(side.get("errors") or 0)
    rate = errors / requests if requests else None
    return [str(requests), percent(rate), ms(side.get("p99_ms"))]


def gates_table(state: Rollout, *, rich: bool) -> Any:
    from kubectl_contour.render.text import table

    if not state.gates:
        return None
    rows = []
    for g in state.gates:
        style = "green" if g["verdict"] == "pass" else "bold red"
        rows.append([str(g["step"]), f"{g['weight']}%", [(g["verdict"], style)], "all",
                     *side_cells(g["to"]), *side_cells(g["from"])])
        rows += [["", "", "", envoy, *side_cells(v["to"]), *side_cells(v["from"])]
                 for envoy, v in sorted((g.get("envoys") or {}).items())]
    return table(["step", "weight", "verdict", "envoy", "to req", "to 5xx", "to p99",
                  "from req", "from 5xx", "from p99"], rows, rich=rich, title="Gates:")


def plan_view(plan: Any, state: Rollout, checks: list[Any], *, rich: bool) -> Any:
    """Before the first step: what changes, the steps and gates, the pre-flight checks."""
    from kubectl_contour.commands.switch import view as switch_view
    from kubectl_contour.render.text import sections

    pairs: list[tuple[str, Any]] = [("steps", steps_parts(state, planned=True)),
                                    ("gates", thresholds_text(state.thresholds))]
    return sections([switch_view(dataclasses.replace(plan, checks=tuple(checks)), rich=rich),
                     fields(pairs, rich=rich)], rich=rich)


def live_view(state: Rollout, elapsed: float, envoys: dict[str, Any]) -> Any:
    """The rich progress: step bar, seconds watched, TO's and FROM's numbers per Envoy."""
    from rich.console import Group
    from rich.table import Table

    from kubectl_contour.render.text import to_rich_text

    numbers = Table(box=None, header_style="bold", pad_edge=False)
    for h in ("ENVOY", "TO REQ", "TO 5XX", "TO P99", "FROM REQ", "FROM 5XX", "FROM P99"):
        numbers.add_column(h, overflow="fold")
    for name, v in sorted(envoys.items()):
        numbers.add_row(name, *live_cells(v.to), *live_cells(v.source))
    head = to_rich_text([(f"{state.source} → {state.target}  ", "bold"), *steps_parts(state),
                         (f"  watched {elapsed:.0f}s of {state.thresholds.interval:g}s", "dim")])
    return Group(head, share_bar(state), numbers)


def share_bar(state: Rollout) -> Any:
    """A bar of TO's share of the traffic."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=100, completed=state.weight, width=40),
                 f"{state.weight}% to {state.target}")
    return grid


def live_cells(side: Any) -> list[str]:
    return [str(side.requests), percent(side.rate), ms(side.p99)]


class PlainProgress:
    """Piped: every event is a line on stderr; the final state goes to stdout."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def event(self, text: str) -> None:
        self.session.note(text)

    def numbers(self, state: Rollout, elapsed: float, envoys: dict[str, Any]) -> None:
        """Numbers are shown live on a terminal only; the gate lines carry them here."""

    def final(self, state: Rollout) -> None:
        self.session.print(state_view(state, rich=False))

    def close(self) -> None:
        """Nothing to tear down."""


class LiveProgress(PlainProgress):
    """On a terminal: events scroll above a live step bar and table of numbers."""

    def __init__(self, session: Any) -> None:
        from rich.live import Live

        super().__init__(session)
        self.live = Live(console=session.console(), auto_refresh=False, transient=True)
        self.live.start()

    def event(self, text: str) -> None:
        self.live.console.print(text)

    def numbers(self, state: Rollout, elapsed: float, envoys: dict[str, Any]) -> None:
        self.live.update(live_view(state, elapsed, envoys), refresh=True)

    def final(self, state: Rollout) -> None:
        self.close()
        self.session.print(state_view(state, rich=True))

    def close(self) -> None:
        self.live.stop()


def progress_for(session: Any) -> PlainProgress:
    return LiveProgress(session) if session.rich else PlainProgress(session)
