"""The object store: the builder's only input. One dict per kind keyed by (namespace, name).

`upsert` and `remove` answer "does this change matter for routing?" (spec §2.5) so the event
loop can skip rebuilds:
- Ingress / IngressRoute / HTTPProxy for another ingress class are not stored at all (an
  update that moves a stored object to another class removes it);
- an update that changes nothing but status, resourceVersion, generation or managedFields is
  not a change;
- a Service or Secret matters only while an Ingress, IngressRoute or HTTPProxy references it
  by name (or it is the controller's fallback certificate). TLSCertificateDelegations of
  contour.heptio.com/v1beta1 and projectcontour.io/v1 share one kind name and shape.
  The reference index (store_refs.py) is an over-approximation (orphans and unpermitted
  delegations count too), which can cost a rebuild but never miss one;
- Endpoints, EndpointSlices and kinds the builder does not read are ignored (EDS has its own
  path).

Objects are parsed once, on upsert, into the typed views of controller.k8s.objects (a
Service into its ports: stored_service.py); the builder never touches raw dicts. Nothing
here raises on malformed input.
"""

from __future__ import annotations

from collections.abc import Callable

from controller.config import BuilderSettings
from controller.dag.gateway_store import GATEWAY_KINDS, GatewayObjects
from controller.dag.model import Secret, ServicePort
from controller.dag.secrets import (
    SecretRejected,
    StoredSecret,
    accept_secret,
    delegation_permitted,
    split_secret,
)
from controller.dag.store_refs import (
    References,
    httpproxy_refs,
    ingress_refs,
    ingressroute_refs,
)
from controller.dag.stored_service import StoredService, stored_service
from controller.k8s import annotations as ann
from controller.k8s.extension_views import ExtensionServiceView, extension_service_view
from controller.k8s.httpproxy_views import HTTPProxyView, httpproxy_view
from controller.k8s.objects import (
    DELEGATION_KINDS,
    EXTENSION_SERVICE,
    HTTPPROXY,
    INGRESS,
    INGRESSROUTE,
    NAMESPACE,
    SECRET,
    SERVICE,
    TLS_CERTIFICATE_DELEGATION,
    TLS_CERTIFICATE_DELEGATION_V1,
    Key,
    Obj,
    annotations_of,
    as_dict,
    as_str,
    key_of,
    kind_of,
)
from controller.k8s.views import (
    DelegationView,
    IngressRouteView,
    IngressView,
    delegation_views,
    ingress_class_name,
    ingress_view,
    ingressroute_view,
    service_view,
)

_VOLATILE_METADATA = ("resourceVersion", "managedFields", "generation")


def _stripped(obj: Obj) -> Obj:
    """The object without the parts that change on every write but never affect routing:
    what the kinds without a view of their own (ExtensionService, Gateway API) compare."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = as_dict(obj.get("metadata"))
    out["metadata"] = {k: v for k, v in meta.items() if k not in _VOLATILE_METADATA}
    return out


class ObjectStore:
    """Kubernetes objects the builder reads, parsed, plus the indexes it needs."""

    def __init__(self, settings: BuilderSettings) -> None:
        self.settings = settings
        self.ingressroutes: dict[Key, IngressRouteView] = {}
        self.httpproxies: dict[Key, HTTPProxyView] = {}
        self.ingresses: dict[Key, IngressView] = {}
        self.services: dict[Key, StoredService] = {}
        self.secrets: dict[Key, StoredSecret] = {}
        self.delegations: dict[tuple[Key, str], tuple[DelegationView, ...]] = {}
        """(object key, kind) → its grants; both API groups' delegations, read alike."""
        self.extensionservices: dict[Key, ExtensionServiceView] = {}
        self.rejected_secrets: dict[Key, str] = {}
        """Secrets refused at insert (spec §2.6): key → reason, for logs and debug output."""
        self.gateway = GatewayObjects()
        self._parsed: dict[str, dict[Key, object]] = {
            k: {}
            for k in (INGRESS, INGRESSROUTE, HTTPPROXY, SERVICE, SECRET,
                      TLS_CERTIFICATE_DELEGATION, TLS_CERTIFICATE_DELEGATION_V1,
                      EXTENSION_SERVICE, *GATEWAY_KINDS)
        }
        """kind → key → what the stored object parsed to (its view, StoredService, ...),
        compared on the next upsert. memory (bench/memory.py, 50k IngressRoutes and
        Services): keeping the raw objects for that instead cost ~160 MB; a view holds
        every field the builder reads, so an equal view cannot change the DAG. The kinds
        without a view of their own (ExtensionService, Gateway API: few objects) keep the
        object without its volatile parts."""
        self._refs = References()
        self._granted: dict[Key, list[DelegationView]] = {}  # secret key → delegations
        self._upserts: dict[str, Callable[[Obj, Key], bool]] = {
            INGRESS: self._upsert_ingress,
            INGRESSROUTE: self._upsert_ingressroute,
            HTTPPROXY: self._upsert_httpproxy,
            SERVICE: self._upsert_service,
            SECRET: self._upsert_secret,
            TLS_CERTIFICATE_DELEGATION: self._upsert_delegation,
            **dict.fromkeys(GATEWAY_KINDS, self._upsert_gateway_kind),
            TLS_CERTIFICATE_DELEGATION_V1: self._upsert_delegation_v1,
            EXTENSION_SERVICE: self._upsert_extension,
        }

    # -- events ------------------------------------------------------------------------------

    def upsert(self, obj: object) -> bool:
        """Insert or replace; True when the change may alter the DAG."""
        handler = self._upserts.get(kind_of(obj))
        key = key_of(obj)
        if handler is None or not key[1] or not isinstance(obj, dict):
            return False
        return handler(obj, key)

    def remove(self, kind: str, namespace: str, name: str) -> bool:
        """Delete; True when the object was stored and the removal may alter the DAG."""
        key = (namespace, name)
        parsed = self._parsed.get(kind)
        if parsed is None or parsed.pop(key, None) is None:
            return False
        if kind == SERVICE:
            self.services.pop(key, None)
            addresses = key == self.settings.envoy_service and self.gateway.set_envoy_service(
                None)
            owned = self.gateway.set_service(key, None)
            return addresses or owned or self._refs.names_service(key)
        if kind == SECRET:
            self.rejected_secrets.pop(key, None)
            return self.secrets.pop(key, None) is not None and self._secret_referenced(key)
        if kind in DELEGATION_KINDS:
            self._set_delegations(kind, key, ())
            return True
        if kind in GATEWAY_KINDS:
            self.gateway.remove(kind, key)
            self._refs.set(kind, key, (), ())
            return kind != NAMESPACE or self.gateway.selects_namespaces()
        if kind == INGRESS:
            self.ingresses.pop(key, None)
        elif kind == HTTPPROXY:
            self.httpproxies.pop(key, None)
        elif kind == EXTENSION_SERVICE:
            self.extensionservices.pop(key, None)
        else:
            self.ingressroutes.pop(key, None)
        self._refs.set(kind, key, (), ())
        return True

    def counts(self) -> dict[str, int]:
        """Stored objects per kind (metrics); Gateway API kinds once there are some."""
        return {kind: len(objs) for kind, objs in self._parsed.items()
                if objs or kind not in GATEWAY_KINDS}

    # -- lookups for the builder ---------------------------------------------------------------

    def service_port(self, key: Key, port: int) -> ServicePort | None:
        svc = self.services.get(key)
        return svc.http_port(port) if svc is not None else None

    def service_port_named(self, key: Key, name: str) -> ServicePort | None:
        svc = self.services.get(key)
        return svc.http_port_named(name) if svc is not None else None

    def tcp_service_port(self, key: Key, port: int) -> ServicePort | None:
        svc = self.services.get(key)
        return svc.tcp_port(port) if svc is not None else None

    def tls_secret(self, key: Key, namespace: str) -> tuple[Secret | None, bool]:
        """(the usable TLS secret or None, whether `namespace` may use it — answered even
        when the secret is missing: v1.33 reports a missing delegation first)."""
        stored = self.secrets.get(key)
        permitted = delegation_permitted(self._granted, key, namespace)
        return (stored.tls if stored is not None else None), permitted

    def secret_problem(self, key: Key) -> str:
        """Why `key` is no usable TLS secret (v1.33's texts for a missing one)."""
        stored = self.secrets.get(key)
        if stored is not None and stored.tls is not None:
            return ""
        return self.rejected_secrets.get(key, "Secret not found")

    def service_exists(self, key: Key) -> bool:
        return key in self.services

    def ca_certificate(self, key: Key) -> bytes:
        stored = self.secrets.get(key)
        return stored.ca if stored is not None else b""

    def crl(self, key: Key) -> bytes:
        stored = self.secrets.get(key)
        return stored.crl if stored is not None else b""

    def missing_secret(self, key: Key) -> str:
        """Why `key` is no stored Secret ("" when it is one): v1.33's "Secret not found",
        or why the store rejected it."""
        if key in self.secrets:
            return ""
        return self.rejected_secrets.get(key, "Secret not found")
    def extension_service(self, key: Key) -> ExtensionServiceView | None:
        return self.extensionservices.get(key)

    # -- per kind ------------------------------------------------------------------------------

    def _changed(self, kind: str, key: Key, parsed: object) -> bool:
        """Record what the object parsed to; False when it equals what was stored."""
        seen = self._parsed[kind]
        if seen.get(key) == parsed:
            return False
        seen[key] = parsed
        return True

    def _upsert_ingress(self, obj: Obj, key: Key) -> bool:
        wanted = self.settings.ingress_class
        if not ann.class_matches(annotations_of(obj), wanted, ingress_class_name(obj)):
            return self.remove(INGRESS, *key)
        view = ingress_view(obj)
        if not self._changed(INGRESS, key, view):
            return False
        self.ingresses[key] = view
        self._refs.set(INGRESS, key, *ingress_refs(view))
        return True

    def _upsert_ingressroute(self, obj: Obj, key: Key) -> bool:
        if not ann.class_matches(annotations_of(obj), self.settings.ingress_class):
            return self.remove(INGRESSROUTE, *key)
        view = ingressroute_view(obj)
        if not self._changed(INGRESSROUTE, key, view):
            return False
        self.ingressroutes[key] = view
        self._refs.set(INGRESSROUTE, key, *ingressroute_refs(view))
        return True

    def _upsert_httpproxy(self, obj: Obj, key: Key) -> bool:
        class_name = as_str(as_dict(obj.get("spec")).get("ingressClassName"))
        if not ann.class_matches(annotations_of(obj), self.settings.ingress_class, class_name):
            return self.remove(HTTPPROXY, *key)
        view = httpproxy_view(obj)
        if not self._changed(HTTPPROXY, key, view):
            return False
        self.httpproxies[key] = view
        self._refs.set(HTTPPROXY, key, *httpproxy_refs(view))
        return True

    def _upsert_extension(self, obj: Obj, key: Key) -> bool:
        """Every ExtensionService has a status, so any change matters."""
        if not self._changed(EXTENSION_SERVICE, key, _stripped(obj)):
            return False
        view = self.extensionservices[key] = extension_service_view(obj)
        services = tuple(sorted({(view.namespace, t.name) for t in view.services}))
        secrets = (() if view.validation is None
                   else (split_secret(view.validation.ca_secret, view.namespace),))
        self._refs.set(EXTENSION_SERVICE, key, services, secrets)
        return True

    def _upsert_service(self, obj: Obj, key: Key) -> bool:
        # the Envoy Service matters with its status (its addresses), which its view ignores
        addresses = key == self.settings.envoy_service and self.gateway.set_envoy_service(obj)
        owned = self.gateway.set_service(key, obj)  # with its status (the Gateway's address)
        stored = stored_service(service_view(obj))
        if not self._changed(SERVICE, key, stored):
            return addresses or owned
        self.services[key] = stored
        return addresses or owned or self._refs.names_service(key)

    def _upsert_secret(self, obj: Obj, key: Key) -> bool:
        try:
            stored, reason = accept_secret(obj), ""
        except SecretRejected as e:
            stored, reason = None, str(e)
        if not self._changed(SECRET, key, (stored, reason)):
            return False
        if reason:
            self.rejected_secrets[key] = reason
        else:
            self.rejected_secrets.pop(key, None)
        if stored is None:
            return self.secrets.pop(key, None) is not None and self._secret_referenced(key)
        self.secrets[key] = stored
        return self._secret_referenced(key)

    def _upsert_gateway_kind(self, obj: Obj, key: Key) -> bool:
        kind = kind_of(obj)
        if not self._changed(kind, key, _stripped(obj)):
            return False
        services, secrets = self.gateway.upsert(kind, obj)
        self._refs.set(kind, key, services, secrets)
        # a Namespace's labels matter only to a listener selecting namespaces by label
        return kind != NAMESPACE or self.gateway.selects_namespaces()

    def _upsert_delegation(self, obj: Obj, key: Key,
                           kind: str = TLS_CERTIFICATE_DELEGATION) -> bool:
        views = delegation_views(obj)
        if not self._changed(kind, key, views):
            return False
        self._set_delegations(kind, key, views)
        return True

    def _upsert_delegation_v1(self, obj: Obj, key: Key) -> bool:
        return self._upsert_delegation(obj, key, TLS_CERTIFICATE_DELEGATION_V1)

    # -- indexes -------------------------------------------------------------------------------

    def _secret_referenced(self, key: Key) -> bool:
        """Named by an object, or the controller's fallback certificate."""
        return self._refs.names_secret(key) or key == self.settings.fallback_certificate

    def _set_delegations(self, kind: str, key: Key,
                         views: tuple[DelegationView, ...]) -> None:
        """Re-index every delegation of the object's namespace (few objects, cheap)."""
        if views:
            self.delegations[(key, kind)] = views
        else:
            self.delegations.pop((key, kind), None)
        namespace = key[0]
        for secret in [k for k in self._granted if k[0] == namespace]:
            del self._granted[secret]
        for obj_key, obj_kind in sorted(self.delegations):
            if obj_key[0] != namespace:
                continue
            for d in self.delegations[(obj_key, obj_kind)]:
                self._granted.setdefault((namespace, d.secret_name), []).append(d)
