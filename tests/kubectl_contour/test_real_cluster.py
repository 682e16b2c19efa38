"""Every read-only command as `kubectl contour ...` through the real kubectl binary, against a
real kube-apiserver, the controller reading it (`contour serve --kubeconfig`) and a real Envoy
fed by that controller (real_world.py). Text output is checked at COLUMNS=100 without colour;
what `route` predicts is checked against what Envoy answers."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from goldens import check_golden
from real_world import (
    NODE,
    RequestOptions,
    World,
    debug_xds,
    request,
    second_controller,
)

VERSION = re.compile(r"\b[0-9a-f]{16}\b")


def versions_out(text: str) -> str:
    """Content-hash versions (16 hex digits) vary with ports and keys: mask them (same
    width, so the columns stay where they are)."""
    return VERSION.sub("<hash-16-digits>", text)


def ok(done: Any, code: int = 0) -> Any:
    assert done.code == code, str(done)
    return done


# ------------------------------------------------------------------------------ views


def test_tree_golden(world: World) -> None:
    done = ok(world.contour("tree", "-A"))
    check_golden("real/tree.txt", done.out)
    assert done.err == ""


def test_tree_in_the_context_namespace(world: World) -> None:
    """No -n: the kubeconfig context's namespace (default), as kubectl does."""
    done = ok(world.contour("tree"))
    assert "blue-green.example.com (default/blue-green-root)" in done.out
    assert "www.example.com" not in done.out and "marketing/" not in done.out


def test_kubeconfig_from_the_environment(world: World) -> None:
    """$KUBECONFIG is honoured when --kubeconfig is not given."""
    import os
    import shutil

    kubectl = shutil.which("kubectl")
    assert kubectl is not None
    proc = subprocess.run([kubectl, "contour", "tree", "-A"], capture_output=True, text=True,
                          env=world.env(KUBECONFIG=str(world.kubeconfig)), timeout=60,
                          check=False, cwd=os.getcwd())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == world.contour("tree", "-A").out


def test_statuses_computed_by_the_plugin_are_those_the_controller_wrote(world: World) -> None:
    stored = {(i["metadata"]["namespace"], i["metadata"]["name"]):
              (i["status"]["currentStatus"], i["status"]["description"])
              for i in world.get_json("ingressroutes", "-A")["items"]}
    rows = json.loads(ok(world.contour("status", "-A", "-o", "json")).out)
    computed = {(r["namespace"], r["name"]): (r["status"], r["reason"])
                for r in rows if r["kind"] == "IngressRoute"}
    assert computed == stored
    assert all(r["stored_status"] == "" for r in rows)  # shown only when they differ
    check_golden("real/status.txt", ok(world.contour("status", "-A")).out)


def test_stored_statuses_from_the_api_server_are_shown_when_they_differ(world: World) -> None:
    """Assuming other controller settings (root namespaces) than the running controller's:
    the plugin's verdict differs from the stored one, and both are shown."""
    done = ok(world.contour("tree", "-A", "--root-namespaces", "roots"))
    check_golden("real/tree-root-namespaces.txt", done.out)
    assert "(default/blue-green-root) [invalid: root IngressRoute cannot be defined in this " \
           "namespace] (stored: valid: valid IngressRoute)" in " ".join(done.out.split())
    status = ok(world.contour("status", "-A", "--root-namespaces", "roots")).out
    assert status.splitlines()[0].split() == ["NAMESPACE", "NAME", "KIND", "HOSTS", "STATUS",
                                              "REASON", "STORED"]


# (route args, expected status, the same request to Envoy: scheme, host, path)
ROUTES = [
    pytest.param(["blue-green.example.com/"], 200, ("http", "blue-green.example.com", "/"),
                 "real/route-200.txt", id="200"),
    pytest.param(["www.example.com/blog/post"], 301, ("http", "www.example.com", "/blog/post"),
                 "real/route-301.txt", id="301-tls-redirect"),
    pytest.param(["--scheme", "https", "www.example.com/blog/post"], 200,
                 ("https", "www.example.com", "/blog/post"), "real/route-weights.txt",
                 id="200-weights-over-tls"),
    pytest.param(["--scheme", "https", "www.example.com/blog/admin/x"], 503,
                 ("https", "www.example.com", "/blog/admin/x"), "real/route-503.txt", id="503"),
    pytest.param(["nowhere.example.com/"], 404, ("http", "nowhere.example.com", "/"),
                 "real/route-404-no-vhost.txt", id="404-no-vhost"),
    pytest.param(["loop.example.com/back"], 404, ("http", "loop.example.com", "/back"),
                 "real/route-404-no-route.txt", id="404-no-route"),
]


@pytest.mark.parametrize(("args", "status", "req", "golden"), ROUTES)
def test_route_explains_what_envoy_does(world: World, args: list[str], status: int,
                                        req: tuple[str, str, str], golden: str) -> None:
    done = world.contour("route", *args)
    assert done.code == (0 if status in (200, 301) else 1), str(done)
    check_golden(golden, addresses_out(done.out, world))
    data = json.loads(world.contour("route", *args, "-o", "json").out)
    assert data["status"] == status
    scheme, host, path = req
    port = world.ports.https if scheme == "https" else world.ports.http
    answer = request(port, RequestOptions(host=host, path=path, scheme=scheme, timeout=5))
    assert answer.status == status, answer.summary()
    if status == 200:
        assert answer.backend in {f"{b['namespace']}/{b['service']}:{b['port']}"
                                  for b in data["backends"]}
        # the backend that answered listens at one of the endpoints route names
        listening = (world.ip, world.backend_port(answer.backend))
        assert listening in {(e["address"], e["port"]) for b in data["backends"]
                             for e in b["endpoints"]}


def addresses_out(text: str, world: World) -> str:
    """Endpoint addresses are this machine's (the backends' test host) with ports allocated
    per run: mask them. They end their lines (the last column), so the columns stay put."""
    return re.sub(r"(\S+):\d+$", lambda m: f"{'<backend-ip>' if m[1] == world.ip else m[1]}"
                  ":<port>", text, flags=re.MULTILINE)


def test_endpoints_of_a_service(world: World) -> None:
    rows = json.loads(ok(world.contour("endpoints", "green", "-o", "json")).out)
    port = world.backend_port("default/green:80")
    assert [(r["address"], r["target_port"], r["ready"], r["target"]) for r in rows] == [
        (world.ip, port, True, "green-0"), ("198.19.255.250", port, False, "green-1")]
    text = ok(world.contour("endpoints", "default/blue")).out.splitlines()
    assert text[0].split() == ["NAMESPACE", "SERVICE", "PORT", "ADDRESS", "TARGET", "PORT",
                               "READY", "TARGET"]
    assert text[1].split() == ["default", "blue", "80/http", world.ip,
                               str(world.backend_port("default/blue:80")), "yes", "blue-0"]
    done = world.contour("endpoints", "nope")
    assert done.code == 3 and "not found" in done.err


def test_endpoints_of_a_route(world: World) -> None:
    rows = json.loads(ok(world.contour("endpoints", "--scheme", "https",
                                       "www.example.com/blog", "-o", "json")).out)
    assert sorted((r["service"], r["address"], r["target_port"]) for r in rows) == [
        ("blog", world.ip, world.backend_port("marketing/blog:8080")),
        ("blog-canary", world.ip, world.backend_port("marketing/blog-canary:8080"))]
    done = world.contour("endpoints", "nowhere.example.com/")
    assert done.code == 3 and "no virtual host" in done.err


# ------------------------------------------------------------------------------ Envoy


@pytest.mark.parametrize("kind", ["routes", "clusters"])
def test_envoy_dump_tables(world: World, kind: str) -> None:
    done = ok(world.contour("envoy-dump", "--admin-url", world.admin_url, "--type", kind))
    check_golden(f"real/envoy-dump-{kind}.txt",
                 versions_out(done.out).replace(world.admin_url, "ADMIN"))


def test_envoy_dump_all(world: World) -> None:
    out = ok(world.contour("envoy-dump", "--admin-url", world.admin_url, "--type", "all")).out
    titles = [line for line in out.splitlines() if line.startswith(world.admin_url)]
    assert titles == [f"{world.admin_url}: {k}" for k in
                      ("listeners", "routes", "clusters", "endpoints", "secrets")]
    for ident in ("default/blue:80", "roots/www:80", "marketing/blog:8080"):
        assert f"{world.ip}:{world.backend_port(ident)}" in out
    assert re.search(r"roots/www-tls/\w+\s+tls_certificate\s+\[redacted\]", out)
    assert f"127.0.0.1:{world.ports.https}" in out and "www.example.com" in out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_envoy_dump_machine_output_has_no_private_key(world: World, fmt: str) -> None:
    done = ok(world.contour("envoy-dump", "--admin-url", world.admin_url, "-o", fmt))
    data = json.loads(done.out) if fmt == "json" else yaml.safe_load(done.out)
    assert any("SecretsConfigDump" in c["@type"] for c in data["config_dump"]["configs"])
    assert "PRIVATE KEY" not in done.out
    secret = world.get_json("secret", "www-tls", "-n", "roots")
    key_b64 = secret["data"]["tls.key"]
    import base64

    key_body = base64.b64decode(key_b64).decode().splitlines()[1]
    assert key_b64[:40] not in done.out and key_body not in done.out
    assert "[redacted]" in done.out


def test_diff_in_sync(world: World) -> None:
    world.wait_for("in sync", lambda: world.contour(
        "diff", "--admin-url", world.admin_url, "--contour-url", world.contour_url).code == 0)
    done = ok(world.contour("diff", "--admin-url", world.admin_url,
                            "--contour-url", world.contour_url))
    check_golden("real/diff-in-sync.txt", versions_out(done.out))
    rows = json.loads(ok(world.contour("diff", "--admin-url", world.admin_url,
                                       "--contour-url", world.contour_url, "-o", "json")).out)
    assert {(r["node"], r["state"]) for r in rows} == {(NODE, "ok")}
    versions = debug_xds(world.ports.debug)["versions"]
    assert sorted(r["serving"] for r in rows) == sorted(v for v in versions.values())


def test_diff_against_another_controller(world: World, tmp_path: Path) -> None:
    """A second controller serving other objects: our Envoy is not connected to it (missing);
    a second Envoy with the same node id connected to it makes ours drift; once stopped, the
    controller is unreachable (exit 4)."""
    from real_world import Envoy, finish_bootstrap, start_bootstrap

    other = second_controller(tmp_path, [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "o"},
         "spec": {"ports": [{"port": 80}]}},
        {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
         "metadata": {"name": "r", "namespace": "o"},
         "spec": {"virtualhost": {"fqdn": "other.example.com"},
                  "routes": [{"match": "/", "services": [{"name": "s", "port": 80}]}]}}])
    world.extra.append(other)
    try:
        other.wait_healthy()
        url = f"http://127.0.0.1:{other.ports.debug}"
        done = world.contour("diff", "--admin-url", world.admin_url, "--contour-url", url,
                             "-o", "json")
        assert done.code == 1, str(done)
        assert {(r["state"], r["detail"]) for r in json.loads(done.out)} == {
            ("missing", f"{world.admin_url} is not connected to the controller")}
        assert "Envoy configuration differs" in done.err

        boot = tmp_path / "other-bootstrap.json"
        ports = other.ports  # its Envoy admin port is free: no Envoy uses it yet
        finish_bootstrap(start_bootstrap(boot, ports, tmp_path / "boot.log"), boot)
        twin = Envoy(tmp_path, boot, NODE, ports.admin)  # same node id, other controller
        world.extra.append(twin)
        world.wait_for("the twin Envoy acked the other controller's routes", lambda: any(
            n["node"] == NODE and any(t.get("acked") for t in n["types"].values())
            for n in debug_xds(other.ports.debug)["nodes"]), timeout=30)
        done = world.contour("diff", "--admin-url", world.admin_url, "--contour-url", url)
        assert done.code == 1, str(done)
        states = {line.split()[1]: line.split()[6] for line in done.out.splitlines()[1:]}
        assert states["routes"] == "drift" and states["clusters"] == "drift", done.out
        twin.stop()
    finally:
        other.stop()
    done = world.contour("diff", "--admin-url", world.admin_url, "--contour-url", url)
    assert done.code == 4 and f"{url}/debug/xds" in done.err, str(done)


def test_envoy_dump_unreachable_admin(world: World) -> None:
    done = world.contour("envoy-dump", "--admin-url", "http://127.0.0.1:1")
    assert done.code == 4 and "http://127.0.0.1:1/config_dump" in done.err


# ------------------------------------------------------------------------------ port-forward


POD = """apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: heptio-contour, labels: {{app: contour}}}}
spec:
  {node}containers: [{{name: envoy, image: envoyproxy/envoy:v1.31.0,
                     ports: [{{containerPort: 9001}}, {{containerPort: 6060}}]}}]
"""


def make_pod(world: World, name: str, *, node: str = "", phase: str = "") -> None:
    world.kubectl("apply", "-f", "-", input=POD.format(
        name=name, node=f"nodeName: {node}\n  " if node else ""))
    if phase:  # nothing runs pods here: say it runs, so the port-forward is attempted
        world.kubectl("patch", "pod", name, "-n", "heptio-contour", "--subresource=status",
                      "--type=merge", "-p", json.dumps({"status": {"phase": phase}}))


@pytest.fixture
def pods(world: World) -> Any:
    made: list[str] = []

    def make(name: str, **kw: str) -> None:
        made.append(name)
        make_pod(world, name, **kw)

    yield make
    if made:  # pods on a node wait for a kubelet to confirm deletion: force it
        world.kubectl("delete", "pod", "-n", "heptio-contour", "--force", "--grace-period=0",
                      "--wait=false", *made, check=False)


def timed(world: World, *args: str, limit: float = 30.0) -> Any:
    t0 = time.monotonic()
    done = world.contour(*args)
    assert time.monotonic() - t0 < limit, f"over {limit}s: {done}"
    return done


def test_port_forward_no_pod_matches(world: World) -> None:
    done = timed(world, "envoy-dump")
    assert done.code == 3, str(done)
    assert done.err.splitlines()[0] == "error: no pod in heptio-contour matches app=contour"
    assert "--admin-url" in done.err  # the hint
    done = timed(world, "diff", "--admin-url", world.admin_url)
    assert done.code == 3 and "no pod in heptio-contour matches app=contour" in done.err


def test_port_forward_pod_not_scheduled(world: World, pods: Any) -> None:
    pods("envoy-pending")
    done = timed(world, "envoy-dump")
    assert done.code == 4, str(done)
    assert done.err.splitlines()[0] == (
        "error: no running pod in heptio-contour matches app=contour "
        "(envoy-pending is Pending, no node assigned)")
    done = timed(world, "envoy-dump", "envoy-pending")
    assert done.code == 4, str(done)
    assert done.err.splitlines()[0] == ("error: cannot port-forward to pod "
                                        "heptio-contour/envoy-pending: it is Pending, no node "
                                        "assigned")
    done = timed(world, "envoy-dump", "nope")
    assert done.code == 3 and "pod heptio-contour/nope not found" in done.err


def test_port_forward_running_pod_without_node(world: World, pods: Any) -> None:
    """The API server refuses the port-forward (no host); kubectl's fallback too: both said."""
    pods("envoy-nohost", phase="Running")
    done = timed(world, "envoy-dump", "envoy-nohost", "--type", "routes")
    assert done.code == 4, str(done)
    first = done.err.splitlines()[0]
    assert first.startswith("error: cannot port-forward to heptio-contour/envoy-nohost:9001: "
                            "pod envoy-nohost does not have a host assigned (HTTP 400); "
                            "kubectl fallback: "), first
    assert first.endswith("pod envoy-nohost does not have a host assigned"), first
    assert "Traceback" not in done.err
    done = timed(world, "diff", "--admin-url", world.admin_url)  # the controller side: 6060
    assert done.code == 4 and "envoy-nohost:6060" in done.err, str(done)


def test_port_forward_pod_on_a_missing_node(world: World, pods: Any) -> None:
    pods("envoy-lost", node="node-gone", phase="Running")
    done = timed(world, "envoy-dump", "envoy-lost")
    assert done.code == 4, str(done)
    assert "cannot port-forward to heptio-contour/envoy-lost:9001" in done.err
    assert "kubectl fallback" in done.err
    assert "(the pod's node node-gone does not exist)" in done.err


# ------------------------------------------------------------------------------ CLI


HEAVY = ("controller", "grpc", "google", "rich", "yaml", "envoy", "xds", "validate", "udpa")
"""Packages `--help` must not import: the deterministic proxy of a fast start (a timed
assertion here failed at 0.53 s against 0.3 s on a loaded 2-core machine; these packages
are what made a start slow, tens to hundreds of ms each)."""


def test_help_through_kubectl_imports_nothing_heavy(world: World) -> None:
    done = world.contour("--help", kubeconfig=False, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.code == 0 and "Usage" in done.out, str(done)
    imported = {line.split("|")[-1].strip() for line in done.err.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert len(imported) > 50  # the profile was read
    assert sorted(m for m in imported if m.split(".")[0] in HEAVY) == []
