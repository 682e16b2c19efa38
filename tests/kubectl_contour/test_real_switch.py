"""`kubectl contour switch` end to end against the real API server, controller and Envoy:
refusals write nothing, blue → green moves the traffic through Envoy (and `--wait` returns
only once Envoy routes to green), green → blue rolls back, and a concurrent edit of the root
between the plugin's read and its patch makes the JSON patch's `test` op fail cleanly."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
from goldens import check_golden
from real_world import World

ROOT_ROUTES = [{"match": "/", "delegate": {"name": "blue"}}]


def root(world: World) -> dict[str, Any]:
    return dict(world.get_json("ingressroute", "blue-green-root", "-n", "default"))


def served_by(world: World, n: int = 6) -> set[str | None]:
    return {world.send("blue-green.example.com", f"/probe/{i}").backend for i in range(n)}


@pytest.fixture
def restore_root(world: World) -> Iterator[None]:
    """Whatever a test did, the root delegates to blue again afterwards."""
    yield
    world.kubectl("patch", "ingressroute", "blue-green-root", "-n", "default", "--type=merge",
                  "-p", json.dumps({"spec": {"routes": ROOT_ROUTES}}))
    world.wait_for("Envoy routes to blue again",
                   lambda: served_by(world, 2) == {"default/blue:80"})


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["blue", "green"], 2,
                 "error: IngressRoute name 'blue' is ambiguous: default/blue, marketing/blue",
                 id="ambiguous-name"),
    pytest.param(["default/green", "default/blue"], 1,
                 "error: no root IngressRoute route delegates to default/green",
                 id="nothing-delegates-to-from"),
    pytest.param(["default/blue", "default/ghost"], 1,
                 "error: refusing to switch: default/ghost valid after the switch: invalid: "
                 "Service [missing:80] is invalid or missing", id="to-invalid"),
    pytest.param(["default/blue", "marketing/admin"], 1,
                 "error: refusing to switch: marketing/admin has ready endpoints: no ready "
                 "endpoints: marketing/admin:80 (0 ready)", id="to-without-ready-endpoints"),
    pytest.param(["default/blue", "default/nope"], 3,
                 "error: IngressRoute 'nope' not found in namespace default", id="to-not-found"),
    pytest.param(["default/blue", "default/blue"], 1,
                 "error: FROM and TO are the same IngressRoute (default/blue)", id="same"),
    pytest.param(["default/blue", "default/green", "--no-yes-here"], 2, "No such option",
                 id="bad-flag"),
])
def test_switch_refusals_write_nothing(world: World, args: list[str], code: int,
                                       message: str) -> None:
    before = root(world)["metadata"]["resourceVersion"]
    yes = [] if "--no-yes-here" in args else ["--yes"]
    done = world.contour("switch", *args, *yes, "--wait", "--admin-url", world.admin_url)
    assert done.code == code, str(done)
    assert message in done.err, str(done)
    assert "Traceback" not in done.err
    assert root(world)["metadata"]["resourceVersion"] == before
    assert served_by(world, 2) == {"default/blue:80"}


def test_switch_needs_a_terminal_or_yes(world: World) -> None:
    before = root(world)["metadata"]["resourceVersion"]
    done = world.contour("switch", "default/blue", "default/green", input="y\n")
    assert done.code == 2 and "no terminal to confirm on: pass --yes" in done.err, str(done)
    assert root(world)["metadata"]["resourceVersion"] == before


def test_switch_blue_to_green_and_back(world: World, restore_root: None) -> None:
    assert served_by(world) == {"default/blue:80"}
    dry = world.contour("switch", "default/blue", "default/green", "--dry-run")
    assert dry.code == 0, str(dry)
    check_golden("real/switch-dry-run.txt", dry.out)

    t0 = time.monotonic()
    done = world.contour("switch", "default/blue", "default/green", "--yes", "--wait",
                         "--admin-url", world.admin_url, "--timeout", "30")
    assert done.code == 0, str(done)
    assert done.out == dry.out  # the same change and checks, then applied
    assert done.err.splitlines() == [
        "ingressroute default/blue-green-root patched",
        f"envoy {world.admin_url} serves default/green"]
    # --wait returned only once Envoy routes to green: no polling needed here
    assert served_by(world) == {"default/green:80"}
    assert root(world)["spec"]["routes"] == [{"match": "/", "delegate": {"name": "green"}}]
    tree = world.contour("tree").out
    assert "└── / → delegate green [valid]\n    └── / → green:80 (1/2 ready)" in tree
    assert "default/blue [orphaned" in tree
    switched = time.monotonic() - t0

    back = world.contour("switch", "green", "blue", "-n", "default", "-y", "--wait",
                         "--admin-url", world.admin_url, "--timeout", "30")
    assert back.code == 0, str(back)
    assert served_by(world) == {"default/blue:80"}
    assert root(world)["spec"]["routes"] == ROOT_ROUTES
    assert switched < 30


def test_switch_fails_cleanly_when_the_root_changes_before_the_patch(
        world: World, restore_root: None) -> None:
    """The plugin reads, plans and asks; meanwhile someone edits the root; the patch's
    `test` ops no longer hold: nothing is written by the plugin, exit 1, a clear error."""
    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [kubectl, "contour", "switch", "default/blue", "default/green", "--kubeconfig",
         str(world.kubeconfig)], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=world.env())
    os.close(slave)
    try:
        assert proc.stderr is not None
        err = b""
        deadline = time.monotonic() + 30
        while b"Apply this switch? [y/N]" not in err:
            assert time.monotonic() < deadline and proc.poll() is None, err.decode()
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                err += os.read(proc.stderr.fileno(), 4096)
        # the concurrent change: same route, delegate now spelled with its namespace
        world.kubectl("patch", "ingressroute", "blue-green-root", "-n", "default",
                      "--type=json", "-p", json.dumps([{
                          "op": "replace", "path": "/spec/routes/0/delegate",
                          "value": {"name": "blue", "namespace": "default"}}]))
        os.write(master, b"y\n")
        out, rest = proc.communicate(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stderr = (err + rest).decode()
    assert proc.returncode == 1, stderr
    assert "error: IngressRoute default/blue-green-root changed since it was read, so it was " \
           "not patched (route 0: expected match '/', delegate {'name': 'blue'}; now match " \
           "'/', delegate {'name': 'blue', 'namespace': 'default'})" in stderr
    assert "hint: run the switch again" in stderr and "Traceback" not in stderr
    assert "Change:" in out.decode()
    assert root(world)["spec"]["routes"] == [
        {"match": "/", "delegate": {"name": "blue", "namespace": "default"}}]
    assert served_by(world, 3) == {"default/blue:80"}
