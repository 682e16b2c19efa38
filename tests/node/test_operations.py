"""What a user does to the deployment next, each on the real node, in this order: scale
Envoy (the contour pods carry it) down and back to 2 with both serving; roll the Deployment
to a new image tag while a client hammers the NodePort, dropping no request; delete the
leader pod, after which another pod takes the Lease and statuses keep flowing; and
`kubectl delete -f manifests/`, which removes everything it made. The last one ends the
shared deployment, so this module runs after test_deployment.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from deployed import MANIFESTS, NAMESPACE, Deployed, pod_diagnostics
from nodekit import NODE_IP, NODE_SH, wait_for

HAMMER = Path(__file__).resolve().parent / "hammer.py"
IMAGE = "docker.io/library/kubectl-contour"


def _pods(deployed: Deployed) -> list[str]:
    return sorted(p["metadata"]["name"] for p in deployed.contour_pods()
                  if not p["metadata"].get("deletionTimestamp"))


def test_scale_envoy_to_one_and_back_to_two_both_serving(deployed: Deployed) -> None:
    deployed.node.kubectl("-n", NAMESPACE, "scale", "deployment/contour", "--replicas=1")
    wait_for("one contour pod left", lambda: len(deployed.contour_pods()) == 1, timeout=90)
    assert deployed.send("blue-green.example.com")[0] == 200
    deployed.node.kubectl("-n", NAMESPACE, "scale", "deployment/contour", "--replicas=2")
    deployed.wait_available()
    pods = deployed.contour_pods()
    assert len(pods) == 2, pod_diagnostics(deployed)
    for pod in pods:  # each Envoy, straight at its pod IP: both serve the routes
        ip = pod["status"]["podIP"]
        code, body = wait_for(f"{ip} serving", lambda ip=ip: (r := deployed.node.curl(
            f"http://{ip}:8080/", "blue-green.example.com"))[0] == 200 and r, timeout=30)
        assert body.startswith("blue-")


def test_rolling_update_to_a_new_tag_drops_no_request(deployed: Deployed, tmp_path: Path) -> None:
    tagged = deployed.node.ctr("images", "tag", f"{IMAGE}:latest", f"{IMAGE}:v2")
    assert tagged.returncode == 0, tagged.stderr
    before = _pods(deployed)
    stop = tmp_path / "stop"
    url = f"http://{NODE_IP}:{deployed.node_port}/"
    client = subprocess.Popen(
        ["bash", str(NODE_SH), "exec", str(deployed.node.workdir), sys.executable, str(HAMMER),
         url, "blue-green.example.com", str(stop), "240"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for("the client under way", lambda: client.poll() is None, timeout=5)
        images = [f"{c}=kubectl-contour:v2" for c in ("envoy-initconfig", "contour", "envoy")]
        deployed.node.kubectl("-n", NAMESPACE, "set", "image", "deployment/contour", *images)
        deployed.wait_available()
        # until the old pods are gone: their Envoys drain (preStop) while new ones serve
        wait_for("the old pods gone", lambda: not set(before) & {
            p["metadata"]["name"] for p in deployed.contour_pods()}, timeout=120)
    finally:
        stop.touch()
        out, err = client.communicate(timeout=30)
    result = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"stderr": err}
    assert result.get("failed") == 0 and result.get("ok", 0) > 100, result
    after = deployed.contour_pods()
    assert all(c["image"].endswith(":v2") for p in after for c in p["spec"]["containers"])
    assert not set(before) & {p["metadata"]["name"] for p in after}


def test_leader_pod_deleted_another_takes_over_statuses_keep_flowing(deployed: Deployed) -> None:
    leader = wait_for("a leader", lambda: deployed.lease_holder() in _pods(deployed)
                      and deployed.lease_holder(), timeout=60)
    deployed.node.kubectl("-n", NAMESPACE, "delete", "pod", leader, "--wait=false")
    new = wait_for("another pod holding the Lease", lambda: (h := deployed.lease_holder())
                   not in ("", leader) and h in _pods(deployed) and h, timeout=90)
    assert new != leader
    root = {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
            "metadata": {"name": "after-takeover", "namespace": "default"},
            "spec": {"virtualhost": {"fqdn": "after.example.com"},
                     "routes": [{"match": "/", "services": [{"name": "green", "port": 80}]}]}}
    deployed.node.kubectl("apply", "-f", "-", input=json.dumps(root))
    wait_for("the new root's status written by the new leader", lambda: deployed.status_of(
        "ingressroute", "after-takeover").get("currentStatus") == "valid", timeout=60)
    wait_for("the new root served", lambda: deployed.send("after.example.com")[1].startswith(
        "green-"), timeout=60)


def test_kubectl_delete_manifests_removes_everything(deployed: Deployed) -> None:
    front_door = f"http://{NODE_IP}:{deployed.node_port}/"
    assert deployed.node.curl(front_door, "blue-green.example.com")[0] == 200
    deployed.node.kubectl("delete", "-f", str(MANIFESTS), "--wait=true", timeout=240)
    gone = deployed.node.kubectl("get", "namespace", NAMESPACE, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
    crds = deployed.node.get("crd")["items"]
    assert not [c["metadata"]["name"] for c in crds if "contour" in c["metadata"]["name"]
                or c["spec"]["group"] in ("contour.heptio.com", "projectcontour.io")]
    for kind in ("clusterrole", "clusterrolebinding"):
        assert deployed.node.kubectl("get", kind, "contour", check=False).returncode != 0
    assert deployed.node.get("pods", "-A", "-l", "app=contour")["items"] == []
    # nothing answers on the front door any more
    assert deployed.node.curl(front_door, "blue-green.example.com", timeout=2)[0] == 0
