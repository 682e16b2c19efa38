"""Where the controller's memory goes after a full load (issue 12, item 4).

    python -m bench.memory --n 50000 [--kind ingressroute|httpproxy|ingress]
                           [--endpoints endpoints|slices] [--top 25]
                           [--frames 8] [--no-trace] [--json FILE]
                           [--source inproc|folder] [--format yaml|json]

Builds bench/generate.py's N-object workload (N Services, N Endpoints, N routing objects of
`--kind`), feeds it through the production pipeline in this process (validation boundary →
store → incremental builder → incremental translator → snapshot cache: `Controller.pipeline
().process`, as `contour serve` does after its first list), drops the raw objects, collects
and trims the heap (controller/memory.py) and reports:

With `--source folder` the workload is written to a temporary folder first (`--format yaml`:
multi-document files of `PER_FILE` objects, the shape of `kubectl get -o yaml` and Helm
output; `json`: one `List` per file) and read by `contour serve --source-dir`'s
`FolderSource` (its first scan, by two readers), whose retained state is measured with the
rest:

- `rss_mb`: VmRSS after the load, minus tracemalloc's own bookkeeping when it traces;
  `--no-trace` gives the RSS without tracemalloc in the process at all (the figure to
  compare with BENCHMARKS.md's controller RSS);
- `traced_mb`: what Python allocated and still holds, grouped three ways: by file:line of
  the allocation, by the project's line that caused it (the innermost frame in controller/
  or bench/ of its traceback, so a dataclass `__init__` or a protobuf call is charged to
  its caller), and by module of that line.

One JSON line (also appended to `--json FILE`), then readable tables. Memory figures are not
skewed by a loaded machine, unlike timings.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from bench import generate

ROOT = Path(__file__).resolve().parents[1]
PROJECT_DIRS = ("controller", "bench")
MB = 2**20


def rss_mb(field: str = "VmRSS") -> float:
    """VmRSS (or another /proc/self/status field, VmHWM: the peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


@functools.cache
def module_of(filename: str) -> str:
    """A dotted module name for a source file: `controller.dag.store` for a project file,
    the path below `site-packages` for a library, the file's stem for the standard library,
    and `<string>` (code made by exec, e.g. dataclass methods) unchanged."""
    if filename.startswith("<"):
        return filename
    path = Path(filename)
    parts = path.with_suffix("").parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            return ".".join(parts[parts.index(marker) + 1:])
    try:
        return ".".join(path.resolve().relative_to(ROOT).with_suffix("").parts)
    except ValueError:
        return path.stem


@functools.cache
def is_project(filename: str) -> bool:
    """True for a file of the project's own code (controller/ or bench/)."""
    try:
        rel = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return False
    return bool(rel.parts) and rel.parts[0] in PROJECT_DIRS


def owner(frames: Iterable[tuple[str, int]]) -> tuple[str, int]:
    """The innermost project frame of a traceback given innermost first (or the innermost
    frame when none is the project's)."""
    frames = list(frames)
    for filename, lineno in frames:
        if is_project(filename):
            return filename, lineno
    return frames[0] if frames else ("?", 0)


def grouped(traces: Iterable[tuple[tuple[str, int], int, int]], *, by_module: bool
            ) -> list[tuple[str, int, int]]:
    """(where, bytes, blocks) sums of (frame, bytes, blocks) traces, largest first; `where`
    is `file:line` (relative to the repository) or, with `by_module`, the module."""
    sums: dict[str, list[int]] = {}
    for (filename, lineno), size, count in traces:
        key = module_of(filename) if by_module else f"{_short(filename)}:{lineno}"
        acc = sums.setdefault(key, [0, 0])
        acc[0] += size
        acc[1] += count
    return sorted(((k, s, c) for k, (s, c) in sums.items()), key=lambda t: (-t[1], t[0]))


@functools.cache
def _short(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        parts = Path(filename).parts
        for marker in ("site-packages", "dist-packages"):
            if marker in parts:
                return "/".join(parts[parts.index(marker) + 1:])
        return "/".join(parts[-2:])


def workload(n: int, kind: str, endpoints: str = "endpoints") -> list[dict[str, Any]]:
    """bench/generate.py's objects (N Services, N Endpoints or, with `endpoints="slices"`,
    the EndpointSlices of `bench.bench cluster`, then the routing objects), as a source hands
    them over: parsed from JSON, so equal strings (a namespace) are separate objects, as they
    are when read from files or the API server."""
    objs = generate.objects(n, kind=kind)
    if endpoints == "slices":
        objs[n:2 * n] = [generate.endpointslice(i, ip="10.1.0.2") for i in range(n)]
    parsed: list[dict[str, Any]] = json.loads(json.dumps(objs))
    return parsed


def load(n: int, kind: str, endpoints: str = "endpoints") -> tuple[Any, Any, float]:
    """(controller, pipeline, seconds): the workload fed through the production pipeline
    (boundary → store → builders → translators → snapshot) in one batch, raw objects gone."""
    from controller.app import Controller, tune_gc
    from controller.config import Settings
    from controller.events import Synced
    from controller.sources.intake import admit_event

    tune_gc()
    controller = Controller(Settings(insecure=True))
    pipeline = controller.pipeline()
    objs = workload(n, kind, endpoints)
    t0 = time.perf_counter()
    events = [admit_event(o, source="bench", fallback_name=str(i))
              for i, o in enumerate(objs)] + [Synced("bench")]
    del objs  # handed over: a source keeps no list of what it has queued (cluster.py)
    pipeline.process(events)  # which consumes the batch
    seconds = time.perf_counter() - t0
    return controller, pipeline, seconds


PER_FILE = 500
"""Objects per file of `--source folder` (bench/changes.py's multi-document YAML files)."""


def write_folder(folder: Path, n: int, kind: str, endpoints: str, fmt: str) -> None:
    """The workload as files of PER_FILE objects: multi-document YAML or JSON `List`s."""
    import yaml

    objs = workload(n, kind, endpoints)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for start in range(0, len(objs), PER_FILE):
        chunk, stem = objs[start:start + PER_FILE], f"objects-{start // PER_FILE:04}"
        if fmt == "json":
            text = json.dumps({"apiVersion": "v1", "kind": "List", "items": chunk})
        else:
            text = yaml.dump_all(chunk, Dumper=dumper, sort_keys=False, explicit_start=True)
        (folder / f"{stem}.{fmt}").write_text(text)


def load_folder(n: int, kind: str, endpoints: str, fmt: str, folder: Path
                ) -> tuple[Any, Any, float]:
    """(controller, source, seconds): the workload written to `folder`, then read by a
    FolderSource's first scan and fed through the pipeline as `contour serve --source-dir`
    does (the source is returned: what it retains is part of the measure)."""
    from controller.app import Controller, tune_gc
    from controller.config import Settings
    from controller.events import Synced
    from controller.sources.folder import FolderSource

    # written by a process of its own: the generator's garbage is no part of the measure
    writer = get_context("spawn").Process(target=write_folder,
                                          args=(folder, n, kind, endpoints, fmt))
    writer.start()
    writer.join()
    if writer.exitcode != 0:
        raise RuntimeError(f"writing the folder failed ({writer.exitcode})")
    tune_gc()
    controller = Controller(Settings(insecure=True))
    pipeline = controller.pipeline()
    source = FolderSource(folder)
    t0 = time.perf_counter()
    events: list[Any] = source.scan(inline=True)
    events.append(Synced("folder"))
    pipeline.process(events)
    return controller, source, time.perf_counter() - t0


def settle() -> None:
    """What the controller does after mass removals: a full collection and a heap trim."""
    from controller import memory

    gc.collect()
    memory.trim()


def measure(n: int, kind: str, *, endpoints: str = "endpoints", top: int = 25,
            frames: int = 8, trace: bool = True, source: str = "inproc",
            fmt: str = "yaml") -> dict[str, Any]:
    """Load, settle, and measure; returns the report (JSON-ready)."""
    import controller.app  # noqa: F401 - the baseline includes the imported code

    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if trace:
            tracemalloc.start(frames)
        base = rss_mb()
        if source == "folder":
            controller, kept, seconds = load_folder(n, kind, endpoints, fmt, Path(tmp))
        else:
            controller, kept, seconds = load(n, kind, endpoints)
        settle()
        return _report(controller, locals(), trace, top)


def _report(controller: Any, at: dict[str, Any], trace: bool, top: int) -> dict[str, Any]:
    """measure()'s JSON-ready report, `at` its locals (the run's parameters and figures)."""
    rss = rss_mb()
    overhead = tracemalloc.get_tracemalloc_memory() / MB if trace else 0.0
    counts = controller.routing.store.counts()
    out: dict[str, Any] = {
        "bench": "memory", "n": at["n"], "kind": at["kind"], "endpoints": at["endpoints"],
        "source": at["source"], "traced": trace, "objects": counts,
        "rss_before_mb": round(at["base"], 1), "rss_mb": round(rss - overhead, 1),
        "tracemalloc_overhead_mb": round(overhead, 1), "peak_mb": round(rss_mb("VmHWM"), 1),
        "load_s": round(at["seconds"], 2),
    }
    if at["source"] == "folder":
        out["format"] = at["fmt"]
    if trace:
        out.update(_traced(tracemalloc.take_snapshot(), top))
        tracemalloc.stop()
    return out


def _traced(snapshot: tracemalloc.Snapshot, top: int) -> dict[str, Any]:
    # perf: statistics() groups the traces in C; walking millions of traces in Python
    # took minutes at 2k objects
    inner = [((s.traceback[-1].filename, s.traceback[-1].lineno), s.size, s.count)
             for s in snapshot.statistics("lineno")]
    # frames run from the oldest to the most recent: the owner is the last project one
    owned = [(owner((f.filename, f.lineno) for f in reversed(s.traceback)), s.size, s.count)
             for s in snapshot.statistics("traceback")]
    total = sum(size for _, size, _ in inner)
    as_rows = lambda rows: [[w, round(s / MB, 2), c] for w, s, c in rows[:top]]  # noqa: E731
    return {
        "traced_mb": round(total / MB, 1),
        "top_lines": as_rows(grouped(inner, by_module=False)),
        "top_project_lines": as_rows(grouped(owned, by_module=False)),
        "top_modules": as_rows(grouped(owned, by_module=True)),
    }


def table(title: str, rows: list[list[Any]]) -> str:
    """A readable table of [where, MB, blocks] rows."""
    lines = [f"\n{title}", f"{'MB':>9} {'blocks':>10}  where"]
    lines += [f"{mb:>9.2f} {count:>10}  {where}" for where, mb, count in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--kind", choices=("ingressroute", "httpproxy", "ingress"),
                        default="ingressroute")
    parser.add_argument("--endpoints", choices=("endpoints", "slices"), default="endpoints")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--no-trace", action="store_true",
                        help="RSS only, without tracemalloc in the process")
    parser.add_argument("--json", help="append the JSON line to this file")
    parser.add_argument("--source", choices=("inproc", "folder"), default="inproc",
                        help="folder: written to files and read by the folder source")
    parser.add_argument("--format", choices=("yaml", "json"), default="yaml",
                        help="the folder's files (with --source folder)")
    args = parser.parse_args(argv)
    out = measure(args.n, args.kind, endpoints=args.endpoints, top=args.top, frames=args.frames,
                  trace=not args.no_trace, source=args.source, fmt=args.format)
    line = json.dumps(out)
    print(line, flush=True)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")
    print(f"\nRSS {out['rss_mb']} MB (before load {out['rss_before_mb']} MB), "
          f"traced {out.get('traced_mb', '-')} MB, objects {out['objects']}", file=sys.stderr)
    for key, title in (("top_modules", "by module (of the project line that allocated)"),
                       ("top_project_lines", "by project line (innermost project frame)"),
                       ("top_lines", "by allocating line")):
        if key in out:
            print(table(title, out[key]), file=sys.stderr)


if __name__ == "__main__":
    main()
