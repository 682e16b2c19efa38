"""`kubectl contour rollout` end to end: the real kubectl, API server and controller, two
real Envoys (both bind the listener ports, so the kernel spreads the test's connections over
them), traffic sent continuously from two threads, and backends whose error rate and latency
the test sets (harness Backend.fault_status / fault_delay).

The objects (ro-* IngressRoutes, hp-ro-* HTTPProxies, their Services and Endpoints) are
created by this module and deleted after it; each test starts from the root delegating to
ro-blue with no annotation."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from real_world import NODE, Envoy, RequestOptions, World, extra_envoy, request

HOST, HP_HOST = "rollout.example.com", "hp-rollout.example.com"
BLUE, GREEN = "default/ro-blue:80", "default/ro-green:80"
ANNOTATION = "kubectl-contour.projectcontour.io/rollout"


def doc(kind: str, name: str, **rest: Any) -> dict[str, Any]:
    api = {"IngressRoute": "contour.heptio.com/v1beta1", "HTTPProxy": "projectcontour.io/v1"}
    return {"apiVersion": api.get(kind, "v1"), "kind": kind,
            "metadata": {"name": name, "namespace": "default"}, **rest}


def backed(world: World, name: str, identity: str) -> list[dict[str, Any]]:
    port = world.backend_port(identity)
    return [doc("Service", name, spec={"ports": [{"name": "http", "port": 80,
                                                  "targetPort": 8080}]}),
            doc("Endpoints", name, subsets=[{"addresses": [{"ip": world.ip}],
                                             "ports": [{"name": "http", "port": port}]}])]


def ir_root() -> dict[str, Any]:
    return doc("IngressRoute", "ro-root", spec={
        "virtualhost": {"fqdn": HOST}, "routes": [{"match": "/", "delegate": {"name": "ro-blue"}}]})


def hp_root() -> dict[str, Any]:
    """The HTTPProxy root carries an annotation of its own: the rollout's comes and goes
    beside it."""
    out = doc("HTTPProxy", "hp-ro-root", spec={
        "virtualhost": {"fqdn": HP_HOST},
        "includes": [{"name": "hp-ro-blue", "conditions": [{"prefix": "/"}]}]})
    out["metadata"]["annotations"] = {"example.com/owner": "web"}
    return out


def objects(world: World) -> list[dict[str, Any]]:
    ir = lambda n, s: doc("IngressRoute", n, spec={"routes": [  # noqa: E731
        {"match": "/", "services": [{"name": s, "port": 80}]}]})
    hp = lambda n, s: doc("HTTPProxy", n, spec={"routes": [  # noqa: E731
        {"services": [{"name": s, "port": 80}]}]})
    return [*backed(world, "ro-blue", BLUE), *backed(world, "ro-green", GREEN),
            ir("ro-blue", "ro-blue"), ir("ro-green", "ro-green"), ir_root(),
            hp("hp-ro-blue", "ro-blue"), hp("hp-ro-green", "ro-green"), hp_root()]


@dataclass
class Sample:
    t: float
    status: int | None
    backend: str | None
    error: str | None


@dataclass
class Traffic:
    """Requests to HOST through the Envoys from two threads, each on a new connection."""

    world: World
    host: str = HOST
    samples: list[Sample] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            t = time.monotonic()
            r = request(self.world.ports.http, RequestOptions(host=self.host, path=f"/t/{i}",
                                                              timeout=5))
            self.samples.append(Sample(t, r.status, r.backend, r.error))

    def between(self, t0: float, t1: float = math.inf) -> list[Sample]:
        return [s for s in list(self.samples) if t0 <= s.t < t1]


@contextlib.contextmanager
def traffic(world: World, host: str = HOST) -> Iterator[Traffic]:
    sender = Traffic(world, host)
    threads = [threading.Thread(target=sender.run, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        yield sender
    finally:
        sender.stop.set()
        for t in threads:
            t.join(10)


class Plugin:
    """A `kubectl contour ...` process; its stderr lines are kept with the time seen."""

    def __init__(self, world: World, *args: str) -> None:
        kubectl = shutil.which("kubectl")
        assert kubectl is not None
        self.proc = subprocess.Popen([kubectl, "contour", *args, "--kubeconfig",
                                      str(world.kubeconfig)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=world.env())
        self.lines: list[tuple[float, str]] = []
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def when(self, text: str, timeout: float = 60) -> float:
        """The time the first stderr line containing `text` was seen (waits for it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [t for t, line in list(self.lines) if text in line]
            if found:
                return found[0]
            assert self.proc.poll() is None or self.reader.is_alive(), self.err()
            time.sleep(0.05)
        raise AssertionError(f"no line with {text!r} within {timeout}s:\n{self.err()}")

    def err(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def finish(self, timeout: float = 90) -> tuple[int, str, str]:
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()  # stderr is the reader thread's alone
        self.proc.wait(timeout)
        self.reader.join(5)
        return self.proc.returncode, out, self.err()


@dataclass
class Rig:
    world: World
    second: Envoy

    @property
    def admin(self) -> list[str]:
        return ["--admin-url", self.world.admin_url, "--admin-url",
                f"http://127.0.0.1:{self.second.admin_port}"]

    def green(self) -> Any:
        return self.world.pool.live[GREEN]

    def root(self, kind: str = "ingressroute", name: str = "ro-root") -> dict[str, Any]:
        return dict(self.world.get_json(kind, name, "-n", "default"))

    def raw_spec(self, kind: str = "ingressroute", name: str = "ro-root") -> str:
        return str(self.world.kubectl("get", kind, name, "-n", "default", "-o",
                                      "jsonpath={.spec}").stdout)

    def state(self, root: str = "ro-root") -> dict[str, Any]:
        done = self.world.contour("rollout", "status", root, "-n", "default", "-o", "json")
        assert done.code == 0, str(done)
        return dict(json.loads(done.out))

    def rollout(self, *args: str) -> Plugin:
        return Plugin(self.world, "rollout", *args, "-n", "default", "--yes", *self.admin)


def served(world: World, host: str = HOST, n: int = 4) -> set[str | None]:
    return {world.send(host, f"/probe/{i}").backend for i in range(n)}


@pytest.fixture(scope="module")
def rig(world: World) -> Iterator[Rig]:
    world.pool.start([(BLUE, None), (GREEN, None)])
    objs = objects(world)
    world.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List",
                                                         "items": objs}))
    second = extra_envoy(world, f"{NODE}-rollout")
    rig = Rig(world, second)
    try:
        for admin in (world.ports.admin, second.admin_port):
            world.wait_for(f"Envoy :{admin} has ro-blue's cluster", lambda a=admin: b"ro-blue_80"
                           in envoy_get(a, "/clusters"), timeout=60)
        world.wait_for("Envoy routes rollout.example.com to ro-blue",
                       lambda: served(world) == {BLUE}, timeout=60)
        yield rig
    finally:
        second.stop()
        for o in objs:
            world.kubectl("delete", o["kind"].lower(), o["metadata"]["name"], "-n", "default",
                          "--ignore-not-found", check=False)
        world.pool.stop([BLUE, GREEN])


def envoy_get(port: int, path: str) -> bytes:
    from harness.controller import http_get

    try:
        return http_get(port, path, timeout=2)[1]
    except OSError:
        return b""


@pytest.fixture
def fresh(rig: Rig) -> Iterator[Rig]:
    """Each test starts (and leaves) the roots at FROM with no annotation, no faults."""
    yield rig
    rig.green().fault_status, rig.green().fault_delay = 0, 0.0
    rig.world.kubectl("replace", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "List", "items": [ir_root(), hp_root()]}))
    rig.world.wait_for("Envoy routes to ro-blue again", lambda: served(rig.world) == {BLUE})


def share_ok(samples: list[Sample], weight: int) -> tuple[bool, str]:
    """TO's measured share against the step's weight, within 4 standard deviations of a
    binomial draw (Envoy picks a weighted cluster per request, at random)."""
    n = len(samples)
    p = weight / 100
    got = sum(1 for s in samples if s.backend == GREEN) / n if n else 0.0
    tolerance = max(0.05, 4 * math.sqrt(p * (1 - p) / n)) if n else 0.0
    return n >= 40 and abs(got - p) <= tolerance, f"{got:.3f} of {n} vs {p} ± {tolerance:.3f}"


def test_a_healthy_rollout_reaches_100_with_each_step_split_as_weighted(fresh: Rig) -> None:
    before = fresh.raw_spec()
    with traffic(fresh.world) as sent:
        run = fresh.rollout("ro-blue", "ro-green", "--steps", "10,25,50,100", "--interval",
                            "1s", "--min-requests", "10")
        code, out, err = run.finish()
    assert code == 0, err
    for i, weight in enumerate((10, 25, 50), start=1):
        step = f"step {i}/4 ({weight}% to default/ro-green)"
        ok, detail = share_ok(sent.between(run.when(f"{step}: served by 2/2 Envoys"),
                                           run.when(f"{step}: gate passed")), weight)
        assert ok, f"{step}: {detail}\n{err}"
    assert sent.between(run.when("step 4/4 (100% to default/ro-green): served by 2/2"))
    assert {s.backend for s in sent.between(run.when("rollout done"))} == {GREEN}
    assert all(s.status == 200 for s in sent.samples), {s.status for s in sent.samples}
    assert fresh.root()["spec"]["routes"] == [{"match": "/", "delegate": {"name": "ro-green"}}]
    state = fresh.state()
    assert (state["phase"], state["step"]) == ("done", 3)
    assert [(g["step"], g["verdict"]) for g in state["gates"]] == [
        (1, "pass"), (2, "pass"), (3, "pass")]
    assert all(g["to"]["p99_ms"] is not None for g in state["gates"])
    assert "phase:    done" in out and "Gates:" in out
    undo_then_switch(fresh, "ingressroute", "ro-root", ("ro-blue", "ro-green"), before)


def test_a_to_failing_at_25_percent_is_aborted_back_to_from(fresh: Rig) -> None:
    with traffic(fresh.world) as sent:
        run = fresh.rollout("ro-blue", "ro-green", "--steps", "10,25,50,100", "--interval",
                            "1s", "--min-requests", "10", "--max-p99", "off")
        run.when("step 2/4 (25% to default/ro-green) written")
        fresh.green().fault_status = 503
        code, out, err = run.finish()
        ended = time.monotonic()
        time.sleep(1)
    assert code == 1, err
    assert "error: rollout aborted at step 2/4 (25% to default/ro-green): 5xx rate of TO " \
           in err, err
    assert "traffic back on default/ro-blue: served by 2/2 Envoys" in err
    assert "step 1/4 (10% to default/ro-green): gate passed" in err
    lost = [s for s in sent.samples if s.status is None or s.backend is None]
    assert not lost, lost[:5]
    after = sent.between(ended)
    assert after and {(s.backend, s.status) for s in after} == {(BLUE, 200)}
    assert json.dumps(fresh.root()["spec"], sort_keys=True) == json.dumps(
        ir_root()["spec"], sort_keys=True)
    state = fresh.state()
    assert state["phase"] == "aborted" and state["gates"][-1]["verdict"] == "fail"
    assert state["gates"][-1]["to"]["errors"] > 0 and "phase:    aborted" in out


def test_a_slow_to_trips_the_p99_gate(fresh: Rig) -> None:
    # 1.5 s against a 1 s gate: the FROM side's own p99 reached 500 ms on a loaded machine
    # (load 7), so a gate near it would measure the machine, not the rollout
    fresh.green().fault_delay = 1.5
    with traffic(fresh.world) as sent:
        run = fresh.rollout("ro-blue", "ro-green", "--steps", "20,100", "--interval", "1s",
                            "--min-requests", "5", "--max-p99", "1s")
        code, _, err = run.finish()
        ended = time.monotonic()
        time.sleep(1)
    assert code == 1, err
    assert "error: rollout aborted at step 1/2 (20% to default/ro-green): p99 of TO " in err
    assert "> max 1000ms" in err, err
    assert {s.backend for s in sent.between(ended)} == {BLUE}
    gate = fresh.state()["gates"][-1]
    assert gate["to"]["p99_ms"] > 1000 > gate["from"]["p99_ms"], gate


def test_a_killed_rollout_is_finished_by_promote_from_a_new_process(fresh: Rig) -> None:
    with traffic(fresh.world) as sent:
        run = fresh.rollout("ro-blue", "ro-green", "--steps", "10,25,50,100", "--interval",
                            "1s", "--min-requests", "5", "--max-p99", "off")
        run.when("step 2/4 (25% to default/ro-green) written")
        os.kill(run.proc.pid, signal.SIGKILL)
        assert run.finish()[0] == -signal.SIGKILL
        status = fresh.world.contour("rollout", "status", "ro-root", "-n", "default")
        assert status.code == 0, str(status)
        assert "step:     2/4 (25% to default/ro-green)" in status.out
        assert "phase:    running" in status.out
        again = fresh.world.contour("rollout", "ro-blue", "ro-green", "--steps", "50,100",
                                    "-n", "default", "--yes", *fresh.admin)
        assert again.code == 1, str(again)
        assert "error: a rollout default/ro-blue → default/ro-green runs on IngressRoute " \
               "default/ro-root (step 2/4)" in again.err, str(again)
        watch = Plugin(fresh.world, "rollout", "status", "ro-root", "-n", "default", "--watch")
        done = fresh.world.contour("rollout", "promote", "ro-root", "-n", "default",
                                   *fresh.admin)
        finished = time.monotonic()
        watched = watch.finish(timeout=30)
    assert done.code == 0, str(done)
    assert watched[0] == 0, watched
    assert watched[1].count("rollout:  ") >= 2 and "phase:    done" in watched[1]
    assert "step 3/4 (50% to default/ro-green): gate passed" in done.err
    assert {s.backend for s in sent.between(finished)} <= {GREEN}
    state = fresh.state()
    assert state["phase"] == "done" and [g["step"] for g in state["gates"]] == [1, 3]
    assert fresh.root()["spec"]["routes"] == [{"match": "/", "delegate": {"name": "ro-green"}}]


def test_an_httpproxy_rollout_ends_as_switch_and_undo_restores_it(fresh: Rig) -> None:
    before = fresh.raw_spec("httpproxy", "hp-ro-root")
    with traffic(fresh.world, HP_HOST) as sent:
        run = fresh.rollout("hp-ro-blue", "hp-ro-green", "--steps", "50,100", "--interval",
                            "1s", "--min-requests", "5", "--max-p99", "off")
        code, _, err = run.finish()
    assert code == 0, err
    assert {s.backend for s in sent.between(run.when("rollout done"))} == {GREEN}
    assert fresh.root("httpproxy", "hp-ro-root")["spec"]["includes"] == [
        {"name": "hp-ro-green", "conditions": [{"prefix": "/"}]}]
    undo_then_switch(fresh, "httpproxy", "hp-ro-root", ("hp-ro-blue", "hp-ro-green"), before)


def undo_then_switch(rig: Rig, kind: str, root: str, names: tuple[str, str],
                     before: str) -> None:
    """After a finished rollout: `undo` gives the spec back byte for byte (and the root's
    own annotations, without the rollout's), and `switch` from there writes exactly what
    the rollout's last step wrote."""
    finished = rig.raw_spec(kind, root)
    undone = rig.world.contour("rollout", "undo", f"{kind}/{root}", "-n", "default",
                               "--wait", *rig.admin)
    assert undone.code == 0, str(undone)
    assert rig.raw_spec(kind, root) == before
    own = (ir_root() if kind == "ingressroute" else hp_root())["metadata"].get("annotations")
    assert rig.root(kind, root)["metadata"].get("annotations") == own
    assert served(rig.world, HOST if kind == "ingressroute" else HP_HOST) == {BLUE}
    switch = rig.world.contour("switch", f"{kind}/{names[0]}", names[1], "-n", "default",
                               "--yes")
    assert switch.code == 0, str(switch)
    assert rig.raw_spec(kind, root) == finished


def test_a_concurrent_edit_fails_the_next_patch_without_clobbering_it(fresh: Rig) -> None:
    with traffic(fresh.world):
        run = fresh.rollout("ro-blue", "ro-green", "--steps", "50,100", "--interval", "4s",
                            "--min-requests", "5", "--max-p99", "off")
        run.when("step 1/2 (50% to default/ro-green): served by 2/2 Envoys")
        edit = [{"op": "replace", "path": "/spec/routes/0/services/0/weight", "value": 60}]
        fresh.world.kubectl("patch", "ingressroute", "ro-root", "-n", "default", "--type=json",
                            "-p", json.dumps(edit))
        code, _, err = run.finish()
    assert code == 1, err
    assert "error: IngressRoute default/ro-root was edited since the rollout wrote it, so it " \
           "was not patched" in err, err
    edited = fresh.root()["spec"]
    assert edited["routes"][0]["services"][0]["weight"] == 60
    abort = fresh.world.contour("rollout", "abort", "ro-root", "-n", "default")
    assert abort.code == 1 and "was edited since the rollout wrote it" in abort.err, abort
    assert fresh.root()["spec"] == edited
    assert fresh.state()["phase"] == "running"


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["ro-blue", "ro-green", "--steps", "10,50"], 2,
                 "the last step must be 100", id="steps-not-ending-at-100"),
    pytest.param(["ro-blue", "ghost", "--steps", "50,100"], 1,
                 "error: refusing to start the rollout: default/ghost valid after the switch",
                 id="to-invalid"),
    pytest.param(["ro-blue", "marketing/admin", "--steps", "50,100"], 1,
                 "error: cannot express the rollout as a weighted split: IngressRoute services "
                 "name Services of their own namespace", id="to-in-another-namespace"),
    pytest.param(["status", "blue-green-root"], 3,
                 "error: no rollout is recorded on IngressRoute default/blue-green-root",
                 id="status-without-rollout"),
    pytest.param(["promote", "ro-root"], 3, "error: no rollout is recorded",
                 id="promote-without-rollout"),
])
def test_refusals_write_nothing(fresh: Rig, args: list[str], code: int, message: str) -> None:
    before = fresh.root()
    done = fresh.world.contour("rollout", *args, "-n", "default", "--yes", *fresh.admin) \
        if args[0] not in ("status", "promote") else \
        fresh.world.contour("rollout", *args, "-n", "default")
    assert done.code == code, str(done)
    assert message in done.err, str(done)
    assert "Traceback" not in done.err
    after = fresh.root()
    assert (after["spec"], after["metadata"].get("annotations")) == (
        before["spec"], before["metadata"].get("annotations"))


def test_on_a_terminal_the_progress_is_live(fresh: Rig) -> None:
    """Through a pseudo-terminal: a live step bar with numbers per Envoy, then the state."""
    import pty
    import select

    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    env = fresh.world.env(TERM="xterm-256color", COLUMNS="120")
    env.pop("NO_COLOR")
    master, slave = pty.openpty()
    with traffic(fresh.world):
        proc = subprocess.Popen(
            [kubectl, "contour", "rollout", "ro-blue", "ro-green", "--steps", "50,100",
             "--interval", "2s", "--min-requests", "5", "--max-p99", "off", "-n", "default",
             "--yes", *fresh.admin, "--kubeconfig", str(fresh.world.kubeconfig)],
            stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        seen = b""
        try:
            while True:
                ready, _, _ = select.select([master], [], [], 60)
                assert ready, seen.decode(errors="replace")
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal closed: the process is gone
                    break
                if not chunk:
                    break
                seen += chunk
        finally:
            os.close(master)
            code = proc.wait(30)
    text = seen.decode(errors="replace")
    assert code == 0, text
    assert "watched " in text and "TO REQ" in text  # the live view
    assert "\x1b[" in text and "phase:" in text and "done" in text
