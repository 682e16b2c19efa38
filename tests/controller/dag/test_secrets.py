"""Secret acceptance and PEM validation (spec §2.6), reference split and delegation (§1.1, §1.3)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dagkit import b64, certificate, delegation, ec_key, pem_key, rsa_key, secret, tls_pair

from controller.dag import secrets
from controller.dag.secrets import SecretRejected, accept_secret
from controller.k8s.views import delegation_views

CERT, KEY = tls_pair()
OTHER_CERT, OTHER_KEY = tls_pair(1)
RSA_CERT, RSA_KEY = certificate(rsa_key(2048)), pem_key(rsa_key(2048))
RSA_PKCS1 = rsa_key(2048).private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption(),
)
EC_SEC1 = ec_key(0).private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.TraditionalOpenSSL,
    serialization.NoEncryption(),
)
EC_PARAMS = b"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
ENCRYPTED = ec_key(0).private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.BestAvailableEncryption(b"pw"),
)


@pytest.mark.parametrize(
    ("cert", "key"),
    [
        pytest.param(CERT, KEY, id="ec-pkcs8"),
        pytest.param(CERT, EC_SEC1, id="ec-sec1"),
        pytest.param(CERT, EC_PARAMS + EC_SEC1, id="ec-parameters-ignored"),
        pytest.param(RSA_CERT, RSA_KEY, id="rsa-pkcs8"),
        pytest.param(RSA_CERT, RSA_PKCS1, id="rsa-pkcs1"),
        pytest.param(CERT + OTHER_CERT, KEY, id="chain-leaf-first"),
        pytest.param(CERT.replace(b"\n", b"\r\n"), KEY, id="crlf"),
    ],
)
def test_usable_tls_secret(cert: bytes, key: bytes) -> None:
    stored = accept_secret(secret("s", cert=cert, key=key))
    assert stored is not None and stored.tls is not None
    assert (stored.tls.cert, stored.tls.key) == (cert, key)


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        pytest.param(secret("s", cert=b"wrong", key=KEY), "no PEM certificate", id="not-pem"),
        pytest.param(secret("s", cert=b"", key=KEY), "no PEM certificate", id="empty-cert"),
        pytest.param(secret("s", cert=KEY, key=KEY), "unexpected PEM block", id="key-as-cert"),
        pytest.param(
            secret(
                "s", cert=b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key=KEY
            ),
            "invalid certificate",
            id="garbage-certificate",
        ),
        pytest.param(secret("s", cert=CERT, key=CERT), "unexpected PEM block", id="cert-as-key"),
        pytest.param(secret("s", cert=CERT, key=b""), "found 0", id="no-key"),
        pytest.param(secret("s", cert=CERT, key=KEY + OTHER_KEY), "found 2", id="two-keys"),
        pytest.param(
            secret("s", cert=CERT, key=ENCRYPTED), "unexpected PEM block", id="encrypted-key"
        ),
        pytest.param(secret("s", cert=CERT, key=OTHER_KEY), "does not match", id="mismatch"),
        pytest.param(
            secret("s", cert=certificate(rsa_key(1024)), key=pem_key(rsa_key(1024))),
            "2048",
            id="rsa-too-small",
        ),
        pytest.param(
            secret("s", cert=certificate(ec_key(0, "k256")), key=pem_key(ec_key(0, "k256"))),
            "curve",
            id="unsupported-curve",
        ),
        pytest.param(
            {
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "s"},
                "data": {"tls.crt": "!!!", "tls.key": b64(KEY)},
            },
            "base64",
            id="bad-base64",
        ),
        pytest.param(
            secret("s", type="Opaque", ca=b"x", cert=b"junk"),
            "no PEM",
            id="opaque-with-ca-and-bad-cert",
        ),
    ],
)
def test_rejected_secret(obj: dict[str, Any], reason: str) -> None:
    with pytest.raises(SecretRejected, match=reason):
        accept_secret(obj)


@pytest.mark.parametrize(
    "obj",
    [
        pytest.param(secret("s", type="Opaque", cert=b"x", key=b"y"), id="opaque-without-ca"),
        pytest.param(
            secret("s", type="kubernetes.io/service-account-token", ca=CERT),
            id="service-account-token",
        ),
        pytest.param({"kind": "Secret", "metadata": {"name": "s"}}, id="no-type"),
    ],
)
def test_ignored_secret(obj: dict[str, Any]) -> None:
    assert accept_secret(obj) is None


@pytest.mark.parametrize(
    ("obj", "tls", "ca"),
    [
        pytest.param(secret("s", type="Opaque", ca=CERT), False, CERT, id="opaque-ca"),
        pytest.param(secret("s", cert=CERT, key=KEY, ca=b""), True, b"", id="blank-ca-ok"),
        pytest.param(secret("s", type="Opaque", ca=b"junk"), False, b"", id="junk-ca-unusable"),
        pytest.param(secret("s", cert=CERT, key=None), False, b"", id="tls-without-key"),
        pytest.param(
            {
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                "metadata": {"name": "s"},
                "stringData": {"tls.crt": CERT.decode(), "tls.key": KEY.decode()},
            },
            True,
            b"",
            id="stringData",
        ),
    ],
)
def test_stored_secret_parts(obj: dict[str, Any], tls: bool, ca: bytes) -> None:
    stored = accept_secret(obj)
    assert stored is not None
    assert (stored.tls is not None, stored.ca) == (tls, ca)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("name", ("root", "name")),
        ("ns/name", ("ns", "name")),
        ("/name", ("root", "name")),
        ("ns/", ("ns", "")),
        ("", ("root", "")),
        ("a/b/c", ("a", "b/c")),
    ],
)
def test_split_secret(ref: str, expected: tuple[str, str]) -> None:
    assert secrets.split_secret(ref, "root") == expected


GRANTS = {
    ("certs", "wild"): list(delegation_views(delegation("d1", "certs", ("wild", ["*"])))),
    ("certs", "mixed"): list(delegation_views(delegation("d2", "certs", ("mixed", ["*", "a"])))),
    ("certs", "some"): list(delegation_views(delegation("d3", "certs", ("some", ["a", "b"])))),
    ("certs", "none"): list(delegation_views(delegation("d4", "certs", ("none", [])))),
}


@pytest.mark.parametrize(
    ("secret_key", "namespace", "permitted"),
    [
        pytest.param(("app", "x"), "app", True, id="same-namespace"),
        pytest.param(("certs", "wild"), "anything", True, id="exact-star"),
        pytest.param(("certs", "mixed"), "other", False, id="star-among-names-is-literal"),
        pytest.param(("certs", "mixed"), "a", True, id="listed-with-star"),
        pytest.param(("certs", "some"), "b", True, id="listed"),
        pytest.param(("certs", "some"), "c", False, id="not-listed"),
        pytest.param(("certs", "none"), "a", False, id="empty-targets"),
        pytest.param(("certs", "undelegated"), "a", False, id="no-delegation"),
    ],
)
def test_delegation_permitted(secret_key: tuple[str, str], namespace: str, permitted: bool) -> None:
    assert secrets.delegation_permitted(GRANTS, secret_key, namespace) is permitted


def _tampered(**change: int) -> bytes:
    """A PEM RSA key whose private numbers differ from a real key's by `change`."""
    real = rsa_key(2048).private_numbers()
    fields = {f: getattr(real, f) for f in ("p", "q", "d", "dmp1", "dmq1", "iqmp")}
    numbers = rsa.RSAPrivateNumbers(**{**fields, **change}, public_numbers=real.public_numbers)
    return numbers.private_key(unsafe_skip_rsa_key_validation=True).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())


_REAL = rsa_key(2048).private_numbers()


@pytest.mark.parametrize("change", [
    pytest.param({}, id="consistent"),
    pytest.param({"dmp1": _REAL.dmp1 + 2}, id="dmp1"),
    pytest.param({"dmq1": _REAL.dmq1 + 2}, id="dmq1"),
    pytest.param({"iqmp": _REAL.iqmp + 1}, id="iqmp"),
    pytest.param({"d": _REAL.d + 2}, id="d"),
    pytest.param({"p": _REAL.q, "q": _REAL.p}, id="p-q-swapped"),
])
def test_rsa_parameters_judged_as_openssl_judges_them(change: dict[str, int]) -> None:
    """The fast RSA check (no primality tests) agrees with OpenSSL's full one on keys whose
    numbers are tampered with; `_REAL` is the key `rsa_key` returns (it is cached)."""
    pem = _tampered(**change)
    try:
        serialization.load_pem_private_key(pem, password=None)
        openssl_ok = True
    except ValueError:
        openssl_ok = False
    try:
        secrets.validate_private_key(pem)
        ours_ok = True
    except SecretRejected as err:
        ours_ok = False
        assert "tls.key: invalid private key" in str(err)
    assert (ours_ok, openssl_ok) == (not change, not change)
