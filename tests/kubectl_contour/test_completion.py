"""Completion answers (cobra `__complete` protocol) and their agreement with the typer app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_contour import completion
from kubectl_contour.cli import app

ROOT = Path(__file__).resolve().parents[2]


def answer(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-m", "kubectl_contour", "__complete", *args],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.splitlines()


def typer_command(name: str) -> object:
    import typer.main

    group = typer.main.get_command(app)
    return group.commands[name]  # type: ignore[attr-defined]


def test_commands_match_the_app() -> None:
    import typer.main

    group = typer.main.get_command(app)
    assert sorted(group.commands) == sorted(completion.COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(completion.COMMANDS))
def test_flags_match_the_app(name: str) -> None:
    command = typer_command(name)
    declared = {o for p in command.params for o in p.opts if o.startswith("-")}  # type: ignore[attr-defined]
    assert declared - {"--help"} == set(completion.COMMAND_FLAGS[name])


def test_global_flags_match_the_app() -> None:
    import typer.main

    group = typer.main.get_command(app)
    declared = {o for p in group.params for o in (*p.opts, *p.secondary_opts)}
    assert declared | {"-h", "--help"} == set(completion.GLOBAL_FLAGS)


def test_commands_are_completed_with_help() -> None:
    lines = answer("")
    assert lines[-1] == ":4"
    assert "tree\tIngressRoute delegation and HTTPProxy include trees" in lines


def test_names_come_from_the_folder(fixtures_dir: Path) -> None:
    assert answer("--from-dir", str(fixtures_dir), "tree", "blu") == [
        "blue", "blue-green-root", ":4"]
    assert answer("--from-dir", str(fixtures_dir), "endpoints", "blog") == [
        "blog", "blog-canary", ":4"]
    assert answer("--from-dir", str(fixtures_dir), "switch", "blue", "green", "") == [":4"]


def test_httpproxy_names_are_completed() -> None:
    folder = Path(__file__).parent / "fixtures" / "httpproxy"
    assert answer("--from-dir", str(folder), "tree", "api") == ["api-blue", "api-green", ":4"]
    assert answer("--from-dir", str(folder), "switch", "api-blue", "api-") == [
        "api-blue", "api-green", ":4"]
    assert answer("--from-dir", str(folder), "switch", "--root", "sh") == ["shop", ":4"]


def test_flag_values() -> None:
    assert answer("tree", "-o", "") == ["json", "yaml", ":4"]
    assert answer("envoy-dump", "--type", "r") == ["routes", ":4"]
    assert answer("--from-dir", "") == [":16"]
    assert answer("diff", "--to-dir", "") == [":16"]
    assert answer("certs", "--address", "") == [":4"]
    assert "--address" in answer("certs", "--")


def test_bash_script_completes(tmp_path: Path, fixtures_dir: Path) -> None:
    import os
    import shutil

    assert shutil.which("bash"), "bash is not installed: the completion test needs it"
    wrapper = tmp_path / "kubectl-contour"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubectl_contour "$@"\n')
    wrapper.chmod(0o755)
    script = ROOT / "completions" / "kubectl-contour.bash"
    line = (f"source {script}; COMP_WORDS=(kubectl-contour --from-dir {fixtures_dir} tree "
            "blue-); COMP_CWORD=4; _kubectl_contour; printf '%s\\n' \"${COMPREPLY[@]}\"")
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    done = subprocess.run(["bash", "-c", line], capture_output=True, text=True, env=env,
                          check=True)
    assert done.stdout.split() == ["blue-green-root"]


def test_gateway_api_names_are_completed_as_the_commands_take_them() -> None:
    """`tree gateway/NAME`, `switch --root httproute/NAME`, and then Services as FROM/TO."""
    folder = Path(__file__).parent / "fixtures" / "gateway"
    assert answer("--from-dir", str(folder), "tree", "gateway/") == [
        "gateway/elsewhere", "gateway/web", ":4"]
    assert answer("--from-dir", str(folder), "switch", "--root", "httproute/s") == [
        "httproute/secure", "httproute/shop", "httproute/stray", ":4"]
    assert answer("--from-dir", str(folder), "switch", "--root", "httproute/shop",
                  "api-") == ["api-blue", "api-green", ":4"]
