"""scripts/node.sh up and down leave the host as they found it: a node runs a pod behind a
NodePort Service (so a veth, a pod network namespace, kube-proxy's iptables rules, a shim
and the kubelet's cgroups all exist), then `down`, and the host's mounts, interfaces,
iptables rules, kernel tunables, cgroups, network namespaces and processes are compared
with what they were before `up`."""

from __future__ import annotations

from pathlib import Path

import pytest
from hoststate import leftovers, snapshot
from nodekit import Node, NodeError, wait_for

POD = """
apiVersion: v1
kind: Pod
metadata: {name: sandbox, namespace: default, labels: {app: sandbox}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: pause, image: "localhost/kcnode/pause:1", imagePullPolicy: Never}]
---
apiVersion: v1
kind: Service
metadata: {name: sandbox, namespace: default}
spec:
  type: NodePort
  selector: {app: sandbox}
  ports: [{port: 80, targetPort: 8080}]
"""


def test_up_then_down_leaves_nothing_on_the_host(tmp_path: Path) -> None:
    before = snapshot()
    node = Node(tmp_path / "node")
    try:
        node.up()
    except NodeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        node.kubectl("apply", "-f", "-", input=POD)
        wait_for("the pod Running", lambda: node.get("pod", "sandbox")["status"].get("phase")
                 == "Running", timeout=60)
        # kube-proxy's rules exist inside the node (and, checked below, nowhere on the host)
        wait_for("kube-proxy's NodePort rule", lambda: "default/sandbox" in node.exec(
            "iptables-save").stdout, timeout=30)
        assert snapshot() != before, "a running node should at least add cgroups and processes"
    finally:
        node.down()
    assert not node.workdir.exists()
    found = leftovers(before, snapshot(), node.workdir)
    assert found == {k: [] for k in found}, found
