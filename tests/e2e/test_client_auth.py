"""HTTPProxy client authentication and cookie rewriting through the real controller and a
real Envoy (v1.33 semantics): JWT verification against a JWKS server of the test's own,
mTLS with a client CA, certificates and a CRL made by the test, XFCC reaching the backend,
and Set-Cookie rewritten by the Lua filter as the client sees it."""

from __future__ import annotations

import base64
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from authkit import ClientCA, JWKSServer, JWTIssuer, Reply, https_get
from harness.certs import HarnessCA
from harness.runner import ScenarioRun
from harness.scenario import load

ISSUER, AUDIENCE = "https://issuer.test", "contour-e2e"
HOSTS = ("jwt.example.com", "mtls.example.com", "optional.example.com", "skip.example.com")
DEADLINE = 60.0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _secret(name: str, data: dict[str, bytes | str], type_: str = "Opaque") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": type_,
            "metadata": {"name": name, "namespace": "default"},
            "data": {k: v if v == "GENERATE" else _b64(v) for k, v in data.items()}}


def _proxy(name: str, fqdn: str, tls: dict[str, Any], routes: list[dict[str, Any]],
           **vhost: Any) -> dict[str, Any]:
    return {"apiVersion": "projectcontour.io/v1", "kind": "HTTPProxy",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"virtualhost": {"fqdn": fqdn, "tls": {"secretName": "server", **tls},
                                     **vhost},
                     "routes": routes}}


def _route(prefix: str, **extra: Any) -> dict[str, Any]:
    return {"conditions": [{"prefix": prefix}], "services": [{"name": "s1", "port": 80}],
            **extra}


def _objects(ca: ClientCA, revoked: bytes, jwks_port: int) -> list[dict[str, Any]]:
    jwt = {"name": "issuer", "issuer": ISSUER, "audiences": [AUDIENCE], "default": True,
           "forwardJWT": True,
           "remoteJWKS": {"uri": f"http://127.0.0.1:{jwks_port}/jwks.json", "timeout": "5s"}}
    cookie = {"name": "session", "pathRewrite": {"value": "/app"}, "secure": True,
              "sameSite": "Strict"}
    validation = {"caSecret": "client-ca", "crlSecret": "client-crl",
                  "forwardClientCertificate": {"subject": True, "cert": True}}
    return [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1", "namespace": "default"},
         "spec": {"ports": [{"name": "http", "port": 80}]}},
        _secret("server", {"tls.crt": "GENERATE", "tls.key": "GENERATE"}, "kubernetes.io/tls"),
        _secret("client-ca", {"ca.crt": ca.cert_pem}),
        _secret("client-crl", {"crl.pem": revoked}),
        _proxy("jwt", HOSTS[0], {}, [
            _route("/open", jwtVerificationPolicy={"disabled": True}),
            _route("/cookie", jwtVerificationPolicy={"disabled": True},
                   cookieRewritePolicies=[cookie],
                   responseHeadersPolicy={"set": [
                       {"name": "Set-Cookie", "value": "session=abc; Path=/; HttpOnly"}]}),
            _route("/")], jwtProviders=[jwt]),
        _proxy("mtls", HOSTS[1], {"clientValidation": validation}, [_route("/")]),
        _proxy("optional", HOSTS[2], {"clientValidation": {
            "caSecret": "client-ca", "optionalClientCertificate": True}}, [_route("/")]),
        _proxy("skip", HOSTS[3], {"clientValidation": {
            "skipClientCertValidation": True, "forwardClientCertificate": {"subject": True}}},
            [_route("/")]),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One controller + Envoy serving the four roots; what the tests need to talk to them."""
    tmp = tmp_path_factory.mktemp("client-auth")
    ca, other = ClientCA("client-ca"), ClientCA("other-ca")
    certs = {"good": ca.issue("alice"), "revoked": ca.issue("mallory"),
             "stranger": other.issue("eve")}
    issuer = JWTIssuer()
    jwks = JWKSServer(issuer.jwks())
    status = [{"kind": "HTTPProxy", "namespace": "default", "name": n, "currentStatus": "valid"}
              for n in ("jwt", "mtls", "optional", "skip")]
    doc = {"name": "client-auth", "objects": yaml.safe_dump_all(
        _objects(ca, ca.crl(certs["revoked"]), jwks.port)),
        "certs": {"default/server": {"cn": HOSTS[0], "sans": list(HOSTS)}},
        "endpoints": ["default/s1:80"], "expect": {"status": status}}
    path = tmp / "client-auth.yaml"
    path.write_text(yaml.safe_dump(doc))
    run = ScenarioRun(load(path), HarnessCA(), tmp / "w")
    try:
        run.run()
        assert run.ports is not None
        yield {"port": run.ports.https, "certs": certs, "issuer": issuer, "jwks": jwks}
    finally:
        run.close()
        jwks.close()


def eventually(attempt: Callable[[], Reply], check: Callable[[Reply], bool]) -> Reply:
    """Retry until `check` holds (Envoy takes the config, fetches the JWKS); the last reply."""
    deadline = time.monotonic() + DEADLINE
    while True:
        try:
            reply = attempt()
            if check(reply) or time.monotonic() > deadline:
                return reply
        except (ssl.SSLError, OSError):
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def _now() -> int:
    return int(time.time())


def _jwt_get(world: dict[str, Any], path: str, token: str | None) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return https_get(world["port"], HOSTS[0], path, headers=headers)


def test_jwt_valid_token_reaches_the_backend_and_is_forwarded(world: dict[str, Any]) -> None:
    token = world["issuer"].token(iss=ISSUER, aud=AUDIENCE, sub="alice", exp=_now() + 600)
    reply = eventually(lambda: _jwt_get(world, "/", token), lambda r: r.status == 200)
    assert reply.status == 200, reply
    assert reply.json()["headers"]["authorization"] == f"Bearer {token}"  # forwardJWT
    assert world["jwks"].hits[0] >= 1


@pytest.mark.parametrize(("claims", "status"), [
    ({"iss": ISSUER, "aud": AUDIENCE, "exp": -600}, 401),
    ({"iss": "https://other.test", "aud": AUDIENCE, "exp": 600}, 401),
    ({"iss": ISSUER, "aud": "someone-else", "exp": 600}, 403),  # Envoy: audience not allowed
], ids=["expired", "wrong issuer", "wrong audience"])
def test_jwt_bad_tokens_are_refused(world: dict[str, Any], claims: dict[str, Any],
                                    status: int) -> None:
    good = world["issuer"].token(iss=ISSUER, aud=AUDIENCE, exp=_now() + 600)
    eventually(lambda: _jwt_get(world, "/", good), lambda r: r.status == 200)
    token = world["issuer"].token(**{**claims, "exp": _now() + claims["exp"]})
    reply = _jwt_get(world, "/", token)
    assert reply.status == status and b"Jwt" in reply.body, reply


def test_jwt_missing_token_on_a_required_route_and_disabled_route(world: dict[str, Any]) -> None:
    reply = eventually(lambda: _jwt_get(world, "/open", None), lambda r: r.status == 200)
    assert reply.status == 200 and "authorization" not in reply.json()["headers"]
    assert _jwt_get(world, "/", None).status == 401
    forged = JWTIssuer().token(iss=ISSUER, aud=AUDIENCE, exp=_now() + 600)  # unknown key
    assert _jwt_get(world, "/", forged).status == 401


def test_cookie_rewrite_seen_by_the_client(world: dict[str, Any]) -> None:
    reply = eventually(lambda: _jwt_get(world, "/cookie", None), lambda r: r.status == 200)
    assert reply.all("set-cookie") == ["session=abc; HttpOnly; Path=/app; SameSite=Strict; "
                                       "Secure"]


def _mtls(world: dict[str, Any], host: str, cert: str | None) -> Reply:
    return https_get(world["port"], host, "/", cert=world["certs"][cert] if cert else None)


def _refused(attempt: Callable[[], Reply]) -> bool:
    """The handshake (or the first read, TLS 1.3 reports a refused certificate late) fails."""
    try:
        attempt()
    except (ssl.SSLError, OSError):
        return True
    return False


def test_mtls_good_cert_accepted_with_xfcc(world: dict[str, Any]) -> None:
    reply = eventually(lambda: _mtls(world, HOSTS[1], "good"), lambda r: r.status == 200)
    assert reply.status == 200
    xfcc = reply.json()["headers"]["x-forwarded-client-cert"]
    assert 'Subject="CN=alice"' in xfcc and "Cert=" in xfcc and "Hash=" in xfcc


def test_mtls_refuses_no_cert_a_stranger_and_a_revoked_cert(world: dict[str, Any]) -> None:
    eventually(lambda: _mtls(world, HOSTS[1], "good"), lambda r: r.status == 200)
    assert _refused(lambda: _mtls(world, HOSTS[1], None))
    assert _refused(lambda: _mtls(world, HOSTS[1], "stranger"))
    assert _refused(lambda: _mtls(world, HOSTS[1], "revoked"))  # the CRL


def test_optional_client_certificate(world: dict[str, Any]) -> None:
    reply = eventually(lambda: _mtls(world, HOSTS[2], None), lambda r: r.status == 200)
    assert reply.status == 200 and "x-forwarded-client-cert" not in reply.json()["headers"]
    assert _mtls(world, HOSTS[2], "good").status == 200
    assert _refused(lambda: _mtls(world, HOSTS[2], "stranger"))  # given, so verified


def test_skip_client_cert_validation_forwards_any_cert(world: dict[str, Any]) -> None:
    reply = eventually(lambda: _mtls(world, HOSTS[3], "stranger"), lambda r: r.status == 200)
    assert reply.status == 200
    assert 'Subject="CN=eve"' in reply.json()["headers"]["x-forwarded-client-cert"]
    # Envoy's ACCEPT_UNTRUSTED (v1.33's translation of skip) also accepts no certificate
    reply = _mtls(world, HOSTS[3], None)
    assert reply.status == 200 and "x-forwarded-client-cert" not in reply.json()["headers"]


def test_a_client_on_another_vhost_is_not_asked_for_a_cert(world: dict[str, Any]) -> None:
    """The JWT vhost's chain has no validation context: no client certificate needed."""
    assert _jwt_get(world, "/open", None).status == 200


