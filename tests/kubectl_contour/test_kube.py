"""Cluster mode against a fake API server (plain HTTP, serving the fixture objects): the raw
list calls, the stored-status column, and `switch --yes` sending one JSON patch with `test`
ops. The same commands against a real API server are in test_real_*.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kubectl_contour.cli import app
from kubectl_contour.sources import load_dir

LISTS = {
    "/api/v1/services": "Service", "/api/v1/secrets": "Secret",
    "/api/v1/endpoints": "Endpoints",
    "/apis/networking.k8s.io/v1/ingresses": "Ingress",
    "/apis/discovery.k8s.io/v1/endpointslices": "EndpointSlice",
    "/apis/contour.heptio.com/v1beta1/ingressroutes": "IngressRoute",
    "/apis/contour.heptio.com/v1beta1/tlscertificatedelegations": "TLSCertificateDelegation",
}


class FakeAPI(BaseHTTPRequestHandler):
    objects: list[dict[str, Any]] = []
    patches: list[tuple[str, str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        kind = LISTS.get(self.path.split("?")[0])
        if kind is None:
            return self.answer(404, {"kind": "Status", "code": 404, "message": "not found"})
        items = [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                 for o in self.objects if o["kind"] == kind]
        return self.answer(200, {"items": items})

    def do_PATCH(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.patches.append((self.path, self.headers["Content-Type"], body))
        self.answer(200, {"metadata": {"name": "x"}})

    def answer(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def kubeconfig(tmp_path: Path, fixtures_dir: Path) -> Iterator[str]:
    objects = [dict(o) for o in load_dir(fixtures_dir).objects]
    for o in objects:  # a stale stored status the plugin must show
        if o["kind"] == "IngressRoute" and o["metadata"]["name"] == "green":
            o["status"] = {"currentStatus": "valid", "description": "valid IngressRoute"}
    FakeAPI.objects, FakeAPI.patches = objects, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {
            "server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u",
                                                   "namespace": "default"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
    }))
    yield str(path)
    server.shutdown()


def test_status_shows_stored_status_when_it_differs(kubeconfig: str) -> None:
    result = CliRunner().invoke(app, ["--kubeconfig", kubeconfig, "status", "-o", "json"])
    assert result.exit_code == 0, result.stderr
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert set(rows) >= {"blue", "green", "legacy"}  # context namespace: default
    assert "www" not in rows
    assert (rows["green"]["status"], rows["green"]["stored_status"]) == ("orphaned", "valid")
    assert rows["blue"]["stored_status"] == ""


def test_switch_sends_one_atomic_json_patch(kubeconfig: str) -> None:
    result = CliRunner().invoke(app, ["--kubeconfig", kubeconfig, "switch", "blue", "green",
                                      "--yes"])
    assert result.exit_code == 0, result.stderr
    assert FakeAPI.patches == [(
        "/apis/contour.heptio.com/v1beta1/namespaces/default/ingressroutes/blue-green-root",
        "application/json-patch+json",
        [{"op": "test", "path": "/spec/routes/0/match", "value": "/"},
         {"op": "test", "path": "/spec/routes/0/delegate", "value": {"name": "blue"}},
         {"op": "replace", "path": "/spec/routes/0/delegate", "value": {"name": "green"}}],
    )]


def test_switch_without_yes_and_no_terminal_is_refused(kubeconfig: str) -> None:
    result = CliRunner().invoke(app, ["--kubeconfig", kubeconfig, "switch", "blue", "green"])
    assert result.exit_code == 2 and "--yes" in result.stderr
    assert FakeAPI.patches == []


class ApiException(Exception):
    def __init__(self, status: int, body: str = "", reason: str = "") -> None:
        super().__init__(reason)
        self.status, self.body, self.reason = status, body, reason


def test_api_errors_as_a_real_api_server_words_them() -> None:
    from kubectl_contour.errors import CheckFailed, Conflict, NotFound, Unreachable
    from kubectl_contour.kube import api_error, upgrade_error

    bare = json.dumps({"kind": "Status", "code": 422, "reason": "Invalid", "details": {},
                       "message": "the server rejected our request due to an error in our "
                                  "request"})
    assert isinstance(api_error(ApiException(422, bare), what="patch"), Conflict)
    invalid = json.dumps({"kind": "Status", "code": 422, "message": "spec.routes: Invalid",
                          "details": {"causes": [{"field": "spec.routes"}]}})
    err = api_error(ApiException(422, invalid), what="patch")
    assert type(err) is CheckFailed and "spec.routes: Invalid" in err.message
    assert isinstance(api_error(ApiException(409, "{}"), what="patch"), Conflict)
    assert isinstance(api_error(ApiException(404), what="get"), NotFound)
    assert isinstance(api_error(ApiException(403), what="get"), Unreachable)
    handshake = ApiException(0, reason=(
        "Handshake status 400 Bad Request -+-+- {'audit-id': 'x'} -+-+- "
        '{"kind":"Status","status":"Failure","message":"pod p does not have a host assigned",'
        '"reason":"BadRequest","code":400}\n'))
    assert upgrade_error(handshake) == "pod p does not have a host assigned (HTTP 400)"
    assert upgrade_error(ApiException(0, reason="Handshake status 500 -+-+- x")) == \
        "Handshake status 500"
