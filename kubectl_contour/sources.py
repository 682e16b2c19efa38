"""Where objects come from: a folder of manifests (`--from-dir`) or a cluster (kube.py)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubectl_contour.errors import NotFound, UsageError
from kubectl_contour.objects import CLUSTER_SCOPED, Obj, Rejected, Snapshot

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
    """The file's documents, bounded as the controller's folder source bounds them."""
    from controller.k8s.documents import ParseError, parse_documents

    try:
        return parse_documents(path.read_text(encoding="utf-8"),
                               json_file=path.suffix == ".json")
    except (OSError, UnicodeDecodeError, ParseError) as exc:
        raise UsageError(f"{path}: cannot parse: {exc}") from exc


def with_namespace(obj: Obj) -> Obj:
    """Objects without a namespace land in `default`, as `kubectl apply` would put them
    (cluster-scoped ones keep none)."""
    meta = obj.setdefault("metadata", {})
    if obj.get("kind") not in CLUSTER_SCOPED and not meta.get("namespace"):
        meta["namespace"] = "default"
    return obj


def admitted(raw: Iterable[tuple[Any, str]]) -> tuple[list[Obj], list[Rejected]]:
    """(valid objects, rejections) through the controller's own validation boundary, so the
    plugin sees exactly the objects the controller would store. `raw` pairs each document
    with where it came from."""
    from controller.validation import Admitted, admit

    objects: list[Obj] = []
    rejected: list[Rejected] = []
    for doc, source in raw:
        verdict = admit(doc)
        if isinstance(verdict, Admitted):
            objects.append(with_namespace(verdict.obj))
        else:
            rejected.append(Rejected(verdict.kind, verdict.namespace, verdict.name or "?",
                                     source, verdict.reasons))
    return objects, rejected


def load_dir(directory: Path) -> Snapshot:
    docs = [(doc, str(path)) for path in manifest_files(directory) for doc in parse_file(path)]
    objects, rejected = admitted(docs)
    return Snapshot(objects=tuple(objects), live=False, source=str(directory),
                    rejected=tuple(sorted(rejected)))


def load_cluster(kube: Kube) -> Snapshot:
    objects, rejected = admitted((o, "cluster") for o in kube.list_all())
    return Snapshot(objects=tuple(objects), live=True, source="cluster",
                    rejected=tuple(sorted(rejected)))

