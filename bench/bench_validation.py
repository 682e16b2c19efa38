"""What the validation boundary costs (controller/validation; BENCHMARKS.md "Validation
boundary").

    python -m bench.bench_validation [--n 10000] [--repeat 5] [--json FILE]

For IngressRoute, Service, Endpoints and EndpointSlice (bench/generate.py's objects, N of
each), the best of `--repeat` runs, in µs per object:
- `jsonschema_rs` / `fastjsonschema`: one `is_valid` of the kind's strict schema, the same
  converted draft-4 schema compiled by each library (the choice of library);
- `admit`: the whole boundary, `controller.validation.admit`, clean objects (fast path);
- `admit_pruned`: the same objects with one unknown field each (slow path: prune, then
  validate the copy, warnings);
- `admit_rejected`: the same objects with one wrong type each (slow path, reasons).
Also `mixed_3n_ms`: `admit` over N IngressRoutes + N Services + N Endpoints, in ms (the
bench folder's cold start), and `import_s`: seconds to import controller.validation
(compiles every schema) in a fresh interpreter. The package itself uses jsonschema-rs;
fastjsonschema is measured on the same schemas for the choice.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import generate

Obj = dict[str, Any]


def kinds(n: int) -> dict[str, list[Obj]]:
    return {
        "IngressRoute": [generate.ingressroute(i) for i in range(n)],
        "Service": [generate.service(i) for i in range(n)],
        "Endpoints": [generate.endpoints(i) for i in range(n)],
        "EndpointSlice": [generate.endpointslice(i, ip="10.0.0.1") for i in range(n)],
    }


def best_us(fn: Callable[[Obj], object], objects: list[Obj], repeat: int) -> float:
    """Best of `repeat` runs over all objects, µs per object."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for obj in objects:
            fn(obj)
        best = min(best, time.perf_counter() - start)
    return round(best / len(objects) * 1e6, 2)


def with_unknown_field(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out.setdefault("spec", {})["colour"] = "blue"
    return out


def with_wrong_type(obj: Obj) -> Obj:
    out = copy.deepcopy(obj)
    out["metadata"]["name"] = ["not", "a", "string"]
    return out


def library_rows(objects: dict[str, list[Obj]], repeat: int) -> dict[str, dict[str, float]]:
    import fastjsonschema

    from controller.validation.kinds import rule_for

    rows: dict[str, dict[str, float]] = {}
    for kind, objs in objects.items():
        validator = rule_for(objs[0]).validator_for(objs[0])
        compiled_fjs = fastjsonschema.compile(validator.schema)
        assert validator.is_valid(objs[0]), kind

        def fjs(obj: Obj, compiled: Callable[[Obj], object] = compiled_fjs) -> None:
            compiled(obj)

        rows[kind] = {
            "jsonschema_rs": best_us(validator.is_valid, objs, repeat),
            "fastjsonschema": best_us(fjs, objs, repeat),
        }
    return rows


def admit_rows(objects: dict[str, list[Obj]], repeat: int) -> dict[str, dict[str, float]]:
    from controller.validation import Admitted, Rejected, admit

    rows: dict[str, dict[str, float]] = {}
    for kind, objs in objects.items():
        pruned = [with_unknown_field(o) for o in objs]
        rejected = [with_wrong_type(o) for o in objs]
        assert admit(objs[0]) == Admitted(objs[0], ())
        assert isinstance(admit(rejected[0]), Rejected)
        rows[kind] = {
            "admit": best_us(admit, objs, repeat),
            "admit_pruned": best_us(admit, pruned, repeat),
            "admit_rejected": best_us(admit, rejected, repeat),
        }
    return rows


def mixed_ms(objects: dict[str, list[Obj]], repeat: int) -> float:
    from controller.validation import admit

    mixed = objects["IngressRoute"] + objects["Service"] + objects["Endpoints"]
    return round(best_us(admit, mixed, repeat) * len(mixed) / 1000, 1)


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import controller.validation; " \
           "print(time.perf_counter() - t)"  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)  # fmt: skip
    return round(float(out.stdout), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", help="append the result line to this file")
    args = parser.parse_args()
    objects = kinds(args.n)
    rows = library_rows(objects, args.repeat)
    for kind, admit_row in admit_rows(objects, args.repeat).items():
        rows[kind].update(admit_row)
    result = {
        "bench": "validation", "n": args.n, "repeat": args.repeat,
        "date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
        "import_s": import_seconds(), "mixed_3n_ms": mixed_ms(objects, args.repeat),
        "us_per_object": rows,
    }  # fmt: skip
    line = json.dumps(result, sort_keys=True)
    print(line)
    if args.json:
        with open(args.json, "a") as f:
            f.write(line + "\n")


if __name__ == "__main__":
    main()
