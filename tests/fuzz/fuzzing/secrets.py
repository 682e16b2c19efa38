"""TLS material for generated Secrets (real certificates from tests/e2e/harness/certs.py)
and the oracle's check that a secret's certificate and key are a usable pair."""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from harness.certs import HarnessCA, Leaf


@functools.cache
def leaves() -> tuple[Leaf, Leaf]:
    """Two leaves of one CA (RSA key generation is ~50 ms each, so they are made once)."""
    ca = HarnessCA("contour-fuzz-ca")
    return ca.issue("fuzz-a.example"), ca.issue("fuzz-b.example")


def secret_bytes(obj: dict[str, Any]) -> dict[str, bytes] | None:
    """`data` (base64) merged with `stringData`, as the API server stores them; None when
    either is not a map of strings or data is not base64."""
    data, string_data = obj.get("data") or {}, obj.get("stringData") or {}
    if not isinstance(data, dict) or not isinstance(string_data, dict):
        return None
    out: dict[str, bytes] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            return None
        try:
            out[str(key)] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
    for key, value in string_data.items():
        if not isinstance(value, str):
            return None
        out[str(key)] = value.encode("utf-8", "surrogatepass")
    return out


@functools.lru_cache(maxsize=256)  # the same few pairs come back again and again
def pem_pair_problem(cert_pem: bytes, key_pem: bytes) -> str | None:
    """None when the first certificate of `cert_pem` belongs to the key of `key_pem`."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as e:
        return f"tls.crt: not a PEM certificate ({e})"
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as e:
        return f"tls.key: not a PEM private key ({e})"
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if cert.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        return "tls.crt does not match tls.key"
    return None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
