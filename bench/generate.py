"""Benchmark objects: N roots (IngressRoutes, or HTTPProxies of which half include a
child), each with its own Service and Endpoints.

IngressRoute i (`bench/ir-i`) is the root of `app-i.bench.example.com` and routes `/` to
Service `svc-i` port 80, whose Endpoints point at one loopback backend (`--backend-port`),
so every one of the N virtual hosts, N clusters and N endpoint sets is real and reachable.

Outputs:
- `objects(n)`: the list of raw objects, for in-process benchmarks;
- `write_folder(dir, n)`: a few large JSON `List` files for `contour serve --source-dir`.
  The first `mutable` IngressRoutes go to a small file of their own (`changing.json`), so
  a benchmark can rewrite one object without making the folder source re-read the big ones;
- `endpointslice(i, ip=...)`: for a real API server (`bench.bench cluster`), which refuses
  loopback endpoints, so the backend lives on a test host of the run's own (a netns).

    python -m bench.generate DIR --n 10000 [--backend-port 9900]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

NAMESPACE = "bench"
DOMAIN = "bench.example.com"
DEFAULT_BACKEND_PORT = 9900
CHANGING_FILE = "changing.json"

Obj = dict[str, Any]
HTTPPROXY_API = "projectcontour.io/v1"


def host(i: int) -> str:
    return f"app-{i}.{DOMAIN}"


def ingressroute(i: int, *, prefix_rewrite: str = "", service: str = "") -> Obj:
    route: Obj = {"match": "/", "services": [{"name": service or f"svc-{i}", "port": 80}]}
    if prefix_rewrite:
        route["prefixRewrite"] = prefix_rewrite
    return {
        "apiVersion": "contour.heptio.com/v1beta1",
        "kind": "IngressRoute",
        "metadata": {"name": f"ir-{i}", "namespace": NAMESPACE},
        "spec": {"virtualhost": {"fqdn": host(i)}, "routes": [route]},
    }


def httpproxies(i: int, *, prefix_rewrite: str = "") -> list[Obj]:
    """The HTTPProxy workload of issue 8: root i serves its fqdn itself (odd i) or includes
    a child at "/" that does (even i). The object carrying the route comes last."""
    route: Obj = {"services": [{"name": f"svc-{i}", "port": 80}]}
    if prefix_rewrite:
        route["pathRewritePolicy"] = {"replacePrefix": [{"prefix": "/",
                                                         "replacement": prefix_rewrite}]}
    root: Obj = {"apiVersion": HTTPPROXY_API, "kind": "HTTPProxy",
                 "metadata": {"name": f"hp-{i}", "namespace": NAMESPACE},
                 "spec": {"virtualhost": {"fqdn": host(i)}}}
    if i % 2:
        root["spec"]["routes"] = [route]
        return [root]
    root["spec"]["includes"] = [{"name": f"hp-{i}-child", "conditions": [{"prefix": "/"}]}]
    child: Obj = {"apiVersion": HTTPPROXY_API, "kind": "HTTPProxy",
                  "metadata": {"name": f"hp-{i}-child", "namespace": NAMESPACE},
                  "spec": {"routes": [route]}}
    return [root, child]


def routing(i: int, kind: str, *, prefix_rewrite: str = "") -> list[Obj]:
    """Host i's routing objects of `kind` ("ingressroute", "httpproxy" or "ingress"; an
    Ingress has no prefix rewrite)."""
    if kind == "ingress":
        return [ingress(i)]
    if kind == "httpproxy":
        return httpproxies(i, prefix_rewrite=prefix_rewrite)
    return [ingressroute(i, prefix_rewrite=prefix_rewrite)]


def ingress(i: int, *, hostname: str = "") -> Obj:
    """Ingress v1 `ing-i`: `hostname` (default host(i)), every path → Service svc-i:80.
    No class: both this controller and upstream serve class-less Ingresses by default."""
    path = {"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": f"svc-{i}", "port": {"number": 80}}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": f"ing-{i}", "namespace": NAMESPACE},
        "spec": {"rules": [{"host": hostname or host(i), "http": {"paths": [path]}}]},
    }


def service(i: int) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"svc-{i}", "namespace": NAMESPACE},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
    }


def endpoints(i: int, *, backend_port: int = DEFAULT_BACKEND_PORT) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": f"svc-{i}", "namespace": NAMESPACE},
        "subsets": [{
            "addresses": [{"ip": "127.0.0.1"}],
            "ports": [{"name": "http", "port": backend_port}],
        }],
    }


def endpointslice(i: int, *, ip: str, backend_port: int = DEFAULT_BACKEND_PORT) -> Obj:
    """The cluster form of `endpoints(i)`: one discovery.k8s.io/v1 slice of `svc-i`."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": f"svc-{i}-bench", "namespace": NAMESPACE,
                     "labels": {"kubernetes.io/service-name": f"svc-{i}"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
        "ports": [{"name": "http", "port": backend_port, "protocol": "TCP"}],
    }


def objects(n: int, *, backend_port: int = DEFAULT_BACKEND_PORT,
            kind: str = "ingressroute") -> list[Obj]:
    """Services, then Endpoints, then the routing objects (the order a cluster lists them)."""
    out = [service(i) for i in range(n)]
    out += [endpoints(i, backend_port=backend_port) for i in range(n)]
    out += [o for i in range(n) for o in routing(i, kind)]
    return out


def _write_list(path: Path, items: list[Obj]) -> None:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))


def write_changing(folder: Path, mutable: list[Obj]) -> None:
    """Rewrite the small file of mutable IngressRoutes (atomically: the folder source
    must never read it half written)."""
    tmp = folder / f".{CHANGING_FILE}.tmp"
    _write_list(tmp, mutable)
    tmp.replace(folder / CHANGING_FILE)


def write_folder(
    folder: Path, n: int, *, backend_port: int = DEFAULT_BACKEND_PORT, mutable: int = 20,
    kind: str = "ingressroute",
) -> list[Obj]:
    """Write the objects for the folder source; returns the mutable routing objects (those
    of hosts 0..mutable-1, written to their own small file)."""
    folder.mkdir(parents=True, exist_ok=True)
    mutable = min(mutable, n)
    _write_list(folder / "services.json", [service(i) for i in range(n)])
    _write_list(folder / "endpoints.json",
                [endpoints(i, backend_port=backend_port) for i in range(n)])
    _write_list(folder / "routing.json",
                [o for i in range(mutable, n) for o in routing(i, kind)])
    changing = [o for i in range(mutable) for o in routing(i, kind)]
    write_changing(folder, changing)
    return changing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--backend-port", type=int, default=DEFAULT_BACKEND_PORT)
    parser.add_argument("--mutable", type=int, default=20)
    parser.add_argument("--kind", choices=("ingressroute", "httpproxy"), default="ingressroute")
    args = parser.parse_args(argv)
    write_folder(args.folder, args.n, backend_port=args.backend_port, mutable=args.mutable,
                 kind=args.kind)


if __name__ == "__main__":
    main()
