"""`kubectl contour switch` for HTTPProxy end to end against the real API server, controller
and Envoy: a root's `includes` entry moves from hp-blue to hp-green (traffic through Envoy,
`--wait` returns only once Envoy routes to green) and back, refusals write nothing, and a
concurrent edit of the include between read and patch makes the `test` ops fail cleanly.

The HTTPProxies and their Services are created by this module and deleted after it; their
endpoints are the world's blue and green backends (which answer with their own names)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from real_world import World

HOST = "hp.example.com"
ROOT_INCLUDES = [{"name": "hp-blue", "conditions": [{"prefix": "/"}]}]


def proxy(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def backed_service(world: World, name: str, backend: str) -> list[dict[str, Any]]:
    """A Service whose one ready endpoint is the world's `backend`."""
    svc = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": name, "namespace": "default"},
           "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    eps = {"apiVersion": "v1", "kind": "Endpoints",
           "metadata": {"name": name, "namespace": "default"},
           "subsets": [{"addresses": [{"ip": world.ip}],
                        "ports": [{"name": "http", "port": world.backend_port(backend)}]}]}
    return [svc, eps]


def objects(world: World) -> list[dict[str, Any]]:
    svc = lambda n: {"services": [{"name": n, "port": 80}]}  # noqa: E731
    return [*backed_service(world, "hp-blue", "default/blue:80"),
            *backed_service(world, "hp-green", "default/green:80"),
            proxy("hp-blue", {"routes": [svc("hp-blue")]}),
            proxy("hp-green", {"routes": [svc("hp-green")]}),
            proxy("hp-ghost", {"routes": [svc("hp-missing")]}),
            proxy("hp-root", {"virtualhost": {"fqdn": HOST}, "includes": ROOT_INCLUDES})]


def root(world: World) -> dict[str, Any]:
    return dict(world.get_json("httpproxy", "hp-root", "-n", "default"))


def served_by(world: World, n: int = 4) -> set[str | None]:
    return {world.send(HOST, f"/probe/{i}").backend for i in range(n)}


@pytest.fixture(scope="module")
def hp_world(world: World) -> Iterator[World]:
    objs = objects(world)
    world.apply(objs)
    try:
        world.wait_for("Envoy routes hp.example.com to blue",
                       lambda: served_by(world, 2) == {"default/blue:80"}, timeout=60)
        yield world
    finally:
        for o in objs:
            world.kubectl("delete", o["kind"].lower(), o["metadata"]["name"], "-n", "default",
                          "--ignore-not-found", check=False)


@pytest.fixture
def restore_root(hp_world: World) -> Iterator[None]:
    yield
    hp_world.kubectl("patch", "httpproxy", "hp-root", "-n", "default", "--type=merge",
                     "-p", json.dumps({"spec": {"includes": ROOT_INCLUDES}}))
    hp_world.wait_for("Envoy routes to blue again",
                      lambda: served_by(hp_world, 2) == {"default/blue:80"})


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["hp-green", "hp-blue"], 1,
                 "error: no root HTTPProxy include names default/hp-green", id="nothing-includes"),
    pytest.param(["hp-blue", "hp-ghost"], 1,
                 "error: refusing to switch: default/hp-ghost valid after the switch: invalid: "
                 "Spec.Routes unresolved service reference: service \"default/hp-missing\" not "
                 "found", id="to-invalid"),
    pytest.param(["hp-blue", "hp-nope"], 3, "error: HTTPProxy 'hp-nope' not found",
                 id="to-not-found"),
    pytest.param(["httpproxy/hp-blue", "ingressroute/green"], 2, "switch within one kind",
                 id="mixed-kinds"),
])
def test_refusals_write_nothing(hp_world: World, args: list[str], code: int,
                                message: str) -> None:
    # the spec and its generation, not resourceVersion: the controller's status writes (the
    # Programmed condition) move that, and they are not the plugin's
    before = written(root(hp_world))
    done = hp_world.contour("switch", *args, "--yes", "--wait", "--admin-url",
                            hp_world.admin_url)
    assert done.code == code, str(done)
    assert message in done.err, str(done)
    assert "Traceback" not in done.err
    assert written(root(hp_world)) == before
    assert served_by(hp_world, 2) == {"default/blue:80"}


def written(obj: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return obj["metadata"]["generation"], obj["spec"]


def test_tree_and_status_show_the_include(hp_world: World) -> None:
    tree = hp_world.contour("tree", "httpproxy/hp-root")
    assert tree.code == 0, str(tree)
    assert tree.out.splitlines()[:3] == [
        "hp.example.com (default/hp-root) [valid]",
        "└── prefix / → include hp-blue [valid]",
        "    └── prefix / → hp-blue:80 (1/1 ready)"]
    rows = {r["name"]: r for r in json.loads(hp_world.contour("status", "-o", "json").out)
            if r["kind"] == "HTTPProxy"}
    assert rows["hp-green"]["status"] == "orphaned"
    assert rows["hp-ghost"]["conditions"][0]["errors"][0]["reason"] == "Orphaned"
    stored = hp_world.wait_for("the controller wrote every HTTPProxy status", lambda: {
        i["metadata"]["name"]: i["status"]["currentStatus"]
        for i in hp_world.get_json("httpproxies", "-n", "default")["items"]
        if (i.get("status") or {}).get("currentStatus")} if all(
        (i.get("status") or {}).get("currentStatus")
        for i in hp_world.get_json("httpproxies", "-n", "default")["items"]) else None)
    assert stored == {name: r["status"] for name, r in rows.items()}


def test_switch_blue_to_green_and_back(hp_world: World, restore_root: None) -> None:
    dry = hp_world.contour("switch", "hp-blue", "hp-green", "--dry-run")
    assert dry.code == 0, str(dry)
    assert "default/hp-root  hp.example.com  prefix /  hp-blue  hp-green" in dry.out
    done = hp_world.contour("switch", "hp-blue", "hp-green", "--yes", "--wait",
                            "--admin-url", hp_world.admin_url, "--timeout", "30")
    assert done.code == 0, str(done)
    assert done.out == dry.out
    assert done.err.splitlines() == [
        "httpproxy default/hp-root patched",
        f"envoy {hp_world.admin_url} serves default/hp-green"]
    assert served_by(hp_world) == {"default/green:80"}
    assert root(hp_world)["spec"]["includes"] == [
        {"name": "hp-green", "conditions": [{"prefix": "/"}]}]
    back = hp_world.contour("switch", "httpproxy/hp-green", "hp-blue", "-y", "--wait",
                            "--admin-url", hp_world.admin_url, "--timeout", "30")
    assert back.code == 0, str(back)
    assert served_by(hp_world) == {"default/blue:80"}
    assert root(hp_world)["spec"]["includes"] == ROOT_INCLUDES


def test_conflict_when_the_include_changed(hp_world: World, restore_root: None) -> None:
    """The plan is made on what was read; the include is edited before the patch (here:
    its namespace spelled out); the `test` ops fail, nothing is written, exit 1."""
    from kubectl_contour.commands import switch as cmd
    from kubectl_contour.errors import Conflict
    from kubectl_contour.session import Options, Session

    session = Session(Options(kubeconfig=str(hp_world.kubeconfig)))
    plan, _ = cmd.prepare(session, source="hp-blue", target="hp-green", root="")
    hp_world.kubectl("patch", "httpproxy", "hp-root", "-n", "default", "--type=json", "-p",
                     json.dumps([{"op": "add", "path": "/spec/includes/0/namespace",
                                  "value": "default"}]))
    with pytest.raises(Conflict) as err:
        cmd.apply(session, plan)
    assert err.value.message == (
        "HTTPProxy default/hp-root changed since it was read, so it was not patched "
        "(include 0: expected {'conditions': [{'prefix': '/'}], 'name': 'hp-blue'}; now "
        "{'conditions': [{'prefix': '/'}], 'name': 'hp-blue', 'namespace': 'default'})")
    assert root(hp_world)["spec"]["includes"][0]["name"] == "hp-blue"
    assert served_by(hp_world, 2) == {"default/blue:80"}
