"""`contour` flag rules (spec §4): refusals are exit 2 with Contour's messages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from controller.cli import app
from controller.cli_commands import (
    UsageError,
    fallback_certificate,
    load_config_file,
    root_namespaces,
    tls_files,
)
from controller.config import ConfigError

runner = CliRunner()


def test_serve_needs_tls_or_insecure():
    with pytest.raises(UsageError, match="no TLS parameters and --insecure not supplied"):
        tls_files(False, "", "", "")


def test_serve_partial_tls_is_refused():
    with pytest.raises(UsageError, match="you must supply all three TLS parameters"):
        tls_files(False, "ca.pem", "", "")


def test_insecure_ignores_tls_files():
    assert tls_files(True, "ca.pem", "", "").given() == 0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", frozenset()), ("  ", frozenset()), ("a, b ,,c", frozenset({"a", "b", "c"}))],
    ids=["empty", "blank", "trimmed"],
)
def test_root_namespaces(value, expected):
    assert root_namespaces(value) == expected


def test_config_file(tmp_path: Path):
    cfg = tmp_path / "contour.yaml"
    cfg.write_text("disablePermitInsecure: true\ntls:\n  minimum-protocol-version: '1.2'\n")
    assert load_config_file(str(cfg)) == {"disablePermitInsecure": True,
                                          "tls": {"minimum-protocol-version": "1.2"}}
    with pytest.raises(UsageError, match="no such file"):
        load_config_file(str(tmp_path / "missing.yaml"))
    cfg.write_text("- a list\n")
    with pytest.raises(UsageError, match="expected a mapping"):
        load_config_file(str(cfg))


def test_bootstrap_writes_ads_json(tmp_path: Path):
    out = tmp_path / "envoy.json"
    result = runner.invoke(app, ["bootstrap", str(out), "--xds-port", "9999",
                                 "--admin-port", "19001"])
    assert result.exit_code == 0, result.output
    boot = json.loads(out.read_text())
    assert boot["admin"]["address"]["socket_address"]["port_value"] == 19001
    assert "ads_config" in boot["dynamic_resources"]
    xds = [c for c in boot["static_resources"]["clusters"] if c["name"] == "contour"][0]
    endpoint = xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["port_value"] == 9999


def test_bootstrap_partial_tls_is_refused(tmp_path: Path):
    with pytest.raises(UsageError, match="--envoy-cafile, --envoy-cert-file"):
        runner.invoke(app, ["bootstrap", str(tmp_path / "x.json"), "--envoy-cafile", "ca"],
                      catch_exceptions=False)


def test_cli_rejects_unknown_output():
    with pytest.raises(UsageError, match="expected yaml or json"):
        runner.invoke(app, ["cli", "-o", "xml", "lds"], catch_exceptions=False)


def test_cli_has_a_subcommand_per_type_srds_included():
    result = runner.invoke(app, ["cli", "--help"])
    for short in ("lds", "rds", "srds", "cds", "eds", "sds"):
        assert f" {short} " in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source-dir", "/nonexistent"], "--source-dir /nonexistent: not a directory"),
        (["--kubeconfig", "/nonexistent/kubeconfig"], "no cluster to watch"),
        ([], "no TLS parameters and --insecure not supplied"),
    ],
    ids=["missing-folder", "missing-kubeconfig", "no-tls"],
)
def test_serve_startup_errors_are_clear(args, message):
    import subprocess
    import sys

    insecure = [] if not args else ["--insecure"]
    proc = subprocess.run([sys.executable, "-m", "controller", "serve", *insecure, *args,
                           "--xds-port", "0", "--http-port", "0", "--debug-http-port", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


# -- v1.x settings: --root-namespaces, tls.fallback-certificate ------------------------------


def serve_settings(monkeypatch: pytest.MonkeyPatch, *args: str):
    """The Settings `contour serve ARGS` would run with (the server itself is not started)."""
    import controller.app

    seen = []

    async def fake_serve(settings, *, first_reader=None) -> None:
        seen.append(settings)

    monkeypatch.setattr(controller.app, "serve", fake_serve)
    result = runner.invoke(app, ["serve", "--insecure", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (settings,) = seen
    return settings


@pytest.mark.parametrize("flag", ["--root-namespaces", "--ingressroute-root-namespaces"])
def test_root_namespaces_flag_and_its_alias(monkeypatch, flag):
    settings = serve_settings(monkeypatch, flag, "roots, more,")
    assert settings.builder.root_namespaces == frozenset({"roots", "more"})


def test_fallback_certificate_from_the_config_file(monkeypatch, tmp_path: Path):
    cfg = tmp_path / "contour.yaml"
    cfg.write_text("tls:\n  fallback-certificate:\n    name: fallback-secret\n"
                   "    namespace: default\n")
    settings = serve_settings(monkeypatch, "-c", str(cfg))
    assert settings.builder.fallback_certificate == ("default", "fallback-secret")
    assert serve_settings(monkeypatch).builder.fallback_certificate is None


@pytest.mark.parametrize(("value", "message"), [
    ({"name": "x"}, "tls.fallback-certificate.namespace must be a non-empty string"),
    ({"name": "", "namespace": "default"}, "tls.fallback-certificate.name must be a non-empty"),
    ({"name": 5, "namespace": "default"}, "tls.fallback-certificate.name must be a non-empty"),
    ("default/x", "tls.fallback-certificate must be a mapping with exactly `name` and"),
    ({"name": "x", "namespace": "y", "kind": "Secret"}, "must be a mapping with exactly"),
])
def test_a_malformed_fallback_certificate_is_a_clear_config_error(value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        fallback_certificate({"fallback-certificate": value})


# -- Gateway API: --gateway-controller-name, --gateway-ref ----------------------------------


def test_gateway_flags(monkeypatch):
    settings = serve_settings(monkeypatch, "--gateway-controller-name", "example.com/gw",
                              "--gateway-ref", "infra/public")
    assert settings.builder.gateway_controller_name == "example.com/gw"
    assert settings.builder.gateway_ref == ("infra", "public")
    defaults = serve_settings(monkeypatch).builder
    assert defaults.gateway_controller_name == "projectcontour.io/gateway-controller"
    assert defaults.gateway_ref is None


@pytest.mark.parametrize("value", ["public", "infra/", "/public", "a/b/c"])
def test_a_malformed_gateway_ref_is_a_usage_error(monkeypatch, value):
    import controller.app

    monkeypatch.setattr(controller.app, "serve", lambda settings, first_reader=None: None)
    with pytest.raises(UsageError, match="--gateway-ref .*expected NAMESPACE/NAME"):
        runner.invoke(app, ["serve", "--insecure", "--gateway-ref", value],
                      catch_exceptions=False)


def test_serving_a_folder_never_imports_the_kubernetes_package():
    """The package is 0.43 s of the controller's 1.36 s of imports (controller/k8s/client.py):
    `contour serve --source-dir` must not pay it."""
    import subprocess
    import sys

    code = ("import sys, controller.cli, controller.app, controller.sources.folder; "
            "print(sorted(m for m in ('kubernetes', 'urllib3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


# -- --route-layout / route-layout ----------------------------------------------------------


def test_route_layout_from_the_flag_then_the_config_file(monkeypatch, tmp_path: Path):
    cfg = tmp_path / "contour.yaml"
    cfg.write_text("route-layout: scoped\n")
    assert serve_settings(monkeypatch).listeners.route_layout == "single"
    assert serve_settings(monkeypatch, "-c", str(cfg)).listeners.route_layout == "scoped"
    assert serve_settings(monkeypatch, "-c", str(cfg), "--route-layout", "single"
                          ).listeners.route_layout == "single"


@pytest.mark.parametrize(("args", "config", "message"), [
    (["--route-layout", "vhds"], "", "--route-layout: 'vhds' is not a route layout"),
    ([], "route-layout: [scoped]\n", "route-layout: ['scoped'] is not a route layout"),
])
def test_a_bad_route_layout_is_a_usage_error(monkeypatch, tmp_path: Path, args, config,
                                             message):
    import controller.app

    monkeypatch.setattr(controller.app, "serve", lambda settings, first_reader=None: None)
    cfg = tmp_path / "contour.yaml"
    cfg.write_text(config or "{}\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        runner.invoke(app, ["serve", "--insecure", "-c", str(cfg), *args],
                      catch_exceptions=False)
