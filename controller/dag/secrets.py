"""Secrets: acceptance and PEM validation at store time (spec §2.6), reference splitting and
TLSCertificateDelegation permission at build time (spec §1.1, §1.3).

Validation is stricter than upstream in one way that matters for Envoy: a certificate chain
whose leaf does not match the private key, or a key Envoy cannot serve, makes the secret
unusable. Upstream let Envoy reject it, which takes the whole HTTPS listener down.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from controller.dag.model import Secret
from controller.k8s.objects import Key, as_dict, as_str, key_of
from controller.k8s.views import DelegationView

TLS_TYPE = "kubernetes.io/tls"
SERVICE_ACCOUNT_TOKEN_TYPE = "kubernetes.io/service-account-token"
CERT_KEY, KEY_KEY, CA_KEY, CRL_KEY = "tls.crt", "tls.key", "ca.crt", "crl.pem"

_KEY_BLOCKS = frozenset({"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"})
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
# What Envoy's BoringSSL server side accepts (it refuses smaller RSA keys and other curves).
_EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class StoredSecret:
    """A Secret the store accepted. `tls` is set for a usable kubernetes.io/tls secret;
    `ca` is the ca.crt bytes when they hold at least one parseable certificate, `crl` the
    crl.pem bytes when every PEM block in them is a parseable X509 CRL."""

    namespace: str
    name: str
    tls: Secret | None
    ca: bytes
    crl: bytes = b""


class SecretRejected(ValueError):
    """The secret is interesting but malformed; the message says why."""


def accept_secret(obj: object) -> StoredSecret | None:
    """The secret to store, None for secrets that are not Contour's business (not TLS and no
    ca.crt, or service-account tokens); raises SecretRejected for malformed ones."""
    raw = as_dict(obj)
    kind = as_str(raw.get("type"))
    data = secret_data(raw)
    if kind == SERVICE_ACCOUNT_TOKEN_TYPE or (
            kind != TLS_TYPE and CA_KEY not in data and CRL_KEY not in data):
        return None
    namespace, name = key_of(obj)
    cert, key = data.get(CERT_KEY, b""), data.get(KEY_KEY, b"")
    certs = validate_certificates(cert) if CERT_KEY in data else []
    private = validate_private_key(key) if KEY_KEY in data else None
    tls = None
    if kind == TLS_TYPE and certs and private is not None:
        validate_pair(certs[0], private)
        tls = Secret(namespace, name, cert, key)
    return StoredSecret(namespace, name, tls, _usable_ca(data.get(CA_KEY, b"")),
                        usable_crl(data.get(CRL_KEY, b"")))


def secret_data(raw: Mapping[str, object]) -> dict[str, bytes]:
    """`data` (base64) overlaid with `stringData` (plain, as the API server would merge it;
    folder-source files may use it). A value that is not valid base64 raises SecretRejected."""
    out: dict[str, bytes] = {}
    for k, v in as_dict(raw.get("data")).items():
        if not isinstance(k, str):
            continue
        try:
            out[k] = base64.b64decode(v if isinstance(v, str) else "", validate=True)
        except (binascii.Error, ValueError) as e:
            raise SecretRejected(f"data[{k}] is not valid base64") from e
    for k, v in as_dict(raw.get("stringData")).items():
        if isinstance(k, str) and isinstance(v, str):
            out[k] = v.encode()
    return out


def pem_blocks(data: bytes) -> list[tuple[str, bytes]]:
    """(block type, whole PEM text of the block) for every block, in order."""
    return [(m.group(1).decode(), m.group(0)) for m in _PEM_BLOCK.finditer(data)]


def validate_certificates(data: bytes) -> list[x509.Certificate]:
    blocks = pem_blocks(data)
    if not blocks:
        raise SecretRejected("tls.crt: no PEM certificate found")
    certs = []
    for kind, pem in blocks:
        if kind != "CERTIFICATE":
            raise SecretRejected(f"tls.crt: unexpected PEM block {kind!r}")
        try:
            certs.append(x509.load_pem_x509_certificate(pem))
        except ValueError as e:
            raise SecretRejected(f"tls.crt: invalid certificate: {e}") from e
    return certs


def validate_private_key(data: bytes) -> PrivateKey:
    """Exactly one private key block (EC PARAMETERS blocks are ignored), unencrypted, of a
    type and size Envoy serves."""
    keys = []
    for kind, pem in pem_blocks(data):
        if kind == "EC PARAMETERS":
            continue
        if kind not in _KEY_BLOCKS:
            raise SecretRejected(f"tls.key: unexpected PEM block {kind!r}")
        keys.append(pem)
    if len(keys) != 1:
        raise SecretRejected(f"tls.key: expected one private key, found {len(keys)}")
    try:
        key = serialization.load_pem_private_key(keys[0], password=None,
                                                 unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as e:
        raise SecretRejected(f"tls.key: invalid private key: {e}") from e
    if isinstance(key, rsa.RSAPrivateKey):
        check_rsa_parameters(key.private_numbers())
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise SecretRejected(f"tls.key: RSA key of {key.key_size} bits; Envoy needs 2048+")
    if isinstance(key, ec.EllipticCurvePrivateKey) and not isinstance(key.curve, _EC_CURVES):
        raise SecretRejected(f"tls.key: unsupported curve {key.curve.name}")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SecretRejected("tls.key: only RSA and ECDSA keys are supported")
    return key


def check_rsa_parameters(k: rsa.RSAPrivateNumbers) -> None:
    """The consistency checks BoringSSL's RSA_check_key applies when Envoy loads the key
    (n = pq, e·d ≡ 1 and the CRT values mod p-1 and q-1, q·qInv ≡ 1 mod p), without
    OpenSSL's primality tests, which Envoy does not run either. perf: OpenSSL's full check
    took 64-88 ms per 2048-bit key, so 1,000 TLS Secrets cost a minute of cold start and
    each hostile batch of the fuzzer held the event loop ~0.2 s; these take ~20 µs."""
    n, e = k.public_numbers.n, k.public_numbers.e
    p, q, d = k.p, k.q, k.d
    if not (1 < p < n and 1 < q < n and p * q == n and e > 1 and n % 2 == 1
            and (d * e) % (p - 1) == 1 and (d * e) % (q - 1) == 1
            and k.dmp1 == d % (p - 1) and k.dmq1 == d % (q - 1) and (q * k.iqmp) % p == 1):
        raise SecretRejected("tls.key: invalid private key: inconsistent RSA parameters")


def validate_pair(leaf: x509.Certificate, private: PrivateKey) -> None:
    """The first certificate (the leaf) must carry the private key's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    try:
        leaf_public = leaf.public_key().public_bytes(*spki)
    except (ValueError, TypeError) as e:
        raise SecretRejected(f"tls.crt: unusable public key: {e}") from e
    if leaf_public != private.public_key().public_bytes(*spki):
        raise SecretRejected("tls.crt does not match tls.key")


def _usable_ca(data: bytes) -> bytes:
    """ca.crt is not validated on insert (a blank one is normal), but Envoy rejects a cluster
    whose trusted_ca does not parse, so only a parseable bundle is offered for validation."""
    if not data:
        return b""
    try:
        validate_certificates(data)
    except SecretRejected:
        return b""
    return data


def usable_crl(data: bytes) -> bytes:
    """crl.pem when it holds X509 CRL blocks only, each parseable (Envoy rejects a listener
    whose CRL does not parse), else b""."""
    blocks = pem_blocks(data)
    if not blocks or any(kind != "X509 CRL" for kind, _ in blocks):
        return b""
    try:
        for _, pem in blocks:
            x509.load_pem_x509_crl(pem)
    except ValueError:
        return b""
    return data


# -- references and delegation ---------------------------------------------------------------


def split_secret(ref: str, default_namespace: str) -> Key:
    """`name` → (default, name); `ns/name` → (ns, name); `/name` → (default, name);
    `ns/` → (ns, "") (spec §1.3, upstream splitSecret)."""
    namespace, sep, name = ref.partition("/")
    if not sep:
        return (default_namespace, ref)
    return (namespace or default_namespace, name)


def delegation_permitted(
    delegations: Mapping[Key, list[DelegationView]], secret: Key, namespace: str
) -> bool:
    """May an object in `namespace` use `secret`? Same namespace: always. Otherwise a
    delegation for that secret name must list the namespace, or be exactly ["*"]."""
    if secret[0] == namespace:
        return True
    return any(d.targets == ("*",) or namespace in d.targets for d in delegations.get(secret, ()))
