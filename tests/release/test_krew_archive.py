"""scripts/release.sh's artifacts, installed the way a user gets them: the krew archive is
unpacked into a fresh prefix exactly as krew lays a plugin out (the manifest's `files`
moved into store/contour/VERSION, bin/kubectl-contour a link to its `bin`), the completion
helper linked as the manifest's caveats say, and then, through the real kubectl with only
that prefix, kubectl and python3 on PATH: `kubectl contour --help` and `kubectl __complete
contour ...` (kubectl >= 1.26 asks kubectl_complete-contour). The manifest carries the
archive's real sha256 and a URI under RELEASE_BASE."""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BASE = "https://releases.example.org/kubectl-contour"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("dist")
    manifest = out / "contour.yaml"
    shutil.copy(REPO / "completions" / "krew" / "contour.yaml", manifest)
    env = dict(os.environ, RELEASE_BASE=BASE, PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "release.sh"), "--no-image",
                           "--manifest", str(manifest), str(out)], capture_output=True,
                          text=True, env=env, timeout=900)
    if proc.returncode != 0:
        pytest.fail(f"scripts/release.sh failed:\n{proc.stderr[-3000:]}", pytrace=False)
    return out, yaml.safe_load(manifest.read_text())


def krew_install(archive: Path, plugin: dict, root: Path) -> Path:
    """What `kubectl krew install --manifest --archive` does: unpack, move each `files`
    match into store/NAME/VERSION/TO, link bin/kubectl-NAME to `bin`. Returns bin/."""
    (platform,) = plugin["spec"]["platforms"]
    unpacked = root / "download"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="tar")
    store = root / "store" / plugin["metadata"]["name"] / plugin["spec"]["version"]
    for rule in platform["files"]:
        matches = sorted(glob.glob(str(unpacked / rule["from"])))
        assert matches, f"krew: {rule['from']} matches nothing in the archive"
        dest = store / rule["to"]
        dest.mkdir(parents=True, exist_ok=True)
        for match in matches:
            shutil.move(match, dest / Path(match).name)
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / f"kubectl-{plugin['metadata']['name']}").symlink_to(store / platform["bin"])
    return bin_dir


def test_release_writes_the_real_sha256_and_uri(release: tuple[Path, dict]) -> None:
    out, plugin = release
    (platform,) = plugin["spec"]["platforms"]
    archive = out / "kubectl-contour.tar.gz"
    assert platform["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    version = plugin["spec"]["version"]
    assert platform["uri"] == f"{BASE}/{version}/kubectl-contour.tar.gz"
    assert sorted(p.name for p in out.glob("kubectl_contour-*")) == [
        f"kubectl_contour-{version[1:]}-py3-none-any.whl", f"kubectl_contour-{version[1:]}.tar.gz"]
    sums = dict(reversed(line.split()) for line in (out / "SHA256SUMS").read_text().splitlines())
    assert sums["kubectl-contour.tar.gz"] == platform["sha256"]


def test_krew_installed_plugin_runs_through_kubectl(release: tuple[Path, dict],
                                                    tmp_path: Path) -> None:
    out, plugin = release
    bin_dir = krew_install(out / "kubectl-contour.tar.gz", plugin, tmp_path / "krew")
    store = bin_dir.parent / "store" / "contour" / plugin["spec"]["version"]
    # the caveats' step: kubectl_complete-contour on PATH
    (bin_dir / "kubectl_complete-contour").symlink_to(store / "kubectl_complete-contour")
    kubectl, python = shutil.which("kubectl"), shutil.which("python3", path="/usr/bin:/bin")
    assert kubectl and python, "the test needs kubectl and a system python3"
    path = os.pathsep.join([str(bin_dir), str(Path(kubectl).parent), str(Path(python).parent),
                            "/usr/bin", "/bin"])
    env = {"PATH": path, "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    helped = subprocess.run(["kubectl", "contour", "--help"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert helped.returncode == 0, helped.stderr
    assert "envoy-dump" in helped.stdout and "switch" in helped.stdout
    assert (store / "venv" / ".installed").exists(), "the first run made the venv"
    completed = subprocess.run(["kubectl", "__complete", "contour", "envoy-d"],
                               capture_output=True, text=True, env=env, timeout=60)
    assert completed.returncode == 0, completed.stderr
    assert "envoy-dump" in completed.stdout.split()
    for shell in ("bash", "zsh", "fish"):
        assert (store / "completions" / f"kubectl-contour.{shell}").is_file()
