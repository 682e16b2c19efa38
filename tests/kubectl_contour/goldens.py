"""Golden-file comparison for the plugin's tests (UPDATE_GOLDEN=1 rewrites), and the CLI run
offline on a fixture folder that produces the text compared."""

from __future__ import annotations

import os
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"


def invoke(folder: Path, *args: str) -> tuple[int, str, str]:
    """`kubectl contour --from-dir FOLDER ARGS...` in-process: (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from kubectl_contour.cli import app

    result = CliRunner().invoke(app, ["--from-dir", str(folder), *args],
                                prog_name="kubectl contour")
    return result.exit_code, result.stdout, result.stderr


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"golden {name} differs (UPDATE_GOLDEN=1)"
