#!/usr/bin/env python3
"""Write a one-layer OCI image layout as a tarball, with the standard library only.

In: a root filesystem (a tar file, e.g. mmdebstrap's output, or files to place), an image
config description (JSON: user, entrypoint, cmd, env, workdir, exposed ports, labels) and a
name. Out: a tarball holding `oci-layout`, `index.json` (one manifest, annotated with
`io.containerd.image.name` so `ctr images import` tags it) and `blobs/sha256/*`. Every time
stamp is SOURCE_DATE_EPOCH (or 0) and every listing is sorted, so the same input gives the
same bytes, hence the same digests.

    oci_image.py --name NAME --config image.json --layer-tar rootfs.tar --out image.tar
    oci_image.py --name NAME --config image.json --add SRC:DEST[:MODE] ... --out image.tar
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
CHUNK = 1 << 20


def epoch() -> int:
    """SOURCE_DATE_EPOCH (reproducible builds' convention), else 0."""
    return int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def canonical(doc: dict) -> bytes:
    """A JSON document as stable bytes (sorted keys, no spaces): equal docs, equal digests."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def sha256_file(path: Path) -> tuple[str, int]:
    """The `sha256:<hex>` digest and the size of a file, read in chunks."""
    h, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def descriptor(media_type: str, digest: str, size: int, **extra: object) -> dict:
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def image_config(desc: dict, diff_id: str, created: int) -> dict:
    """The OCI image config for one layer, from our description (image/*.json's `config`)."""
    config = {
        "User": desc.get("user") or None,
        "Entrypoint": desc.get("entrypoint") or None,
        "Cmd": desc.get("cmd") or None,
        "Env": sorted(desc.get("env", [])),
        "WorkingDir": desc.get("workdir", "/"),
        "ExposedPorts": {p: {} for p in sorted(desc.get("exposed_ports", []))},
        "Labels": dict(sorted(desc.get("labels", {}).items())),
    }
    stamp = _rfc3339(created)
    return {
        "architecture": desc.get("architecture", "amd64"),
        "os": "linux",
        "created": stamp,
        "config": {k: v for k, v in config.items() if v not in (None, {}, [])},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": stamp, "created_by": "scripts/oci_image.py"}],
    }


def _rfc3339(seconds: int) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def files_layer(adds: list[str], out: Path, mtime: int) -> None:
    """A layer tar from SRC:DEST[:MODE] entries (parents created, owned by root, sorted)."""
    entries = sorted(_parse_add(a) for a in adds)
    dirs = sorted({str(p) for _, dest, _ in entries for p in Path(dest).parents if str(p) != "/"})
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d.lstrip("/"))
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, mtime
            tar.addfile(info)
        for src, dest, mode in entries:
            data = Path(src).read_bytes()
            info = tarfile.TarInfo(dest.lstrip("/"))
            info.size, info.mode, info.mtime = len(data), mode, mtime
            tar.addfile(info, io.BytesIO(data))


def _parse_add(spec: str) -> tuple[str, str, int]:
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[1].startswith("/"):
        raise SystemExit(f"--add wants SRC:/DEST[:MODE], got {spec!r}")
    mode = int(parts[2], 8) if len(parts) == 3 else 0o755
    return parts[0], parts[1], mode


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = path.stat().st_size, mtime, 0o644
    with path.open("rb") as f:
        tar.addfile(info, f)


def write_layout(layer: Path, desc: dict, name: str, out: BinaryIO, mtime: int) -> str:
    """Write the layout tarball for `layer` to `out`; return the manifest's digest."""
    diff_id, layer_size = sha256_file(layer)
    config = canonical(image_config(desc, diff_id, mtime))
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    manifest = canonical({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": descriptor(CONFIG_TYPE, config_digest, len(config)),
        "layers": [descriptor(LAYER_TYPE, diff_id, layer_size)],
    })
    manifest_digest = "sha256:" + hashlib.sha256(manifest).hexdigest()
    index = canonical({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [descriptor(
        MANIFEST_TYPE, manifest_digest, len(manifest),
        platform={"architecture": desc.get("architecture", "amd64"), "os": "linux"},
        annotations={"io.containerd.image.name": name,
                     "org.opencontainers.image.ref.name": name.rpartition(":")[2]},
    )]})
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", canonical({"imageLayoutVersion": "1.0.0"}), mtime)
        _add_bytes(tar, "index.json", index, mtime)
        for digest, data in sorted({config_digest: config, manifest_digest: manifest}.items()):
            _add_bytes(tar, "blobs/sha256/" + digest.split(":")[1], data, mtime)
        _add_file(tar, "blobs/sha256/" + diff_id.split(":")[1], layer, mtime)
    return manifest_digest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--name", required=True, help="image reference, e.g. docker.io/library/x:tag")
    ap.add_argument("--config", required=True, type=Path, help="description JSON (`config` key)")
    ap.add_argument("--layer-tar", type=Path, help="the root filesystem as one tar")
    ap.add_argument("--add", action="append", default=[], help="SRC:/DEST[:MODE] (octal)")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    if bool(args.layer_tar) == bool(args.add):
        ap.error("give exactly one of --layer-tar or --add")
    desc = json.loads(args.config.read_text())["config"]
    mtime = epoch()
    with tempfile.TemporaryDirectory() as tmp:
        layer = args.layer_tar
        if layer is None:
            layer = Path(tmp) / "layer.tar"
            files_layer(args.add, layer, mtime)
        partial = args.out.with_name(args.out.name + ".partial")
        with partial.open("wb") as out:
            digest = write_layout(layer, desc, args.name, out, mtime)
        shutil.move(partial, args.out)
    print(f"{args.name} {digest} {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
