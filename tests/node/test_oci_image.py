"""scripts/oci_image.py, the OCI image layout writer, on small inputs: the layout's
structure (the descriptors' digests and sizes are those of the blobs), the config built from
an image description, the containerd name annotation, and byte-for-byte reproducibility."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import oci_image  # noqa: E402


def _layout(tmp_path: Path, desc: dict, name: str = "example.org/x:1") -> dict[str, bytes]:
    src = tmp_path / "hello"
    src.write_bytes(b"#!/bin/sh\necho hello\n")
    layer = tmp_path / "layer.tar"
    oci_image.files_layer([f"{src}:/usr/bin/hello", f"{src}:/etc/hello.conf:644"], layer, 7)
    out = io.BytesIO()
    oci_image.write_layout(layer, desc, name, out, 7)
    with tarfile.open(fileobj=io.BytesIO(out.getvalue())) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _blob(files: dict[str, bytes], digest: str) -> bytes:
    data = files["blobs/sha256/" + digest.removeprefix("sha256:")]
    assert "sha256:" + hashlib.sha256(data).hexdigest() == digest
    return data


def test_descriptors_name_their_blobs_and_the_index_names_the_image(tmp_path: Path) -> None:
    files = _layout(tmp_path, {"user": "65534:65534", "entrypoint": ["hello"]})
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    (entry,) = json.loads(files["index.json"])["manifests"]
    assert entry["annotations"]["io.containerd.image.name"] == "example.org/x:1"
    assert entry["platform"] == {"architecture": "amd64", "os": "linux"}
    manifest = json.loads(_blob(files, entry["digest"]))
    assert len(_blob(files, entry["digest"])) == entry["size"]
    config = json.loads(_blob(files, manifest["config"]["digest"]))
    (layer,) = manifest["layers"]
    layer_bytes = _blob(files, layer["digest"])
    assert config["rootfs"]["diff_ids"] == [layer["digest"]]
    with tarfile.open(fileobj=io.BytesIO(layer_bytes)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert sorted(members) == ["etc", "etc/hello.conf", "usr", "usr/bin", "usr/bin/hello"]
    assert members["usr/bin/hello"].mode == 0o755 and members["etc/hello.conf"].mode == 0o644
    assert {m.mtime for m in members.values()} == {7}


@pytest.mark.parametrize(("desc", "expected"), [
    ({}, {"WorkingDir": "/"}),
    ({"user": "65534:65534", "entrypoint": ["contour"], "cmd": ["serve"]},
     {"User": "65534:65534", "Entrypoint": ["contour"], "Cmd": ["serve"], "WorkingDir": "/"}),
    ({"env": ["B=2", "A=1"], "exposed_ports": ["8080/tcp", "8000/tcp"], "workdir": "/w"},
     {"Env": ["A=1", "B=2"], "ExposedPorts": {"8000/tcp": {}, "8080/tcp": {}},
      "WorkingDir": "/w"}),
])
def test_image_config_from_a_description(desc: dict, expected: dict) -> None:
    config = oci_image.image_config(desc, "sha256:ab", 0)
    assert config["config"] == expected
    assert config["created"] == "1970-01-01T00:00:00Z"
    assert config["rootfs"] == {"type": "layers", "diff_ids": ["sha256:ab"]}


def test_same_input_same_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert _layout(a, {"user": "1"}) == _layout(b, {"user": "1"})


@pytest.mark.parametrize("spec", ["nocolon", "src:relative", "a:/b:9z", "a:/b:1:2"])
def test_bad_add_specs_are_refused(spec: str) -> None:
    with pytest.raises((SystemExit, ValueError)):
        oci_image._parse_add(spec)
