"""The deployment a user makes, on a real node: both images built (scripts/image.sh) and
imported, `kubectl apply -f manifests/` unchanged, the echo backends and the routes of
tests/node/workload applied with kubectl. `deploy()` returns it ready (Deployment
Available); `Deployed.close()` tears the node down.

Traffic goes where a user's would: to the contour Service's NodePort on the node IP, from
inside the node's network namespace (nothing outside it can reach the node). The plugin runs
on the host as `kubectl contour`, through the real kubectl and real port-forwards.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nodekit import NODE_IP, REPO, Node, build_image, wait_for

NAMESPACE = "heptio-contour"
MANIFESTS = REPO / "manifests"
WORKLOAD = Path(__file__).resolve().parent / "workload"


@dataclass
class Deployed:
    node: Node
    plugin_dir: Path

    @property
    def node_port(self) -> int:
        svc = self.node.get("-n", NAMESPACE, "service", "contour")
        return int(next(p["nodePort"] for p in svc["spec"]["ports"] if p["name"] == "http"))

    def send(self, host: str, path: str = "/") -> tuple[int, str]:
        """GET through the Service's NodePort: (status, body)."""
        return self.node.curl(f"http://{NODE_IP}:{self.node_port}{path}", host)

    def contour_pods(self) -> list[dict[str, Any]]:
        return self.node.get("-n", NAMESPACE, "pods", "-l", "app=contour")["items"]

    def lease_holder(self) -> str:
        lease = self.node.get("-n", NAMESPACE, "lease", "contour")
        return str(lease["spec"].get("holderIdentity") or "")

    def plugin(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        """`kubectl contour ARGS` as a user runs it (the plugin found on PATH by kubectl)."""
        env = self.node.env(PATH=f"{self.plugin_dir}:{self.node.env()['PATH']}",
                            COLUMNS="200", NO_COLOR="1", TERM="dumb")
        return subprocess.run(["kubectl", "contour", *args], capture_output=True, text=True,
                              timeout=timeout, env=env)

    def wait_available(self, name: str = "contour", namespace: str = NAMESPACE,
                       timeout: float = 180) -> None:
        self.node.kubectl("-n", namespace, "rollout", "status", f"deployment/{name}",
                          f"--timeout={int(timeout)}s", timeout=timeout + 10)
        self.node.kubectl("-n", namespace, "wait", "--for=condition=Available",
                          f"deployment/{name}", "--timeout=30s")

    def status_of(self, kind: str, name: str) -> dict[str, Any]:
        return dict(self.node.get("-n", "default", kind, name).get("status") or {})

    def close(self) -> None:
        self.node.down()


def write_plugin(directory: Path) -> Path:
    """`kubectl-contour` on PATH: this Python running the package of this checkout."""
    import sys

    directory.mkdir(parents=True, exist_ok=True)
    wrapper = directory / "kubectl-contour"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO}" exec "{sys.executable}" '
                       f'-m kubectl_contour "$@"\n')
    wrapper.chmod(0o755)
    return directory


def deploy(workdir: Path) -> Deployed:
    """Build the images, start a node, apply manifests/ and the workload, wait until ready.
    The node is torn down if any step fails."""
    images = [build_image("contour"), build_image("echo")]
    node = Node(workdir / "node").up()
    try:
        for image in images:
            node.load(image)
        node.kubectl("apply", "-f", str(MANIFESTS))
        deployed = Deployed(node, write_plugin(workdir / "plugin"))
        deployed.wait_available()
        node.kubectl("apply", "-f", str(WORKLOAD))
        for name in ("blue", "green"):
            deployed.wait_available(name, "default")
        wait_for("the routes served", lambda: deployed.send("blue-green.example.com")[0] == 200,
                 timeout=60)
    except BaseException:
        node.down()
        raise
    return deployed


def pod_diagnostics(deployed: Deployed) -> str:
    """The contour pods' states and the last log lines of each container, for a failure."""
    out = []
    for pod in deployed.contour_pods():
        name = pod["metadata"]["name"]
        out.append(json.dumps({"pod": name, "phase": pod["status"].get("phase"),
                               "containers": pod["status"].get("containerStatuses")})[:2000])
        for container in ("contour", "envoy"):
            logs = deployed.node.kubectl("-n", NAMESPACE, "logs", name, "-c", container,
                                         "--tail=15", check=False)
            out.append(f"--- {name}/{container}\n{logs.stdout}{logs.stderr}")
    return "\n".join(out)
