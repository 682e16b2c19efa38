"""`analyze` on fixture folders: one folder per code (fixtures/analyze/<code>/) that produces
exactly that code, a clean folder that produces none, the health-check finding from an
Envoy's /clusters answer, and the command itself offline (text, -o json, exit codes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from goldens import invoke

from kubectl_contour.queries.analyze import analyze, inputs_for
from kubectl_contour.queries.analyze_model import CODES
from kubectl_contour.session import Options, Session
from kubectl_contour.sources import load_dir

FOLDERS = Path(__file__).parent / "fixtures" / "analyze"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
"""Certificates in the fixtures are judged at this time (CTR3006's expires 2030-01-20)."""


def findings(folder: Path, *, envoys: tuple[tuple[str, Any], ...] = (),
             scope: str | None = None) -> list[Any]:
    settings = Session(Options(from_dir=str(folder))).builder_settings()
    return analyze(inputs_for(load_dir(folder), settings, now=NOW, envoys=envoys), scope=scope)


def codes(found: list[Any]) -> set[str]:
    return {f.code for f in found}


# (folder, the codes it produces, the objects named)
CASES = [
    ("clean", set(), set()),
    ("CTR1001", {"CTR1001"}, {"IngressRoute default/lonely", "HTTPProxy default/lonely-proxy"}),
    ("CTR1002", {"CTR1002"}, {"IngressRoute default/root", "HTTPProxy default/shop"}),
    ("CTR1003", {"CTR1003"}, {"IngressRoute default/root", "HTTPProxy default/shop"}),
    ("CTR1004", {"CTR1004"}, {"IngressRoute default/root"}),
    ("CTR1005", {"CTR1005"}, {"HTTPProxy default/shop"}),
    ("CTR1006", {"CTR1006"}, {"Ingress default/legacy"}),
    ("CTR2001", {"CTR2001"}, {"IngressRoute default/root", "IngressRoute default/twice"}),
    ("CTR2002", {"CTR2002"}, {"HTTPProxy default/shop"}),
    ("CTR2003", {"CTR2003"}, {"IngressRoute default/root"}),
    ("CTR2004", {"CTR2004"}, {"IngressRoute default/root"}),
    ("CTR2005", {"CTR2005"}, {"IngressRoute default/root"}),
    ("CTR2006", {"CTR2006"}, {"HTTPProxy default/shop"}),
    ("CTR2007", set(), set()),  # no Envoy asked: see test_failing_health_check
    ("CTR3001", {"CTR3001"}, {"HTTPProxy default/one", "HTTPProxy default/two",
                              "IngressRoute default/first", "IngressRoute default/second"}),
    ("CTR3002", {"CTR3002"}, {"IngressRoute default/old-shop"}),
    ("CTR3003", {"CTR3003"}, {"Ingress default/legacy"}),
    ("CTR3004", {"CTR3004"}, {"IngressRoute apps/root", "HTTPProxy apps/shop"}),
    ("CTR3005", {"CTR3005"}, {"Secret default/old-tls"}),
    ("CTR3006", {"CTR3006"}, {"Secret default/soon-tls"}),
    ("CTR3007", {"CTR3007"}, {"HTTPProxy default/shop", "Ingress default/legacy"}),
    ("CTR4001", {"CTR4001"}, {"Ingress default/nginx", "IngressRoute default/root"}),
    ("CTR5001", {"CTR5001"}, {"HTTPRoute default/app"}),
    ("CTR5002", {"CTR5002"}, {"HTTPRoute default/app"}),
    ("CTR5003", {"CTR5003"}, {"HTTPRoute default/app"}),
    ("CTR5004", {"CTR5004"}, {"Gateway default/gw"}),
    ("CTR5005", {"CTR5005"}, {"HTTPRoute default/app"}),
]


@pytest.mark.parametrize(("folder", "expected", "objects"), CASES, ids=[c[0] for c in CASES])
def test_each_fixture_gives_exactly_its_code(folder: str, expected: set[str],
                                             objects: set[str]) -> None:
    found = findings(FOLDERS / folder)
    assert codes(found) == expected
    assert {f"{f.kind} {f.namespace}/{f.name}" for f in found} == objects


def test_every_code_has_a_fixture() -> None:
    assert sorted(p.name for p in FOLDERS.iterdir()) == sorted([*CODES, "clean"])
    assert {c[0] for c in CASES} == {*CODES, "clean"}


def clusters_answer(folder: Path, failing: bool) -> dict[str, Any]:
    """What Envoy's /clusters?format=json says of the folder's health-checked cluster: two
    hosts, the first failing its active health check when `failing`."""
    from controller.envoy.names import cluster_name

    settings = Session(Options(from_dir=str(folder))).builder_settings()
    dag = inputs_for(load_dir(folder), settings, now=NOW).dag
    name = cluster_name(dag.http[0].routes[0].clusters[0])
    hosts = [{"address": {"socket_address": {"address": f"10.0.0.{i}", "port_value": 8080}},
              "health_status": {"eds_health_status": "HEALTHY",
                                **({"failed_active_health_check": True}
                                   if failing and i == 1 else {})}} for i in (1, 2)]
    return {"cluster_statuses": [{"name": "other", "host_statuses": hosts},
                                 {"name": name, "host_statuses": hosts}]}


def test_failing_health_check() -> None:
    folder = FOLDERS / "CTR2007"
    found = findings(folder, envoys=(("envoy-0", clusters_answer(folder, True)),))
    assert [(f.code, f.severity, f.name) for f in found] == [("CTR2007", "warning", "root")]
    assert found[0].message == (
        "prefix / on web.example.com: health check /healthz on Service default/web:80 fails "
        "on 1 of 2 endpoints (10.0.0.1:8080) in Envoy envoy-0")
    assert findings(folder, envoys=(("envoy-0", clusters_answer(folder, False)),)) == []


def test_findings_are_sorted_most_severe_first() -> None:
    found = findings(FOLDERS / "CTR3001") + findings(FOLDERS / "CTR1001")
    from kubectl_contour.queries.analyze_model import Finding

    ordered = sorted(found, key=Finding.sort_key)
    assert [f.severity for f in ordered] == ["error"] * 4 + ["warning"] * 2
    assert [f.name for f in findings(FOLDERS / "CTR3001")] == ["first", "one", "second", "two"]


def test_scope_narrows_to_one_namespace() -> None:
    assert findings(FOLDERS / "CTR3004", scope="default") == []
    assert len(findings(FOLDERS / "CTR3004", scope="apps")) == 2


# ------------------------------------------------------------------------------ the command


def test_text_and_exit_code_on_errors() -> None:
    code, out, err = invoke(FOLDERS / "CTR1002", "analyze")
    assert code == 1
    assert err == "error: analyze found 2 error(s)\n"
    assert out.splitlines() == [
        "Error [CTR1002] (IngressRoute default/root) route /blog delegates to IngressRoute "
        "default/blog, which does not exist: the path is not served (404)",
        "    hint: " + CODES["CTR1002"].hint,
        "Error [CTR1002] (HTTPProxy default/shop) include (prefix /x) names HTTPProxy "
        "default/nope, which does not exist: its conditions answer 502",
        "    hint: " + CODES["CTR1002"].hint,
        "",
        "2 errors, 0 warnings, 0 info",
    ]


def test_warnings_only_exit_zero_and_json() -> None:
    code, out, _ = invoke(FOLDERS / "CTR1001", "analyze", "-o", "json")
    assert code == 0
    data = json.loads(out)
    assert [(d["code"], d["severity"], d["kind"], d["namespace"], d["name"]) for d in data] == [
        ("CTR1001", "warning", "IngressRoute", "default", "lonely"),
        ("CTR1001", "warning", "HTTPProxy", "default", "lonely-proxy")]
    assert set(data[0]) == {"code", "severity", "kind", "namespace", "name", "message", "hint"}


def test_clean_folder() -> None:
    """Judged at the real time: the clean folder's certificates are valid until 2099."""
    assert invoke(FOLDERS / "clean", "analyze") == (0, "No findings.\n", "")
    assert invoke(FOLDERS / "clean", "analyze", "-o", "yaml")[1] == "[]\n"


@pytest.mark.parametrize("args", [["--apply-dir", "x"], ["--admin-url", "http://127.0.0.1:1"]])
def test_flags_that_need_a_cluster(args: list[str]) -> None:
    code, _, err = invoke(FOLDERS / "clean", "analyze", *args)
    assert code == 2 and "drop --from-dir" in err


def test_rich_view_says_what_the_plain_one_does() -> None:
    import io

    from rich.console import Console

    from kubectl_contour.queries.analyze import counts
    from kubectl_contour.render.analyze import findings_view

    found = findings(FOLDERS / "CTR1002")
    console = Console(width=300, no_color=True, record=True, file=io.StringIO())
    console.print(findings_view(found, counts(found), rich=True))
    plain = findings_view(found, counts(found), rich=False)
    assert console.export_text().rstrip("\n") == plain
