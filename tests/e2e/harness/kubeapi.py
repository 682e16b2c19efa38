"""A tiny raw-JSON Kubernetes API client for the harness (admin side of cluster mode).

Deliberately independent of the controller's own client: the harness writes objects and
reads statuses the way any other API client would, with a bearer token over one kept-alive
HTTPS connection (a request costs ~ms, unlike a `kubectl` process).
"""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import ssl
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

# kind -> (plural, namespaced); the API group/version comes from the object's apiVersion
RESOURCES: dict[str, tuple[str, bool]] = {
    "Namespace": ("namespaces", False),
    "Service": ("services", True),
    "Endpoints": ("endpoints", True),
    "Secret": ("secrets", True),
    "IngressRoute": ("ingressroutes", True),
    "TLSCertificateDelegation": ("tlscertificatedelegations", True),
    "Ingress": ("ingresses", True),
    "IngressClass": ("ingressclasses", False),
    "EndpointSlice": ("endpointslices", True),
    "HTTPProxy": ("httpproxies", True),
}
DEFAULT_API_VERSION = {
    "Namespace": "v1", "Service": "v1", "Endpoints": "v1", "Secret": "v1",
    "IngressRoute": "contour.heptio.com/v1beta1",
    "TLSCertificateDelegation": "contour.heptio.com/v1beta1",
    "Ingress": "networking.k8s.io/v1", "IngressClass": "networking.k8s.io/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
    "HTTPProxy": "projectcontour.io/v1",
}
"""The group of a kind served by more than one (TLSCertificateDelegation: contour.heptio.com
and projectcontour.io) when the caller names none."""
FIELD_MANAGER = "e2e-harness"


class KubeApiError(RuntimeError):
    def __init__(self, status: int, method: str, path: str, body: bytes) -> None:
        self.status = status
        super().__init__(f"{method} {path}: HTTP {status}: {body[:500].decode(errors='replace')}")


def collection_path(kind: str, namespace: str = "", api_version: str = "") -> str:
    """The URL path of a kind's collection (all namespaces when `namespace` is empty)."""
    if kind not in RESOURCES:
        raise KeyError(f"the harness cannot store kind {kind!r} in a cluster")
    plural, namespaced = RESOURCES[kind]
    av = api_version or DEFAULT_API_VERSION[kind]
    prefix = "/api/v1" if av == "v1" else f"/apis/{av}"
    if namespaced and namespace:
        return f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{prefix}/{plural}"


def object_path(kind: str, namespace: str, name: str, api_version: str = "") -> str:
    namespaced = RESOURCES.get(kind, ("", True))[1]
    return f"{collection_path(kind, namespace if namespaced else '', api_version)}/{name}"


@dataclass
class KubeApi:
    server: str  # https://127.0.0.1:PORT
    token: str
    ca_file: str
    timeout: float = 30.0
    _conn: http.client.HTTPSConnection | None = field(default=None, repr=False)

    def _connection(self) -> http.client.HTTPSConnection:
        if self._conn is None:
            url = urllib.parse.urlsplit(self.server)
            ctx = ssl.create_default_context(cafile=self.ca_file)
            self._conn = http.client.HTTPSConnection(url.hostname or "127.0.0.1", url.port,
                                                     context=ctx, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def call(self, method: str, path: str, body: Any = None, *,
             content_type: str = "application/json",
             query: dict[str, str] | None = None) -> tuple[int, bytes]:
        """(status, body); one reconnect when a kept-alive connection went stale."""
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        deadline = time.monotonic() + self.timeout
        while True:
            status, answer = self._send(method, path, data, headers)
            # 429: a new CRD's storage is still initializing; the server says when to retry
            if status != 429 or time.monotonic() > deadline:
                return status, answer
            time.sleep(0.2)

    def _send(self, method: str, path: str, data: bytes | None,
              headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=data, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, *, ok: tuple[int, ...] = (),
             **kwargs: Any) -> dict[str, Any]:
        """The decoded answer of a 2xx (or an `ok` status); anything else raises."""
        status, data = self.call(method, path, body, **kwargs)
        if not (200 <= status < 300 or status in ok):
            raise KubeApiError(status, method, path, data)
        try:
            return dict(json.loads(data)) if data else {}
        except ValueError:
            return {}

    # -- objects ---------------------------------------------------------------------------
    def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply: create or replace what this harness owns of the object."""
        kind, meta = obj["kind"], obj.get("metadata") or {}
        path = object_path(kind, meta.get("namespace") or "default", meta["name"],
                           obj.get("apiVersion", ""))
        return self.json("PATCH", path, obj, content_type="application/apply-patch+yaml",
                         query={"fieldManager": FIELD_MANAGER, "force": "true"})

    def get(self, kind: str, namespace: str, name: str, api_version: str = "",
            ) -> dict[str, Any] | None:
        path = object_path(kind, namespace, name, api_version)
        status, data = self.call("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise KubeApiError(status, "GET", path, data)
        return dict(json.loads(data))

    def delete(self, kind: str, namespace: str, name: str, api_version: str = "") -> None:
        """Delete and return once the object is gone (404 counts as gone)."""
        self.json("DELETE", object_path(kind, namespace, name, api_version), ok=(404,))

    def list(self, kind: str, namespace: str = "", label_selector: str = "",
             api_version: str = "", missing_ok: bool = False) -> list[dict[str, Any]]:
        """Every object of a kind; with `missing_ok` a kind the server does not serve (its
        CRD is not installed: 404 on the collection) has none."""
        query = {"labelSelector": label_selector} if label_selector else None
        path = collection_path(kind, namespace, api_version)
        status, data = self.call("GET", path, query=query)
        if status == 404 and missing_ok:
            return []
        if status != 200:
            raise KubeApiError(status, "GET", path, data)
        return list(json.loads(data).get("items") or [])


@dataclass
class EtcdKV:
    """etcd's v3 HTTP/JSON gateway (no etcdctl here): raw puts and compaction, for what the
    API server cannot be asked to do."""

    url: str  # http://127.0.0.1:PORT

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}{path}", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return dict(json.loads(r.read()))

    def put(self, key: str, value: bytes) -> int:
        """Store `value` under `key`; returns the new revision."""
        out = self.call("/v3/kv/put", {"key": _b64(key.encode()), "value": _b64(value)})
        return int(out["header"]["revision"])

    def revision(self) -> int:
        out = self.call("/v3/kv/range", {"key": _b64(b"/"), "limit": 1})
        return int(out["header"]["revision"])

    def compact(self, revision: int | None = None) -> int:
        """Compact the history up to `revision` (default: now); returns it."""
        rev = revision or self.revision()
        self.call("/v3/kv/compaction", {"revision": str(rev), "physical": True})
        return rev


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def legacy_ingress_in_etcd(etcd: EtcdKV, obj: dict[str, Any]) -> None:
    """Store an Ingress the v1 API refuses (a `namespace/name` tls secretName, which
    Contour of this era accepts) straight into etcd, as a cluster upgraded from
    extensions/v1beta1 (which did not validate it) still holds it. The API server reads
    JSON from etcd and its watch shows the object like any other."""
    meta = obj.setdefault("metadata", {})
    meta.setdefault("namespace", "default")
    meta.setdefault("uid", str(uuid.uuid4()))
    meta.setdefault("creationTimestamp",
                    datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    obj = {**obj, "apiVersion": "networking.k8s.io/v1", "kind": "Ingress"}
    etcd.put(f"/registry/ingress/{meta['namespace']}/{meta['name']}", json.dumps(obj).encode())
