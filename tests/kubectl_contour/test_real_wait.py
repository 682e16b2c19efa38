"""`kubectl contour wait` and `proxy-status` end to end: the real kubectl, API server and
controller, and two real Envoys, so that "served by k of n" is exercised. An HTTPProxy is
programmed (its `Programmed` condition True, `wait` exits 0) only once both Envoys ACK it;
a paused Envoy makes `wait` time out naming it, and `proxy-status` shows it stale."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from real_world import NODE, Envoy, World, _doc, extra_envoy

SECOND = f"{NODE}-2"


def proxy(prefix: str, service: str = "blue") -> dict[str, Any]:
    return _doc("HTTPProxy", "projectcontour.io/v1", "default", "wait-demo", spec={
        "virtualhost": {"fqdn": "wait-demo.example.com"},
        "routes": [{"conditions": [{"prefix": prefix}],
                    "services": [{"name": service, "port": 80}]}]})


@pytest.fixture(scope="module")
def second_envoy(world: World) -> Iterator[Envoy]:
    envoy = extra_envoy(world, SECOND)
    try:
        world.wait_for("the second Envoy is connected", lambda: len(proxy_status(world)) == 2)
        yield envoy
    finally:
        os.kill(envoy.proc.proc.pid, signal.SIGCONT)
        envoy.stop()
        world.kubectl("delete", "httpproxy", "wait-demo", "-n", "default", "--ignore-not-found")


def proxy_status(world: World) -> list[dict[str, Any]]:
    done = world.contour("proxy-status", "--contour-url", world.contour_url, "-o", "json")
    assert done.code in (0, 1), str(done)
    return [r for r in json.loads(done.out) if r["state"] != "disconnected"]


def programmed_condition(world: World) -> dict[str, Any] | None:
    obj = world.get_json("httpproxy", "wait-demo", "-n", "default")
    return next((c for c in (obj.get("status") or {}).get("conditions") or []
                 if c["type"] == "Programmed"), None)


def wait(world: World, *args: str) -> Any:
    return world.contour("wait", *args, "-n", "default", "--contour-url", world.contour_url)


def test_wait_returns_once_both_envoys_serve_it(world: World, second_envoy: Envoy) -> None:
    world.apply([proxy("/")])
    done = wait(world, "httpproxy/wait-demo", "--timeout", "30")
    assert done.code == 0, str(done)
    assert done.out.strip() == "httpproxy/wait-demo programmed (served by 2/2 Envoys)"
    assert world.send("wait-demo.example.com").backend == "default/blue:80"
    cond = world.wait_for("the Programmed condition is written", lambda: (
        c := programmed_condition(world)) and c["status"] == "True" and c)
    generation = world.get_json("httpproxy", "wait-demo", "-n", "default")["metadata"][
        "generation"]
    assert cond["message"] == "served by 2/2 Envoys" and cond["reason"] == "Programmed"
    assert cond["observedGeneration"] == generation
    rows = proxy_status(world)
    assert sorted(r["node"] for r in rows) == [NODE, SECOND]
    assert {r["state"] for r in rows} == {"synced"}, rows


def test_a_paused_envoy_makes_wait_time_out_naming_it(world: World,
                                                       second_envoy: Envoy) -> None:
    world.apply([proxy("/")])
    assert wait(world, "wait-demo", "--timeout", "30").code == 0
    os.kill(second_envoy.proc.proc.pid, signal.SIGSTOP)
    try:
        world.apply([proxy("/paused")])
        done = wait(world, "httpproxy/wait-demo", "--timeout", "3")
        assert done.code == 5, str(done)
        assert f"{SECOND}: stale" in done.err and "served by 1/2 Envoys" in done.err, str(done)
        status = world.contour("proxy-status", "--contour-url", world.contour_url)
        assert status.code == 1, str(status)
        line = next(x for x in status.out.splitlines() if x.startswith(SECOND))
        assert " stale " in f"{line} ", status.out
        cond = world.wait_for("the Programmed condition says pending", lambda: (
            c := programmed_condition(world)) and c["status"] == "False" and c)
        assert cond["reason"] == "Pending" and f"{SECOND}: stale" in cond["message"]
    finally:
        os.kill(second_envoy.proc.proc.pid, signal.SIGCONT)
    done = wait(world, "httpproxy/wait-demo", "--timeout", "30")
    assert done.code == 0, str(done)


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["ingressroute/nope"], 3, "error: no IngressRoute default/nope", id="not-found"),
    pytest.param(["configmap/x"], 2, "KIND must be ingressroute, httpproxy, ingress",
                 id="bad-kind"),
    pytest.param(["ghost", "--timeout", "1"], 1, "ghost is orphaned: ", id="orphaned-at-deadline"),
    pytest.param(["blue-green-root", "--for", "valid"], 0, "", id="valid"),
    pytest.param(["blue-green-root", "--for", "ready"], 2, "--for must be", id="bad-goal"),
])
def test_wait_exit_codes(world: World, args: list[str], code: int, message: str) -> None:
    done = wait(world, *args)
    assert done.code == code, str(done)
    assert message in done.err, str(done)
    assert "Traceback" not in done.err


def test_wait_json_output(world: World) -> None:
    done = wait(world, "blue-green-root", "-o", "json", "--timeout", "30")
    assert done.code == 0, str(done)
    out = json.loads(done.out)
    assert (out["kind"], out["name"], out["for"]) == ("IngressRoute", "blue-green-root",
                                                      "programmed")
    assert out["message"].startswith("served by ")


STRICT = ("--disable-extensions", "envoy.filters.network/envoy.filters.network.tcp_proxy")


def passthrough() -> list[dict[str, Any]]:
    return [_doc("Service", "v1", "default", "tcp", spec={"ports": [{"port": 443}]}),
            _doc("IngressRoute", "contour.heptio.com/v1beta1", "default", "tcp", spec={
                "virtualhost": {"fqdn": "tcp.example.com", "tls": {"passthrough": True}},
                "tcpproxy": {"services": [{"name": "tcp", "port": 443}]}})]


def test_a_nack_is_attributed_and_the_rest_flows(world: World, second_envoy: Envoy) -> None:
    """A third Envoy rejects TCP proxies: the passthrough IngressRoute it NACKs is invalid
    with Envoy's message (in `status`, from the API server), while an unrelated HTTPProxy
    change is programmed on all three Envoys."""
    strict = extra_envoy(world, "strict", STRICT)
    try:
        world.wait_for("three Envoys", lambda: len(proxy_status(world)) == 3)
        world.apply([*passthrough(), proxy("/after-nack")])
        done = wait(world, "httpproxy/wait-demo", "--timeout", "30")
        assert done.code == 0 and "served by 3/3 Envoys" in done.out, str(done)
        rejected = wait(world, "ingressroute/tcp", "--timeout", "5")
        assert rejected.code == 1 and "rejected" in rejected.err, str(rejected)
        status = world.wait_for("the IngressRoute's status names Envoy's rejection", lambda: (
            s := world.contour("status", "-n", "default", "-o", "json")) and next(
            (r for r in json.loads(s.out) if r["name"] == "tcp"
             and r["stored_status"] == "invalid"), None))
        # the builder alone finds it valid; the controller's stored status says why not
        assert status["status"] == "valid"
        assert "Envoy strict rejected the update that carried this virtual host" in \
            status["stored_reason"], status
        assert "tcp_proxy" in status["stored_reason"]
    finally:
        strict.stop()
        world.kubectl("delete", "ingressroute,service", "tcp", "-n", "default",
                      "--ignore-not-found")
