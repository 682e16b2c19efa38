"""manifests/ as a user applies them, proved on a real node: the Deployment becomes
Available with its probes passing and the leader Lease taken; IngressRoutes and an HTTPProxy
applied with kubectl route real traffic through the Envoy pods to the echo pods; statuses are
written by the in-cluster controller (its ServiceAccount and the manifests' RBAC); and the
plugin works through real port-forwards: envoy-dump (no --admin-url), diff, switch --wait,
wait and proxy-status."""

from __future__ import annotations

import json

from deployed import NAMESPACE, Deployed, pod_diagnostics
from nodekit import NODE_IP, wait_for

SA = f"system:serviceaccount:{NAMESPACE}:contour"


def test_deployment_available_probes_pass_lease_taken(deployed: Deployed) -> None:
    pods = deployed.contour_pods()
    assert len(pods) == 2, pod_diagnostics(deployed)
    for pod in pods:
        statuses = {c["name"]: c for c in pod["status"]["containerStatuses"]}
        assert set(statuses) == {"contour", "envoy"}
        # ready: both readiness probes pass; no restart: the liveness probe never failed
        assert all(c["ready"] and c["restartCount"] == 0 for c in statuses.values()), \
            pod_diagnostics(deployed)
        init = pod["status"]["initContainerStatuses"][0]
        assert init["state"]["terminated"]["exitCode"] == 0
    names = {p["metadata"]["name"] for p in pods}
    wait_for("the leader Lease held by a contour pod", lambda: deployed.lease_holder() in names,
             timeout=60)


def test_ingressroute_and_httpproxy_route_traffic_to_the_echo_pods(deployed: Deployed) -> None:
    blue = [deployed.send("blue-green.example.com", f"/r{i}") for i in range(8)]
    assert all(code == 200 and body.startswith("blue-") for code, body in blue), blue
    assert {body.split()[0] for _, body in blue} >= {p["metadata"]["name"] for p in
            deployed.node.get("pods", "-l", "app=blue")["items"]}, "both blue pods serve"
    code, body = deployed.send("green.example.com", "/proxy")
    assert code == 200 and body.startswith("green-") and "green.example.com/proxy" in body
    assert deployed.send("nobody.example.com")[0] == 404
    # the ClusterIP answers too, inside the node's namespace
    ip = deployed.node.get("-n", NAMESPACE, "service", "contour")["spec"]["clusterIP"]
    code, body = deployed.node.curl(f"http://{ip}/", "green.example.com")
    assert code == 200 and body.startswith("green-")
    assert ip != NODE_IP


def test_statuses_written_by_the_in_cluster_controller(deployed: Deployed) -> None:
    assert deployed.status_of("ingressroute", "blue-green-root")["currentStatus"] == "valid"
    assert deployed.status_of("ingressroute", "green")["currentStatus"] == "orphaned"
    proxy = deployed.status_of("httpproxy", "green-proxy")
    assert proxy["currentStatus"] == "valid"
    assert {c["type"]: c["status"] for c in proxy["conditions"]}["Valid"] == "True"
    # the only writer is the pod, and its ServiceAccount may write statuses, nothing more
    can = deployed.node.kubectl("auth", "can-i", "--as", SA, "update",
                                "ingressroutes.contour.heptio.com", "--subresource=status",
                                check=False)
    assert can.stdout.strip() == "yes"
    cannot = deployed.node.kubectl("auth", "can-i", "--as", SA, "update",
                                   "ingressroutes.contour.heptio.com", check=False)
    assert cannot.stdout.strip() == "no"
    logs = deployed.node.kubectl("-n", NAMESPACE, "logs", "deploy/contour", "-c", "contour")
    assert "Forbidden" not in logs.stdout and "403" not in logs.stdout


def test_envoy_dump_through_a_real_port_forward(deployed: Deployed) -> None:
    proc = deployed.plugin("envoy-dump")
    assert proc.returncode == 0, proc.stderr
    for pod in deployed.contour_pods():
        assert f"{pod['metadata']['name']}: routes" in proc.stdout
    assert "blue-green.example.com" in proc.stdout and "default/blue/80" in proc.stdout
    as_json = deployed.plugin("envoy-dump", "-o", "json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)


def test_diff_compares_every_controller_with_its_envoy(deployed: Deployed) -> None:
    proc = wait_for("diff in sync", lambda: (p := deployed.plugin("diff")).returncode == 0 and p,
                    timeout=30)
    rows = json.loads(deployed.plugin("diff", "-o", "json").stdout)
    assert {r["state"] for r in rows} == {"ok"}, proc.stdout
    assert {r["node"] for r in rows} == {p["metadata"]["name"] for p in deployed.contour_pods()}


def test_switch_wait_moves_traffic(deployed: Deployed) -> None:
    proc = deployed.plugin("switch", "blue", "green", "--yes", "--wait", "--timeout", "60")
    try:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # --wait returned: every Envoy routes to green now, no settling time needed
        answers = [deployed.send("blue-green.example.com") for _ in range(6)]
        assert all(code == 200 and body.startswith("green-") for code, body in answers), answers
    finally:
        back = deployed.plugin("switch", "green", "blue", "--yes", "--wait", "--timeout", "60")
    assert back.returncode == 0, back.stdout + back.stderr
    assert deployed.send("blue-green.example.com")[1].startswith("blue-")


def test_wait_and_proxy_status(deployed: Deployed) -> None:
    for target in ("httpproxy/green-proxy", "ingressroute/blue-green-root"):
        proc = deployed.plugin("wait", target, "--timeout", "60")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        # each of the two controllers (one per pod) says its own Envoy serves it
        assert "programmed" in proc.stdout and "at each of 2 controllers" in proc.stdout
    status = deployed.plugin("proxy-status", "-o", "json")
    assert status.returncode == 0, status.stdout + status.stderr
    rows = json.loads(status.stdout)
    assert sorted(r["pod"] for r in rows) == sorted(
        p["metadata"]["name"] for p in deployed.contour_pods())
    assert {r["state"] for r in rows} == {"synced"}
