"""The changes users make (issue 12 item 6), as folder workloads for `bench.bench`:

- `yaml-change`: the N roots, Services and Endpoints as multi-document YAML files of
  `PER_FILE` objects each (the shape of `kubectl get -o yaml` and Helm output: 10k → 61
  files); a change rewrites one IngressRoute's `prefixRewrite` inside its 500-object file;
- `switch`: the seed's blue/green, N times: root i delegates to `blue-i`; `green-i` (its own
  Service and Endpoints) is an orphan until a change points root i at it, so its cluster
  must be added and warmed before the route can use it. `green-i` rewrites to
  `/green-i/`, which the backend echoes.

Both return the objects to write and a `change(i, prefix)` that rewrites what it must and
returns the path prefix the backend will echo once the change is live. `switch_cluster` is
the `switch` workload as API objects (`bench.bench cluster --workload switch`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from bench import generate

PER_FILE = 500
Change = Callable[[int, str], str]


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _text(obj: generate.Obj) -> str:
    return "---\n" + yaml.dump(obj, Dumper=_DUMPER, sort_keys=False)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)  # atomic: the folder source never reads half a file


def _dump(path: Path, objs: list[generate.Obj]) -> None:
    _write(path, "".join(_text(o) for o in objs))


def yaml_folder(folder: Path, n: int, *, backend_port: int) -> Change:
    """Write the YAML files; the change edits root i inside its file."""
    folder.mkdir(parents=True, exist_ok=True)
    objs = [generate.service(i) for i in range(n)]
    objs += [generate.endpoints(i, backend_port=backend_port) for i in range(n)]
    # each document's text is kept, so a change re-renders one (the bench measures the
    # controller, not PyYAML's emitter: a whole 500-object file takes it ~150 ms)
    roots = [_text(generate.ingressroute(i)) for i in range(n)]
    files: dict[int, tuple[Path, list[str]]] = {}
    for start in range(0, n, PER_FILE):  # the roots first, each file 500 of them
        chunk = roots[start:start + PER_FILE]
        path = folder / f"routes-{start // PER_FILE:03}.yaml"
        _write(path, "".join(chunk))
        for j in range(start, start + len(chunk)):
            files[j] = (path, chunk)
    for start in range(0, len(objs), PER_FILE):
        _dump(folder / f"core-{start // PER_FILE:03}.yaml", objs[start:start + PER_FILE])

    def change(i: int, prefix: str) -> str:
        path, chunk = files[i]
        chunk[i % PER_FILE] = _text(generate.ingressroute(i, prefix_rewrite=prefix))
        _write(path, "".join(chunk))
        return prefix
    return change


def green(i: int) -> generate.Obj:
    child = generate.ingressroute(i, prefix_rewrite=f"/green-{i}/", service=f"green-svc-{i}")
    child["metadata"]["name"] = f"green-{i}"
    del child["spec"]["virtualhost"]
    return child


def blue(i: int) -> generate.Obj:
    child = generate.ingressroute(i)
    child["metadata"]["name"] = f"blue-{i}"
    del child["spec"]["virtualhost"]
    return child


def root(i: int, delegate: str) -> generate.Obj:
    obj = generate.ingressroute(i)
    obj["spec"]["routes"] = [{"match": "/", "delegate": {"name": f"{delegate}-{i}"}}]
    return obj


def switch_folder(folder: Path, n: int, *, backend_port: int, switches: int = 20) -> Change:
    """Write N blue/green sets (green only for the first `switches` roots); the change
    points root i at green-i."""
    folder.mkdir(parents=True, exist_ok=True)
    core = [generate.service(i) for i in range(n)]
    core += [generate.endpoints(i, backend_port=backend_port) for i in range(n)]
    for i in range(min(n, switches)):
        core += [green_names(i, generate.service(i)),
                 green_names(i, generate.endpoints(i, backend_port=backend_port))]
    switches = min(n, switches)
    _dump(folder / "core.yaml", core)
    _dump(folder / "routing.yaml", [root(i, "blue") for i in range(switches, n)]
          + [blue(i) for i in range(n)] + [green(i) for i in range(switches)])
    delegates = dict.fromkeys(range(switches), "blue")
    _dump(folder / "switching.yaml", [root(i, d) for i, d in delegates.items()])

    def change(i: int, prefix: str) -> str:
        delegates[i] = "green"
        _dump(folder / "switching.yaml", [root(j, d) for j, d in sorted(delegates.items())])
        return f"/green-{i}/"
    return change


def green_names(i: int, obj: generate.Obj) -> generate.Obj:
    """A Service, Endpoints or EndpointSlice of svc-i renamed to green-svc-i."""
    obj["metadata"]["name"] = obj["metadata"]["name"].replace(f"svc-{i}", f"green-svc-{i}")
    labels = obj["metadata"].get("labels") or {}
    if "kubernetes.io/service-name" in labels:
        labels["kubernetes.io/service-name"] = f"green-svc-{i}"
    return obj


def switch_cluster(n: int, switches: int = 20) -> list[generate.Obj]:
    """The `switch` workload's routing objects for the API server: roots delegating to
    blue-i, every blue-i, and green-i for the first `switches` roots (whose Services and
    slices are svc-i's under `green_names`). A switch writes `switched_root(i)` over root i."""
    switches = min(n, switches)
    return ([root(i, "blue") for i in range(n)] + [blue(i) for i in range(n)]
            + [green(i) for i in range(switches)])


def switched_root(i: int) -> generate.Obj:
    """Root i delegating to green-i."""
    return root(i, "green")
