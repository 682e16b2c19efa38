"""certs, pure: RFC 6125 name matching (queries/certs.py), where a host's certificate comes
from in the builder's DAG and the objects (queries/tls_source.py: secret, claimants,
TLSCertificateDelegation of either version), the filter chain Envoy picks for an SNI, and the
offline command reading the secret itself."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from goldens import invoke

from controller.config import BuilderSettings
from kubectl_contour.queries.build import build_dag
from kubectl_contour.queries.certs import host_match, load_pem, name_matches, served
from kubectl_contour.queries.tls_source import secret_chain, sni_secret, tls_source
from kubectl_contour.sources import load_dir

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def certificate(cn: str, sans: list[str] | None = None, *, days: int = 90,
                start: dt.datetime = NOW) -> tuple[Any, bytes, bytes]:
    """A self-signed EC certificate (fast to make): (cert, cert PEM, key PEM). `sans` None:
    no SAN extension at all; entries that parse as IPs become IP SANs."""
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start - dt.timedelta(days=1))
               .not_valid_after(start + dt.timedelta(days=days)))
    if sans is not None:
        general: list[x509.GeneralName] = []
        for s in sans:
            try:
                general.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                general.append(x509.DNSName(s))
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return (cert, cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.mark.parametrize(("pattern", "host", "ok"), [
    ("www.example.com", "www.example.com", True),
    ("WWW.Example.COM", "www.example.com", True),
    ("www.example.com.", "www.example.com", True),
    ("www.example.com", "example.com", False),
    ("*.example.com", "a.example.com", True),
    ("*.example.com", "A.Example.com", True),
    ("*.example.com", "a.b.example.com", False),   # one label only
    ("*.example.com", "example.com", False),
    ("*.example.com", ".example.com", False),
    ("*.com", "example.com", False),               # not directly above a single label
    ("w*.example.com", "www.example.com", False),  # partial wildcards refused
    ("*w.example.com", "www.example.com", False),
    ("a.*.example.com", "a.b.example.com", False),  # only the left-most label
    ("*.*.example.com", "a.b.example.com", False),
])
def test_name_matches_rfc_6125(pattern: str, host: str, ok: bool) -> None:
    assert name_matches(pattern, host) is ok


@pytest.mark.parametrize(("cn", "sans", "host", "matched"), [
    pytest.param("a.example.com", ["a.example.com", "*.b.example.com"], "x.b.example.com",
                 "*.b.example.com", id="wildcard-san"),
    pytest.param("cn.example.com", ["other.example.com"], "cn.example.com", "",
                 id="cn-ignored-when-dns-sans-exist"),
    pytest.param("cn.example.com", None, "cn.example.com", "cn.example.com",
                 id="cn-without-sans"),
    pytest.param("x", ["10.0.0.1", "a.example.com"], "10.0.0.1", "10.0.0.1", id="ip-san"),
    pytest.param("10.0.0.1", ["10.0.0.1.example.com"], "10.0.0.2", "", id="ip-not-dns"),
    pytest.param("x", ["::1"], "[::1]", "::1", id="ipv6-san"),
])
def test_host_match(cn: str, sans: list[str] | None, host: str, matched: str) -> None:
    assert host_match(certificate(cn, sans)[0], host) == matched


@pytest.mark.parametrize(("start", "days", "current", "left"), [
    pytest.param(NOW, 90, True, 90, id="current"),
    pytest.param(NOW - dt.timedelta(days=100), 90, False, -10, id="expired"),
    pytest.param(NOW + dt.timedelta(days=5), 90, False, 95, id="not-yet-valid"),
])
def test_served_validity(start: dt.datetime, days: int, current: bool, left: int) -> None:
    cert = certificate("a.example.com", ["a.example.com"], days=days, start=start)[0]
    report = served("x", [cert], "a.example.com", now=NOW)
    assert (report.current, report.chain[0].expires_in_days) == (current, left)
    assert report.ok is current


# -- where the certificate comes from ---------------------------------------------------------


def tls_secret(ns: str, name: str, host: str) -> dict[str, Any]:
    """Valid now (the CLI checks against the clock)."""
    _, cert, key = certificate(host, [host], start=dt.datetime.now(dt.UTC))
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns, "name": name},
            "type": "kubernetes.io/tls",
            "data": {"tls.crt": base64.b64encode(cert).decode(),
                     "tls.key": base64.b64encode(key).decode()}}


SERVICE = {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": "app", "name": "web"},
           "spec": {"ports": [{"name": "http", "port": 80}]}}


def proxy(secret: str, fqdn: str = "app.example.com") -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"namespace": "app", "name": "app"},
            "spec": {"virtualhost": {"fqdn": fqdn, "tls": {"secretName": secret}},
                     "routes": [{"services": [{"name": "web", "port": 80}]}]}}


def ingressroute(secret: str) -> dict[str, Any]:
    return {"apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
            "metadata": {"namespace": "app", "name": "legacy"},
            "spec": {"virtualhost": {"fqdn": "legacy.example.com",
                                     "tls": {"secretName": secret}},
                     "routes": [{"match": "/", "services": [{"name": "web", "port": 80}]}]}}


def delegation(api: str, targets: list[str], secret: str = "shared") -> dict[str, Any]:
    return {"apiVersion": api, "kind": "TLSCertificateDelegation",
            "metadata": {"namespace": "certs", "name": "grant"},
            "spec": {"delegations": [{"secretName": secret, "targetNamespaces": targets}]}}


V1, V1BETA1 = "projectcontour.io/v1", "contour.heptio.com/v1beta1"
INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"namespace": "app", "name": "ing"},
           "spec": {"tls": [{"hosts": ["ing.example.com"], "secretName": "ing-tls"}],
                    "rules": [{"host": "ing.example.com", "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
PASSTHROUGH = {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
               "metadata": {"namespace": "app", "name": "tcp"},
               "spec": {"virtualhost": {"fqdn": "tcp.example.com", "tls": {"passthrough": True}},
                        "tcpproxy": {"services": [{"name": "web", "port": 80}]}}}


@pytest.mark.parametrize(("objects", "host", "expected"), [
    pytest.param([tls_secret("app", "own", "app.example.com"), proxy("own")], "app.example.com",
                 ("app.example.com", ["HTTPProxy app/app"], "app/own", [], ""),
                 id="same-namespace"),
    pytest.param([tls_secret("certs", "shared", "app.example.com"), proxy("certs/shared"),
                  delegation(V1, ["app"])], "APP.example.com",
                 ("app.example.com", ["HTTPProxy app/app"], "certs/shared",
                  [f"TLSCertificateDelegation certs/grant ({V1})"], ""), id="v1-delegation"),
    pytest.param([tls_secret("certs", "shared", "legacy.example.com"),
                  ingressroute("certs/shared"), delegation(V1BETA1, ["*"])],
                 "legacy.example.com",
                 ("legacy.example.com", ["IngressRoute app/legacy"], "certs/shared",
                  [f"TLSCertificateDelegation certs/grant ({V1BETA1})"], ""),
                 id="v1beta1-wildcard-delegation"),
    pytest.param([tls_secret("certs", "shared", "app.example.com"), proxy("certs/shared"),
                  delegation(V1, ["elsewhere"])], "app.example.com",
                 ("", [], "", [], "no secure virtual host for app.example.com: Envoy has no "
                  "filter chain for this SNI"), id="delegation-not-permitted"),
    pytest.param([tls_secret("certs", "shared", "app.example.com"), proxy("certs/shared"),
                  delegation(V1, ["app"], secret="other")], "app.example.com",
                 ("", [], "", [], "no secure virtual host for app.example.com: Envoy has no "
                  "filter chain for this SNI"), id="delegation-of-another-secret"),
    pytest.param([tls_secret("app", "ing-tls", "ing.example.com"), INGRESS], "ing.example.com",
                 ("ing.example.com", ["Ingress app/ing"], "app/ing-tls", [], ""),
                 id="ingress-tls"),
    pytest.param([PASSTHROUGH], "tcp.example.com",
                 ("tcp.example.com", ["HTTPProxy app/tcp"], "", [],
                  "TLS passthrough: Envoy forwards the handshake, the certificate is the "
                  "backend's"), id="passthrough"),
])
def test_tls_source(tmp_path: Path, objects: list[dict[str, Any]], host: str,
                    expected: tuple[Any, ...]) -> None:
    (tmp_path / "objects.yaml").write_text(yaml.safe_dump_all([SERVICE, *objects]))
    snapshot = load_dir(tmp_path)
    source = tls_source(snapshot, build_dag(snapshot, settings=BuilderSettings()),
                        host.lower())
    assert (source.vhost, list(source.roots), source.secret, list(source.delegations),
            source.note) == expected


def test_offline_certs_read_the_secret(tmp_path: Path) -> None:
    (tmp_path / "objects.yaml").write_text(yaml.safe_dump_all([
        SERVICE, tls_secret("certs", "shared", "app.example.com"), proxy("certs/shared"),
        delegation(V1, ["app"])]))
    code, out, err = invoke(tmp_path, "certs", "app.example.com", "-o", "json")
    assert code == 0, err
    (chain,) = json.loads(out)["served"]
    assert chain["source"] == "secret certs/shared (what Envoy is given; no Envoy asked)"
    assert chain["chain"][0]["sans"] == ["app.example.com"]
    code, out, err = invoke(tmp_path, "certs", "www.example.com")
    assert code == 1
    assert err == "error: no certificate is served for www.example.com\n"


# -- Envoy's side ---------------------------------------------------------------------------


def chain(names: list[str] | None, secret: str) -> dict[str, Any]:
    out: dict[str, Any] = {"transport_socket": {"typed_config": {"common_tls_context": {
        "tls_certificate_sds_secret_configs": [{"name": secret}]}}}}
    if names is not None:
        out["filter_chain_match"] = {"server_names": names}
    return out


def listeners(*chains: dict[str, Any]) -> dict[str, Any]:
    return {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
                         "dynamic_listeners": [{"name": "ingress_https", "active_state": {
                             "listener": {"filter_chains": list(chains)}}}]}]}


@pytest.mark.parametrize(("chains", "sni", "secret"), [
    pytest.param([chain(["*.example.com"], "wild"), chain(["a.example.com"], "exact")],
                 "a.example.com", "exact", id="exact-beats-wildcard"),
    pytest.param([chain(["*.example.com"], "short"), chain(["*.b.example.com"], "long")],
                 "x.b.example.com", "long", id="longest-wildcard"),
    pytest.param([chain(None, "fallback"), chain(["a.example.com"], "exact")],
                 "z.example.com", "fallback", id="chain-without-names"),
    pytest.param([chain(["a.example.com"], "exact")], "z.example.com", "", id="none"),
])
def test_sni_secret(chains: list[dict[str, Any]], sni: str, secret: str) -> None:
    assert sni_secret(listeners(*chains), sni) == secret


def test_secret_chain_reads_inline_bytes_only() -> None:
    _, pem, _ = certificate("a.example.com", ["a.example.com"])
    dump = {"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.SecretsConfigDump",
                         "dynamic_active_secrets": [{"name": "ns/s/1", "secret": {
                             "tls_certificate": {
                                 "certificate_chain": {"inline_bytes":
                                                       base64.b64encode(pem).decode()},
                                 "private_key": {"inline_bytes": "W3JlZGFjdGVkXQ=="}}}}]}]}
    assert secret_chain(dump, "ns/s/1") == pem
    assert len(load_pem(secret_chain(dump, "ns/s/1"))) == 1
    assert secret_chain(dump, "ns/other") == b""
