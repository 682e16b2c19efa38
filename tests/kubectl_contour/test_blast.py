"""`diff --from-dir OLD --to-dir NEW` (queries/blast.py, commands/diff_dirs.py): the blast
radius of a change, offline. Each case copies a fixture folder twice, edits the second copy and
checks the route and status rows the CLI reports (-o json), and the exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, HERE
from goldens import check_golden, invoke

from kubectl_contour.objects import Snapshot
from kubectl_contour.queries.blast import overlay

ROOT = HERE.parents[1]
EXAMPLES = ROOT / "examples"
PROXIES = HERE / "fixtures" / "httpproxy"
SCENARIO_036 = ROOT.parent / "shared" / "scenarios" / "036-blue-green-switch.yaml"

Edit = tuple[str, str, str]
"""(file name, text, replacement) applied to the NEW copy; an empty text appends."""


def folders(tmp_path: Path, base: Path, edits: list[Edit]) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(base, old)
    shutil.copytree(base, new)
    for name, text, replacement in edits:
        path = new / name
        body = path.read_text() if path.exists() else ""
        if text:
            assert body.count(text) == 1, f"{text!r} must occur once in {name}"
            body = body.replace(text, replacement)
        else:
            body += replacement
        path.write_text(body)
    return old, new


def blast(old: Path, new: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = invoke(old, "diff", "--to-dir", str(new), "-o", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


def route_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(r["change"], r["listener"], r["host"], r["route"]) for r in data["routes"]]


def status_rows(data: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(s["change"], s["kind"], f"{s['namespace']}/{s['name']}") for s in data["statuses"]]


def upstreams(side: dict[str, Any] | None) -> list[tuple[str, int, float]]:
    return [(u["service"], u["port"], u["share"]) for u in (side or {}).get("upstreams", [])]


BLUE_TO_GREEN: Edit = ("blue-green.yaml", "  - match: /\n    delegate:\n      name: blue",
                       "  - match: /\n    delegate:\n      name: green")


def test_seed_blue_green_switch_repoints_exactly_one_route(tmp_path: Path) -> None:
    old, new = folders(tmp_path, EXAMPLES, [BLUE_TO_GREEN])
    code, data = blast(old, new)
    assert code == 1
    assert route_rows(data) == [("repointed", "http", "blue-green.example.com", "prefix /")]
    change = data["routes"][0]
    assert upstreams(change["before"]) == [("default/blue", 80, 100.0)]
    assert upstreams(change["after"]) == [("default/green", 80, 100.0)]
    assert change["before"]["chain"] == ["default/blue-green-root", "default/blue"]
    assert change["after"]["chain"] == ["default/blue-green-root", "default/green"]
    assert status_rows(data) == [("newly orphaned", "IngressRoute", "default/blue"),
                                 ("newly valid", "IngressRoute", "default/green")]


def test_seed_blue_green_switch_text(tmp_path: Path) -> None:
    old, new = folders(tmp_path, EXAMPLES, [BLUE_TO_GREEN])
    code, out, err = invoke(old, "diff", "--to-dir", str(new))
    assert code == 1
    assert err == "error: the change moves 1 route and changes 2 statuses\n"
    check_golden("diff-blue-green.txt", out)


def test_scenario_036_switch(tmp_path: Path) -> None:
    """The shared scenario's objects and its first `apply` step (the root now delegates to
    green): the same single re-pointed route."""
    import yaml

    scenario = yaml.safe_load(SCENARIO_036.read_text())
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "objects.yaml").write_text(scenario["objects"])
    step = next(s["apply"] for s in scenario["steps"] if "apply" in s)
    (tmp_path / "step").mkdir()
    (tmp_path / "step" / "root.yaml").write_text(step)
    old, new = folders(tmp_path, tmp_path / "base", [])
    new_objects = yaml.safe_load_all(scenario["objects"])
    kept = [o for o in new_objects if o["metadata"]["name"] != "blue-green-root"]
    (new / "objects.yaml").write_text(yaml.safe_dump_all([*kept, yaml.safe_load(step)]))
    code, data = blast(old, new)
    assert code == 1
    assert route_rows(data) == [("repointed", "http", "blue-green.bar.com", "prefix /")]


def test_no_change_exits_0(tmp_path: Path) -> None:
    old, new = folders(tmp_path, FIXTURES, [])
    code, data = blast(old, new)
    assert (code, data) == (0, {"routes": [], "statuses": []})
    assert invoke(old, "diff", "--to-dir", str(new))[1] == (
        "No change: every route and status is the same on both sides.\n")


CASES = [
    pytest.param(
        FIXTURES, [("cross-namespace.yaml", "weight: 90}", "weight: 50}"),
                   ("cross-namespace.yaml", "weight: 10}", "weight: 50}")],
        [("reweighted", "https", "www.example.com", "prefix /blog")], [],
        id="weight-change"),
    pytest.param(
        FIXTURES, [("cross-namespace.yaml", "timeoutPolicy: {request: 30s}",
                    "timeoutPolicy: {request: 10s}")],
        [("settings", "https", "www.example.com", "prefix /blog")], [],
        id="timeout-change"),
    pytest.param(
        FIXTURES, [("cross-namespace.yaml",
                    "  - match: /blog/admin\n    delegate: {name: admin}\n", "")],
        [("removed", "http", "www.example.com", "prefix /blog/admin"),
         ("removed", "https", "www.example.com", "prefix /blog/admin")],
        [("newly orphaned", "IngressRoute", "marketing/admin")],
        id="delegation-dropped-orphans-the-child"),
    pytest.param(
        FIXTURES, [("cross-namespace.yaml", "    - {name: blog-canary, port: 8080, weight: 10}",
                    "    - {name: blog-canary, port: 9999, weight: 10}")],
        [("removed", "http", "www.example.com", "prefix /blog"),
         ("removed", "http", "www.example.com", "prefix /blog/admin"),
         ("removed", "https", "www.example.com", "prefix /blog"),
         ("removed", "https", "www.example.com", "prefix /blog/admin")],
        [("newly orphaned", "IngressRoute", "marketing/admin"),
         ("newly invalid", "IngressRoute", "marketing/blog")],
        id="newly-invalid-child"),
    pytest.param(
        PROXIES, [("shop.yaml", "  - name: api-blue\n", "  - name: api-green\n")],
        [("rechained", "http", "shop.example.com", "prefix /api/v1"),
         ("repointed", "https", "shop.example.com", "prefix /api/v1")],
        [("newly orphaned", "HTTPProxy", "shop/api-blue"),
         ("newly valid", "HTTPProxy", "shop/api-green")],
        id="httpproxy-include-switch"),
    pytest.param(
        PROXIES, [("shop.yaml", "    conditions: [{prefix: /api}]",
                   "    conditions: [{prefix: /v2api}]")],
        [("removed", "http", "shop.example.com", "prefix /api/v1"),
         ("added", "http", "shop.example.com", "prefix /v2api/v1"),
         ("removed", "https", "shop.example.com", "prefix /api/v1"),
         ("added", "https", "shop.example.com", "prefix /v2api/v1")], [],
        id="httpproxy-include-prefix-change"),
    pytest.param(
        EXAMPLES, [("new-root.yaml", "", "apiVersion: contour.heptio.com/v1beta1\n"
                    "kind: IngressRoute\nmetadata: {name: green-preview, namespace: default}\n"
                    "spec:\n  virtualhost: {fqdn: preview.example.com}\n"
                    "  routes: [{match: /, delegate: {name: green}}]\n")],
        [("added", "http", "preview.example.com", "prefix /")],
        [("newly valid", "IngressRoute", "default/green"),
         ("added", "IngressRoute", "default/green-preview")],
        id="new-root-adopts-an-orphan"),
]


@pytest.mark.parametrize(("base", "edits", "routes", "statuses"), CASES)
def test_blast_radius(tmp_path: Path, base: Path, edits: list[Edit],
                      routes: list[tuple[str, ...]], statuses: list[tuple[str, ...]]) -> None:
    old, new = folders(tmp_path, base, edits)
    code, data = blast(old, new)
    assert code == 1
    assert route_rows(data) == sorted(routes, key=lambda r: (r[2], r[1], r[3]))
    assert status_rows(data) == statuses


def test_weights_show_both_splits(tmp_path: Path) -> None:
    old, new = folders(tmp_path, FIXTURES, [
        ("cross-namespace.yaml", "weight: 90}", "weight: 50}"),
        ("cross-namespace.yaml", "weight: 10}", "weight: 50}")])
    change = blast(old, new)[1]["routes"][0]
    assert upstreams(change["before"]) == [("marketing/blog", 8080, 90.0),
                                           ("marketing/blog-canary", 8080, 10.0)]
    assert upstreams(change["after"]) == [("marketing/blog", 8080, 50.0),
                                          ("marketing/blog-canary", 8080, 50.0)]


def test_settings_detail_names_what_moved(tmp_path: Path) -> None:
    old, new = folders(tmp_path, FIXTURES, [
        ("cross-namespace.yaml", "timeoutPolicy: {request: 30s}",
         "timeoutPolicy: {request: 10s}")])
    assert blast(old, new)[1]["routes"][0]["detail"] == "timeout 30s → 10s"


def test_namespace_narrows_the_rows(tmp_path: Path) -> None:
    old, new = folders(tmp_path, FIXTURES, [
        ("cross-namespace.yaml", "  - match: /blog/admin\n    delegate: {name: admin}\n", ""),
        ("blue-green.yaml", "delegate: {name: blue}", "delegate: {name: green}")])
    _, everything = blast(old, new)
    _, marketing = blast(old, new, "-n", "marketing")
    assert {r[2] for r in route_rows(everything)} == {"blue-green.example.com",
                                                      "www.example.com"}
    assert {r[2] for r in route_rows(marketing)} == {"www.example.com"}
    assert status_rows(marketing) == [("newly orphaned", "IngressRoute", "marketing/admin")]


def test_an_object_the_boundary_refuses_shows_as_invalid(tmp_path: Path) -> None:
    old, new = folders(tmp_path, EXAMPLES, [
        ("blue-green.yaml", "    delegate:\n      name: blue", "    delegate:\n      name: 7")])
    code, data = blast(old, new)
    assert code == 1
    assert ("removed", "http", "blue-green.example.com", "prefix /") in route_rows(data)
    root = next(s for s in data["statuses"] if s["name"] == "blue-green-root")
    assert (root["before"], root["after"]) == ("valid", "invalid")


def test_from_dir_without_to_dir_is_a_usage_error() -> None:
    code, _, err = invoke(FIXTURES, "diff")
    assert code == 2
    assert "add --to-dir NEW" in err


def test_overlay_replaces_same_key_and_keeps_the_rest() -> None:
    def obj(kind: str, name: str, marker: str) -> dict[str, Any]:
        return {"kind": kind, "metadata": {"namespace": "default", "name": name},
                "spec": {"marker": marker}}

    base = Snapshot((obj("Service", "a", "old"), obj("Service", "b", "old"),
                     obj("IngressRoute", "a", "old")), live=True, source="cluster")
    change = Snapshot((obj("Service", "a", "new"), obj("Service", "c", "new")), source="dir")
    merged = overlay(base, change)
    got = sorted((o["kind"], o["metadata"]["name"], o["spec"]["marker"])
                 for o in merged.objects)
    assert got == [("IngressRoute", "a", "old"), ("Service", "a", "new"),
                   ("Service", "b", "old"), ("Service", "c", "new")]
    assert merged.live


def test_blue_green_switch_on_a_terminal(tmp_path: Path) -> None:
    """The rich view (multi-line cells in a rich Table) at width 100, colour off."""
    import io

    from rich.console import Console

    from kubectl_contour.commands.diff_dirs import compute, view
    from kubectl_contour.session import Options, Session

    old, new = folders(tmp_path, EXAMPLES, [BLUE_TO_GREEN])
    model = compute(Session(Options(from_dir=str(old))), to_dir=str(new))
    out = io.StringIO()
    Console(file=out, width=100, no_color=True, color_system=None, force_terminal=False,
            highlight=False).print(view(model, rich=True))
    text = "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"
    check_golden("rich-diff-blue-green.txt", text)
