"""Upstream Contour (v1.33.8, built by scripts/upstream-contour.sh) as the bench's peer.

What comes out: the binary and its release's CRDs (`upstream_build`), `contour serve` of
upstream on free loopback ports (`upstream_serve`, the same `(proc, ports)` shape as
`bench.contour_serve`), and an Envoy with the bootstrap upstream's docs give
(`UpstreamEnvoy`: `contour bootstrap --xds-address --xds-port --xds-resource-version=v3`,
admin on a unix socket, Envoy's default stats). Only the bench imports this module.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from bench.bench import ROOT, Envoy, free_port, spawned

BUILD_SCRIPT = ROOT / "scripts" / "upstream-contour.sh"
PORTS = ("xds", "metrics", "health", "debug", "stats", "http", "https")


def upstream_build() -> tuple[Path, Path]:
    """(binary, CRDs file): built on first use (minutes), cached after (milliseconds)."""
    def last_line(*args: str) -> Path:
        out = subprocess.run(["bash", str(BUILD_SCRIPT), *args], check=True,
                             stdout=subprocess.PIPE, text=True)
        return Path(out.stdout.strip().splitlines()[-1])

    return last_line(), last_line("--print-crds")


def serve_args(kubeconfig: Path, ports: dict[str, int]) -> list[str]:
    """`contour serve` flags: its deployment's (insecure xDS instead of its certgen
    certificates), every port moved off the defaults so nothing collides on a shared
    machine, access logs to /dev/null as for this controller, and no leader election
    (this controller runs without it too; upstream's lease needs a namespace of its own)."""
    loopback = "127.0.0.1"
    return [
        "serve", "--insecure", "--kubeconfig", str(kubeconfig), "--disable-leader-election",
        "--xds-address", loopback, "--xds-port", str(ports["xds"]),
        "--http-address", loopback, "--http-port", str(ports["metrics"]),
        "--health-address", loopback, "--health-port", str(ports["health"]),
        "--debug-http-address", loopback, "--debug-http-port", str(ports["debug"]),
        "--stats-port", str(ports["stats"]),
        "--envoy-service-http-port", str(ports["http"]),
        "--envoy-service-https-port", str(ports["https"]),
        "--envoy-http-access-log", "/dev/null", "--envoy-https-access-log", "/dev/null",
    ]


@contextlib.contextmanager
def upstream_serve(
    binary: Path, kubeconfig: Path, work: Path
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int]]]:
    """Upstream's `contour serve` against `kubeconfig`; its log is work/contour.log."""
    ports = {k: free_port() for k in PORTS}
    with spawned([str(binary), *serve_args(kubeconfig, ports)], work) as proc:
        yield proc, ports


class UpstreamEnvoy(Envoy):
    """The bench's Envoy process (same binary and flags) with upstream's bootstrap."""

    node, service_cluster = "envoy-upstream", "projectcontour"
    BOOTSTRAP = ["--xds-address=127.0.0.1", "--xds-port=XDS_PORT", "--xds-resource-version=v3",
                 "--admin-address=WORK/admin.sock"]
    """As its deployment runs it (examples/contour/03-envoy.yaml), without the xDS TLS
    files (`serve --insecure`), admin on a socket in the run's folder."""

    def __init__(self, binary: Path, xds_port: int, work: Path) -> None:
        self.admin_port, self.http_port = 0, 0
        self.config = work / "envoy.json"
        subprocess.run(
            [str(binary), "bootstrap", str(self.config), *(
                a.replace("XDS_PORT", str(xds_port)).replace("WORK", str(work))
                for a in self.BOOTSTRAP)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log = open(work / "envoy.log", "w")  # noqa: SIM115
        self.proc = None
