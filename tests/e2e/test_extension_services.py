"""External authorization and global rate limiting through a real Envoy, with gRPC servers
of the test's own (extservers.py) behind ExtensionServices (folder source).

Authorization: a request is allowed or denied by the server; a route with
`authPolicy.disabled` is never checked; the vhost's and route's context reach the server;
with the server unreachable, a `failOpen` vhost serves and the other answers 403.
Rate limiting: the N+1-th request of a descriptor is answered 429, per descriptor; a route
with `global.disabled` is not limited; with the server unreachable, `failOpen` serves and
the default denies (500).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from extservers import ALLOW_HEADER, VERDICT_HEADER, AuthzServer, RateLimitServer
from harness.backends import Backend, BackendPool
from harness.certs import HarnessCA
from harness.client import RequestOptions, Response, request
from harness.controller import Controller, Ports, http_get
from harness.envoy import Envoy
from harness.ports import allocate_ports
from test_programmed_envoys import start_envoy, until

LIMIT = 3
AUTH_HOST, OPEN_HOST, CLOSED_HOST, RL_HOST = (
    "auth.example.com", "open.example.com", "closed.example.com", "rl.example.com")


def _service(name: str, port: int, target: int) -> list[dict[str, Any]]:
    meta = {"name": name, "namespace": "default"}
    return [{"apiVersion": "v1", "kind": "Service", "metadata": meta,
             "spec": {"ports": [{"port": port}]}},
            {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta,
             "subsets": [{"addresses": [{"ip": "127.0.0.1"}], "ports": [{"port": target}]}]}]


def _extension(name: str, port: int) -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1alpha1", "kind": "ExtensionService",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"protocol": "h2c", "services": [{"name": name, "port": port}],
                     "timeoutPolicy": {"response": "5s"}}}


def _proxy(name: str, host: str, routes: list[dict[str, Any]], **vhost: Any) -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"virtualhost": {"fqdn": host, **vhost}, "routes": routes}}


def _route(prefix: str, **extra: Any) -> dict[str, Any]:
    return {"conditions": [{"prefix": prefix}], "services": [{"name": "app", "port": 80}],
            **extra}


def _tls_secret(leaf: Any) -> dict[str, Any]:
    data = {"tls.crt": leaf.cert_pem, "tls.key": leaf.key_pem}
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": {"name": "tls", "namespace": "default"},
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def objects(app: int, authz: int, rls: int, down: int, leaf: Any) -> list[dict[str, Any]]:
    tls = {"secretName": "tls"}
    auth = {"extensionRef": {"name": "authz"}, "authPolicy": {"context": {"vhost": "v"}}}
    down_ref = {"extensionRef": {"name": "down"}}
    generic = {"entries": [{"genericKey": {"key": "vhost", "value": "rl"}}]}
    per_client = {"entries": [{"requestHeader": {"headerName": "x-client",
                                                 "descriptorKey": "client"}}]}
    return [
        *_service("app", 80, app), *_service("authz", 9000, authz),
        *_service("ratelimit", 8081, rls), *_service("down", 9000, down),
        _extension("authz", 9000), _extension("ratelimit", 8081), _extension("down", 9000),
        _tls_secret(leaf),
        _proxy("auth", AUTH_HOST, [
            _route("/", ), _route("/open", authPolicy={"disabled": True}),
            _route("/ctx", authPolicy={"context": {"route": "ctx"}})],
            tls=tls, authorization=auth),
        _proxy("open", OPEN_HOST, [_route("/")], tls=tls,
               authorization={**down_ref, "failOpen": True}),
        _proxy("closed", CLOSED_HOST, [_route("/")], tls=tls, authorization=down_ref),
        _proxy("rl", RL_HOST, [
            _route("/"), _route("/client", rateLimitPolicy={"global": {"descriptors": [
                per_client]}}),
            _route("/free", rateLimitPolicy={"global": {"disabled": True}})],
            rateLimitPolicy={"global": {"descriptors": [generic]}}),
    ]


@dataclass
class Stack:
    ctl: Controller
    envoy: Envoy
    authz: AuthzServer
    rls: RateLimitServer
    app: Backend

    def get(self, host: str, path: str, *headers: tuple[str, str]) -> Response:
        scheme, port = ("http", self.ctl.ports.http) if host == RL_HOST else (
            "https", self.ctl.ports.https)
        return request(port, RequestOptions(host=host, path=path, scheme=scheme,
                                            extra_headers=list(headers)))


def _stack(tmp_path: Path, ca: HarnessCA, fail_open: bool) -> Iterator[Stack]:
    authz, rls, pool = AuthzServer(), RateLimitServer(LIMIT), BackendPool()
    (down,) = allocate_ports(1)  # nothing listens there: an unreachable server
    ctl = envoy = None
    try:
        (app,) = pool.start([("default/app:80", None)])
        source = tmp_path / "source"
        source.mkdir()
        docs = objects(app.port, authz.port, rls.port, down, ca.issue(AUTH_HOST, [
            AUTH_HOST, OPEN_HOST, CLOSED_HOST]))
        (source / "objects.yaml").write_text(yaml.safe_dump_all(docs))
        config = {"rateLimitService": {"extensionService": "default/ratelimit",
                                       "domain": "contour", "failOpen": fail_open}}
        ctl = Controller(tmp_path, source, Ports.allocate(), {"config_file": config})
        ctl.wait_healthy()
        envoy = start_envoy(ctl, tmp_path / "envoy", "ext")
        yield Stack(ctl, envoy, authz, rls, app)
    finally:
        if envoy is not None:
            envoy.stop()
        if ctl is not None:
            ctl.stop()
        pool.close()
        authz.stop()
        rls.stop()


@pytest.fixture
def stack(tmp_path: Path, harness_ca: HarnessCA) -> Iterator[Stack]:
    yield from _stack(tmp_path, harness_ca, fail_open=False)


@pytest.fixture
def open_stack(tmp_path: Path, harness_ca: HarnessCA) -> Iterator[Stack]:
    yield from _stack(tmp_path, harness_ca, fail_open=True)


ALLOW = (ALLOW_HEADER, "yes")


def test_authorization(stack: Stack) -> None:
    until("the authorizing vhost serves", lambda: stack.get(AUTH_HOST, "/", ALLOW).status == 200,
          timeout=60)
    denied = stack.get(AUTH_HOST, "/")
    assert (denied.status, denied.body) == (403, b"denied by the test"), denied.summary()
    before = len(stack.authz.paths())
    assert stack.get(AUTH_HOST, "/open").status == 200
    assert len(stack.authz.paths()) == before, "a route with authPolicy.disabled was checked"
    assert stack.get(AUTH_HOST, "/ctx", ALLOW).status == 200
    contexts = {path: ctx for path, ctx in stack.authz.checks}
    assert contexts["/"] == {"vhost": "v"}
    assert contexts["/ctx"] == {"vhost": "v", "route": "ctx"}
    before = len(stack.authz.paths())
    misdirected = request(stack.ctl.ports.https, RequestOptions(
        host=AUTH_HOST, scheme="https", path="/x", host_header=OPEN_HOST))
    assert misdirected.status == 421, misdirected.summary()
    assert len(stack.authz.paths()) == before, "a misdirected request was checked"
    seen = [r for r in stack.app.observed() if r.path == "/ctx"]
    assert seen and seen[-1].headers.get(VERDICT_HEADER) == "allowed"
    # the server of `down` is unreachable: failOpen serves, the default denies
    until("the failOpen vhost serves", lambda: stack.get(OPEN_HOST, "/").status == 200)
    assert stack.get(CLOSED_HOST, "/").status == 403
    _, body = http_get(stack.ctl.ports.debug, "/debug/status")
    rows = {(r["kind"], r["name"]): r for r in json.loads(body)}
    assert rows[("ExtensionService", "authz")]["conditions"][0]["status"] == "True"
    assert rows[("HTTPProxy", "auth")]["currentStatus"] == "valid"


def _statuses(stack: Stack, path: str, n: int, *headers: tuple[str, str]) -> list[int | None]:
    return [stack.get(RL_HOST, path, *headers).status for _ in range(n)]


def test_global_rate_limit(stack: Stack) -> None:
    until("the rate-limited vhost serves", lambda: stack.get(RL_HOST, "/free").status == 200,
          timeout=60)
    assert _statuses(stack, "/", LIMIT + 1) == [200] * LIMIT + [429]
    client = ("x-client", "a")
    assert _statuses(stack, "/client", LIMIT + 1, client) == [200] * LIMIT + [429]
    assert _statuses(stack, "/client", 1, ("x-client", "b")) == [200]
    assert _statuses(stack, "/free", LIMIT + 2) == [200] * (LIMIT + 2)
    assert ("contour", (("vhost", "rl"),)) in stack.rls.descriptors()
    assert ("contour", (("client", "a"),)) in stack.rls.descriptors()
    stack.rls.stop()  # unreachable now: failOpen false denies
    until("the filter denies without its server", lambda: stack.get(RL_HOST, "/").status == 500)


def test_global_rate_limit_fail_open(open_stack: Stack) -> None:
    until("the rate-limited vhost serves", lambda: open_stack.get(RL_HOST, "/free").status == 200,
          timeout=60)
    open_stack.rls.stop()
    assert _statuses(open_stack, "/", LIMIT + 2) == [200] * (LIMIT + 2)
