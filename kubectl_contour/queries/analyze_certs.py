"""The TLS certificate of a Secret, as much as `analyze` judges of it: its names and its
expiry, and whether its names cover a host (RFC 6125: a `*` is the whole left-most label
and stands for exactly one label)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LeafInfo:
    subject: str
    names: tuple[str, ...]
    """subjectAltName DNS names, lower-cased (clients ignore the CN when there are any)."""
    not_after: datetime


def leaf_info(pem: bytes) -> LeafInfo | None:
    """The first certificate of a PEM chain; None when it does not parse (the store
    refuses such a secret anyway)."""
    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificates(pem)[0]
    except (ValueError, IndexError):
        return None
    try:
        ext = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = tuple(sorted(n.lower() for n in ext.value.get_values_for_type(x509.DNSName)))
    except x509.ExtensionNotFound:
        names = ()
    return LeafInfo(leaf.subject.rfc4514_string(), names, leaf.not_valid_after_utc)


def name_covers(name: str, host: str) -> bool:
    """Does certificate name `name` cover `host`? A wildcard host (`*.example.com`, an
    HTTPProxy fqdn or Ingress host) is covered only by the same wildcard name."""
    name, host = name.lower().rstrip("."), host.lower().rstrip(".")
    if name == host:
        return True
    if not name.startswith("*.") or host.startswith("*."):
        return False
    label, dot, rest = host.partition(".")
    return bool(label and dot) and rest == name[2:]


def days_left(not_after: datetime, now: datetime) -> int:
    """Whole days from `now` to `not_after` (negative once expired)."""
    return (not_after - now).days
