"""Certificates as served: a chain (DER or PEM) → subjects, issuers, SANs and expiry, and
whether it is valid for a host name as RFC 6125 says a client checks it."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CertInfo:
    subject: str
    issuer: str
    sans: tuple[str, ...]
    """DNS names and IP addresses, in certificate order."""
    not_before: str
    not_after: str
    """ISO 8601, UTC."""
    expires_in_days: int
    """Whole days until not-after (negative once expired)."""
    sha256: str
    """Fingerprint of the DER certificate, hex."""


@dataclass(frozen=True, slots=True)
class Served:
    """One certificate chain a server presents (or would present) for the host."""

    source: str
    """Where it was read: `HOST:PORT (TLS handshake)`, an Envoy (pod or admin URL), or the
    Kubernetes secret when no Envoy was asked."""
    chain: tuple[CertInfo, ...]
    matches_host: bool
    matched_name: str
    """The SAN (or, without DNS SANs, the CN) that matched; empty when none did."""
    current: bool
    """The leaf is within its validity period now (not expired, not yet to come)."""
    same_as_secret: bool | None = None
    """The leaf is the Kubernetes secret's leaf; None when the secret is unknown."""
    envoy_secret: str = ""
    """The SDS secret Envoy's filter chain for the SNI names (admin mode)."""
    note: str = ""
    """Why there is no chain (no filter chain for the SNI, a secret Envoy does not hold)."""

    @property
    def ok(self) -> bool:
        return bool(self.chain) and self.matches_host and self.current


@dataclass(frozen=True, slots=True)
class CertReport:
    host: str
    kubernetes: Any
    """tls_source.TlsSource: the secret, the roots claiming the name, the delegations."""
    served: tuple[Served, ...]


def cert_info(cert: Any, *, now: dt.datetime) -> CertInfo:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = tuple([*ext.get_values_for_type(x509.DNSName),
                      *(str(ip) for ip in ext.get_values_for_type(x509.IPAddress))])
    except x509.ExtensionNotFound:
        sans = ()
    after = cert.not_valid_after_utc
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), sans,
                    cert.not_valid_before_utc.isoformat(), after.isoformat(),
                    (after - now).days, cert.fingerprint(hashes.SHA256()).hex())


def load_der(chain: Iterable[bytes]) -> list[Any]:
    from cryptography import x509

    return [x509.load_der_x509_certificate(der) for der in chain]


def load_pem(data: bytes) -> list[Any]:
    """Every certificate of a PEM bundle (tls.crt, Envoy's certificate_chain)."""
    from cryptography import x509

    return list(x509.load_pem_x509_certificates(data)) if b"-----BEGIN" in data else []


def name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 §6.4: case-insensitive, a trailing dot ignored; `*` only as the whole
    left-most label, matching exactly one label, and not directly above a public suffix-like
    single label (`*.com` matches nothing). Partial wildcards (`w*.example.com`) are refused,
    as browsers do."""
    p, h = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if "*" not in p:
        return p == h
    left, _, rest = p.partition(".")
    if left != "*" or "*" in rest or "." not in rest:
        return False
    label, dot, tail = h.partition(".")
    return bool(label) and bool(dot) and tail == rest


def host_match(cert: Any, host: str) -> str:
    """The identifier of `cert` that `host` matches, or "": an IP host against IP SANs; a
    name against DNS SANs, and only without DNS SANs the subject's CN (RFC 6125 §6.4.4)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        ext = None
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        ips = ext.get_values_for_type(x509.IPAddress) if ext is not None else []
        return str(ip) if ip in ips else ""
    names = list(ext.get_values_for_type(x509.DNSName)) if ext is not None else []
    if not names:
        names = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return next((n for n in names if name_matches(n, host)), "")


def served(source: str, certs: list[Any], host: str, *, secret_leaf: str = "",
           envoy_secret: str = "", now: dt.datetime | None = None) -> Served:
    """The report for one chain (leaf first). `secret_leaf` is the Kubernetes secret's leaf
    fingerprint ("" when unknown)."""
    now = now or dt.datetime.now(dt.UTC)
    chain = tuple(cert_info(c, now=now) for c in certs)
    leaf = certs[0] if certs else None
    matched = host_match(leaf, host) if leaf is not None else ""
    current = leaf is not None and leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc
    same = (chain[0].sha256 == secret_leaf) if secret_leaf and chain else None
    return Served(source, chain, bool(matched), matched, current, same, envoy_secret)


def leaf_fingerprint(pem: bytes) -> str:
    certs = load_pem(pem)
    if not certs:
        return ""
    from cryptography.hazmat.primitives import hashes

    return str(certs[0].fingerprint(hashes.SHA256()).hex())
