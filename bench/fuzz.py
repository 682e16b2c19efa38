"""The hostile-input fuzzer of issue 7 against `contour serve --source-dir` and a real Envoy.

    python -m bench.fuzz --objects 100000 --seed S [--batch B] [--window W] [--json FILE]
    python -m bench.fuzz --seed S [--batch B] --replay I [--dump DIR]

Generated objects of every kind (IngressRoute, HTTPProxy, both TLSCertificateDelegations,
Ingress and the core kinds: valid ones, and mutations of them: wrong types, missing and
null fields, out-of-range numbers, hostile strings, deep nesting, alias bombs, regexes RE2
refuses, delegation and include cycles, missing includes, stolen secrets, ...) go into the
source folder in batches of about B objects; after every batch the invariants are checked
(tests/fuzz/fuzzing/run.py): the controller is alive, no NACK, the control vhosts
unchanged and answering, an unrelated change reaches Envoy within --latency-limit, every
bad object reported, removal exact, and memory back to its baseline after removal. Every
failure prints its reproducer; the exit status is 1 when any invariant failed.

`--replay I` writes batch I of seed S (what a reproducer names) into --dump DIR, with each
object's verdict in DIR/verdicts.json, without starting anything.

The generators and checkers live in tests/fuzz/fuzzing (shared with the CI test
tests/fuzz/test_fuzz_envoy.py); they run the e2e harness's processes (tests/e2e/harness).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tests" / "fuzz") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

from fuzzing.cases import make_batch  # noqa: E402
from fuzzing.run import Fuzzer, Settings  # noqa: E402
from fuzzing.world import World  # noqa: E402


def replay(seed: int, batch_objects: int, index: int, dump: Path) -> None:
    """Write batch `index` and the verdict of each of its objects into `dump`."""
    batch = make_batch(seed, index, batch_objects)
    for rel, text in batch.files.items():
        path = dump / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
    verdicts = [{"file": e.file, "kind": e.kind, "namespace": e.namespace, "name": e.name,
                 "verdict": e.verdict, "why": e.why, "at_fault": list(e.paths)}
                for e in batch.expects]
    groups = [{"check": g.what, "why": g.why, "keys": g.keys, "fqdn": g.fqdn}
              for g in batch.groups]
    (dump / "verdicts.json").write_text(json.dumps({"objects": verdicts, "groups": groups},
                                                   indent=1))
    print(f"batch {index} of seed {seed}: {len(batch.files)} files, {len(verdicts)} objects "
          f"in {dump}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.split("\n")[0])
    p.add_argument("--objects", type=int, default=2000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=100, help="objects per batch (about)")
    p.add_argument("--window", type=int, default=2, help="batches present at once")
    p.add_argument("--latency-limit", type=float, default=2.0)
    p.add_argument("--json", type=Path, help="append the summary as a JSON line here")
    p.add_argument("--workdir", type=Path, help="keep the run's files here")
    p.add_argument("--replay", type=int, help="only write batch I into --dump")
    p.add_argument("--dump", type=Path, default=Path("fuzz-replay"))
    a = p.parse_args(argv)
    if a.replay is not None:
        replay(a.seed, a.batch, a.replay, a.dump)
        return 0
    settings = Settings(seed=a.seed, objects=a.objects, batch_objects=a.batch,
                        window=a.window, latency_limit=a.latency_limit)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="contour-fuzz-"))
    world = World(workdir)
    try:
        world.start()
        summary = Fuzzer(world, settings).run()
    finally:
        bugs = world.close()
    figures = {"bench": "fuzz", "seed": a.seed, "batch": a.batch, **summary.figures()}
    print(json.dumps(figures))
    if a.json:
        with a.json.open("a") as f:
            f.write(json.dumps(figures) + "\n")
    total = sum(summary.failure_counts.values())
    print(f"{total} invariant failure(s) {summary.failure_counts}"
          f"{'; bug lines at exit: ' + str(len(bugs)) if bugs else ''}; workdir {workdir}")
    return 1 if summary.failed or bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
