"""completions/kubectl-contour.zsh and .fish in the real shells (scripts/test.sh installs zsh
and fish when they are missing): command names, flag values, names from --from-dir and
directories for --to-dir, as each shell's completion system offers them.

fish answers `complete -C LINE` directly. zsh completes only inside its line editor, so an
interactive `zsh -f` runs on a pseudo-terminal: the completion system (compinit) and the
script are loaded, `compadd` is wrapped to record every candidate it is given (`compadd -O`
matches them against the typed word without inserting them), TAB is bound to a widget that
completes and then writes a marker, and the line is typed."""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "kubectl_contour" / "fixtures" / "cluster"
ZSH_RC = """\
PROMPT='> '
autoload -Uz compinit && compinit -u -D
source {script}
compadd() {{
  local -a __got
  builtin compadd -O __got "$@"
  (( ${{#__got}} )) && print -rl -- $__got >> $CAPTURE
}}
_capture_tab() {{ zle complete-word; print -r -- '<done>' >> $CAPTURE }}
zle -N _capture_tab
bindkey '^I' _capture_tab
print -r -- '<ready>' >> $CAPTURE
"""


def shell(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: scripts/test.sh installs it (apt-get install {name})"
    return found


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """`kubectl-contour` on PATH (this venv's python on the package), run from the repo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "kubectl-contour"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubectl_contour "$@"\n')
    wrapper.chmod(0o755)
    return dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                PYTHONPATH=str(ROOT), TERM="xterm")


def fish_candidates(line: str, env: dict[str, str]) -> list[str]:
    script = ROOT / "completions" / "kubectl-contour.fish"
    done = subprocess.run([shell("fish"), "--no-config", "-c",
                           f"source {script}; complete -C {quote_fish(line)}"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
                          check=True)
    return [entry.split("\t", 1)[0] for entry in done.stdout.splitlines()]


def quote_fish(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def zsh_candidates(line: str, env: dict[str, str], tmp_path: Path) -> list[str]:
    """The candidates zsh's completion system is given for `line` + TAB, sorted, unique."""
    capture, rc = tmp_path / "zsh-capture", tmp_path / "capture.zsh"
    capture.write_text("")
    rc.write_text(ZSH_RC.format(script=ROOT / "completions" / "kubectl-contour.zsh"))
    primary, secondary = os.openpty()
    proc = subprocess.Popen([shell("zsh"), "-f", "-i"], stdin=secondary, stdout=secondary,
                            stderr=secondary, env=dict(env, CAPTURE=str(capture)), cwd=ROOT,
                            start_new_session=True)
    os.close(secondary)
    try:
        os.write(primary, f"source {rc}\n".encode())
        drain_until(primary, capture, "<ready>")
        os.write(primary, line.encode() + b"\t")
        drain_until(primary, capture, "<done>")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the shell this test started, by its own group
        proc.wait(10)
        os.close(primary)
    lines = capture.read_text().splitlines()
    return sorted({c for c in lines if c not in ("<ready>", "<done>")})


def drain_until(primary: int, capture: Path, marker: str, timeout: float = 60.0) -> None:
    """Read the terminal (so the shell never blocks writing to it) until `marker` is in the
    capture file."""
    deadline = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.05)
        if ready:
            try:
                seen = (seen + os.read(primary, 4096))[-2000:]
            except OSError:
                break
        if marker in capture.read_text():
            return
    raise AssertionError(f"zsh did not reach {marker} within {timeout:g}s; terminal: {seen!r}")


CASES = [
    pytest.param("kubectl-contour st", ["status"], id="command-names"),
    pytest.param("kubectl-contour s", ["status", "switch"], id="several-commands"),
    pytest.param("kubectl-contour tree -o ", ["json", "yaml"], id="flag-value"),
    pytest.param("kubectl-contour envoy-dump --type r", ["routes"], id="flag-value-prefix"),
    pytest.param(f"kubectl-contour --from-dir {FIXTURES} tree blu",
                 ["blue", "blue-green-root"], id="names-from-dir"),
    pytest.param("kubectl-contour certs --add", ["--address"], id="certs-flags"),
]


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_fish_completes(env: dict[str, str], line: str, expected: list[str]) -> None:
    assert fish_candidates(line, env) == expected


@pytest.mark.parametrize(("line", "expected"), CASES)
def test_zsh_completes(env: dict[str, str], tmp_path: Path, line: str,
                       expected: list[str]) -> None:
    assert zsh_candidates(line, env, tmp_path) == expected


def test_to_dir_completes_directories(env: dict[str, str], tmp_path: Path) -> None:
    """--to-dir answers `directories only` (directive 16): each shell lists folders, never
    files."""
    work = tmp_path / "manifests"
    (work / "new-objects").mkdir(parents=True)
    (work / "notes.yaml").write_text("")
    fish = fish_candidates(f"kubectl-contour diff --to-dir {work}/n", env)
    assert fish == [f"{work}/new-objects/"]
    zsh = zsh_candidates(f"kubectl-contour diff --to-dir {work}/n", env, tmp_path)
    assert "new-objects" in zsh and "notes.yaml" not in zsh
