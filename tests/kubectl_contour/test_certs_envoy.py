"""`certs HOST` against a real Envoy serving TLS: a controller reading a folder (an HTTPProxy
using a wildcard certificate of another namespace through a projectcontour.io/v1
TLSCertificateDelegation, and an IngressRoute with its own certificate), Envoy bootstrapped by
`contour bootstrap`; the plugin reads the same folder (--from-dir) and asks Envoy by a TLS
handshake (--address) and through its admin interface (--admin-url)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from goldens import invoke
from real_world import Controller, Envoy, HarnessCA, Ports  # sys.path for tests/e2e

from kubectl_contour.errors import PluginError
from kubectl_contour.tls import peer_chain


@dataclass
class TlsWorld:
    source: Path
    ports: Ports
    wildcard: Any
    www: Any

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.ports.https}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.admin}"


def tls_secret(ns: str, name: str, leaf: Any, bundle: bytes = b"") -> dict[str, Any]:
    """A kubernetes.io/tls secret; `bundle` (PEM) follows the leaf in tls.crt."""
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": b64(leaf.cert_pem + bundle), "tls.key": b64(leaf.key_pem)}}


def objects(wildcard: Any, www: Any, ca_pem: bytes) -> list[dict[str, Any]]:
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "app", "namespace": "default"},
               "spec": {"ports": [{"name": "http", "port": 80}]}}
    proxy = {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
             "metadata": {"name": "app", "namespace": "default"},
             "spec": {"virtualhost": {"fqdn": "app.example.com",
                                      "tls": {"secretName": "certs/wildcard"}},
                      "routes": [{"services": [{"name": "app", "port": 80}]}]}}
    delegation = {"apiVersion": "projectcontour.io/v1", "kind": "TLSCertificateDelegation",
                  "metadata": {"name": "to-default", "namespace": "certs"},
                  "spec": {"delegations": [{"secretName": "wildcard",
                                            "targetNamespaces": ["default"]}]}}
    route = {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
             "metadata": {"name": "www", "namespace": "default"},
             "spec": {"virtualhost": {"fqdn": "www.example.org", "tls": {"secretName": "www"}},
                      "routes": [{"match": "/", "services": [{"name": "app", "port": 80}]}]}}
    return [tls_secret("certs", "wildcard", wildcard), tls_secret("default", "www", www, ca_pem),
            service, proxy, delegation, route]


def wait_for_tls(address: str, sni: str, timeout: float = 60.0) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            peer_chain(address, sni, timeout=2)
            return
        except PluginError as exc:
            last = exc.message
        time.sleep(0.1)
    raise AssertionError(f"Envoy did not serve TLS for {sni} within {timeout:g}s ({last})")


@pytest.fixture(scope="module")
def tls_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsWorld]:
    workdir = tmp_path_factory.mktemp("certs-envoy")
    source = workdir / "source"
    source.mkdir()
    ca = HarnessCA("certs-test-ca")
    wildcard = ca.issue("*.example.com", ["*.example.com", "example.com"])
    www = ca.issue("www.example.org")
    (source / "objects.yaml").write_text(yaml.safe_dump_all(objects(wildcard, www, ca.cert_pem)))
    ports = Ports.allocate()
    controller = Controller(workdir, source, ports, {})
    boot = workdir / "envoy.json"
    subprocess.run([sys.executable, "-m", "controller", "bootstrap", str(boot), "--xds-port",
                    str(ports.xds), "--admin-port", str(ports.admin)], check=True)
    envoy = Envoy(workdir, boot, "certs", ports.admin)
    world = TlsWorld(source, ports, wildcard, www)
    try:
        controller.wait_healthy()
        wait_for_tls(world.address, "app.example.com")
        wait_for_tls(world.address, "www.example.org")
        yield world
    finally:
        envoy.stop()
        controller.stop()


def certs(world: TlsWorld, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = invoke(world.source, "certs", *args, "-o", "json")
    return code, json.loads(out), err


def fingerprint(leaf: Any) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    return x509.load_pem_x509_certificate(leaf.cert_pem).fingerprint(hashes.SHA256()).hex()


def test_handshake_reads_the_delegated_wildcard(tls_world: TlsWorld) -> None:
    code, data, err = certs(tls_world, "app.example.com", "--address", tls_world.address)
    assert code == 0, err
    assert data["kubernetes"] == {
        "vhost": "app.example.com", "roots": ["HTTPProxy default/app"],
        "secret": "certs/wildcard",
        "delegations": ["TLSCertificateDelegation certs/to-default (projectcontour.io/v1)"],
        "note": ""}
    (served,) = data["served"]
    assert served["source"] == f"{tls_world.address} (TLS handshake)"
    assert (served["matches_host"], served["matched_name"]) == (True, "*.example.com")
    assert served["current"] and served["same_as_secret"] is True
    (leaf,) = served["chain"]  # the secret holds the leaf alone
    assert leaf["subject"] == "CN=*.example.com"
    assert leaf["issuer"] == "CN=certs-test-ca"
    assert leaf["sans"] == ["*.example.com", "example.com"]
    assert leaf["sha256"] == fingerprint(tls_world.wildcard)
    assert 360 <= leaf["expires_in_days"] <= 365


def test_admin_names_the_same_certificate(tls_world: TlsWorld) -> None:
    """Envoy's own record (the SNI's filter chain → its SDS secret) agrees with the
    handshake."""
    code, data, err = certs(tls_world, "app.example.com", "--admin-url", tls_world.admin_url)
    assert code == 0, err
    (served,) = data["served"]
    assert served["source"] == f"Envoy {tls_world.admin_url} (admin)"
    assert served["envoy_secret"].startswith("certs/wildcard")
    assert served["chain"][0]["sha256"] == fingerprint(tls_world.wildcard)
    assert served["same_as_secret"] is True


def test_each_sni_gets_its_own_certificate_and_chain(tls_world: TlsWorld) -> None:
    """www.example.org's secret holds the leaf and the CA: Envoy presents both."""
    code, data, err = certs(tls_world, "www.example.org", "--address", tls_world.address)
    assert code == 0, err
    assert data["kubernetes"]["delegations"] == []
    assert data["kubernetes"]["roots"] == ["IngressRoute default/www"]
    chain = data["served"][0]["chain"]
    assert [(c["subject"], c["issuer"]) for c in chain] == [
        ("CN=www.example.org", "CN=certs-test-ca"), ("CN=certs-test-ca", "CN=certs-test-ca")]
    assert chain[0]["sha256"] == fingerprint(tls_world.www)
    assert data["served"][0]["matched_name"] == "www.example.org"


def test_unserved_sni_fails_the_handshake(tls_world: TlsWorld) -> None:
    code, out, err = invoke(tls_world.source, "certs", "nope.example.com", "--address",
                            tls_world.address)
    assert code == 1
    assert "TLS handshake with" in err and "for SNI nope.example.com failed" in err
    code, out, err = invoke(tls_world.source, "certs", "nope.example.com", "--admin-url",
                            tls_world.admin_url)
    assert code == 1
    assert "no TLS filter chain for SNI nope.example.com" in err


def test_text_names_chain_secret_and_delegation(tls_world: TlsWorld) -> None:
    code, out, err = invoke(tls_world.source, "certs", "app.example.com", "--address",
                            tls_world.address)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:5] == [
        "app.example.com",
        "├── virtual host: app.example.com",
        "├── secret: certs/wildcard",
        "├── claimed by: HTTPProxy default/app",
        "└── delegation: TLSCertificateDelegation certs/to-default (projectcontour.io/v1)"]
    assert lines[6] == (f"{tls_world.address} (TLS handshake) → valid for app.example.com "
                        "(matches *.example.com); the secret's certificate:")
    assert lines[8].split()[:4] == ["0", "CN=*.example.com", "CN=certs-test-ca",
                                    "*.example.com,"]


def test_unreachable_address_exits_4(tls_world: TlsWorld) -> None:
    code, _, err = invoke(tls_world.source, "certs", "app.example.com", "--address",
                          "127.0.0.1:1")
    assert code == 4, err
    assert "cannot connect to 127.0.0.1:1" in err
