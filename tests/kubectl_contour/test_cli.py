"""The CLI on the fixture folder (offline, --from-dir): golden text at COLUMNS=100 with colour
off, machine output, exit codes, and kubectl-style flags anywhere on the line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from goldens import check_golden, invoke
from typer.testing import CliRunner

from kubectl_contour.cli import app

GOLDEN_CASES = [
    pytest.param(["tree"], "tree.txt", 0, id="tree-all"),
    pytest.param(["tree", "roots/www"], "tree-www.txt", 0, id="tree-one-root"),
    pytest.param(["tree", "-n", "marketing"], "tree-marketing.txt", 0, id="tree-namespace"),
    pytest.param(["status"], "status.txt", 0, id="status"),
    pytest.param(["route", "blue-green.example.com/"], "route-blue-green.txt", 0, id="route-200"),
    pytest.param(["route", "www.example.com/blog/post"], "route-redirect.txt", 0, id="route-301"),
    pytest.param(["route", "--scheme", "https", "www.example.com/blog/post"],
                 "route-weights.txt", 0, id="route-weights"),
    pytest.param(["route", "--scheme", "https", "www.example.com/blog/admin/x"],
                 "route-503.txt", 1, id="route-503"),
    pytest.param(["route", "--scheme", "https", "WWW.Example.com:443/api/v2"],
                 "route-invalid-child.txt", 0, id="route-invalid-child-falls-through"),
    pytest.param(["route", "loop.example.com/back"], "route-404-no-route.txt", 1,
                 id="route-404-no-route"),
    pytest.param(["route", "nowhere.example.com/"], "route-404-no-vhost.txt", 1,
                 id="route-404-no-vhost"),
    pytest.param(["route", "legacy.example.com/x"], "route-ingress.txt", 0, id="route-ingress"),
    pytest.param(["endpoints", "green"], "endpoints-green.txt", 0, id="endpoints-service"),
    pytest.param(["endpoints", "--scheme", "https", "www.example.com/blog"],
                 "endpoints-route.txt", 0, id="endpoints-route"),
    pytest.param(["switch", "blue", "green", "--dry-run"], "switch-dry-run.txt", 0,
                 id="switch-dry-run"),
    pytest.param(["switch", "blue", "marketing/admin", "--dry-run"], "switch-refused.txt", 1,
                 id="switch-refused-no-endpoints"),
]


@pytest.mark.parametrize(("args", "golden", "code"), GOLDEN_CASES)
def test_golden(fixtures_dir: Path, args: list[str], golden: str, code: int) -> None:
    exit_code, out, err = invoke(fixtures_dir, *args)
    assert exit_code == code, err
    check_golden(golden, out)


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_tree_machine_output(fixtures_dir: Path, fmt: str) -> None:
    code, out, _ = invoke(fixtures_dir, "tree", "-o", fmt)
    data = json.loads(out) if fmt == "json" else yaml.safe_load(out)
    assert code == 0
    assert [r["name"] for r in data["roots"]] == ["blue-green-root", "broken", "loop-root", "www"]
    assert [o["name"] for o in data["orphans"]] == ["green", "lonely"]
    loop = data["roots"][2]["routes"][0]["child"]
    assert loop["status"] == "invalid"
    assert loop["routes"][1]["note"] == "cycle"


def test_status_json(fixtures_dir: Path) -> None:
    code, out, _ = invoke(fixtures_dir, "status", "-o", "json")
    rows = {(r["namespace"], r["name"]): r for r in json.loads(out)}
    assert code == 0
    assert rows[("marketing", "api")]["status"] == "invalid"
    assert rows[("default", "other-class")]["status"] == "ignored"
    assert rows[("default", "legacy")]["status"] == "served"


def test_route_json_explains_weights(fixtures_dir: Path) -> None:
    code, out, _ = invoke(fixtures_dir, "route", "--scheme=https", "www.example.com/blog", "-o",
                          "json")
    data = json.loads(out)
    assert code == 0 and data["status"] == 200
    assert [(b["service"], b["share"]) for b in data["backends"]] == [("blog", 90.0),
                                                                      ("blog-canary", 10.0)]
    assert [c["name"] for c in data["chain"]] == ["www", "blog"]


def test_route_json_names_the_endpoints(fixtures_dir: Path) -> None:
    """Ready and not-ready addresses with their ports and pods (Endpoints' notReadyAddresses;
    an EndpointSlice's ready condition)."""
    def endpoints(target: str, *flags: str) -> list[tuple[str, int, bool, str]]:
        data = json.loads(invoke(fixtures_dir, "route", *flags, target, "-o", "json")[1])
        return [(e["address"], e["port"], e["ready"], e["target"])
                for b in data["backends"] for e in b["endpoints"]]

    assert endpoints("www.example.com/", "--scheme=https") == [
        ("10.1.0.5", 8000, True, "www-0"), ("10.1.0.6", 8000, False, "www-1")]
    assert endpoints("blue-green.example.com/") == [
        ("10.0.0.11", 8080, True, "blue-7d9f-abcde"), ("10.0.0.12", 8080, True,
                                                        "blue-7d9f-fghij")]


@pytest.mark.parametrize(("args", "code", "message"), [
    pytest.param(["tree", "nope"], 3, "not found", id="not-found"),
    pytest.param(["switch", "nope", "green", "--dry-run"], 3, "not found", id="switch-unknown"),
    pytest.param(["switch", "green", "blue", "--dry-run"], 1, "no root IngressRoute route",
                 id="switch-nothing-delegates"),
    pytest.param(["switch", "blue", "green"], 2, "read-only", id="switch-offline-needs-dry-run"),
    pytest.param(["route", "x.example.com", "--scheme", "ftp"], 2, "--scheme", id="bad-scheme"),
    pytest.param(["tree", "-o", "xml"], 2, "unknown output format", id="bad-output"),
    pytest.param(["endpoints", "nope"], 3, "not found", id="endpoints-unknown-service"),
    pytest.param(["envoy-dump", "--type", "bogus", "--admin-url", "http://127.0.0.1:9"], 2,
                 "--type", id="envoy-dump-bad-type"),
])
def test_exit_codes(fixtures_dir: Path, args: list[str], code: int, message: str) -> None:
    exit_code, _, err = invoke(fixtures_dir, *args)
    assert exit_code == code
    assert message in err


def test_ambiguous_name_is_a_usage_error(tmp_path: Path, fixtures_dir: Path) -> None:
    for f in fixtures_dir.iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "dup.yaml").write_text(
        "apiVersion: contour.heptio.com/v1beta1\nkind: IngressRoute\n"
        "metadata: {name: blue, namespace: marketing}\nspec: {routes: []}\n")
    code, _, err = invoke(tmp_path, "switch", "blue", "green", "--dry-run")
    assert code == 2 and "ambiguous" in err and "default/blue, marketing/blue" in err
    code, out, _ = invoke(tmp_path, "switch", "blue", "green", "--dry-run", "-n", "default")
    assert code == 0 and "blue-green.example.com" in out


def test_global_flags_after_the_command(fixtures_dir: Path) -> None:
    result = CliRunner().invoke(app, ["tree", "-n", "default", "--from-dir", str(fixtures_dir),
                                      "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert {r["namespace"] for r in json.loads(result.stdout)["roots"]} == {"default"}


def test_switch_dry_run_json_has_the_patch_plan(fixtures_dir: Path) -> None:
    code, out, _ = invoke(fixtures_dir, "switch", "blue", "green", "--dry-run", "-o", "json")
    plan = json.loads(out)
    assert code == 0
    assert plan["changes"] == [{"root": ["default", "blue-green-root"],
                                "fqdn": "blue-green.example.com", "index": 0, "match": "/",
                                "old": {"name": "blue"}, "new": {"name": "green"}}]
    assert all(c["ok"] for c in plan["checks"])


def test_help_documents_exit_codes() -> None:
    result = CliRunner().invoke(app, ["--help"], prog_name="kubectl contour")
    assert result.exit_code == 0
    assert "Exit codes: 0 ok; 1" in " ".join(result.stdout.split())


def test_status_shows_what_the_validation_boundary_rejected(tmp_path: Path) -> None:
    """The plugin reads files through the controller's own boundary: a rejected object is
    absent for every command and listed by `status` with its path and reason (issue 7)."""
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\n"
        "spec: {ports: [{port: 70000}]}\n---\n"
        "apiVersion: contour.heptio.com/v1beta1\nkind: IngressRoute\n"
        "metadata: {name: r, namespace: default}\n"
        "spec: {virtualhost: {fqdn: a.example.com}, routes: 3}\n")
    code, out, _ = invoke(tmp_path, "status", "-o", "json")
    rows = {(r["kind"], r["name"]): r for r in json.loads(out)}
    assert code == 0
    assert rows[("Service", "s")]["status"] == "rejected"
    assert "spec.ports[0].port" in rows[("Service", "s")]["reason"]
    assert rows[("IngressRoute", "r")]["status"] == "invalid"
    assert "spec.routes" in rows[("IngressRoute", "r")]["reason"]
