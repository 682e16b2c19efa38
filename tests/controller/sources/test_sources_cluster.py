"""What the cluster source watches, and where (tests/cluster runs it against a real API
server)."""

from __future__ import annotations

import pytest

from controller.sources.cluster import watched_kinds


def test_every_kind_the_builder_reads_is_watched() -> None:
    kinds = {(k.kind, k.api_version) for k in watched_kinds(frozenset())}
    assert {("HTTPProxy", "projectcontour.io/v1"),
            ("TLSCertificateDelegation", "projectcontour.io/v1"),
            ("TLSCertificateDelegation", "contour.heptio.com/v1beta1"),
            ("ExtensionService", "projectcontour.io/v1alpha1"),
            ("IngressRoute", "contour.heptio.com/v1beta1")} <= kinds
    assert {("GatewayClass", "gateway.networking.k8s.io/v1"),
            ("Gateway", "gateway.networking.k8s.io/v1"),
            ("HTTPRoute", "gateway.networking.k8s.io/v1"),
            ("TLSRoute", "gateway.networking.k8s.io/v1"),
            ("ReferenceGrant", "gateway.networking.k8s.io/v1beta1"),
            ("Namespace", "v1")} <= kinds


@pytest.mark.parametrize(("roots", "fallback", "secret_paths"), [
    (frozenset(), None, ["/api/v1/secrets"]),
    (frozenset(), ("certs", "fallback"), ["/api/v1/secrets"]),
    (frozenset({"b", "a"}), None,
     ["/api/v1/namespaces/a/secrets", "/api/v1/namespaces/b/secrets"]),
    (frozenset({"a"}), ("certs", "fallback"),
     ["/api/v1/namespaces/a/secrets", "/api/v1/namespaces/certs/secrets"]),
    (frozenset({"a"}), ("a", "fallback"), ["/api/v1/namespaces/a/secrets"]),
])
def test_secrets_in_root_namespaces_and_the_fallback_certificates(roots, fallback,
                                                                  secret_paths) -> None:
    (secrets,) = [k for k in watched_kinds(roots, fallback) if k.kind == "Secret"]
    assert secrets.paths() == secret_paths
    others = [k for k in watched_kinds(roots, fallback) if k.kind != "Secret"]
    assert all(not k.namespaces for k in others)  # everything else cluster-wide


def test_httpproxy_paths() -> None:
    (proxy,) = [k for k in watched_kinds(frozenset()) if k.kind == "HTTPProxy"]
    assert proxy.paths() == ["/apis/projectcontour.io/v1/httpproxies"]
