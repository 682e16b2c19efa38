"""A thin raw-JSON client over the `kubernetes` package's transport.

The package's model classes cost milliseconds per object; here it only builds URLs, adds
authentication and owns the connection pool. Bodies are bytes in, bytes out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubernetes import client as k8s

POOL_SIZE = 64


class ApiError(Exception):
    def __init__(self, status: int, body: bytes, what: str,
                 retry_after: str | None = None) -> None:
        self.status = status
        self.body = body
        self.retry_after = retry_after
        """The response's Retry-After header (API Priority and Fairness sends one with a
        429), as sent."""
        try:
            self.reason = str(json.loads(body).get("message", ""))
        except ValueError:
            self.reason = body[:200].decode(errors="replace")
        super().__init__(f"{what}: HTTP {status}: {self.reason}")


def load_api_client(*, kubeconfig: str = "", incluster: bool = False,
                    context: str = "") -> k8s.ApiClient:
    """An ApiClient from the in-cluster config, an explicit kubeconfig, or the default one."""
    # perf: imported here, by the cluster source only: the package is 0.43 s of the
    # controller's 1.36 s of imports, which `contour serve --source-dir` never needs
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    cfg = k8s.Configuration()
    if incluster:
        k8s_config.load_incluster_config(client_configuration=cfg)
    else:
        k8s_config.load_kube_config(config_file=kubeconfig or None, context=context or None,
                                    client_configuration=cfg)
    # one long-lived connection per watch (8+ paths), up to inflight.HIGH status writes
    # and the lease:
    # the default pool (5 x CPUs) would open and discard extra connections on every call
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, POOL_SIZE)
    return k8s.ApiClient(configuration=cfg)


@dataclass
class KubeClient:
    api: k8s.ApiClient

    def _prepare(self, method: str, path: str, query: list[tuple[str, Any]] | None,
                 headers: dict[str, str]) -> tuple[str, dict[str, str]]:
        _, url, hdrs, _, _ = self.api.param_serialize(
            method, path, query_params=query or [], header_params=headers,
            auth_settings=["BearerToken"])
        return url, hdrs

    def open(self, method: str, path: str, *, query: list[tuple[str, Any]] | None = None,
             body: Any = None, content_type: str = "application/json",
             timeout: float | tuple[float, float] | None = None) -> Any:
        """The raw urllib3 response (not yet read); the caller checks `.status`."""
        headers = {"Accept": "application/json", "Content-Type": content_type}
        url, hdrs = self._prepare(method, path, query, headers)
        data = json.dumps(body) if body is not None and not isinstance(body, bytes) else body
        pool = self.api.rest_client.pool_manager
        import urllib3

        t = urllib3.Timeout(connect=timeout[0], read=timeout[1]) if isinstance(timeout, tuple) \
            else urllib3.Timeout(total=timeout) if timeout else None
        return pool.request(method, url, body=data, headers=hdrs, timeout=t,
                            preload_content=False, retries=False)

    def request(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send and read the whole body; non-2xx raises ApiError."""
        resp = self.open(method, path, **kwargs)
        try:
            body = resp.read()
        finally:
            resp.release_conn()
        if not 200 <= resp.status < 300:
            raise ApiError(resp.status, body, f"{method} {path}",
                           resp.headers.get("Retry-After"))
        return bytes(body)

    def get_json(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return dict(json.loads(self.request("GET", path, **kwargs)))
