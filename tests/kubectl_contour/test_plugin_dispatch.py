"""`kubectl contour ...` through the real kubectl: it finds `kubectl-contour` on PATH (a small
wrapper around this venv's python) and passes the arguments through."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl")



@pytest.fixture(autouse=True)
def _kubectl_is_required() -> None:
    # a real part that is missing fails the test; it is never skipped
    assert KUBECTL is not None, "kubectl is not on PATH: the plugin-dispatch tests need it"


@pytest.fixture
def plugin_path(tmp_path: Path) -> dict[str, str]:
    wrapper = tmp_path / "kubectl-contour"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubectl_contour "$@"\n')
    wrapper.chmod(0o755)
    complete = tmp_path / "kubectl_complete-contour"
    shutil.copy(ROOT / "completions" / "kubectl_complete-contour", complete)
    complete.chmod(0o755)
    env = dict(os.environ, PATH=f"{tmp_path}:{os.environ['PATH']}",
               PYTHONPATH=str(ROOT), KUBECONFIG=str(tmp_path / "no-kubeconfig"))
    return env


def kubectl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60, check=False)


def test_plugin_is_listed(plugin_path: dict[str, str]) -> None:
    done = kubectl(plugin_path, "plugin", "list")
    assert "kubectl-contour" in done.stdout


def test_tree_through_kubectl(plugin_path: dict[str, str], fixtures_dir: Path) -> None:
    done = kubectl(plugin_path, "contour", "tree", "--from-dir", str(fixtures_dir))
    assert done.returncode == 0, done.stderr
    assert (ROOT / "tests/kubectl_contour/golden/tree.txt").read_text() == done.stdout


def test_exit_code_passes_through(plugin_path: dict[str, str], fixtures_dir: Path) -> None:
    done = kubectl(plugin_path, "contour", "--from-dir", str(fixtures_dir), "tree", "nope")
    assert done.returncode == 3
    assert "not found" in done.stderr


def test_help_through_kubectl(plugin_path: dict[str, str]) -> None:
    done = kubectl(plugin_path, "contour", "--help")
    assert done.returncode == 0 and "Exit codes" in done.stdout


def test_kubectl_completes_the_plugin(plugin_path: dict[str, str], fixtures_dir: Path) -> None:
    done = kubectl(plugin_path, "__complete", "contour", "")
    assert "tree" in done.stdout.split(), done.stderr
    done = kubectl(plugin_path, "__complete", "contour", "--from-dir", str(fixtures_dir),
                   "tree", "blue-")
    assert "blue-green-root" in done.stdout.split(), done.stderr
