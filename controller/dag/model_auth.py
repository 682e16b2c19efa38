"""DAG values of client authentication and cookie rewriting (HTTPProxy v1.33): downstream
TLS client validation (mTLS), JWT providers with their JWKS clusters, and cookie rewrite
rules. Immutable like model.py's values; provenance never takes part in equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from controller.dag.provenance import Provenance

FORWARD_DETAILS = ("cert", "chain", "dns", "subject", "uri")
"""forwardClientCertificate's switches: which client certificate details go into XFCC."""


@dataclass(frozen=True, slots=True)
class ClientValidation:
    """v1.33 PeerValidationContext of a secure vhost: the CA bundle (may be empty with
    `skip_verify`) and CRL are inlined into the DownstreamTlsContext, as upstream does."""

    ca: bytes = b""
    crl: bytes = b""
    crl_only_leaf: bool = False
    skip_verify: bool = False
    optional: bool = False
    forward: tuple[str, ...] | None = None
    """The FORWARD_DETAILS switched on (sorted); None = no X-Forwarded-Client-Cert."""
    secrets: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    """The CA then the CRL Secret (namespace, name) they came from (provenance)."""
    provenance: Provenance | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class JWKSCluster:
    """v1.33 DNSNameCluster: a STRICT_DNS cluster (LOGICAL_DNS for family "all") for the
    host of a remote JWKS URI; TLS when the scheme is https."""

    address: str
    scheme: str
    port: int
    dns_lookup_family: str = ""
    ca_cert: bytes = b""
    """remoteJWKS.validation: the CA the JWKS server's certificate must chain to (empty:
    not verified) and the DNS SAN it must carry."""
    subject_name: str = ""

    @property
    def name(self) -> str:
        return f"dnsname/{self.scheme}/{self.address}"


@dataclass(frozen=True, slots=True)
class JWTProvider:
    """One jwtProviders entry; its requirement in the jwt_authn filter has its name."""

    name: str
    uri: str
    cluster: JWKSCluster
    issuer: str = ""
    audiences: tuple[str, ...] = ()
    timeout: float = 1.0
    cache_duration: float | None = None
    forward: bool = False
    provenance: Provenance | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, order=True)
class CookieRewrite:
    """One cookie's attribute rewrites (Set-Cookie of responses); None keeps it."""

    name: str
    path: str | None = None
    domain: str | None = None
    secure: bool | None = None
    same_site: str | None = None
