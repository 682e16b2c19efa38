"""Where objects come from: a folder of manifests (`--from-dir`) or a cluster (kube.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubectl_contour.errors import NotFound, UsageError
from kubectl_contour.objects import Obj, Snapshot, flatten

if TYPE_CHECKING:
    from kubectl_contour.kube import Kube

SUFFIXES = (".yaml", ".yml", ".json")


def manifest_files(directory: Path) -> list[Path]:
    """Every manifest under `directory`, sorted, skipping hidden files and folders."""
    if not directory.is_dir():
        raise NotFound(f"--from-dir: {directory} is not a directory")
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file()
        and p.suffix in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def parse_file(path: Path) -> list[Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".json":
            return [json.loads(text)]
        return list(yaml.safe_load_all(text))
    except (ValueError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot parse: {exc}") from exc


def with_namespace(obj: Obj) -> Obj:
    """Objects without a namespace land in `default`, as `kubectl apply` would put them."""
    meta = obj.setdefault("metadata", {})
    if obj.get("kind") != "Namespace" and not meta.get("namespace"):
        meta["namespace"] = "default"
    return obj


def load_dir(directory: Path) -> Snapshot:
    objects: list[Obj] = []
    for path in manifest_files(directory):
        objects.extend(with_namespace(o) for o in flatten(parse_file(path)))
    return Snapshot(objects=tuple(objects), live=False, source=str(directory))


def load_cluster(kube: Kube) -> Snapshot:
    return Snapshot(objects=tuple(kube.list_all()), live=True, source="cluster")
