"""Where a scenario's objects go, and where its statuses come from.

The runner is the same in both modes; only the sink differs:

* FolderSink: one YAML file per object in the folder `contour serve --source-dir` reads;
  statuses from the controller's /debug/status.
* ClusterSink: objects server-side-applied to a real API server (Namespaces first; the
  Endpoints the harness writes, too); the controller runs with `--kubeconfig` (the token
  of the manifests' ServiceAccount); statuses read back from the `status` of the
  IngressRoutes and HTTPProxies (with its `conditions`).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import yaml

from .kubeapi import RESOURCES, EtcdKV, KubeApi, KubeApiError, legacy_ingress_in_etcd
from .netns import backend_network

ObjKey = tuple[str, str, str]  # (Kind, namespace ('' for cluster scoped), name)
StatusRows = tuple[list[dict[str, Any]] | None, str | None]  # (rows, error)


class StatusSource(Protocol):
    def debug_status(self) -> StatusRows: ...


class ObjectSink(Protocol):
    mode: str
    backend_ip: str

    def put(self, key: ObjKey, obj: dict[str, Any]) -> None: ...

    def remove(self, key: ObjKey) -> None: ...

    def source_args(self) -> list[str]: ...

    def statuses(self, controller: StatusSource) -> StatusRows: ...

    def close(self) -> None: ...


def file_name_for(key: ObjKey) -> str:
    kind, ns, name = key
    prefix = "00-" if kind == "Namespace" else ""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{kind}--{ns or '_'}--{name}")
    return f"{prefix}{safe.lower()}.yaml"


class FolderSink:
    """One file per object; written atomically (the controller never sees half a file)."""

    mode = "folder"
    backend_ip = "127.0.0.1"

    def __init__(self, src: Path) -> None:
        self.src = src
        self.src.mkdir(parents=True, exist_ok=True)

    def put(self, key: ObjKey, obj: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".partial", dir=self.src)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(obj, f, sort_keys=False)
        os.replace(tmp, self.src / file_name_for(key))

    def remove(self, key: ObjKey) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.src / file_name_for(key))

    def source_args(self) -> list[str]:
        return ["--source-dir", str(self.src)]

    def statuses(self, controller: StatusSource) -> StatusRows:
        return controller.debug_status()

    def close(self) -> None:
        pass


OWNED_LABEL = "e2e.contour.heptio.com/owned"
WATCHED_KINDS: tuple[tuple[str, str], ...] = (
    ("IngressRoute", "contour.heptio.com/v1beta1"),
    ("TLSCertificateDelegation", "contour.heptio.com/v1beta1"),
    ("HTTPProxy", "projectcontour.io/v1"),
    ("TLSCertificateDelegation", "projectcontour.io/v1"),
    ("Ingress", "networking.k8s.io/v1"), ("IngressClass", "networking.k8s.io/v1"),
    ("Service", "v1"), ("Endpoints", "v1"), ("EndpointSlice", "discovery.k8s.io/v1"),
    ("Secret", "v1"),
)
"""What the controller watches, as (kind, apiVersion): everything of these the harness made
is deleted between scenarios. A kind whose CRD is not installed has no objects. Namespaces
stay: without a controller-manager nobody would finalize their deletion, and the controller
does not watch them."""
STATUS_KINDS: tuple[tuple[str, str], ...] = (
    ("IngressRoute", "contour.heptio.com/v1beta1"), ("HTTPProxy", "projectcontour.io/v1"))


def status_row(kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
    """An object's stored status in /debug/status's row shape (None: it has no status, as
    the controller omits such rows); HTTPProxy rows carry `conditions` as stored."""
    st, meta = obj.get("status") or {}, obj.get("metadata") or {}
    if not (st.get("currentStatus") or st.get("description") or st.get("conditions")):
        return None
    row = {"kind": kind, "namespace": meta.get("namespace"), "name": meta.get("name"),
           "currentStatus": st.get("currentStatus"), "description": st.get("description")}
    if "conditions" in st:
        row["conditions"] = st["conditions"]
    return row


def refused_row(key: ObjKey, message: str) -> dict[str, Any]:
    """The status row of an object the API server refused (its CRD schema): in a cluster
    it never exists, which is the `invalid` verdict a folder source gives it through the
    same schema (controller/rejections.py); HTTPProxy rows carry that verdict's condition."""
    kind, ns, name = key
    row: dict[str, Any] = {"kind": kind, "namespace": ns, "name": name,
                           "currentStatus": "invalid",
                           "description": f"refused by the API server: {message}"}
    if kind == "HTTPProxy":
        row["conditions"] = [{"type": "Valid", "status": "False", "reason": "ErrorPresent",
                              "message": row["description"],
                              "errors": [{"type": "SpecError", "status": "True",
                                          "reason": "Invalid", "message": message}]}]
    return row


class ClusterSink:
    """Objects in a real API server. Every object carries OWNED_LABEL, so what a scenario
    (or an interrupted earlier run) left behind is found and deleted by label."""

    mode = "cluster"

    def __init__(self, api: KubeApi, controller_kubeconfig: Path, backend_ip: str,
                 etcd: EtcdKV | None = None) -> None:
        self.api = api
        self.backend_ip = backend_ip  # the test host: see host_ip()
        self.etcd = etcd
        self.notes: list[str] = []
        self.kubeconfig = controller_kubeconfig
        self._namespaces: set[str] = {"default"}
        self._versions: dict[ObjKey, str] = {}  # apiVersion put, for remove()
        self._refused: dict[ObjKey, str] = {}
        """Routing objects the API server refused (422): see `refused_row`."""

    def put(self, key: ObjKey, obj: dict[str, Any]) -> None:
        kind, ns, _ = key
        if kind not in RESOURCES:
            raise ValueError(f"cluster mode cannot store kind {kind!r}")
        if RESOURCES[kind][1]:
            self._ensure_namespace(ns)
        owned = self._owned(obj)
        self._refused.pop(key, None)
        try:
            self.api.apply(owned)
        except KubeApiError as e:
            if e.status == 422 and kind in dict(STATUS_KINDS):
                self._refused[key] = str(e)
                self.notes.append(f"{kind} {ns}/{key[2]} refused by the API server: {e}")
                return
            if e.status == 404 and "page not found" in str(e):
                raise KubeApiError(e.status, "PATCH", f"{kind} {obj.get('apiVersion')}",
                                   b"the API server does not serve this kind: its CRD is "
                                   b"not in manifests/") from e
            if not self._legacy_ingress(kind, owned, e):
                raise
        if kind == "Namespace":
            self._namespaces.add(key[2])
        self._versions[key] = str(obj.get("apiVersion", ""))

    def _legacy_ingress(self, kind: str, obj: dict[str, Any], err: KubeApiError) -> bool:
        """networking.k8s.io/v1 refuses a `ns/name` tls secretName; such Ingresses exist
        in clusters upgraded from extensions/v1beta1: store it the way they got there."""
        secrets = [t.get("secretName", "") for t in (obj.get("spec") or {}).get("tls") or []]
        if kind != "Ingress" or err.status != 422 or self.etcd is None \
                or not any("/" in s for s in secrets) or "secretName" not in str(err):
            return False
        legacy_ingress_in_etcd(self.etcd, obj)
        self.notes.append(f"Ingress {obj['metadata'].get('namespace')}/"
                          f"{obj['metadata']['name']} stored through etcd (v1 refuses "
                          f"tls secretName {secrets})")
        return True

    def _owned(self, obj: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(obj)
        meta = out.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), OWNED_LABEL: "true"}
        return out

    def _ensure_namespace(self, ns: str) -> None:
        # scenarios list their Namespaces first; this only covers one that does not
        if ns not in self._namespaces:
            self.api.apply({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": ns, "labels": {OWNED_LABEL: "true"}}})
            self._namespaces.add(ns)

    def remove(self, key: ObjKey) -> None:
        kind, ns, name = key
        if kind == "Namespace":
            return  # see WATCHED_KINDS: emptied of our objects at close(), never deleted
        if self._refused.pop(key, None) is not None:
            return  # never stored
        self.api.delete(kind, ns, name, self._versions.pop(key, ""))

    def source_args(self) -> list[str]:
        return ["--kubeconfig", str(self.kubeconfig)]

    def statuses(self, controller: StatusSource) -> StatusRows:
        """Every IngressRoute's and HTTPProxy's status as stored in the API server, in
        /debug/status's row shape; objects without a status are left out."""
        rows = []
        for kind, version in STATUS_KINDS:
            try:
                items = self.api.list(kind, api_version=version, missing_ok=True)
            except Exception as e:  # noqa: BLE001 - reported as what the check saw
                return None, f"list {kind}: {e.__class__.__name__}: {e}"
            rows += [r for r in (status_row(kind, o) for o in items) if r is not None]
        rows += [refused_row(key, message) for key, message in sorted(self._refused.items())]
        return rows, None

    def close(self) -> None:
        delete_owned(self.api)


def host_ip() -> str:
    """Where cluster-mode backends listen: the API server refuses Endpoints in 127.0.0.0/8,
    so they live on a test host of our own (a network namespace, see netns.py)."""
    return backend_network().backend_ip


def delete_owned(api: KubeApi, timeout: float = 30.0) -> None:
    """Delete every object of a watched kind carrying OWNED_LABEL; return once none is
    left (these kinds have no finalizers here, so this is quick)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [(k, v, o) for k, v in WATCHED_KINDS
                for o in api.list(k, label_selector=f"{OWNED_LABEL}=true", api_version=v,
                                  missing_ok=True)]
        if not left:
            return
        if time.monotonic() > deadline:
            names = [f"{k}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}"
                     for k, _, o in left]
            raise RuntimeError(f"objects not deleted within {timeout}s: {names}")
        for kind, version, o in left:
            meta = o["metadata"]
            api.delete(kind, meta.get("namespace", ""), meta["name"], version)
