"""`kubectl contour diff --to-dir NEW` against the real API server (real_world.py): the
cluster's objects, with NEW's applied over them, built on both sides; nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from real_world import World, ingressroute


def test_to_dir_against_the_cluster_shows_the_switch(world: World, tmp_path: Path) -> None:
    """NEW holds only the root, switched to green: one route re-pointed, blue orphaned, green
    adopted; the cluster's other objects stay as they are on both sides."""
    root = ingressroute("default", "blue-green-root", {
        "virtualhost": {"fqdn": "blue-green.example.com"},
        "routes": [{"match": "/", "delegate": {"name": "green"}}]})
    (tmp_path / "root.yaml").write_text(yaml.safe_dump(root))
    version = world.get_json("ingressroute", "-n", "default", "blue-green-root")
    done = world.contour("diff", "--to-dir", str(tmp_path), "-o", "json")
    assert done.code == 1, str(done)
    data = json.loads(done.out)
    assert [(r["change"], r["listener"], r["host"], r["route"]) for r in data["routes"]] == [
        ("repointed", "http", "blue-green.example.com", "prefix /")]
    change = data["routes"][0]
    assert [u["service"] for u in change["before"]["upstreams"]] == ["default/blue"]
    assert [u["service"] for u in change["after"]["upstreams"]] == ["default/green"]
    assert [(s["change"], s["namespace"], s["name"]) for s in data["statuses"]] == [
        ("newly orphaned", "default", "blue"), ("newly valid", "default", "green")]
    assert done.err == "error: the change moves 1 route and changes 2 statuses\n"
    after = world.get_json("ingressroute", "-n", "default", "blue-green-root")
    assert after["metadata"]["resourceVersion"] == version["metadata"]["resourceVersion"]


def test_to_dir_with_the_cluster_unchanged(world: World, tmp_path: Path) -> None:
    """NEW restates the root as it is: no change, exit 0 (text)."""
    root = ingressroute("default", "blue-green-root", {
        "virtualhost": {"fqdn": "blue-green.example.com"},
        "routes": [{"match": "/", "delegate": {"name": "blue"}}]})
    (tmp_path / "root.yaml").write_text(yaml.safe_dump(root))
    done = world.contour("diff", "--to-dir", str(tmp_path))
    assert done.code == 0, str(done)
    assert done.out == "No change: every route and status is the same on both sides.\n"
