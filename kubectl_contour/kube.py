"""Cluster access on raw JSON through the kubernetes client, plus the one write (switch) and
port-forwarding to a pod. Nothing here builds a DAG: cluster mode and `--from-dir` share
everything after `list_all()`.

The client's model classes are skipped (`_preload_content=False` + json.loads): they cost
milliseconds per object and we only read a few fields.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kubectl_contour.errors import CheckFailed, Conflict, NotFound, PluginError, Unreachable
from kubectl_contour.objects import (
    API_VERSIONS,
    DELEGATION,
    ENDPOINTS,
    ENDPOINTSLICE,
    GATEWAY,
    GATEWAY_CLASS,
    GRPCROUTE,
    HTTPPROXY,
    HTTPROUTE,
    INGRESS,
    INGRESSROUTE,
    NAMESPACE,
    REFERENCE_GRANT,
    SECRET,
    SERVICE,
    TLSROUTE,
    Obj,
)

GROUP, VERSION = "contour.heptio.com", "v1beta1"
CONTOUR_API = f"/apis/{GROUP}/{VERSION}"
PROJECTCONTOUR_API = "/apis/projectcontour.io/v1"
PLURALS = {INGRESSROUTE: "ingressroutes", DELEGATION: "tlscertificatedelegations",
           HTTPPROXY: "httpproxies"}
REQUEST_TIMEOUT = (5.0, 30.0)
quote = urllib.parse.quote
GATEWAY_PLURALS = {GATEWAY_CLASS: "gatewayclasses", GATEWAY: "gateways",
                   HTTPROUTE: "httproutes", GRPCROUTE: "grpcroutes", TLSROUTE: "tlsroutes",
                   REFERENCE_GRANT: "referencegrants"}
FORWARD_LINE = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")


class HttpError(Exception):
    """An API answer with an error status (mapped by api_error like ApiException)."""

    def __init__(self, status: int, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.body = status, body


def gateway_api_path(kind: str) -> str:
    """The API path listing one Gateway API kind (its served version, API_VERSIONS)."""
    return f"/apis/{API_VERSIONS[kind]}/{GATEWAY_PLURALS[kind]}"


def proxy_path(kind: str, namespace: str, name: str) -> str:
    """The API path of one IngressRoute, HTTPProxy or Gateway API route."""
    if kind in GATEWAY_PLURALS:
        return (f"/apis/{API_VERSIONS[kind]}/namespaces/{quote(namespace)}/"
                f"{GATEWAY_PLURALS[kind]}/{quote(name)}")
    api = CONTOUR_API if kind == INGRESSROUTE else PROJECTCONTOUR_API
    return f"{api}/namespaces/{quote(namespace)}/{PLURALS[kind]}/{quote(name)}"


@dataclass(frozen=True, slots=True)
class KubeTarget:
    """kubectl's connection flags, passed through unchanged to kubectl when we shell out."""

    kubeconfig: str = ""
    context: str = ""

    def kubectl_flags(self) -> list[str]:
        flags = [f"--kubeconfig={self.kubeconfig}"] if self.kubeconfig else []
        return flags + ([f"--context={self.context}"] if self.context else [])


def api_error(exc: Exception, *, what: str) -> PluginError:
    """Map a client exception to our error family (403/401 and connection errors → 4)."""
    status = getattr(exc, "status", None)
    if status == 404:
        return NotFound(f"{what}: not found")
    if status in (401, 403):
        return Unreachable(f"{what}: forbidden ({status})", hint="check your RBAC permissions")
    if status == 409 or (status == 422 and not causes_of(exc)):
        # a JSON patch whose `test` op fails is answered with a bare 422 ("the server
        # rejected our request due to an error in our request"), without causes
        return Conflict(f"{what}: the object changed since it was read ({status}: "
                        f"{reason_of(exc)})")
    if status == 422:
        return CheckFailed(f"{what}: rejected by the API server ({status}): {reason_of(exc)}")
    if status is not None:
        return Unreachable(f"{what}: API server answered {status}: {reason_of(exc)}")
    return Unreachable(f"{what}: cannot reach the API server: {exc}")


def reason_of(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    try:
        return str(json.loads(body).get("message")) if body else str(exc)
    except (ValueError, AttributeError):
        return str(body)


def causes_of(exc: Exception) -> list[Any]:
    """The `details.causes` of an API Status (field-level validation errors), if any."""
    try:
        body = json.loads(getattr(exc, "body", None) or "{}")
        return list(((body.get("details") or {}).get("causes")) or [])
    except (ValueError, AttributeError, TypeError):
        return []


def upgrade_error(exc: Exception) -> str:
    """The API server's message from a failed websocket upgrade (port-forward).

    The client raises ApiException(status=0) whose reason is
    `Handshake status 400 Bad Request -+-+- {headers} -+-+- {Status JSON}`."""
    reason = str(getattr(exc, "reason", "") or exc)
    parts = [p.strip() for p in reason.split("-+-+-")]
    try:
        status = json.loads(parts[-1]) if len(parts) > 1 else {}
    except ValueError:
        status = {}
    if isinstance(status, dict) and status.get("message"):
        code = f" (HTTP {status['code']})" if status.get("code") else ""
        return f"{status['message']}{code}"
    return parts[0].splitlines()[0] if parts[0] else type(exc).__name__


class Kube:
    """A lazily connected API client. Build once per Session; pass it down."""

    def __init__(self, target: KubeTarget) -> None:
        self.target = target
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException

        try:
            client = config.new_client_from_config(
                config_file=self.target.kubeconfig or None, context=self.target.context or None
            )
        except (ConfigException, OSError, TypeError) as exc:
            raise Unreachable(f"cannot load kubeconfig: {exc}") from exc
        client.configuration.retries = 1
        return client

    def default_namespace(self) -> str:
        from kubernetes import config
        from kubernetes.config.config_exception import ConfigException

        try:
            contexts, active = config.list_kube_config_contexts(
                config_file=self.target.kubeconfig or None
            )
        except (ConfigException, OSError, TypeError) as exc:
            raise Unreachable(f"cannot load kubeconfig: {exc}") from exc
        chosen = next((c for c in contexts if c["name"] == self.target.context), active)
        return str(((chosen or {}).get("context") or {}).get("namespace") or "default")

    def request(self, method: str, path: str, *, what: str, query: dict[str, str] | None = None,
                body: Any = None, content_type: str = "") -> Any:
        """One API call on raw JSON. The client's generated API classes are not used: they
        cost ~0.5s to import (pydantic models), more than every call of a command together."""
        client = self.client
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            params = client.param_serialize(method, path, query_params=list((query or {}).items()),
                                            header_params=headers, body=body,
                                            auth_settings=["BearerToken"])
            resp = client.call_api(*params, _request_timeout=REQUEST_TIMEOUT)
            data = resp.read()
        except PluginError:
            raise
        except Exception as exc:  # urllib3, socket and TLS errors, ApiException
            raise api_error(exc, what=what) from exc
        if resp.status >= 400:
            raise api_error(HttpError(resp.status, data), what=what)
        try:
            return json.loads(data)
        except ValueError as exc:
            raise Unreachable(f"{what}: the API server answered no JSON: {data[:80]!r}") from exc

    def _list(self, kind: str, path: str, *, optional: bool) -> list[Obj]:
        """Every `kind` at `path` (all namespaces); items get the kind and the apiVersion
        of the path they were listed from."""
        api_version = path.split("/apis/", 1)[1].rsplit("/", 1)[0] if "/apis/" in path \
            else API_VERSIONS[kind]
        try:
            items = self.request("GET", path, what=f"list {kind}").get("items") or []
        except NotFound:
            if optional:  # CRD or API group not installed: nothing of that kind
                return []
            raise
        for item in items:  # list items come without kind/apiVersion
            item["kind"], item["apiVersion"] = kind, api_version
        return list(items)

    def list_all(self) -> list[Obj]:
        """Every object the builder and the plugin read, in all namespaces (listed
        concurrently: one round trip of latency instead of sixteen). Without the Gateway API
        CRDs their lists answer 404 and stay empty."""
        from concurrent.futures import ThreadPoolExecutor

        lists = [(SERVICE, "/api/v1/services", False), (SECRET, "/api/v1/secrets", False),
                 (ENDPOINTS, "/api/v1/endpoints", False),
                 (INGRESS, "/apis/networking.k8s.io/v1/ingresses", True),
                 (ENDPOINTSLICE, "/apis/discovery.k8s.io/v1/endpointslices", True),
                 (INGRESSROUTE, f"{CONTOUR_API}/{PLURALS[INGRESSROUTE]}", True),
                 (DELEGATION, f"{CONTOUR_API}/{PLURALS[DELEGATION]}", True),
                 (HTTPPROXY, f"{PROJECTCONTOUR_API}/{PLURALS[HTTPPROXY]}", True),
                 (DELEGATION, f"{PROJECTCONTOUR_API}/{PLURALS[DELEGATION]}", True),
                 (NAMESPACE, "/api/v1/namespaces", True),
                 *((kind, gateway_api_path(kind), True) for kind in GATEWAY_PLURALS)]
        self.client  # noqa: B018 - connect (load the kubeconfig) once, before the threads
        with ThreadPoolExecutor(max_workers=len(lists)) as pool:
            futures = [pool.submit(self._list, kind, path, optional=optional)
                       for kind, path, optional in lists]
            return [obj for f in futures for obj in f.result()]

    def patch_proxy(self, kind: str, *, namespace: str, name: str,
                    ops: list[dict[str, Any]]) -> Obj:
        """The plugin's one write (an IngressRoute or HTTPProxy): an RFC 6902 JSON patch;
        its `test` ops make it atomic."""
        return dict(self.request("PATCH", proxy_path(kind, namespace, name), body=ops,
                                 content_type="application/json-patch+json",
                                 what=f"patch {kind} {namespace}/{name}"))

    def get_proxy(self, kind: str, *, namespace: str, name: str) -> Obj:
        return dict(self.request("GET", proxy_path(kind, namespace, name),
                                 what=f"get {kind} {namespace}/{name}"))

    def get_routing_object(self, kind: str, *, namespace: str, name: str) -> Obj | None:
        """One IngressRoute, HTTPProxy or Ingress, or None when it (or its CRD) is absent."""
        path = (f"/apis/networking.k8s.io/v1/namespaces/{quote(namespace)}/ingresses/"
                f"{quote(name)}" if kind == INGRESS else proxy_path(kind, namespace, name))
        try:
            return dict(self.request("GET", path, what=f"get {kind} {namespace}/{name}"))
        except NotFound:
            return None

    def list_pods(self, *, namespace: str, selector: str) -> list[Obj]:
        data = self.request("GET", f"/api/v1/namespaces/{quote(namespace)}/pods",
                            query={"labelSelector": selector},
                            what=f"list pods in {namespace} ({selector})")
        return sorted(data.get("items") or [], key=lambda p: p["metadata"]["name"])

    def pod_http_get(self, *, namespace: str, pod: str, port: int, path: str,
                     timeout: float) -> bytes:
        """GET `path` on a pod's port through a port-forward, under a deadline; when the
        client's port-forward fails, `kubectl port-forward` is tried. Both errors are
        reported when both fail."""
        target = f"{namespace}/{pod}:{port}"
        try:
            return deadline(lambda: self._forward_get(namespace, pod, port, path, timeout),
                            timeout=timeout, what="port-forward")
        except Unreachable as first:
            if first.message.startswith("HTTP "):  # forwarded fine; the pod answered so
                raise Unreachable(f"{target}{path}: {first.message}") from None
            try:
                with kubectl_port_forward(self.target, namespace=namespace, pod=pod, port=port,
                                          timeout=timeout) as local:
                    from kubectl_contour.admin import url_get

                    return url_get(f"http://127.0.0.1:{local}{path}", timeout=timeout)
            except Unreachable as second:
                raise Unreachable(
                    f"cannot port-forward to {target}: {first.message}; "
                    f"kubectl fallback: {second.message}",
                    hint="or reach the admin port yourself and pass its URL "
                         "(--admin-url / --contour-url)") from None

    def _forward_get(self, namespace: str, pod: str, port: int, path: str,
                     timeout: float) -> bytes:
        import http.client

        from kubernetes import client as k
        from kubernetes.stream import portforward

        core = k.CoreV1Api(self.client)
        try:
            forward = portforward(core.connect_get_namespaced_pod_portforward, pod, namespace,
                                  ports=str(port))
        except Exception as exc:  # ApiException(status=0) for a refused upgrade
            raise Unreachable(upgrade_error(exc)) from exc
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            sock = forward.socket(port)
            sock.settimeout(timeout)
            conn.sock = sock
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status >= 400:
                raise Unreachable(f"HTTP {resp.status}")
            return body
        finally:
            forward.close()


def deadline(fn: Callable[[], bytes], *, timeout: float, what: str) -> bytes:
    """Run `fn` in a thread; give up after `timeout` (the websocket dial has no timeout)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except Exception as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise Unreachable(f"{what}: no answer within {timeout:g}s")
    error = box.get("error")
    if isinstance(error, PluginError):
        raise error
    if error is not None:
        raise Unreachable(f"{what}: {error}") from error
    return bytes(box["value"])


@contextmanager
def kubectl_port_forward(target: KubeTarget, *, namespace: str, pod: str, port: int,
                         timeout: float) -> Iterator[int]:
    """Fallback: `kubectl port-forward pod :PORT`; yields the local port."""
    cmd = ["kubectl", *target.kubectl_flags(), "-n", namespace, "port-forward",
           f"pod/{pod}", f":{port}"]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as exc:
        raise Unreachable(f"cannot run kubectl port-forward: {exc}") from exc
    try:
        yield local_port(proc, timeout=timeout, what=f"kubectl port-forward {namespace}/{pod}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def local_port(proc: subprocess.Popen[str], *, timeout: float, what: str) -> int:
    def first_line() -> bytes:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = FORWARD_LINE.search(line)
            if match:
                return match.group(1).encode()
        err = proc.stderr.read() if proc.stderr else ""
        lines = [line.removeprefix("error: ") for line in err.strip().splitlines()]
        raise Unreachable("; ".join(lines) or f"exited with {proc.wait()}")

    return int(deadline(first_line, timeout=timeout, what=what))
