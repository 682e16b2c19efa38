"""The Dockerfile and scripts/image.sh build one description (image/contour/): the
Dockerfile installs `packages` and runs `setup.sh` from that folder, and its final stage's
ENV, WORKDIR, USER, EXPOSE and ENTRYPOINT say what `config.json` says. So the image a user
builds with docker and the one the node tests build with no registry cannot drift."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESCRIPTION = REPO / "image" / "contour"


def _final_stage() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile's last stage, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    last_from = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines[last_from:]]


def _config_from_dockerfile() -> dict:
    found: dict = {"env": [], "exposed_ports": []}
    for op, args in _final_stage():
        if op == "ENV":
            found["env"] += shlex.split(args)
        elif op == "USER":
            found["user"] = args
        elif op == "WORKDIR":
            found["workdir"] = args
        elif op == "EXPOSE":
            found["exposed_ports"] += args.split()
        elif op == "ENTRYPOINT":
            found["entrypoint"] = json.loads(args)
    return found


def test_dockerfile_says_what_config_json_says() -> None:
    want = json.loads((DESCRIPTION / "config.json").read_text())["config"]
    got = _config_from_dockerfile()
    assert sorted(got["env"]) == sorted(want["env"])
    assert sorted(got["exposed_ports"]) == sorted(want["exposed_ports"])
    for key in ("user", "workdir", "entrypoint"):
        assert got[key] == want[key], key


def test_dockerfile_installs_the_description_packages_and_runs_its_setup() -> None:
    stage = _final_stage()
    assert ("COPY", "image/contour/ /build/") in stage
    (run,) = [args for op, args in stage if op == "RUN"]
    assert "grep -v '^#' /build/packages | xargs apt-get install" in run
    assert "sh /build/setup.sh /build" in run
    packages = [ln for ln in (DESCRIPTION / "packages").read_text().splitlines()
                if ln and not ln.startswith("#")]
    assert "python3" in packages
