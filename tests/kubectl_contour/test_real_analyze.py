"""`kubectl contour analyze` through the real kubectl against the real world (real_world.py:
API server, controller writing statuses, Envoy, backends): cluster mode (with a health check
Envoy really fails, an expiring certificate and an undelegated secret added by this module),
the namespace scope, and `--apply-dir` simulating files applied over the cluster without
writing to it."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from real_world import BACKENDS, World, world_objects

HC_PATH = "/__status/503"
"""The world's backends answer this path with 503: Envoy's health check fails."""


def meta(name: str, ns: str = "default") -> dict[str, str]:
    return {"name": name, "namespace": ns}


def soon_secret() -> dict[str, Any]:
    """A TLS Secret for soon.example.com whose certificate expires in 10 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "soon.example.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=10))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("soon.example.com")]), False)
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    data = {"tls.crt": cert.public_bytes(serialization.Encoding.PEM), "tls.key": pem}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta("an-soon-tls"),
            "type": "kubernetes.io/tls",
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def module_objects(world: World) -> list[dict[str, Any]]:
    """A Service on the world's blue backend with a root whose health check fails; a Secret
    expiring soon, used by an HTTPProxy whose only route is refused (two actions), so that
    Envoy never serves it: a Secret Envoy stops being sent leaves the controller's SDS version
    ahead of what it sends, which `diff` (test_real_cluster.py) would call stale; and an
    HTTPProxy using another namespace's secret without delegation."""
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": meta("an-hc"),
           "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    eps = {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("an-hc"),
           "subsets": [{"addresses": [{"ip": world.ip}], "ports": [
               {"name": "http", "port": world.backend_port("default/blue:80")}]}]}
    hc = {"path": HC_PATH, "intervalSeconds": 1, "unhealthyThresholdCount": 1}
    ir = lambda name, vhost, service: {  # noqa: E731
        "apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
        "metadata": meta(name), "spec": {"virtualhost": vhost,
                                         "routes": [{"match": "/", "services": [service]}]}}
    proxy = lambda name, vhost, service: {  # noqa: E731
        "apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy", "metadata": meta(name),
        "spec": {"virtualhost": vhost, "routes": [{"services": [{"name": service,
                                                                 "port": 80}]}]}}
    return [svc, eps, soon_secret(),
            ir("an-hc-root", {"fqdn": "hc.example.com"},
               {"name": "an-hc", "port": 80, "healthCheck": hc}),
            {**proxy("an-soon", {"fqdn": "soon.example.com",
                                 "tls": {"secretName": "an-soon-tls"}}, "an-hc"),
             "spec": {"virtualhost": {"fqdn": "soon.example.com",
                                      "tls": {"secretName": "an-soon-tls"}},
                      "routes": [{"services": [{"name": "an-hc", "port": 80}],
                                  "requestRedirectPolicy": {"hostname": "x.example.com"}}]}},
            proxy("an-borrow", {"fqdn": "borrow.example.com",
                                "tls": {"secretName": "roots/www-tls"}}, "an-hc")]


@pytest.fixture(scope="module")
def an_world(world: World) -> Iterator[World]:
    objs = module_objects(world)
    world.apply(objs)
    try:
        yield world
    finally:
        for o in objs:
            world.kubectl("delete", o["kind"].lower(), o["metadata"]["name"], "-n", "default",
                          "--ignore-not-found", check=False)


def ours(world: World) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the world's objects and this module's: findings about
    objects other modules leave behind are not judged here."""
    objs = [*world_objects("10.0.0.1", dict.fromkeys(BACKENDS, 1), b"", b""),
            *module_objects(world)]
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
            for o in objs}


def analyze(world: World, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    done = world.contour("analyze", *args, "-o", "json")
    assert done.code in (0, 1), str(done)
    known = ours(world)
    rows = [r for r in json.loads(done.out) if (r["kind"], r["namespace"], r["name"]) in known]
    return done.code, rows, done.err


def keyed(rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
    return {(r["code"], r["kind"], f"{r['namespace']}/{r['name']}") for r in rows}


WORLD = {
    ("CTR1001", "IngressRoute", "default/green"),
    ("CTR1001", "IngressRoute", "default/ghost"),
    ("CTR1001", "IngressRoute", "marketing/blue"),
    ("CTR1001", "IngressRoute", "marketing/lonely"),
    ("CTR1003", "IngressRoute", "marketing/api"),  # its prefix is not under its parent's
    ("CTR1003", "IngressRoute", "default/loop-child"),  # a cycle
    ("CTR2003", "IngressRoute", "marketing/admin"),  # Service admin has no endpoints
    ("CTR2003", "IngressRoute", "default/loop-child"),  # /a, served before the cycle: loop
    ("CTR1003", "HTTPProxy", "default/an-soon"),  # RouteActionCountNotValid
    ("CTR3004", "HTTPProxy", "default/an-borrow"),
    ("CTR3006", "Secret", "default/an-soon-tls"),
}


def test_cluster_mode_with_a_failing_health_check(an_world: World) -> None:
    world = an_world

    def failing() -> Any:
        code, rows, _ = analyze(world, "-A", "--admin-url", world.admin_url)
        return (code, rows) if any(r["code"] == "CTR2007" for r in rows) else None

    code, rows = world.wait_for("Envoy fails the health check", failing, timeout=60)
    assert code == 1
    assert keyed(rows) == WORLD | {("CTR2007", "IngressRoute", "default/an-hc-root")}
    hc = next(r for r in rows if r["code"] == "CTR2007")
    assert hc["message"] == (
        f"prefix / on hc.example.com: health check {HC_PATH} on Service default/an-hc:80 fails "
        f"on 1 of 1 endpoints ({world.ip}:{world.backend_port('default/blue:80')}) in Envoy "
        f"{world.admin_url}")
    soon = next(r for r in rows if r["code"] == "CTR3006")
    assert "in 9 days" in soon["message"] or "in 10 days" in soon["message"]


def test_context_namespace_and_no_envoy(an_world: World) -> None:
    """Without -A: the context's namespace (default). Without --admin-url the Envoy pods are
    tried; none is running here, so health checks are skipped with a note."""
    code, rows, err = analyze(an_world)
    assert code == 1
    assert keyed(rows) == {k for k in WORLD if k[2].startswith("default/")}
    assert "note: health checks not analyzed:" in err


def test_apply_dir_simulates_files_over_the_cluster(an_world: World, tmp_path: Path) -> None:
    """The folder replaces marketing/api (its prefix fixed: now valid, and its Service has no
    endpoints) and adds an HTTPProxy taking blue-green.example.com from the IngressRoute
    root (whose delegate `blue` is then reached by nothing). The cluster is not written."""
    world = an_world
    api = {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
           "metadata": meta("api", "marketing"),
           "spec": {"routes": [{"match": "/api/v2", "services": [{"name": "api", "port": 80}]}]}}
    takeover = {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
                "metadata": meta("takeover"),
                "spec": {"virtualhost": {"fqdn": "blue-green.example.com"},
                         "routes": [{"services": [{"name": "blue", "port": 80}]}]}}
    (tmp_path / "change.yaml").write_text(yaml.safe_dump_all([api, takeover]))
    code, rows, _ = analyze(world, "-A", "--apply-dir", str(tmp_path))
    assert code == 1
    expected = (WORLD - {("CTR1003", "IngressRoute", "marketing/api")}) | {
        ("CTR2003", "IngressRoute", "marketing/api"),
        ("CTR3002", "IngressRoute", "default/blue-green-root"),
        ("CTR1001", "IngressRoute", "default/blue")}
    assert keyed(rows) - {("CTR2007", "IngressRoute", "default/an-hc-root")} == expected
    assert world.kubectl("get", "httpproxy", "takeover", "-n", "default",
                         check=False).returncode != 0
    stored = world.get_json("ingressroute", "api", "-n", "marketing")
    assert stored["spec"]["routes"][0]["match"] == "/v2"
