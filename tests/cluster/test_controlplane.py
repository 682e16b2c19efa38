"""The test control plane itself: kubeconfigs, identities, restart keeping etcd."""

from __future__ import annotations

import json

from kubernetes import client, config


def test_admin_kubeconfig_works_with_python_client(control_plane):
    api = client.CoreV1Api(config.new_client_from_config(str(control_plane.kubeconfig)))
    names = {ns.metadata.name for ns in api.list_namespace().items}
    assert {"default", "kube-system"} <= names
    assert control_plane.server.startswith("https://127.0.0.1:")


def test_admin_identities(control_plane):
    who = json.loads(control_plane.kubectl("auth", "whoami", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == "admin"
    assert "system:masters" in who["status"]["userInfo"]["groups"]
    kc = control_plane.token_kubeconfig(control_plane.admin_token)
    assert control_plane.kubectl("auth", "can-i", "*", "*", kubeconfig=kc).stdout.strip() == "yes"
    bad = control_plane.token_kubeconfig("not-a-token")
    proc = control_plane.kubectl("get", "ns", kubeconfig=bad, check=False)
    assert proc.returncode != 0 and "must be logged in" in proc.stderr


def test_restart_apiserver_keeps_port_and_data(control_plane):
    cp = control_plane
    server = cp.server
    cp.kubectl("create", "configmap", "survives-restart", "-n", "default",
               "--from-literal=k=v")
    old_pid = cp.apiserver_proc.pid
    cp.restart_apiserver()
    assert cp.server == server
    assert cp.apiserver_proc.pid != old_pid
    got = json.loads(cp.kubectl("get", "configmap", "survives-restart", "-n", "default",
                                "-o", "json").stdout)
    assert got["data"] == {"k": "v"}
    cp.kubectl("delete", "configmap", "survives-restart", "-n", "default")


def test_stop_and_start_apiserver(control_plane):
    cp = control_plane
    cp.stop_apiserver()
    proc = cp.kubectl("get", "ns", "--request-timeout=3s", check=False)
    assert proc.returncode != 0
    cp.start_apiserver()
    assert cp.kubectl("get", "ns", "default").returncode == 0
