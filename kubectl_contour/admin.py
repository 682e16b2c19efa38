"""HTTP access to Envoy's admin interface and the controller's debug server: directly by URL
(`--admin-url`, `--contour-url`) or through a port-forward to a pod chosen by label."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from kubectl_contour.errors import NotFound, Unreachable

if TYPE_CHECKING:
    from kubectl_contour.kube import Kube

ENVOY_ADMIN_PORT = 9001
CONTOUR_DEBUG_PORT = 6060
DEFAULT_TIMEOUT = 10.0


class Fetcher(Protocol):
    """Something that can GET a path and return the body."""

    @property
    def name(self) -> str: ...

    def get(self, path: str) -> bytes: ...


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
    kube: Kube
    namespace: str
    pod: str
    port: int
    timeout: float = DEFAULT_TIMEOUT

    @property
    def name(self) -> str:
        return self.pod

    def get(self, path: str) -> bytes:
        return self.kube.pod_http_get(namespace=self.namespace, pod=self.pod, port=self.port,
                                      path=path, timeout=self.timeout)


def get_json(fetcher: Fetcher, path: str) -> Any:
    body = fetcher.get(path)
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Unreachable(f"{fetcher.name}{path}: not JSON: {body[:80]!r}") from exc


@dataclass(frozen=True, slots=True)
class PodChoice:
    namespace: str
    selector: str
    pod: str = ""
    """A pod name; empty means every Running pod matching the selector."""


def pod_fetchers(kube: Kube, choice: PodChoice, *, port: int) -> list[Fetcher]:
    """Fetchers for the chosen pod(s); NotFound when none matches."""
    pods = kube.list_pods(namespace=choice.namespace, selector=choice.selector)
    names = [p["metadata"]["name"] for p in pods if running(p)]
    if choice.pod:
        if choice.pod not in [p["metadata"]["name"] for p in pods]:
            raise NotFound(f"pod {choice.namespace}/{choice.pod} not found with {choice.selector}")
        names = [choice.pod]
    if not names:
        raise NotFound(f"no running pod in {choice.namespace} matches {choice.selector}")
    return [PodFetcher(kube, choice.namespace, n, port) for n in names]


def running(pod: dict[str, Any]) -> bool:
    return bool((pod.get("status") or {}).get("phase") == "Running")
