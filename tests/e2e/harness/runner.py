"""Run one scenario against the real controller and a real Envoy.

Convergence (README "Execution and convergence"):

* every status entry and every request entry that is not *negative* is
  *positive*; positive entries are retried (round-robin, ~50 ms apart) until
  each has held once or the deadline (default 60 s, env
  ``CONTOUR_E2E_DEADLINE``) passes;
* only then the negative entries (only ``expect_status: 404``,
  ``expect_tls_failure: true`` and/or ``expect_websocket: false``) are
  checked, also retried until they hold (own deadline);
* ``expect`` first, then each step in order.

Every attempt of a request carries a fresh ``x-harness-attempt-id``.
A failure raises :class:`ScenarioFailure` whose text holds, for every entry
that did not hold, the expectation, what the last attempt saw and why it
did not match, followed by the controller's ``/debug/status``, Envoy's
listeners, the backends, and the tails of the controller and Envoy logs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from . import client
from .backends import (
    ATTEMPT_HEADER,
    DELAY_HEADER,
    FAIL_FIRST_HEADER,
    FAIL_STATUS_HEADER,
    BackendPool,
)
from .certs import HarnessCA
from .checks import Check, check_lines, world_lines
from .controller import Controller, Ports, finish_bootstrap, start_bootstrap
from .envoy import Envoy
from .scenario import (
    REQUEST_EXPECT_KEYS,
    Scenario,
    ScenarioError,
    generate_secrets,
    object_key,
    parse_backend_id,
    parse_duration,
    parse_objects,
    resolve_placeholders,
)
from .sinks import FolderSink, ObjectSink, file_name_for
from .verdicts import (
    check_observed,
    check_repeated,
    check_response,
    check_status_row,
    repeated_problem,
    status_summary,
)

DEFAULT_DEADLINE = float(os.environ.get("CONTOUR_E2E_DEADLINE", "60"))
RETRY_INTERVAL = 0.05
REQUEST_TIMEOUT = 10.0
SLOW_REQUEST_TIMEOUT = 65.0


class ScenarioFailure(AssertionError):
    pass


def is_negative(req: dict[str, Any]) -> bool:
    exp = {k: v for k, v in req.items() if k in REQUEST_EXPECT_KEYS}
    if not exp:
        return False
    for k, v in exp.items():
        if k == "expect_status" and v == 404:
            continue
        if k == "expect_tls_failure" and v is True:
            continue
        if k == "expect_websocket" and v is False:
            continue
        return False
    return True


__all__ = ["ScenarioFailure", "ScenarioRun", "check_response", "file_name_for", "is_negative",
           "run_scenario"]


class ScenarioRun:
    """One scenario's world: objects (in a folder or an API server, see sinks.py),
    backends, controller, Envoy.  A context manager."""

    def __init__(self, scenario: Scenario, ca: HarnessCA, workdir: Path | None = None,
                 deadline: float = DEFAULT_DEADLINE, sink: ObjectSink | None = None) -> None:
        self.sc = scenario
        self.ca = ca
        self.deadline = deadline
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"e2e-{scenario.name}-"))
        self.src = self.workdir / "source"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sink: ObjectSink = sink or FolderSink(self.src)
        self.pool: BackendPool | None = None
        self.controller: Controller | None = None
        self.envoy: Envoy | None = None
        self.ports: Ports | None = None
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.live: list[str] = []  # identities with Endpoints written by the harness
        self.external: dict[str, tuple[str, int]] = {}
        self.timings: dict[str, float] = {}
        self.log: list[str] = []
        self._closed = False

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> ScenarioRun:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        errors = []
        for what in (self.envoy, self.controller):
            if what is not None:
                try:
                    what.stop()
                except Exception as e:  # pragma: no cover
                    errors.append(repr(e))
        if self.pool is not None:
            try:
                self.pool.close()
            except Exception as e:  # pragma: no cover
                errors.append(repr(e))
        try:
            self.sink.close()  # cluster mode: the scenario's objects are deleted
        except Exception as e:  # pragma: no cover
            errors.append(repr(e))
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _mark(self, what: str, t0: float) -> None:
        self.timings[what] = round(time.monotonic() - t0, 3)

    def run(self) -> None:
        t_all = time.monotonic()
        try:
            self.start()
        except RuntimeError as e:  # controller/bootstrap/Envoy could not be started
            raise ScenarioFailure(self._report(f"could not start: {e}", [])) from None
        self.run_block("expect", self.sc.expect.get("requests") or [],
                       self.sc.expect.get("status") or [],
                       self.sc.expect.get("backend_observed") or [])
        for i, step in enumerate(self.sc.steps):
            kind, val = next(iter(step.items()))
            label = f"steps[{i}].{kind}"
            if kind == "apply":
                self.apply(parse_objects(val))
            elif kind == "delete":
                self.delete(val)
            elif kind == "endpoints":
                self.set_endpoints(list(val or []))
            elif kind == "requests":
                self.run_block(label, val or [], [], [])
            elif kind == "status":
                self.run_block(label, [], val or [], [])
            self.log.append(f"{label} done at {time.monotonic() - t_all:.2f}s")
        self._mark("total", t_all)

    def start(self) -> None:
        sc = self.sc
        t0 = time.monotonic()
        # objects (GENERATE now, placeholders once external backends have ports)
        objs = generate_secrets(sc.objects, sc.certs, self.ca)
        self.ports = Ports.allocate()
        boot = self.workdir / "bootstrap.json"
        boot_proc = start_bootstrap(boot, self.ports, self.workdir / "bootstrap.log")
        # backends (concurrently, in the pool's loop)
        self.pool = BackendPool(ip=self.sink.backend_ip)
        specs = []
        for ident in list(dict.fromkeys(sc.endpoints + sc.external_backends)):
            tls = sc.backends_tls.get(ident)
            leaf = self.ca.issue(tls["cn"], tls.get("sans")) if tls else None
            specs.append((ident, leaf))
        self.pool.start(specs)
        self.external = {i: (self.pool.live[i].ip, self.pool.live[i].port)
                         for i in sc.external_backends}
        objs = resolve_placeholders(objs, self.external)
        self.live = list(dict.fromkeys(sc.endpoints))
        # files: namespaces first, then the rest, then harness Endpoints
        for o in sorted(objs, key=lambda o: o["kind"] != "Namespace"):
            key = object_key(o)
            self.objects[key] = o
            self._write(key, o)
        self._check_endpoint_services(self.live)
        self._write_all_endpoints()
        self._mark("objects+backends", t0)
        # controller + bootstrap (in parallel), then Envoy
        t1 = time.monotonic()
        self.controller = Controller(self.workdir, self.src, self.ports, sc.controller,
                                     source_args=self.sink.source_args())
        finish_bootstrap(boot_proc, boot)
        self._mark("bootstrap", t1)
        self.controller.wait_healthy()
        self._mark("controller healthy", t1)
        t2 = time.monotonic()
        self.envoy = Envoy(self.workdir, boot, f"e2e-{sc.name}", self.ports.admin)
        self._mark("envoy spawned", t2)
        self._mark("start", t0)

    # ------------------------------------------------------------ objects
    def _write(self, key: tuple[str, str, str], obj: dict[str, Any]) -> None:
        self.sink.put(key, obj)

    def _remove(self, key: tuple[str, str, str]) -> None:
        self.sink.remove(key)

    def _user_endpoints(self, ns: str, name: str) -> bool:
        ep = self.objects.get(("Endpoints", ns, name))
        return ep is not None and not ep.get("_harness", False)

    def _services(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(k[1], k[2]): o for k, o in self.objects.items() if k[0] == "Service"}

    def _check_endpoint_services(self, idents: list[str]) -> None:
        svcs = self._services()
        for ident in idents:
            ns, svc, port = parse_backend_id(ident)
            s = svcs.get((ns, svc))
            if s is None:
                raise ScenarioError(
                    f"endpoints entry {ident}: no Service {ns}/{svc} among the objects")
            if not any(p.get("port") == port for p in (s.get("spec") or {}).get("ports") or []):
                raise ScenarioError(
                    f"endpoints entry {ident}: Service {ns}/{svc} has no port {port}")

    def _endpoints_object(self, ns: str, name: str, svc: dict[str, Any]) -> dict[str, Any]:
        assert self.pool is not None
        subsets = []
        for p in (svc.get("spec") or {}).get("ports") or []:
            ident = f"{ns}/{name}:{p.get('port')}"
            b = self.pool.live.get(ident)
            if ident not in self.live or b is None:
                continue
            port: dict[str, Any] = {"port": b.port, "protocol": p.get("protocol", "TCP")}
            if p.get("name"):
                port = {"name": p["name"], **port}
            subsets.append({"addresses": [{"ip": b.ip}], "ports": [port]})
        obj: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": name, "namespace": ns},
        }
        if subsets:  # like the API server: no live port -> no subsets at all
            obj["subsets"] = subsets
        return obj

    def _write_endpoints_for(self, ns: str, name: str) -> None:
        if self._user_endpoints(ns, name):
            return
        svc = self._services().get((ns, name))
        key = ("Endpoints", ns, name)
        if svc is None:
            if key in self.objects:
                del self.objects[key]
                self._remove(key)
            return
        obj = self._endpoints_object(ns, name, svc)
        self.objects[key] = {**obj, "_harness": True}
        self._write(key, obj)

    def _write_all_endpoints(self) -> None:
        for ns, name in self._services():
            self._write_endpoints_for(ns, name)

    def apply(self, objs: list[dict[str, Any]]) -> None:
        objs = generate_secrets(objs, self.sc.certs, self.ca)
        objs = resolve_placeholders(objs, self.external)
        for o in objs:
            key = object_key(o)
            self.objects[key] = o
            self._write(key, o)
            if key[0] == "Service":
                self._write_endpoints_for(key[1], key[2])

    def delete(self, ref: str) -> None:
        kind, ns, name = ref.split("/")
        key = (kind, "" if kind == "Namespace" else (ns or "default"), name)
        if key not in self.objects:
            raise ScenarioError(f"delete {ref}: no such object (have {sorted(self.objects)})")
        del self.objects[key]
        self._remove(key)
        if kind == "Service":
            self._write_endpoints_for(key[1], key[2])

    def set_endpoints(self, idents: list[str]) -> None:
        assert self.pool is not None
        idents = list(dict.fromkeys(idents))
        self._check_endpoint_services(idents)
        old, new = set(self.live), set(idents)
        self.live = idents
        affected = {parse_backend_id(i)[:2] for i in old | new}
        # write first (traffic leaves the old backends), then stop, then start
        gone = old - new
        start = [i for i in idents if i not in self.pool.live]
        specs = []
        for ident in start:
            tls = self.sc.backends_tls.get(ident)
            specs.append((ident, self.ca.issue(tls["cn"], tls.get("sans")) if tls else None))
        self.pool.start(specs)
        for ns, name in sorted(affected):
            self._write_endpoints_for(ns, name)
        self.pool.stop(i for i in gone if i not in self.sc.external_backends)

    # ------------------------------------------------------------ checks
    def _alive_or_fail(self) -> None:
        for p in (self.controller, self.envoy):
            if p is not None and not p.proc.alive():
                raise ScenarioFailure(self._report(
                    f"{p.proc.name} exited unexpectedly (rc={p.proc.returncode})", []))

    def run_block(self, label: str, requests: list[dict[str, Any]],
                  statuses: list[dict[str, Any]], observed: list[dict[str, Any]]) -> None:
        t0 = time.monotonic()
        checks: list[Check] = []
        for i, r in enumerate(requests):
            checks.append(Check(f"{label}.requests[{i}]" if label == "expect" else f"{label}[{i}]",
                                "request", r, negative=is_negative(r)))
        for i, s in enumerate(statuses):
            checks.append(Check(f"{label}.status[{i}]" if label == "expect" else f"{label}[{i}]",
                                "status", s))
        for i, o in enumerate(observed):
            c = Check(f"{label}.backend_observed[{i}]", "observed", o)
            checks.append(c)
        positives = [c for c in checks if not c.negative]
        negatives = [c for c in checks if c.negative]
        for c in positives:
            c.deadline = t0 + self.deadline
            if c.kind == "observed" and "within" in c.spec:
                c.deadline = t0 + parse_duration(c.spec["within"])
        self._converge(label, positives, checks, "positive")
        t1 = time.monotonic()
        for c in negatives:
            c.deadline = t1 + self.deadline
        self._converge(label, negatives, checks, "negative")
        self.log.append(f"block {label}: {len(positives)} positive, {len(negatives)} negative, "
                        f"converged in {time.monotonic() - t0:.2f}s")

    def _converge(self, label: str, pending: list[Check], all_checks: list[Check],
                  phase: str) -> None:
        pending = list(pending)
        while pending:
            self._alive_or_fail()
            for c in list(pending):
                if self._attempt(c):
                    pending.remove(c)
            if not pending:
                return
            now = time.monotonic()
            if any(now >= c.deadline for c in pending):
                raise ScenarioFailure(self._report(
                    f"block '{label}': {len(pending)} {phase} "
                    f"entr{'y' if len(pending) == 1 else 'ies'} "
                    f"did not hold before the deadline", all_checks))
            time.sleep(RETRY_INTERVAL)

    def _attempt(self, c: Check) -> bool:
        c.attempts += 1
        c.last_at = time.monotonic()
        try:
            if c.kind == "request":
                seen, mism = self._attempt_request(c.spec)
            elif c.kind == "status":
                seen, mism = self._attempt_status(c.spec)
            else:
                seen, mism = self._attempt_observed(c.spec)
        except (ScenarioError, ScenarioFailure):
            raise
        except Exception as e:  # harness trouble is reported as the observation
            seen, mism = f"harness exception {e.__class__.__name__}: {e}", ["exception"]
        c.last_seen, c.last_mismatch = seen, mism
        if not mism:
            c.held = True
        return c.held

    # requests
    def _request_options(self, spec: dict[str, Any]) -> tuple[int, client.RequestOptions]:
        assert self.ports is not None
        scheme = spec.get("scheme", "http")
        headers = [(ATTEMPT_HEADER, uuid.uuid4().hex)]
        # `slow` scenarios may legitimately wait longer than ~15 s for one response
        timeout = SLOW_REQUEST_TIMEOUT if "slow" in self.sc.requires else REQUEST_TIMEOUT
        if "backend_delay" in spec:
            d = parse_duration(spec["backend_delay"])
            headers.append((DELAY_HEADER, f"{d:.3f}"))
            timeout += d
        if "backend_fail_first" in spec:
            headers.append((FAIL_FIRST_HEADER, str(int(spec["backend_fail_first"]))))
            headers.append((FAIL_STATUS_HEADER, str(int(spec.get("backend_fail_status", 503)))))
        # the scenario's own headers after the runner's (schema.py refuses harness names)
        headers += [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
        opts = client.RequestOptions(
            host=str(spec["host"]), path=str(spec.get("path", "/")), scheme=scheme,
            method=str(spec.get("method", "GET")), host_header=spec.get("host_header"),
            http_version=str(spec.get("http_version", "1.1")),
            raw_path=bool(spec.get("raw_path", False)),
            tls_min_version=str(spec["tls_min_version"]) if "tls_min_version" in spec else None,
            tls_max_version=str(spec["tls_max_version"]) if "tls_max_version" in spec else None,
            websocket=bool(spec.get("websocket", False)), extra_headers=headers, timeout=timeout,
        )
        return (self.ports.https if scheme == "https" else self.ports.http), opts

    def _attempt_request(self, spec: dict[str, Any]) -> tuple[str, list[str]]:
        if "n" in spec:
            return self._attempt_repeated(spec)
        port, opts = self._request_options(spec)
        resp = client.request(port, opts)
        return resp.summary(), check_response(spec, resp)

    def _attempt_repeated(self, spec: dict[str, Any]) -> tuple[str, list[str]]:
        """n requests back to back, each on a new connection with a fresh attempt id;
        stops at the first response that already fails the entry."""
        responses: list[client.Response] = []
        for _ in range(int(spec["n"])):
            port, opts = self._request_options(spec)
            responses.append(client.request(port, opts))
            first = responses[0].backend
            if repeated_problem(spec, responses[-1], first) is not None:
                break
        return check_repeated(spec, responses)

    # status
    def _attempt_status(self, spec: dict[str, Any]) -> tuple[str, list[str]]:
        assert self.controller is not None
        data, err = self.sink.statuses(self.controller)
        if err:
            return err, [err]
        assert data is not None
        match = [e for e in data if isinstance(e, dict) and e.get("kind") == spec["kind"]
                 and e.get("namespace") == spec["namespace"] and e.get("name") == spec["name"]]
        if not match:
            where = "/debug/status" if self.sink.mode == "folder" else "the API server"
            return (f"no entry for {spec['kind']} {spec['namespace']}/{spec['name']} "
                    f"in {where} ({len(data)} entries)"), ["missing status entry"]
        return status_summary(match[0]), check_status_row(spec, match[0])

    # backend observation
    def _attempt_observed(self, spec: dict[str, Any]) -> tuple[str, list[str]]:
        assert self.pool is not None
        ident = str(spec["backend"])
        bs = self.pool.history(ident)
        if not bs:
            return f"no backend {ident} was ever started", [f"unknown backend {ident}"]
        return check_observed(spec, (r for b in bs for r in b.observed()))

    # ------------------------------------------------------------ report
    def _report(self, headline: str, checks: list[Check]) -> str:
        return "\n".join([f"SCENARIO {self.sc.file} FAILED: {headline}", "",
                          *check_lines(checks), "", *world_lines(self)])


def run_scenario(scenario: Scenario, ca: HarnessCA, workdir: Path | None = None,
                 deadline: float = DEFAULT_DEADLINE) -> ScenarioRun:
    with ScenarioRun(scenario, ca, workdir, deadline) as run:
        run.run()
        return run
