"""Typed views of an HTTPProxy's (v1.33) client-facing security and cookie parts:
`virtualhost.tls.clientValidation`, `virtualhost.jwtProviders`, a route's
`jwtVerificationPolicy` and the `cookieRewritePolicies` of routes and services.

Tolerant parsers like httpproxy_parts.py: nothing raises; a field of the wrong type or a
missing one is absent (None where v1.33 keeps "unset" apart from false/empty).
"""

from __future__ import annotations

from dataclasses import dataclass

from controller.k8s.objects import as_bool, as_dict, as_list, as_str


@dataclass(frozen=True, slots=True)
class ForwardClientCertView:
    """forwardClientCertificate: which client certificate details go into XFCC."""

    subject: bool = False
    cert: bool = False
    chain: bool = False
    dns: bool = False
    uri: bool = False


@dataclass(frozen=True, slots=True)
class ClientValidationView:
    ca_secret: str = ""
    crl_secret: str = ""
    crl_only_leaf: bool = False
    skip_validation: bool = False
    optional: bool = False
    forward: ForwardClientCertView | None = None


@dataclass(frozen=True, slots=True)
class JWKSValidationView:
    ca_secret: str
    subject_name: str


@dataclass(frozen=True, slots=True)
class JWTProviderView:
    name: str
    uri: str
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    default: bool = False
    forward: bool = False
    timeout: str = ""
    cache_duration: str = ""
    dns_lookup_family: str = ""
    validation: JWKSValidationView | None = None


@dataclass(frozen=True, slots=True)
class JWTPolicyView:
    """A route's jwtVerificationPolicy."""

    require: str = ""
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class CookieRewriteView:
    """One cookieRewritePolicies entry; None = that attribute is not rewritten."""

    name: str
    path: str | None = None
    domain: str | None = None
    secure: bool | None = None
    same_site: str | None = None


def client_validation(raw: object) -> ClientValidationView | None:
    if not isinstance(raw, dict):
        return None
    fwd = raw.get("forwardClientCertificate")
    forward = ForwardClientCertView(
        **{k: as_bool(fwd.get(k)) for k in ("subject", "cert", "chain", "dns", "uri")}
    ) if isinstance(fwd, dict) else None
    return ClientValidationView(
        ca_secret=as_str(raw.get("caSecret")),
        crl_secret=as_str(raw.get("crlSecret")),
        crl_only_leaf=as_bool(raw.get("crlOnlyVerifyLeafCert")),
        skip_validation=as_bool(raw.get("skipClientCertValidation")),
        optional=as_bool(raw.get("optionalClientCertificate")),
        forward=forward,
    )


def _jwt_provider(raw: object) -> JWTProviderView:
    d = as_dict(raw)
    remote = as_dict(d.get("remoteJWKS"))
    validation = remote.get("validation")
    return JWTProviderView(
        name=as_str(d.get("name")),
        uri=as_str(remote.get("uri")),
        issuer=as_str(d.get("issuer")),
        audiences=tuple(a for a in as_list(d.get("audiences")) if isinstance(a, str)),
        default=as_bool(d.get("default")),
        forward=as_bool(d.get("forwardJWT")),
        timeout=as_str(remote.get("timeout")),
        cache_duration=as_str(remote.get("cacheDuration")),
        dns_lookup_family=as_str(remote.get("dnsLookupFamily")),
        validation=JWKSValidationView(as_str(validation.get("caSecret")),
                                      as_str(validation.get("subjectName")))
        if isinstance(validation, dict) else None,
    )


def jwt_providers(raw: object) -> tuple[JWTProviderView, ...]:
    return tuple(_jwt_provider(p) for p in as_list(raw))


def jwt_policy(raw: object) -> JWTPolicyView | None:
    if not isinstance(raw, dict):
        return None
    return JWTPolicyView(as_str(raw.get("require")), as_bool(raw.get("disabled")))


def _value(raw: object) -> str | None:
    return as_str(raw.get("value")) if isinstance(raw, dict) else None


def cookie_rewrites(raw: object) -> tuple[CookieRewriteView, ...]:
    out = []
    for entry in as_list(raw):
        d = as_dict(entry)
        secure, same_site = d.get("secure"), d.get("sameSite")
        out.append(CookieRewriteView(
            name=as_str(d.get("name")),
            path=_value(d.get("pathRewrite")),
            domain=_value(d.get("domainRewrite")),
            secure=secure if isinstance(secure, bool) else None,
            same_site=same_site if isinstance(same_site, str) else None,
        ))
    return tuple(out)
