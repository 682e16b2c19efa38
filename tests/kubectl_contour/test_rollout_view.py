"""What `rollout` shows (commands/rollout_view.py): the recorded state as text and on a
terminal, the live progress, and the command's shape: subcommands, the `rollout FROM TO`
shorthand, completion of subcommands, flags and names."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from goldens import invoke

from kubectl_contour import completion
from kubectl_contour.commands.rollout_view import live_view, state_view
from kubectl_contour.queries.rollout_gate import Side, Verdict
from kubectl_contour.queries.rollout_state import ABORTED, RUNNING, Rollout, Thresholds

ROOT = Path(__file__).resolve().parents[2]
GATE = {"step": 1, "weight": 10, "verdict": "pass", "reasons": [], "at": "T",
        "to": {"requests": 40, "errors": 0, "p99_ms": 3.2},
        "from": {"requests": 360, "errors": 1, "p99_ms": 12.0},
        "envoys": {"envoy-a": {"to": {"requests": 40, "errors": 0, "p99_ms": 3.2},
                               "from": {"requests": 360, "errors": 1, "p99_ms": 12.0}}}}


def state(**changes: Any) -> Rollout:
    values: dict[str, Any] = {
        "kind": "IngressRoute", "root": "default/root", "source": "default/blue",
        "target": "default/green", "steps": (10, 50, 100), "step": 1, "phase": RUNNING,
        "started": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:01:00Z",
        "thresholds": Thresholds(60.0, 0.01, 500.0, 100), "base": {}, "recipe": [],
        "gates": (GATE,)}
    return Rollout(**{**values, **changes})


def test_the_state_as_text() -> None:
    assert state_view(state(), rich=False) == """\
rollout:  IngressRoute default/root: default/blue → default/green
phase:    running
step:     2/3 (50% to default/green)
steps:    10% → [50%] → 100%
gates:    interval 60s, max 5xx 1.0%, max p99 500ms, min 100 requests on TO
started:  2026-01-01T00:00:00Z
updated:  2026-01-01T00:01:00Z

Gates:
STEP    WEIGHT    VERDICT    ENVOY    TO REQ    TO 5XX    TO P99    FROM REQ    FROM 5XX    FROM P99
1       10%       pass       all      40        0.0%      3.2ms     360         0.3%        12ms
                             envoy-a  40        0.0%      3.2ms     360         0.3%        12ms"""


def test_an_aborted_state_says_why() -> None:
    text = state_view(state(phase=ABORTED, reason="step 2/3 (50% to default/green): "
                            "p99 of TO 980ms > max 500ms"), rich=False)
    assert "step:     2/3 (50% to default/green), then back to default/blue" in text
    assert "steps:    10% → 50% → 100%" in text
    assert "reason:   step 2/3 (50% to default/green): p99 of TO 980ms > max 500ms" in text


def rendered(renderable: Any) -> str:
    from rich.console import Console

    out = io.StringIO()
    Console(file=out, width=100, color_system="truecolor", force_terminal=True).print(
        renderable)
    return out.getvalue()


def test_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm-256color")
    text = rendered(state_view(state(), rich=True))
    assert "\x1b[33mrunning" in text  # the phase in colour
    assert "10% → [50%] → 100%" in unstyled(text) and "FROM P99" in unstyled(text)
    live = unstyled(rendered(live_view(state(), 12.4, {
        "envoy-a": Verdict("wait", Side(12, 0, 2.5), Side(90, 0, 1.0))})))
    assert "default/blue → default/green  10% → [50%] → 100%  watched 12s of 60s" in live
    assert "━" in live and " 50% to default/green" in live  # the share bar
    assert "envoy-a  12      0.0%    2.5ms   90        0.0%      1.0ms" in live


def unstyled(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_rollout_from_to_is_short_for_start(fixtures_dir: Path) -> None:
    code, _, err = invoke(fixtures_dir, "rollout", "blue", "green", "--steps", "50,100")
    assert code == 2 and "drop --from-dir" in err, err
    code, out, _ = invoke(fixtures_dir, "rollout", "--help")
    assert code == 0 and all(f"  {s} " in out for s in completion.SUBCOMMANDS["rollout"])


def test_subcommand_flags_match_the_app() -> None:
    import typer.main

    from kubectl_contour.cli import app

    group = typer.main.get_command(app).commands["rollout"]  # type: ignore[attr-defined]
    assert list(group.commands) == list(completion.SUBCOMMANDS["rollout"])
    for name, command in group.commands.items():
        declared = {o for p in command.params for o in p.opts if o.startswith("-")}
        assert declared - {"--help"} == set(completion.SUBCOMMAND_FLAGS["rollout"][name]), name


def answer(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "kubectl_contour", "__complete", *args],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.splitlines()


@pytest.mark.parametrize(("words", "lines"), [
    pytest.param(["rollout", "st"], ["start\tStart a rollout FROM TO (`rollout FROM TO` for "
                                     "short)", "status\tThe rollout recorded on a root", ":4"],
                 id="subcommands"),
    pytest.param(["rollout", "blue-"], ["blue-green-root", ":4"], id="shorthand-from"),
    pytest.param(["rollout", "blue", "gr"], ["green", ":4"], id="shorthand-to"),
    pytest.param(["rollout", "blue", "green", ""], [":4"], id="no-third-name"),
    pytest.param(["rollout", "status", "blue-g"], ["blue-green-root", ":4"], id="status-root"),
    pytest.param(["rollout", "status", "-o", ""], ["json", "yaml", ":4"], id="status-output"),
    pytest.param(["rollout", "promote", "--fu"], ["--full", ":4"], id="promote-flags"),
    pytest.param(["rollout", "blue", "green", "--max-p"], ["--max-p99", ":4"],
                 id="start-flags"),
])
def test_completion(fixtures_dir: Path, words: list[str], lines: list[str]) -> None:
    assert answer("--from-dir", str(fixtures_dir), *words) == lines
