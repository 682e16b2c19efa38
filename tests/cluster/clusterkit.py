"""Shared pieces of the cluster-mode tests: Contour's identity from the manifests, an admin
API client, controller processes in cluster mode, and a small world (backends + Envoy).

The controller always runs with a TokenRequest token of the manifests' ServiceAccount
(`heptio-contour/contour`, bound by the manifests' ClusterRole and Role): whatever it does
in these tests, that RBAC allows.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
_E2E = str(ROOT / "tests" / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)

from harness import client  # noqa: E402
from harness.backends import BackendPool  # noqa: E402
from harness.controller import (  # noqa: E402
    Ports,
    _env,
    finish_bootstrap,
    http_get,
    serve_argv,
    start_bootstrap,
)
from harness.envoy import Envoy  # noqa: E402
from harness.kubeapi import KubeApi  # noqa: E402
from harness.procs import ManagedProcess  # noqa: E402
from harness.sinks import host_ip  # noqa: E402

MANIFESTS = ROOT / "manifests"
NAMESPACE = "heptio-contour"
IDENTITY_MANIFESTS = ("00-", "01-", "02-")
"""Prefixes of the manifests files with the Namespace, ServiceAccount, CRDs and RBAC (not the
Deployment): 01-* may be several CRD files (contour.heptio.com, projectcontour.io)."""


def identity_manifests() -> list[Path]:
    return sorted(p for p in MANIFESTS.glob("*.yaml") if p.name.startswith(IDENTITY_MANIFESTS))


def crd_names(files: list[Path]) -> list[str]:
    """Every CustomResourceDefinition the files define (so the HTTPProxy CRDs are waited
    for as soon as they are in manifests/)."""
    docs = [d for f in files for d in yaml.safe_load_all(f.read_text()) if isinstance(d, dict)]
    return sorted(d["metadata"]["name"] for d in docs
                  if d.get("kind") == "CustomResourceDefinition")


@dataclass(frozen=True)
class Identity:
    token: str
    kubeconfig: Path


def install_contour_identity(cp: Any) -> Identity:
    """Namespace, ServiceAccount, CRDs and RBAC from manifests/, and a token for the SA."""
    files = identity_manifests()
    for f in files:
        cp.kubectl("apply", "-f", str(f))
    cp.wait_established(*[f"crd/{c}" for c in crd_names(files)])
    token = cp.kubectl("create", "token", "contour", "-n", NAMESPACE,
                       "--duration=4h").stdout.strip()
    return Identity(token, cp.token_kubeconfig(token, name="contour-sa"))


@pytest.fixture(scope="module")
def contour_identity(control_plane: Any) -> Identity:
    return install_contour_identity(control_plane)


@pytest.fixture(scope="module")
def admin_api(control_plane: Any) -> Iterator[KubeApi]:
    api = KubeApi(control_plane.server, control_plane.admin_token, str(control_plane.ca_file))
    yield api
    api.close()


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.1,
             ) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except Exception as e:  # noqa: BLE001 - keep polling; reported on timeout
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout}s (last: {last!r})")


# ----------------------------------------------------------------------------- controller


@dataclass
class ClusterController:
    """`contour serve --kubeconfig` as a process; xDS, metrics and debug on its own ports."""

    workdir: Path
    kubeconfig: Path
    name: str = "controller"
    leader_election: bool = False
    extra_args: list[str] = field(default_factory=list)
    ports: Ports = field(default_factory=Ports.allocate)
    proc: ManagedProcess = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        args = ["--kubeconfig", str(self.kubeconfig), *self.extra_args]
        if self.leader_election:
            args.append("--enable-leader-election")
        argv = serve_argv(self.workdir, self.ports, {}, None, source_args=args)
        env = {**_env(), "POD_NAME": self.name, "CONTOUR_NAMESPACE": NAMESPACE}
        self.proc = ManagedProcess(self.name, argv, self.workdir / f"{self.name}.log",
                                   cwd=ROOT, env=env)

    def healthz(self) -> tuple[int, str]:
        status, body = http_get(self.ports.metrics, "/healthz", timeout=2)
        return status, body.decode(errors="replace")

    def wait_healthy(self, timeout: float = 60) -> None:
        def ok() -> bool:
            assert self.proc.alive(), f"{self.name} exited:\n{self.proc.tail(40)}"
            return self.healthz()[0] == 200
        wait_for(f"{self.name} /healthz 200", ok, timeout)

    def metrics(self) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
        """{sample name: {sorted labels: value}}."""
        _, body = http_get(self.ports.metrics, "/metrics", timeout=3)
        out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
        for fam in text_string_to_metric_families(body.decode()):
            for s in fam.samples:
                out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
        return out

    def metric(self, name: str, **labels: str) -> float | None:
        return self.metrics().get(name, {}).get(tuple(sorted(labels.items())))

    def status_writes(self) -> int:
        return int(self.metric("contour_status_writes_total") or 0)

    def is_leader(self) -> bool:
        return self.metric("contour_leader") == 1

    def debug(self, path: str) -> Any:
        _, body = http_get(self.ports.debug, path, timeout=3)
        return json.loads(body)

    def terminate(self) -> None:
        """SIGTERM (a clean stop: the lease is released) and wait for the exit."""
        if self.proc.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.proc.wait(15)

    def kill(self) -> None:
        """SIGKILL: no chance to release anything."""
        if self.proc.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.proc.wait(5)

    def stop(self) -> None:
        self.proc.stop()


# ----------------------------------------------------------------------------- world


class World:
    """Backends on a non-loopback address (for the API server's Endpoints) and an Envoy
    bootstrapped to one controller; objects go through the admin API."""

    def __init__(self, workdir: Path, api: KubeApi) -> None:
        self.workdir = workdir
        self.api = api
        self.pool = BackendPool(ip=host_ip())
        self.envoy: Envoy | None = None
        self.ports: Ports | None = None  # the controller Envoy is bootstrapped to

    def backend(self, ns: str, svc: str, port: int = 80) -> tuple[str, int]:
        ident = f"{ns}/{svc}:{port}"
        if ident not in self.pool.live:
            self.pool.start([(ident, None)])
        b = self.pool.live[ident]
        return b.ip, b.port

    def service(self, ns: str, name: str, port: int = 80, live: bool = True) -> None:
        """A selector-less Service and the Endpoints pointing at its backend."""
        self.api.apply({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": name, "namespace": ns},
                        "spec": {"ports": [{"name": "http", "port": port}]}})
        ep: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints",
                              "metadata": {"name": name, "namespace": ns}}
        if live:
            ip, bport = self.backend(ns, name, port)
            ep["subsets"] = [{"addresses": [{"ip": ip}],
                              "ports": [{"name": "http", "port": bport}]}]
        self.api.apply(ep)

    def start_envoy(self, controller: ClusterController, node: str = "cluster-test") -> Envoy:
        boot = self.workdir / f"bootstrap-{node}.json"
        proc = start_bootstrap(boot, controller.ports, self.workdir / "bootstrap.log")
        finish_bootstrap(proc, boot)
        self.envoy = Envoy(self.workdir, boot, node, controller.ports.admin)
        self.ports = controller.ports
        return self.envoy

    def get(self, host: str, path: str = "/") -> client.Response:
        assert self.ports is not None, "start_envoy() first"
        opts = client.RequestOptions(host=host, path=path, timeout=5.0)
        return client.request(self.ports.http, opts)

    def wait_backend(self, host: str, backend: str | None, path: str = "/",
                     timeout: float = 30) -> None:
        """Until `host` is answered by `backend` (None: until it gets a 404)."""
        def ok() -> bool:
            r = self.get(host, path)
            return r.status == 404 if backend is None else r.backend == backend
        wait_for(f"{host}{path} -> {backend or 404}", ok, timeout)

    def close(self) -> None:
        if self.envoy is not None:
            self.envoy.stop()
        self.pool.close()


def ingressroute(ns: str, name: str, fqdn: str, service: str, port: int = 80,
                 ) -> dict[str, Any]:
    return {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"virtualhost": {"fqdn": fqdn},
                     "routes": [{"match": "/", "services": [{"name": service, "port": port}]}]}}


def ir_status(api: KubeApi, ns: str, name: str) -> tuple[str, str] | None:
    obj = api.get("IngressRoute", ns, name)
    if obj is None:
        return None
    st = obj.get("status") or {}
    return st.get("currentStatus", ""), st.get("description", "")


def ensure_namespace(api: KubeApi, ns: str) -> None:
    api.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})


def delete_namespace_objects(api: KubeApi, ns: str) -> None:
    """Remove every object of a watched kind in `ns` (the namespace itself stays: nobody
    would finalize its deletion without a controller-manager)."""
    for kind in ("IngressRoute", "TLSCertificateDelegation", "Ingress", "Service",
                 "Endpoints", "EndpointSlice", "Secret"):
        for o in api.list(kind, ns):
            api.delete(kind, ns, o["metadata"]["name"])
