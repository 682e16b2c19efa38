"""The images scripts/image.sh builds with no registry, opened as a user's runtime would:
the contour image runs as a non-root user, holds `contour` and `envoy` first on its PATH, and
carries no byte code, docs or caches; the echo image holds its server. Sizes are bounded so
that a change which bloats the image fails here (README "The image" gives them)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from nodekit import NodeError, build_image

MB = 1 << 20


def _open(tarball: Path) -> tuple[dict, dict[str, tarfile.TarInfo]]:
    """The image config and the layer's members (name without ./ -> TarInfo)."""
    with tarfile.open(tarball) as outer:
        def blob(digest: str) -> bytes:
            f = outer.extractfile("blobs/sha256/" + digest.removeprefix("sha256:"))
            assert f is not None
            return f.read()
        index = json.loads(blob_from(outer, "index.json"))
        manifest = json.loads(blob(index["manifests"][0]["digest"]))
        config = json.loads(blob(manifest["config"]["digest"]))
        layer = outer.extractfile("blobs/sha256/" + manifest["layers"][0]["digest"][7:])
        with tarfile.open(fileobj=layer, mode="r|") as inner:
            members = {m.name.removeprefix("./"): m for m in inner}
    return config, members


def blob_from(tar: tarfile.TarFile, name: str) -> bytes:
    f = tar.extractfile(name)
    assert f is not None
    return f.read()


@pytest.fixture(scope="module")
def contour_image() -> tuple[Path, dict, dict[str, tarfile.TarInfo]]:
    try:
        path = build_image("contour")
    except NodeError as e:
        pytest.fail(str(e), pytrace=False)
    return (path, *_open(path))


def test_contour_image_runs_as_nobody_with_contour_and_envoy_on_path(contour_image) -> None:
    _, config, members = contour_image
    cfg = config["config"]
    assert cfg["User"] == "65534:65534"
    assert cfg["Entrypoint"] == ["contour"]
    assert any(e.startswith("PATH=/opt/contour/bin:") for e in cfg["Env"])
    for name in ("opt/contour/bin/contour", "opt/contour/bin/envoy", "opt/contour/bin/python"):
        assert name in members, name
    envoy = [m for n, m in members.items() if n.endswith("site-packages/envoy/_bin/envoy")]
    assert envoy and envoy[0].mode & 0o111


def test_contour_image_is_trimmed(contour_image) -> None:
    path, _, members = contour_image
    assert not [n for n in members if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in members if n.startswith(("usr/share/doc/", "usr/share/man/"))
                and members[n].isfile()]
    assert not [n for n in members if n.startswith(("var/lib/apt/lists/", "root/.cache/"))
                and members[n].isfile() and members[n].size]  # apt's empty lock may stay
    assert not [n for n in members if "/site-packages/pip/" in n], "pip is not shipped"
    assert path.stat().st_size < 380 * MB, f"{path.stat().st_size / MB:.0f} MB"


def test_echo_image_holds_its_server() -> None:
    try:
        path = build_image("echo")
    except NodeError as e:
        pytest.fail(str(e), pytrace=False)
    config, members = _open(path)
    assert config["config"]["Entrypoint"] == ["python3", "/opt/echo/echo.py"]
    assert config["config"]["User"] == "65534:65534"
    assert "opt/echo/echo.py" in members and "usr/bin/python3" in members
    assert path.stat().st_size < 100 * MB, f"{path.stat().st_size / MB:.0f} MB"
