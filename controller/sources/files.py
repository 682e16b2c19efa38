"""The files a folder source reads: which ones, and their stamps (no parsing here, so the
command line can size a folder before the heavy imports)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

SUFFIXES = (".yaml", ".yml", ".json")
Stamp = tuple[int, int, int]  # mtime_ns, size, inode


def walk(root: Path) -> Iterator[Path]:
    """Every YAML/JSON file under `root`, hidden files and folders left out."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.endswith(SUFFIXES) and not name.startswith("."):
                yield Path(dirpath) / name


def file_stamp(path: Path) -> Stamp | None:
    """(mtime_ns, size, inode), or None for a file gone or unreadable."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def total_bytes(root: Path) -> int:
    """The size of every file `walk` finds (0 for a missing folder)."""
    return sum(s[1] for p in walk(root) if (s := file_stamp(p)) is not None)
