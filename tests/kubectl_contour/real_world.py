"""A real world for the plugin: kube-apiserver (the ``control_plane`` fixture) with Contour's
CRDs and a blue/green + cross-namespace TLS delegation set of objects created with kubectl,
``contour serve --kubeconfig`` (cluster source: it writes statuses through the status
subresource), a real Envoy bootstrapped by ``contour bootstrap``, and local HTTP backends
(tests/e2e/harness) behind the Services.

The API server refuses loopback addresses in Endpoints and EndpointSlices, so the backends
listen on a test host of our own, a network namespace (tests/e2e/harness/netns.py).

Every `kubectl contour ...` runs through the real kubectl binary, which finds the
`kubectl-contour` wrapper on PATH (as a user's install would).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
_E2E = str(ROOT / "tests" / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)

from harness.backends import BackendPool  # noqa: E402
from harness.certs import HarnessCA  # noqa: E402
from harness.client import RequestOptions, Response, request  # noqa: E402
from harness.controller import (  # noqa: E402
    Controller,
    Ports,
    _env,
    finish_bootstrap,
    http_get,
    serve_argv,
    start_bootstrap,
)
from harness.envoy import Envoy  # noqa: E402
from harness.procs import ManagedProcess  # noqa: E402
from harness.sinks import host_ip  # noqa: E402

CRDS = ROOT / "manifests" / "01-crds.yaml"
CRD_NAMES = ("ingressroutes.contour.heptio.com", "tlscertificatedelegations.contour.heptio.com",
             "httpproxies.projectcontour.io")
NODE = "kubectl-contour-real"
ENVOY_NS = "heptio-contour"
# identity (ns/service:port) of every backend the world starts
BACKENDS = ("default/blue:80", "default/green:80", "roots/www:80", "marketing/blog:8080",
            "marketing/blog-canary:8080")


class WorldError(RuntimeError):
    """A real part of the world could not be started; the message says which and why."""


class ClusterController(Controller):
    """The harness's controller process, reading the cluster (--kubeconfig) instead of a
    folder."""

    def __init__(self, workdir: Path, kubeconfig: Path, ports: Ports) -> None:  # noqa: D107
        self.ports = ports
        self.source_dir = workdir
        argv = serve_argv(workdir, ports, {}, None)
        i = argv.index("--source-dir")
        argv[i:i + 2] = ["--kubeconfig", str(kubeconfig)]
        self.argv = argv
        self.proc = ManagedProcess("controller", argv, workdir / "controller.log", cwd=ROOT,
                                   env=_env())


# ------------------------------------------------------------------------------ objects


def _doc(kind: str, api: str, ns: str | None, name: str, **rest: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": api, "kind": kind, "metadata": meta, **rest}


def service(ns: str, name: str, port: int, port_name: str = "http") -> dict[str, Any]:
    return _doc("Service", "v1", ns, name, spec={"ports": [
        {"name": port_name, "port": port, "targetPort": 8080}]})


def ingressroute(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return _doc("IngressRoute", "contour.heptio.com/v1beta1", ns, name, spec=spec)


def svc_route(match: str, *services: tuple[str, int] | tuple[str, int, int],
              **extra: Any) -> dict[str, Any]:
    out = []
    for s in services:
        item: dict[str, Any] = {"name": s[0], "port": s[1]}
        if len(s) == 3:
            item["weight"] = s[2]
        out.append(item)
    return {"match": match, "services": out, **extra}


def world_objects(ip: str, ports: dict[str, int], tls_crt: bytes,
                  tls_key: bytes) -> list[dict[str, Any]]:
    """Namespaces, Services, Endpoints(+Slices) at the backends, a TLS secret and the
    IngressRoutes: blue/green, a TLS root delegating across namespaces (weights, an invalid
    child, a child without endpoints), an orphan, a cycle, an Ingress."""
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    objs: list[dict[str, Any]] = [
        _doc("Namespace", "v1", None, ns) for ns in ("roots", "marketing", ENVOY_NS)]
    objs += [
        service("default", "blue", 80), service("default", "green", 80),
        service("default", "loop", 80), service("roots", "www", 80),
        service("marketing", "blog", 8080, "web"), service("marketing", "blog-canary", 8080, "web"),
        service("marketing", "admin", 80), service("marketing", "api", 80),
        _doc("Endpoints", "v1", "default", "blue", subsets=[{
            "addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "name": "blue-0"}}],
            "ports": [{"name": "http", "port": ports["default/blue:80"]}]}]),
        # green through an EndpointSlice (one ready, one not): slices are preferred
        _doc("EndpointSlice", "discovery.k8s.io/v1", "default", "green-x1y2z",
             addressType="IPv4",
             endpoints=[{"addresses": [ip], "conditions": {"ready": True},
                         "targetRef": {"kind": "Pod", "name": "green-0"}},
                        {"addresses": ["198.19.255.250"], "conditions": {"ready": False},
                         "targetRef": {"kind": "Pod", "name": "green-1"}}],
             ports=[{"name": "http", "port": ports["default/green:80"]}]),
        _doc("Endpoints", "v1", "roots", "www", subsets=[{
            "addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "name": "www-0"}}],
            "ports": [{"name": "http", "port": ports["roots/www:80"]}]}]),
        _doc("Endpoints", "v1", "marketing", "blog", subsets=[{
            "addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "name": "blog-0"}}],
            "ports": [{"name": "web", "port": ports["marketing/blog:8080"]}]}]),
        _doc("Endpoints", "v1", "marketing", "blog-canary", subsets=[{
            "addresses": [{"ip": ip, "targetRef": {"kind": "Pod", "name": "blog-canary-0"}}],
            "ports": [{"name": "web", "port": ports["marketing/blog-canary:8080"]}]}]),
        _doc("Secret", "v1", "roots", "www-tls", type="kubernetes.io/tls",
             data={"tls.crt": b64(tls_crt), "tls.key": b64(tls_key)}),
        # blue/green
        ingressroute("default", "blue", {"routes": [svc_route("/", ("blue", 80))]}),
        ingressroute("default", "green", {"routes": [svc_route("/", ("green", 80))]}),
        ingressroute("default", "blue-green-root", {
            "virtualhost": {"fqdn": "blue-green.example.com"},
            "routes": [{"match": "/", "delegate": {"name": "blue"}}]}),
        # a second `blue` (an orphan) makes the bare name ambiguous
        ingressroute("marketing", "blue", {"routes": [svc_route("/", ("blog", 8080))]}),
        # TO candidates the switch must refuse
        ingressroute("default", "ghost", {"routes": [svc_route("/", ("missing", 80))]}),
        ingressroute("marketing", "admin", {"routes": [
            svc_route("/blog/admin", ("admin", 80), prefixRewrite="/")]}),
        # TLS root in `roots` delegating into `marketing`
        ingressroute("roots", "www", {
            "virtualhost": {"fqdn": "www.example.com", "tls": {"secretName": "www-tls"}},
            "routes": [svc_route("/", ("www", 80)),
                       {"match": "/blog", "delegate": {"name": "blog",
                                                       "namespace": "marketing"}},
                       {"match": "/api", "delegate": {"name": "api",
                                                      "namespace": "marketing"}}]}),
        ingressroute("marketing", "blog", {"routes": [
            svc_route("/blog", ("blog", 8080, 90), ("blog-canary", 8080, 10),
                      timeoutPolicy={"request": "30s"},
                      retryPolicy={"count": 3, "perTryTimeout": "2s"}),
            {"match": "/blog/admin", "delegate": {"name": "admin"}}]}),
        ingressroute("marketing", "api", {"routes": [svc_route("/v2", ("api", 80))]}),
        ingressroute("marketing", "lonely", {"routes": [svc_route("/", ("blog", 8080))]}),
        # a cycle
        ingressroute("default", "loop-root", {
            "virtualhost": {"fqdn": "loop.example.com"},
            "routes": [{"match": "/", "delegate": {"name": "loop-child"}}]}),
        ingressroute("default", "loop-child", {"routes": [
            svc_route("/a", ("loop", 80)), {"match": "/back", "delegate": {"name": "loop-root"}}]}),
        _doc("Ingress", "networking.k8s.io/v1", "default", "legacy", spec={"rules": [{
            "host": "legacy.example.com", "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "blue", "port": {"number": 80}}}}]}}]}),
    ]
    for o in objs:
        if o["kind"] == "EndpointSlice":
            o["metadata"]["labels"] = {"kubernetes.io/service-name": "green"}
    return objs


# ------------------------------------------------------------------------------ the world


@dataclass
class Done:
    code: int
    out: str
    err: str
    seconds: float

    def __str__(self) -> str:
        return f"exit {self.code} after {self.seconds:.2f}s\n--- stdout\n{self.out}\n" \
               f"--- stderr\n{self.err}"


@dataclass
class World:
    cp: Any
    workdir: Path
    ip: str
    ports: Ports
    pool: BackendPool
    controller: ClusterController
    envoy: Envoy
    plugin_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    extra: list[Any] = field(default_factory=list)

    @property
    def kubeconfig(self) -> Path:
        return Path(self.cp.kubeconfig)

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.admin}"

    @property
    def contour_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.debug}"

    def backend_port(self, identity: str) -> int:
        return self.pool.live[identity].port

    # -- running things
    def env(self, **extra: str) -> dict[str, str]:
        env = dict(_env())
        env.update(PATH=f"{self.plugin_dir}{os.pathsep}{env['PATH']}", COLUMNS="100",
                   NO_COLOR="1", TERM="dumb", KUBECONFIG=str(self.workdir / "no-such-config"))
        env.update(extra)
        return env

    def contour(self, *args: str, timeout: float = 90.0, input: str | None = None,
                kubeconfig: bool = True, env: dict[str, str] | None = None) -> Done:
        """`kubectl [--kubeconfig K] contour ARGS` through the real kubectl binary (`env`
        added to the plugin's environment)."""
        kubectl = shutil.which("kubectl")
        assert kubectl is not None
        flags = ["--kubeconfig", str(self.kubeconfig)] if kubeconfig else []
        t0 = time.monotonic()
        proc = subprocess.run([kubectl, "contour", *args, *flags], capture_output=True,
                              text=True, env=self.env(**(env or {})), cwd=ROOT, timeout=timeout,
                              input=input,
                              check=False)
        return Done(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - t0)

    def kubectl(self, *args: str, check: bool = True, input: str | None = None) -> Any:
        return self.cp.kubectl(*args, check=check, input=input)

    def apply(self, objs: list[dict[str, Any]]) -> None:
        self.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(objs))

    def get_json(self, *args: str) -> Any:
        return json.loads(self.kubectl("get", *args, "-o", "json").stdout)

    def send(self, host: str, path: str = "/") -> Response:
        return request(self.ports.http, RequestOptions(host=host, path=path, timeout=5))

    def wait_for(self, what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            self.alive_or_fail()
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {timeout:g}s (last: {last!r})\n{self.logs()}")

    def alive_or_fail(self) -> None:
        for proc in (self.controller.proc, self.envoy.proc):
            if not proc.alive():
                raise AssertionError(f"{proc.describe()}\n{proc.tail(60)}")

    def logs(self) -> str:
        return (f"--- controller\n{self.controller.proc.tail(30)}\n"
                f"--- envoy\n{self.envoy.proc.tail(20)}")

    def close(self) -> None:
        for part in (*self.extra, self.envoy, self.controller):
            with contextlib.suppress(Exception):
                part.stop()
        with contextlib.suppress(Exception):
            self.pool.close()
        if not os.environ.get("KUBECTL_CONTOUR_KEEP_WORLD"):
            shutil.rmtree(self.workdir, ignore_errors=True)


def write_plugin_wrapper(directory: Path) -> Path:
    """`kubectl-contour` on PATH: a wrapper running this venv's python on the package."""
    wrapper = directory / "kubectl-contour"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubectl_contour "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def install_crds(cp: Any) -> None:
    cp.kubectl("apply", "-f", str(CRDS))
    for attempt in range(5):
        # right after the apply a CRD may have no status at all yet, and `kubectl wait`
        # fails on it (".status.conditions accessor error: <nil>") instead of waiting
        done = cp.kubectl("wait", "--for", "condition=established", "--timeout=60s",
                          *(f"crd/{name}" for name in CRD_NAMES), check=attempt == 4)
        if done.returncode == 0:
            return
        time.sleep(0.2)


def start_world(cp: Any) -> World:
    """Everything above, started and in sync (Envoy serves blue-green.example.com)."""
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    workdir = Path(tempfile.mkdtemp(prefix="kubectl-contour-real-"))
    plugin_dir = workdir / "bin"
    plugin_dir.mkdir()
    write_plugin_wrapper(plugin_dir)
    ip = host_ip()
    ports = Ports.allocate()
    boot = workdir / "bootstrap.json"
    boot_proc = start_bootstrap(boot, ports, workdir / "bootstrap.log")
    pool = BackendPool(ip)
    controller: ClusterController | None = None
    envoy: Envoy | None = None
    try:
        try:
            pool.start([(i, None) for i in BACKENDS])
        except OSError as e:
            raise WorldError(f"backends cannot listen on {ip}: {e}") from e
        leaf = HarnessCA().issue("www.example.com")
        install_crds(cp)
        timings["crds"] = time.monotonic() - t0
        objs = world_objects(ip, {i: b.port for i, b in pool.live.items()}, leaf.cert_pem,
                             leaf.key_pem)
        namespaces = [o for o in objs if o["kind"] == "Namespace"]
        cp.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(namespaces))
        cp.kubectl("apply", "-f", "-", input=yaml.safe_dump_all(
            [o for o in objs if o["kind"] != "Namespace"]))
        timings["objects"] = time.monotonic() - t0
        controller = ClusterController(workdir, Path(cp.kubeconfig), ports)
        finish_bootstrap(boot_proc, boot)
        controller.wait_healthy()
        timings["controller healthy"] = time.monotonic() - t0
        envoy = Envoy(workdir, boot, NODE, ports.admin)
        world = World(cp, workdir, ip, ports, pool, controller, envoy, plugin_dir, timings)
    except BaseException:
        for part in (envoy, controller):
            if part is not None:
                part.stop()
        boot_proc.stop()
        pool.close()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        world.wait_for("Envoy routes blue-green.example.com to blue",
                       lambda: world.send("blue-green.example.com").backend == "default/blue:80",
                       timeout=60)
        timings["envoy serves"] = time.monotonic() - t0
        world.wait_for("statuses written by the controller", lambda: all_statuses_written(world),
                       timeout=60)
        world.wait_for("the controller sees Envoy in sync", lambda: in_sync(world), timeout=30)
        timings["ready"] = time.monotonic() - t0
    except BaseException:
        world.close()
        raise
    return world


def all_statuses_written(world: World) -> bool:
    items = world.get_json("ingressroutes", "-A")["items"]
    return bool(items) and all((i.get("status") or {}).get("currentStatus") for i in items)


def debug_xds(port: int) -> dict[str, Any]:
    status, body = http_get(port, "/debug/xds", timeout=3)
    assert status == 200, body
    return dict(json.loads(body))


def in_sync(world: World) -> bool:
    try:
        data = debug_xds(world.ports.debug)
    except OSError:
        return False
    nodes = [n for n in data["nodes"] if n["node"] == NODE]
    if not nodes:
        return False
    types = nodes[0]["types"]
    return all((types.get(t) or {}).get("acked") == v for t, v in data["versions"].items() if v)


def second_controller(workdir: Path, objects: list[dict[str, Any]]) -> Controller:
    """A controller (folder source) serving other objects, on its own ports."""
    other_dir = workdir / "other"
    src = other_dir / "source"
    src.mkdir(parents=True, exist_ok=True)
    (src / "objects.yaml").write_text(yaml.safe_dump_all(objects))
    return Controller(other_dir, src, Ports.allocate(), {})


def extra_envoy(world: World, node: str, extra_args: tuple[str, ...] = ()) -> Envoy:
    """Another real Envoy of the world's controller with an admin port of its own. Its
    listeners take the world's ports too (Envoy binds them with SO_REUSEPORT), so the
    kernel spreads new connections over the Envoys."""
    workdir = world.workdir / node
    workdir.mkdir(exist_ok=True)
    ports = dataclasses.replace(world.ports, admin=Ports.allocate().admin)
    boot = workdir / "bootstrap.json"
    finish_bootstrap(start_bootstrap(boot, ports, workdir / "bootstrap.log"), boot)
    return Envoy(workdir, boot, node, ports.admin, extra_args)
