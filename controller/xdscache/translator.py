"""The caching translator: DAG → serialized LDS/RDS/CDS/SDS resources.

Output contract: `{type_url: {resource_name: serialized bytes}}`, names sorted; the xDS
server wraps each value as `Any(type_url=..., value=bytes)`. DAG values are frozen and
hashable, so each vhost, filter chain, cluster and secret is translated once and its bytes
reused while an equal value appears in later builds; entries unused by a build are dropped.
The big RouteConfigurations and the HTTPS listener are spliced from those cached bytes
(a repeated field on the wire is the concatenation of its elements).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from google.protobuf.message import Message

from controller.config import ListenerSettings
from controller.dag import model
from controller.envoy import cluster as envoy_cluster
from controller.envoy import pb
from controller.envoy.names import secret_name
from controller.envoy.secret import tls_secret
from controller.xdscache import listeners as lds
from controller.xdscache import routes as rds
from controller.xdscache.clusters import ClusterKey, cluster_key

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Named = tuple[str, bytes]
Resources = dict[str, dict[str, bytes]]

TYPE_MESSAGES: dict[str, type[Message]] = {
    pb.LISTENER_TYPE: pb.Listener,
    pb.ROUTE_TYPE: pb.RouteConfiguration,
    pb.CLUSTER_TYPE: pb.Cluster,
    pb.SECRET_TYPE: pb.Secret,
    pb.ENDPOINT_TYPE: pb.ClusterLoadAssignment,
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
        if key in self._new:
            return self._new[key]
        if key in self._old:
            value = self._old.pop(key)
        else:
            value = self._build(key)
            self.misses += 1
        self._new[key] = value
        return value

    def rotate(self) -> None:
        self._old, self._new = self._new, {}

    def __len__(self) -> int:
        return len(self._old) + len(self._new)


def _named(message: Message | None, name: str) -> Named | None:
    return None if message is None else (name, message.SerializeToString(deterministic=True))


class Translator:
    """DAG → `{type_url: {name: bytes}}` for LDS, RDS, CDS and SDS (EDS: see endpoints.py)."""

    def __init__(self, settings: ListenerSettings) -> None:
        self.settings = settings
        self._http_vhost: Memo[model.VirtualHost, Named | None] = Memo(self._build_http_vhost)
        self._https_vhost: Memo[model.SecureVirtualHost, Named | None] = Memo(
            self._build_https_vhost
        )
        self._chain: Memo[model.SecureVirtualHost, bytes | None] = Memo(self._build_chain)
        self._cluster: Memo[ClusterKey, Named] = Memo(self._build_cluster)
        self._secret: Memo[model.Secret, Named] = Memo(self._build_secret)
        self._memos = (
            self._http_vhost,
            self._https_vhost,
            self._chain,
            self._cluster,
            self._secret,
        )
        self._static_listeners = self._build_static_listeners()

    def translate(self, dag: model.DAG) -> Resources:
        out = {
            pb.LISTENER_TYPE: self.listeners(dag),
            pb.ROUTE_TYPE: self.routes(dag),
            pb.CLUSTER_TYPE: self.clusters(dag),
            pb.SECRET_TYPE: self.secrets(dag),
        }
        for memo in self._memos:
            memo.rotate()
        return out

    def misses(self) -> int:
        """How many values were translated (not reused) since this translator was made."""
        return sum(m.misses for m in self._memos)

    # -- RDS ---------------------------------------------------------------------------
    def routes(self, dag: model.DAG) -> dict[str, bytes]:
        http = [self._http_vhost(vh) for vh in dag.http]
        https = [self._https_vhost(svh) for svh in dag.https]
        return {
            rds.HTTP_ROUTES: rds.route_configuration_bytes(rds.HTTP_ROUTES, _by_name(http)),
            rds.HTTPS_ROUTES: rds.route_configuration_bytes(rds.HTTPS_ROUTES, _by_name(https)),
        }

    def _build_http_vhost(self, vh: model.VirtualHost) -> Named | None:
        vhost = rds.http_virtual_host(vh)
        return None if vhost is None else _named(vhost, vhost.name)

    def _build_https_vhost(self, svh: model.SecureVirtualHost) -> Named | None:
        vhost = rds.https_virtual_host(svh)
        return None if vhost is None else _named(vhost, vhost.name)

    # -- LDS ---------------------------------------------------------------------------
    def listeners(self, dag: model.DAG) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        if dag.http:
            out[lds.HTTP_LISTENER] = self._static_listeners[lds.HTTP_LISTENER]
        chains = [self._chain(svh) for svh in sorted(dag.https, key=lambda s: s.host)]
        present = [c for c in chains if c is not None]
        if present:
            out[lds.HTTPS_LISTENER] = lds.listener_bytes(self._https_base, present)
        out[lds.STATS_LISTENER] = self._static_listeners[lds.STATS_LISTENER]
        return out

    def _build_chain(self, svh: model.SecureVirtualHost) -> bytes | None:
        chain = lds.https_filter_chain(svh, self.settings)
        return None if chain is None else chain.SerializeToString(deterministic=True)

    def _build_static_listeners(self) -> dict[str, bytes]:
        self._https_base = lds.https_listener(self.settings)
        return {
            lds.HTTP_LISTENER: lds.http_listener(self.settings).SerializeToString(),
            lds.STATS_LISTENER: lds.stats_listener(self.settings).SerializeToString(),
        }

    # -- CDS and SDS -------------------------------------------------------------------
    def clusters(self, dag: model.DAG) -> dict[str, bytes]:
        """First visited wins for a name, as upstream; sorted by name."""
        out: dict[str, bytes] = {}
        for c in dag.clusters():
            name, data = self._cluster(cluster_key(c))
            out.setdefault(name, data)
        return dict(sorted(out.items()))

    def _build_cluster(self, key: ClusterKey) -> Named:
        service, strategy, health_check, validation = key
        c = model.Cluster(service, 0, strategy, health_check, validation)
        built = envoy_cluster.cluster(c)
        return built.name, built.SerializeToString(deterministic=True)

    def secrets(self, dag: model.DAG) -> dict[str, bytes]:
        found = (self._secret(svh.secret) for svh in dag.https if svh.secret is not None)
        return dict(sorted(found))

    def _build_secret(self, secret: model.Secret) -> Named:
        return secret_name(secret), tls_secret(secret).SerializeToString()


def _by_name(vhosts: list[Named | None]) -> list[bytes]:
    return [data for _, data in sorted(v for v in vhosts if v is not None)]


def decode(resources: Resources) -> dict[str, dict[str, Message]]:
    """The translator output parsed back into protos (tests, debug dumps)."""
    out: dict[str, dict[str, Message]] = {}
    for type_url, named in resources.items():
        message_type = TYPE_MESSAGES[type_url]
        out[type_url] = {name: message_type.FromString(data) for name, data in named.items()}
    return out
