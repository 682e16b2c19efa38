"""The caching translator: DAG → serialized LDS/RDS/CDS/SDS resources.

Output contract: `{type_url: {resource_name: serialized bytes}}`, names sorted; the xDS
server wraps each value as `Any(type_url=..., value=bytes)`. DAG values are frozen and
hashable, so each vhost, filter chain, cluster and secret is translated once and its bytes
reused while an equal value appears in later builds; entries unused by a build are dropped.
The big RouteConfigurations and the HTTPS listener are spliced from those cached bytes
(a repeated field on the wire is the concatenation of its elements).

Every freshly encoded vhost, filter chain, cluster and secret is checked against Envoy's
constraints (controller/envoy/constraints.py) before it is kept: a host with any part Envoy
would reject contributes nothing, on either port, and is reported in `rejected` (host →
reason), so one bad object never makes Envoy reject a whole table or listener.

With a fallback certificate (DAG.fallback_secret) and a secure vhost enabling it, the HTTPS
listener gets a last, SNI-less chain routed by the `ingress_fallbackcert` table, which holds
the same vhost bytes as `ingress_https` for those vhosts (upstream v1.33).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message

from controller.config import ListenerSettings
from controller.dag import model
from controller.envoy import cluster as envoy_cluster
from controller.envoy import pb
from controller.envoy.constraints import rejection
from controller.envoy.jwt import jwks_cluster
from controller.envoy.names import secret_name
from controller.envoy.secret import tls_secret
from controller.records import record
from controller.xdscache import listeners as lds
from controller.xdscache import routes as rds
from controller.xdscache import scopes
from controller.xdscache.clusters import ClusterKey, cluster_key, cluster_of
from controller.xdscache.gateway_listeners import GroupParts, group_parts
from controller.xdscache.verdicts import Verdicts

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Named = tuple[str, bytes]
Resources = dict[str, dict[str, bytes]]
_MISSING: Any = object()

TYPE_MESSAGES: dict[str, type[Message]] = {
    pb.LISTENER_TYPE: pb.Listener,
    pb.ROUTE_TYPE: pb.RouteConfiguration,
    pb.CLUSTER_TYPE: pb.Cluster,
    pb.SECRET_TYPE: pb.Secret,
    pb.ENDPOINT_TYPE: pb.ClusterLoadAssignment,
    pb.SCOPED_ROUTE_TYPE: pb.ScopedRouteConfiguration,
}


class Memo(Generic[K, V]):
    """A two-generation memo: values computed or reused during the current build survive
    `rotate()`; everything else is forgotten."""

    def __init__(self, build: Callable[[K], V]) -> None:
        self._build = build
        self._old: dict[K, V] = {}
        self._new: dict[K, V] = {}
        self.misses = 0

    def __call__(self, key: K) -> V:
        # One dict probe per generation: hashing a frozen dataclass is not cached.
        value = self._new.get(key, _MISSING)
        if value is _MISSING:
            value = self._old.pop(key, _MISSING)
            if value is _MISSING:
                value = self._build(key)
                self.misses += 1
            self._new[key] = value
        return value

    def rotate(self) -> None:
        self._old, self._new = self._new, {}

    def __len__(self) -> int:
        return len(self._old) + len(self._new)


def _named(message: Message, name: str) -> Named:
    return name, message.SerializeToString(deterministic=True)


Checked = tuple[Named, str | None]  # a resource and why Envoy would reject it (None: fine)


@record
class VhostParts:
    """Everything one vhost contributes, serialized: its RDS VirtualHost, its HTTPS filter
    chain, the clusters it references (in visit order) and its SDS secret. A vhost Envoy
    would reject carries only `rejected`, the reason."""

    vhost: Named | None = None
    chain: bytes | None = None
    clusters: tuple[Named, ...] = ()
    secret: Named | None = None
    rejected: str | None = None
    fallback: bool = False
    """Its vhost is also in the fallback-certificate table (listeners.serves_fallback)."""
    table: Named | None = None
    """A strict-SNI vhost's own route table (routes.strict_table); its vhost is then not in
    the shared `ingress_https` one."""
    scope: Named | None = None
    """A port-80 vhost's scope in the scoped layout (scopes.parts_scope)."""


NOTHING = VhostParts()


@dataclass(frozen=True, slots=True)
class Fallback:
    """The fallback-certificate parts of one build: the HTTPS listener's last chain, its
    SDS secret and the vhosts of its route table (sorted by name)."""

    chain: bytes
    secret: Named
    vhosts: tuple[Named, ...]
_UNENCODABLE = (ValueError, TypeError, OverflowError)  # e.g. 2**40 into a uint32 field


def _unencodable(host: str, error: Exception) -> str:
    return f"Envoy would reject virtual host {host!r}: cannot be encoded: {error}"


class Translator:
    """DAG → `{type_url: {name: bytes}}` for LDS, RDS, CDS and SDS (EDS: see endpoints.py).

    Each vhost value is looked up once per build (hashing a frozen dataclass is not free);
    clusters and secrets have their own memos so vhosts that share them share the work."""

    def __init__(self, settings: ListenerSettings) -> None:
        self.settings = settings
        self._http: Memo[model.VirtualHost, VhostParts] = Memo(self.http_parts)
        self._https: Memo[model.SecureVirtualHost, VhostParts] = Memo(self.https_parts)
        self._cluster: Memo[ClusterKey, Checked] = Memo(self._build_cluster)
        self._secret: Memo[model.Secret, Checked] = Memo(self._build_secret)
        self._jwks: Memo[model.JWKSCluster, Checked] = Memo(self._build_jwks_cluster)
        self._verdicts = Verdicts()  # perf: one constraints walk per shape, see verdicts.py
        self.rejected: dict[str, str] = {}
        """After translate(): host → why Envoy would reject it (its parts were left out)."""
        self._fallback_chain: Memo[model.Secret, bytes] = Memo(self._build_fallback_chain)
        self._extension: Memo[model.ExtensionCluster, Checked] = Memo(self._build_extension)
        self._group: Memo[model.GatewayListener, GroupParts] = Memo(self._build_group)
        self._memos = (self._http, self._https, self._cluster, self._secret,
                       self._fallback_chain, self._jwks, self._extension, self._group)
        self.gateway_rejected: dict[tuple[str, str], str] = {}
        """After translate(): (isolated Gateway listener, host) → why Envoy would reject
        that vhost (it was left out of that listener)."""
        self.rate_limit: model.RateLimitService | None = None
        """The rate limit service the listeners and chains were encoded with."""
        self.extensions_rejected: dict[str, str] = {}
        """After translate(): extension cluster name → why Envoy would reject it (left out)."""
        self.fallback_rejected: str | None = None
        """After translate(): why Envoy would reject the fallback certificate (its chain
        and table were left out; the vhosts keep their own SNI chains)."""
        self._https_base = lds.https_listener(settings)
        self._http_listeners = lds.http_listener_variants(settings, None)
        self._stats_listener = lds.stats_listener(settings).SerializeToString()

    def use_rate_limit(self, service: model.RateLimitService | None) -> bool:
        """Encode with this rate limit service from now on; True when it changed (every
        listener and HTTPS chain then changes: the memos of those are dropped)."""
        if service == self.rate_limit:
            return False
        self.rate_limit = service
        self._https = Memo(self.https_parts)
        self._fallback_chain = Memo(self._build_fallback_chain)
        self._group = Memo(self._build_group)
        self._memos = (self._http, self._https, self._cluster, self._secret,
                       self._fallback_chain, self._jwks, self._extension, self._group)
        self._http_listeners = lds.http_listener_variants(self.settings, service)
        return True

    def http_listener_bytes(self, unscopable: bool) -> bytes:
        """`ingress_http`, serialized, with the current rate limit service, routed by the
        scopes or the table (scopes.listener_scoped; `unscopable`: a vhost has no scope)."""
        return self._http_listeners[scopes.listener_scoped(self.settings, unscopable)]

    def extension_clusters(self, extensions: Iterable[model.ExtensionCluster]
                           ) -> dict[str, bytes]:
        """The ExtensionServices' clusters by name; those Envoy would reject are left out
        (`extensions_rejected` says why)."""
        out: dict[str, bytes] = {}
        self.extensions_rejected = {}
        for ext in extensions:
            (name, data), reason = self._extension(ext)
            if reason is None:
                out[name] = data
            else:
                self.extensions_rejected[name] = reason
        return out

    def translate(self, dag: model.DAG) -> Resources:
        self.use_rate_limit(dag.rate_limit_service)
        http = [self._http(vh) for vh in dag.http]
        https = [self._https(svh) for svh in dag.https]  # DAG order: first cluster visit wins
        self.rejected = rejected_hosts(zip(dag.http, http, strict=True),
                                       zip(dag.https, https, strict=True))
        if self.rejected:  # a host rejected on one port is left out on both
            http = _left_out(dag.http, http, self.rejected)
            https = _left_out(dag.https, https, self.rejected)
        by_server_name = [p for _, p in sorted(zip(dag.https, https, strict=True), key=_host)]
        fallback = self.fallback(dag.fallback_secret, https)
        secrets = [p.secret for p in https if p.secret is not None]
        groups = self.group_parts(dag.gateway_listeners)
        secrets += [s for g in groups for s in g.secrets]
        clusters = _clusters(http + https, self.extension_clusters(dag.extensions))
        for name, data in (c for g in groups for c in g.clusters):
            clusters.setdefault(name, data)
        out = {
            pb.LISTENER_TYPE: self._listeners(http, by_server_name, fallback),
            pb.ROUTE_TYPE: self._routes(http, https, fallback),
            pb.CLUSTER_TYPE: dict(sorted(clusters.items())),
            pb.SECRET_TYPE: dict(sorted(secrets + ([fallback.secret] if fallback else []))),
        }
        if scopes.enabled(self.settings):
            out[pb.SCOPED_ROUTE_TYPE] = dict(sorted(p.scope for p in http if p.scope))
        out[pb.LISTENER_TYPE].update(g.listener for g in groups if g.listener is not None)
        out[pb.ROUTE_TYPE].update(g.table for g in groups)
        for type_url in (pb.LISTENER_TYPE, pb.ROUTE_TYPE):
            out[type_url] = dict(sorted(out[type_url].items()))
        self.gateway_rejected = {(g.table[0], h): why for g in groups for h, why in g.rejected}
        self.end_build()
        return out

    def fallback(self, secret: model.Secret | None,
                 https: Iterable[VhostParts]) -> Fallback | None:
        """The fallback-certificate chain, secret and vhosts when `secret` is set and some
        vhost (not rejected) uses it; None otherwise, or when Envoy would reject the secret
        (`fallback_rejected` says why)."""
        self.fallback_rejected = None
        vhosts = [p.vhost for p in https if p.fallback and p.vhost is not None]
        if secret is None or not any(p.fallback for p in https):
            return None
        parts = self.fallback_parts(secret)
        if isinstance(parts, str):
            self.fallback_rejected = parts
            return None
        return Fallback(parts[0], parts[1], tuple(sorted(vhosts)))

    def fallback_parts(self, secret: model.Secret) -> tuple[bytes, Named] | str:
        """The fallback chain and secret, serialized; or why Envoy would reject the secret."""
        named, reason = self._secret(secret)
        return reason if reason is not None else (self._fallback_chain(secret), named)

    def end_build(self) -> None:
        """Forget the memoized values the build now ending did not use."""
        for memo in self._memos:
            memo.rotate()

    def forget(self) -> None:
        """Drop the verdicts kept by shape (see Verdicts.forget)."""
        self._verdicts.forget()

    def misses(self) -> int:
        """How many values were translated (not reused) since this translator was made."""
        return sum(m.misses for m in self._memos)

    def _listeners(self, http: list[VhostParts], https: list[VhostParts],
                   fallback: Fallback | None) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        if http:
            unscopable = any(scopes.unscopable(self.settings, p.vhost, p.scope) for p in http)
            out[lds.HTTP_LISTENER] = self.http_listener_bytes(unscopable)
        chains = [p.chain for p in https if p.chain is not None]
        if fallback is not None:
            chains.append(fallback.chain)
        if chains:
            out[lds.HTTPS_LISTENER] = lds.listener_bytes(self._https_base, chains)
        out[lds.STATS_LISTENER] = self._stats_listener
        return out

    @staticmethod
    def _routes(http: list[VhostParts], https: list[VhostParts],
                fallback: Fallback | None) -> dict[str, bytes]:
        shared = [p for p in https if p.table is None]
        out = {
            rds.HTTP_ROUTES: rds.route_configuration_bytes(rds.HTTP_ROUTES, _vhosts(http)),
            rds.HTTPS_ROUTES: rds.route_configuration_bytes(rds.HTTPS_ROUTES, _vhosts(shared)),
        }
        out.update(p.table for p in https if p.table is not None)
        if fallback is not None:
            out[rds.FALLBACK_ROUTES] = rds.route_configuration_bytes(
                rds.FALLBACK_ROUTES, [data for _, data in fallback.vhosts])
        return dict(sorted(out.items()))

    def http_parts(self, vh: model.VirtualHost) -> VhostParts:
        """One vhost's parts, not memoized (its clusters are); only `rejected` when Envoy
        would reject any of them, or when a value does not even fit its proto field."""
        try:
            return self._http_parts(vh)
        except _UNENCODABLE as error:
            return VhostParts(rejected=_unencodable(vh.host, error))

    def https_parts(self, svh: model.SecureVirtualHost) -> VhostParts:
        try:
            return self._https_parts(svh)
        except _UNENCODABLE as error:
            return VhostParts(rejected=_unencodable(svh.host, error))

    def _http_parts(self, vh: model.VirtualHost) -> VhostParts:
        vhost = rds.http_virtual_host(vh)
        clusters, reason = self._clusters_of(c for r in vh.routes for c in model.route_clusters(r))
        if vhost is not None and reason is None:
            reason = self._verdicts.vhost(vh, False, vhost)
        if reason is not None:
            return VhostParts(rejected=reason)
        named = None if vhost is None else _named(vhost, vhost.name)
        return VhostParts(vhost=named, clusters=clusters,
                          scope=scopes.parts_scope(self.settings, vh.host, named))

    def _https_parts(self, svh: model.SecureVirtualHost) -> VhostParts:
        vhost = rds.https_virtual_host(svh)
        chain = lds.https_filter_chain(svh, self.settings, self.rate_limit)
        refs = [c for r in svh.routes for c in model.route_clusters(r)]
        if svh.tcp_proxy is not None:
            refs.extend(svh.tcp_proxy.clusters)
        clusters, reason = self._clusters_of(refs)
        jwks = [self._jwks(p.cluster) for p in svh.jwt_providers]
        clusters += tuple(named for named, _ in jwks)
        reason = reason or next((why for _, why in jwks if why is not None), None)
        secret, secret_reason = (None, None) if svh.secret is None else self._secret(svh.secret)
        reason = reason or secret_reason
        if vhost is not None and reason is None:
            reason = self._verdicts.vhost(svh, True, vhost)
        if chain is not None and reason is None:
            reason = rejection(f"filter chain {svh.host!r}", chain)
        if reason is not None:
            return VhostParts(rejected=reason)
        named = None if vhost is None else _named(vhost, vhost.name)
        return VhostParts(
            vhost=named,
            chain=None if chain is None else chain.SerializeToString(deterministic=True),
            clusters=clusters,
            secret=secret,
            fallback=lds.serves_fallback(svh),
            table=rds.strict_table_bytes(svh.host, named) if svh.strict_sni and named else None,
        )

    def clusters_of(self, refs: Iterable[model.Cluster]) -> tuple[tuple[Named, ...], str | None]:
        """The clusters (memoized), and why Envoy would reject the first bad one."""
        return self._clusters_of(refs)

    def secret_of(self, secret: model.Secret) -> Checked:
        """The SDS secret (memoized), and why Envoy would reject it."""
        return self._secret(secret)

    def group_parts(self, groups: Iterable[model.GatewayListener]) -> list[GroupParts]:
        """The isolated Gateways' listeners, memoized by value (gateway_listeners.py)."""
        return [self._group(g) for g in groups]

    def _clusters_of(self, refs: Iterable[model.Cluster]) -> tuple[tuple[Named, ...], str | None]:
        """The clusters, and why Envoy would reject the first bad one (None: all fine)."""
        checked = [self._cluster(cluster_key(c)) for c in refs]
        reason = next((why for _, why in checked if why is not None), None)
        return tuple(named for named, _ in checked), reason

    def _build_cluster(self, key: ClusterKey) -> Checked:
        built = envoy_cluster.cluster(cluster_of(key))
        return _named(built, built.name), self._verdicts.cluster(key, built)

    @staticmethod
    def _build_jwks_cluster(c: model.JWKSCluster) -> Checked:
        built = jwks_cluster(c)
        return _named(built, built.name), rejection(f"cluster {built.name!r}", built)

    def _build_fallback_chain(self, secret: model.Secret) -> bytes:
        chain = lds.fallback_filter_chain(secret, self.settings, self.rate_limit)
        return chain.SerializeToString(deterministic=True)

    def _build_group(self, group: model.GatewayListener) -> GroupParts:
        return group_parts(group, self)

    @staticmethod
    def _build_extension(ext: model.ExtensionCluster) -> Checked:
        built = envoy_cluster.extension_cluster(ext)
        return _named(built, built.name), rejection(f"cluster {built.name!r}", built)

    @staticmethod
    def _build_secret(secret: model.Secret) -> Checked:
        built = tls_secret(secret)
        name = secret_name(secret)
        return _named(built, name), rejection(f"secret {name!r}", built)


def _host(pair: tuple[model.SecureVirtualHost, VhostParts]) -> str:
    return pair[0].host


def _left_out(values: Iterable[model.VirtualHost | model.SecureVirtualHost],
              parts: list[VhostParts], rejected: dict[str, str]) -> list[VhostParts]:
    return [NOTHING if v.host in rejected else p for v, p in zip(values, parts, strict=True)]


def rejected_hosts(
    *built: Iterable[tuple[model.VirtualHost | model.SecureVirtualHost, VhostParts]],
) -> dict[str, str]:
    """Host → reason for every host with a rejected part on either port (port 80 first),
    sorted by host."""
    found: dict[str, str] = {}
    for pairs in built:
        for value, parts in pairs:
            if parts.rejected is not None:
                found.setdefault(value.host, parts.rejected)
    return dict(sorted(found.items()))


def _clusters(parts: list[VhostParts], extensions: dict[str, bytes]) -> dict[str, bytes]:
    """De-duplicated by name, the first visited wins (as upstream), sorted by name; with
    the extension clusters (`extension/...` names, which no service cluster has)."""
    out: dict[str, bytes] = dict(extensions)
    for p in parts:
        for name, data in p.clusters:
            out.setdefault(name, data)
    return dict(sorted(out.items()))


def _vhosts(parts: list[VhostParts]) -> list[bytes]:
    """Serialized vhosts sorted by name."""
    return [data for _, data in sorted(p.vhost for p in parts if p.vhost is not None)]


def decode(resources: Resources) -> dict[str, dict[str, Message]]:
    """The translator output parsed back into protos (tests, debug dumps)."""
    out: dict[str, dict[str, Message]] = {}
    for type_url, named in resources.items():
        message_type = TYPE_MESSAGES[type_url]
        out[type_url] = {name: message_type.FromString(data) for name, data in named.items()}
    return out
