"""Harness certificate authority and leaf certificates (cryptography)."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
import tempfile
import threading
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Leaf:
    cn: str
    sans: tuple[str, ...]
    cert_pem: bytes
    key_pem: bytes


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # "RSA PRIVATE KEY", as kubectl writes
        serialization.NoEncryption(),
    )


class HarnessCA:
    """One CA per test session; leaves are cached by (cn, sans)."""

    def __init__(self, name: str = "contour-e2e-harness-ca") -> None:
        now = _dt.datetime.now(_dt.UTC)
        self._key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.key_pem = _key_pem(self._key)
        self._leaves: dict[tuple[str, tuple[str, ...], bool], Leaf] = {}
        self._lock = threading.Lock()

    def issue(self, cn: str, sans: list[str] | tuple[str, ...] | None = None,
              client: bool = False) -> Leaf:
        """A leaf for `cn` (SANs default to it): a server certificate, or with `client` a
        client certificate (extended key usage clientAuth, which a verifying server needs)."""
        sans_t = tuple(sans) if sans else (cn,)
        k = (cn, sans_t, client)
        with self._lock:
            if k in self._leaves:
                return self._leaves[k]
        key = _key()
        now = _dt.datetime.now(_dt.UTC)
        names: list[x509.GeneralName] = []
        for s in sans_t:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH if client
                                                  else ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(self._key, hashes.SHA256())
        )
        leaf = Leaf(cn, sans_t, cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))
        with self._lock:
            return self._leaves.setdefault(k, leaf)


def cert_cn(der: bytes) -> str | None:
    """Common name of a DER certificate (None if it has none)."""
    cert = x509.load_der_x509_certificate(der)
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not attrs:
        return None
    v = attrs[0].value
    return v.decode() if isinstance(v, bytes) else v


def server_context(leaf: Leaf) -> ssl.SSLContext:
    """A TLS server context serving `leaf` whatever SNI (or none) the client sends.

    Accepts TLS 1.0-1.3 with OpenSSL security level 0 so that nothing the
    harness offers is refused by the local OpenSSL policy.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    fd, path = tempfile.mkstemp(prefix="harness-leaf-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(leaf.cert_pem + leaf.key_pem)
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)
    return ctx
