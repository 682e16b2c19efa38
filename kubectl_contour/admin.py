"""HTTP access to Envoy's admin interface and the controller's debug server: directly by URL
(`--admin-url`, `--contour-url`) or through a port-forward to a pod chosen by label."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubectl_contour.errors import NotFound, Unreachable

ENVOY_ADMIN_PORT = 9001
CONTOUR_DEBUG_PORT = 6060
DEFAULT_TIMEOUT = 10.0


class Fetcher(Protocol):
    """Something that can GET a path and return the body."""

    @property
    def name(self) -> str: ...

    def get(self, path: str) -> bytes: ...


class PodAccess(Protocol):
    """What reaching a pod needs of the cluster (`kubectl_contour.kube.Kube` is one; a
    Protocol because kube.py imports `url_get` from here: no import cycle)."""

    def list_pods(self, *, namespace: str, selector: str) -> list[dict[str, Any]]: ...

    def pod_http_get(self, *, namespace: str, pod: str, port: int, path: str,
                     timeout: float) -> bytes: ...


def url_get(url: str, *, timeout: float) -> bytes:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (user's URL)
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        raise Unreachable(f"GET {url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise Unreachable(f"GET {url}: {getattr(exc, 'reason', exc)}") from exc


@dataclass(frozen=True, slots=True)
class UrlFetcher:
    base: str
    timeout: float = DEFAULT_TIMEOUT

    @property
    def name(self) -> str:
        return self.base

    def get(self, path: str) -> bytes:
        return url_get(self.base.rstrip("/") + path, timeout=self.timeout)


@dataclass(frozen=True, slots=True)
class PodFetcher:
    kube: PodAccess
    namespace: str
    pod: str
    port: int
    timeout: float = DEFAULT_TIMEOUT
    node: str = ""

    @property
    def name(self) -> str:
        return self.pod

    def get(self, path: str) -> bytes:
        try:
            return self.kube.pod_http_get(namespace=self.namespace, pod=self.pod,
                                          port=self.port, path=path, timeout=self.timeout)
        except Unreachable as exc:
            # the API server words a missing node as `pods "NODE" not found`
            if self.node and f'"{self.node}" not found' in exc.message:
                raise Unreachable(f"{exc.message} (the pod's node {self.node} does not exist)",
                                  hint=exc.hint) from None
            raise


def get_json(fetcher: Fetcher, path: str) -> Any:
    body = fetcher.get(path)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Unreachable(f"{fetcher.name}{path}: not JSON: {body[:80]!r}") from exc


def get_dumps(fetcher: Fetcher, paths: Sequence[str]) -> dict[str, Any]:
    """Several `/config_dump?resource=...` answers as one dump (their `configs[]` in order),
    e.g. `queries.envoy.ROUTE_DUMPS`: RDS tables and scoped RDS scopes."""
    return {"configs": [c for path in paths for c in get_json(fetcher, path).get("configs") or []]}


@dataclass(frozen=True, slots=True)
class PodChoice:
    namespace: str
    selector: str
    pod: str = ""
    """A pod name; empty means every Running pod matching the selector."""


def pod_fetchers(kube: PodAccess, choice: PodChoice, *, port: int) -> list[Fetcher]:
    """Fetchers for the chosen pod(s): NotFound (3) when no pod matches; Unreachable (4)
    when pods match but none can be port-forwarded to (not running, or on no node)."""
    pods = kube.list_pods(namespace=choice.namespace, selector=choice.selector)
    if choice.pod:
        pods = [p for p in pods if p["metadata"]["name"] == choice.pod]
        if not pods:
            raise NotFound(f"pod {choice.namespace}/{choice.pod} not found with "
                           f"{choice.selector}")
    names = [p["metadata"]["name"] for p in pods if running(p)]
    if not pods:
        raise NotFound(f"no pod in {choice.namespace} matches {choice.selector}",
                       hint="--envoy-namespace and --selector choose the pods; or pass the "
                            "admin URL (--admin-url / --contour-url)")
    if not names:
        hint = "a pod must be running on a node to be port-forwarded to"
        if choice.pod:
            raise Unreachable(f"cannot port-forward to pod {choice.namespace}/{choice.pod}: "
                              f"it is {not_running(pods[0])}", hint=hint)
        why = "; ".join(f"{p['metadata']['name']} is {not_running(p)}" for p in pods)
        raise Unreachable(f"no running pod in {choice.namespace} matches {choice.selector} "
                          f"({why})", hint=hint)
    nodes = {p["metadata"]["name"]: str((p.get("spec") or {}).get("nodeName") or "")
             for p in pods}
    return [PodFetcher(kube, choice.namespace, n, port, node=nodes[n]) for n in names]


def running(pod: dict[str, Any]) -> bool:
    return bool((pod.get("status") or {}).get("phase") == "Running")


def not_running(pod: dict[str, Any]) -> str:
    """Why a pod cannot be port-forwarded to, for the error message."""
    phase = (pod.get("status") or {}).get("phase") or "no phase"
    node = (pod.get("spec") or {}).get("nodeName")
    return f"{phase}, " + (f"on node {node}" if node else "no node assigned")
