"""The incremental translator: re-encode only the hosts a build changed.

`Translator.translate(dag)` walks every vhost of the DAG on every build (a memo lookup per
vhost hashes a frozen dataclass: ~100 ms at 10k vhosts). This one keeps, per host, the
serialized parts it produced and updates them for the hosts `IncrementalBuilder` reports
as changed; the route tables and the HTTPS listener are re-joined from cached bytes only
when one of their elements moved. It returns only what changed, as upserts and removals
per type, for `SnapshotCache.publish(..., partial=True)`.

Its accumulated `resources()` equal `Translator.translate(dag)` for the same DAG (tests):
clusters keep "first visited wins" (port-80 vhosts in host order, then port-443 ones) and
secrets "last in name, bytes order wins", as the full translator does. A host with a part
Envoy would reject contributes nothing on either port; `Update.rejected` lists every such
host of the current DAG, as `Translator.rejected` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from controller.config import ListenerSettings
from controller.dag import model
from controller.envoy import pb
from controller.envoy.core import length_delimited
from controller.xdscache import listeners as lds
from controller.xdscache import routes as rds
from controller.xdscache import scopes
from controller.xdscache.gateway_listeners import GroupParts
from controller.xdscache.holds import Holds, Parts
from controller.xdscache.translator import Resources, Translator, VhostParts

_VHOSTS_FIELD = pb.RouteConfiguration.DESCRIPTOR.fields_by_name["virtual_hosts"].number
_NAME_FIELD = pb.RouteConfiguration.DESCRIPTOR.fields_by_name["name"].number
_HTTP, _HTTPS = 0, 1
_FALLBACK = (2, "")  # the referrer of the fallback secret
_GROUP = 3  # referrers (_GROUP, listener name): an isolated Gateway's listener


@dataclass(slots=True)
class Update:
    """Per type: upserted resources and removed names; and every host of the current DAG
    left out because Envoy would reject it (host → `Envoy would reject ...: reason`), not
    only this update's."""

    changed: dict[str, dict[str, bytes]] = field(default_factory=dict)
    removed: dict[str, set[str]] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    def put(self, type_url: str, name: str, body: bytes) -> None:
        self.changed.setdefault(type_url, {})[name] = body
        self.removed.get(type_url, set()).discard(name)

    def drop(self, type_url: str, name: str) -> None:
        self.removed.setdefault(type_url, set()).add(name)
        self.changed.get(type_url, {}).pop(name, None)

    def __bool__(self) -> bool:
        return any(self.changed.values()) or any(self.removed.values())

    def replace(self, type_url: str, old: Mapping[str, bytes], new: Mapping[str, bytes]) -> None:
        """Go from the resources `old` to `new`: drop what went, put what changed."""
        for name in old.keys() - new.keys():
            self.drop(type_url, name)
        for name, body in new.items():
            if old.get(name) != body:
                self.put(type_url, name, body)


class _RouteTable:
    """One RouteConfiguration: framed vhost bytes by vhost name, joined in name order.
    The joined bytes are cached per block of names, so one changed vhost re-joins one
    block, not the whole table (perf: a 10k-vhost table is 2.5 MB)."""

    BLOCK = 128

    def __init__(self, name: str) -> None:
        self.name = name
        self._head = length_delimited(_NAME_FIELD, name.encode())
        self._framed: dict[str, bytes] = {}
        self._order: list[str] | None = []
        self._block_of: dict[str, int] = {}
        self._blocks: list[bytes | None] = []
        self.dirty = True

    def set(self, vhost: tuple[str, bytes] | None, old: tuple[str, bytes] | None) -> None:
        if old is not None and (vhost is None or vhost[0] != old[0]):
            del self._framed[old[0]]
            self._order = None
        if vhost is not None:
            if vhost[0] not in self._framed:
                self._order = None
            self._framed[vhost[0]] = length_delimited(_VHOSTS_FIELD, vhost[1])
            if self._order is not None:
                self._blocks[self._block_of[vhost[0]]] = None
        self.dirty = True

    def body(self) -> bytes:
        framed = self._framed
        if self._order is None:
            self._order = sorted(framed)
            self._block_of = {n: i // self.BLOCK for i, n in enumerate(self._order)}
            self._blocks = [None] * ((len(self._order) + self.BLOCK - 1) // self.BLOCK)
        for i, block in enumerate(self._blocks):
            if block is None:
                names = self._order[i * self.BLOCK:(i + 1) * self.BLOCK]
                self._blocks[i] = b"".join([framed[n] for n in names])
        return b"".join([self._head, *cast(list[bytes], self._blocks), rds.TABLE_SETTINGS])


class _Refs:
    """Resources named by several hosts: name → {referrer: bytes}; one variant wins."""

    def __init__(self, pick_min: bool) -> None:
        self._by_name: dict[str, dict[tuple[int, str], bytes]] = {}
        self._pick_min = pick_min
        self.current: dict[str, bytes] = {}

    def add(self, referrer: tuple[int, str], named: Iterable[tuple[str, bytes]],
            touched: set[str]) -> None:
        for name, body in named:
            variants = self._by_name.setdefault(name, {})
            variants.setdefault(referrer, body)  # first occurrence within a vhost wins
            touched.add(name)

    def discard(self, referrer: tuple[int, str], named: Iterable[tuple[str, bytes]],
                touched: set[str]) -> None:
        for name, _ in named:
            variants = self._by_name.get(name)
            if variants is not None:
                variants.pop(referrer, None)
                if not variants:
                    del self._by_name[name]
            touched.add(name)

    def settle(self, names: Iterable[str], type_url: str, out: Update) -> None:
        for name in names:
            variants = self._by_name.get(name)
            if not variants:
                if self.current.pop(name, None) is not None:
                    out.drop(type_url, name)
                continue
            if len(variants) == 1:
                body = next(iter(variants.values()))
            elif self._pick_min:
                body = variants[min(variants)]
            else:
                body = max(variants.values())
            if self.current.get(name) != body:
                self.current[name] = body
                out.put(type_url, name, body)


class IncrementalTranslator:
    def __init__(self, settings: ListenerSettings) -> None:
        self._translator = Translator(settings)
        self._settings = settings
        self._https_base = lds.https_listener(settings)
        self._stats_listener = lds.stats_listener(settings).SerializeToString()
        self._values: dict[tuple[int, str], object] = {}
        self._built: dict[tuple[int, str], VhostParts] = {}  # what each DAG value encodes to
        self._parts: dict[tuple[int, str], VhostParts] = {}  # what each slot contributes
        self._rejected: dict[str, str] = {}
        self._tables = (_RouteTable(rds.HTTP_ROUTES), _RouteTable(rds.HTTPS_ROUTES))
        self._fallback_table = _RouteTable(rds.FALLBACK_ROUTES)
        self._strict_tables = scopes.Keyed(pb.ROUTE_TYPE)  # strict-SNI vhosts' own tables
        self._scopes = scopes.Keyed(pb.SCOPED_ROUTE_TYPE)  # the scoped layout's
        self._unscopable: set[str] = set()  # port-80 hosts making the listener fall back
        self._fallback_hosts: set[str] = set()  # hosts whose HTTPS part serves the fallback
        self._fallback: tuple[bytes, tuple[str, bytes]] | None = None  # its chain and secret
        self.fallback_rejected: str | None = None
        """Why Envoy would reject the fallback certificate (then it is left out)."""
        self._chains: dict[str, bytes] = {}
        self._chains_dirty = True
        self._clusters = _Refs(pick_min=True)
        self._secrets = _Refs(pick_min=False)
        self._listeners: dict[str, bytes] = {}
        self._extensions: dict[str, bytes] = {}  # the ExtensionServices' clusters
        self.holds = Holds()
        """Hosts held at what Envoy last accepted (NACK bisection and quarantine)."""
        self._groups: tuple[model.GatewayListener, ...] = ()
        self._group_parts: dict[str, GroupParts] = {}  # isolated Gateways' listeners

    def update(
        self,
        dag: model.DAG,
        hosts: Iterable[str] | None = None,
        *,
        http: Mapping[str, model.VirtualHost] | None = None,
        https: Mapping[str, model.SecureVirtualHost] | None = None,
    ) -> Update:
        """Apply the DAG's vhosts for `hosts` (None: all hosts) and return what changed.
        `http`/`https` are the DAG's vhosts by host, when the caller already has them."""
        if http is None:
            http = {vh.host: vh for vh in dag.http}
        if https is None:
            https = {svh.host: svh for svh in dag.https}
        if self._translator.use_rate_limit(dag.rate_limit_service):
            self._values.clear()  # every HTTPS chain embeds the filter: re-encode them all
            hosts = None
        if hosts is None:
            hosts = {h for _, h in self._values} | {h for _, h in self._built} | \
                http.keys() | https.keys()
        out = Update()
        clusters: set[str] = set()
        secrets: set[str] = set()
        try:
            for host in hosts:
                self._apply_host(host, http.get(host), https.get(host), clusters, secrets)
            self._update_fallback(dag.fallback_secret, secrets, out)
            self._update_groups(dag.gateway_listeners, clusters, secrets, out)
        finally:
            self._translator.end_build()  # the memos of shared clusters and secrets
        self._clusters.settle(sorted(clusters), pb.CLUSTER_TYPE, out)
        self._update_extensions(dag, out)
        self._secrets.settle(sorted(secrets), pb.SECRET_TYPE, out)
        for table in self._tables:
            if table.dirty:
                table.dirty = False
                out.put(pb.ROUTE_TYPE, table.name, table.body())
        self._strict_tables.flush(out)
        self._scopes.flush(out)
        self._update_listeners(bool(dag.http), out)
        out.rejected = dict(sorted(self._rejected.items()))
        return out

    def _update_fallback(self, secret: model.Secret | None, secrets: set[str],
                         out: Update) -> None:
        """The fallback chain, secret and table: present while the DAG has a fallback secret
        Envoy accepts and some host serves it (as Translator.fallback decides)."""
        self.fallback_rejected = None
        want = None
        if secret is not None and self._fallback_hosts:
            parts = self._translator.fallback_parts(secret)
            if isinstance(parts, str):
                self.fallback_rejected = parts
            else:
                want = parts
        table = self._fallback_table
        if want != self._fallback:
            if self._fallback is not None:
                self._secrets.discard(_FALLBACK, (self._fallback[1],), secrets)
            if want is not None:
                self._secrets.add(_FALLBACK, (want[1],), secrets)
            if want is None:
                out.drop(pb.ROUTE_TYPE, table.name)
            table.dirty = want is not None
            self._fallback = want
            self._chains_dirty = True
        if table.dirty and want is not None:
            out.put(pb.ROUTE_TYPE, table.name, table.body())
        table.dirty = False

    def _update_groups(self, groups: tuple[model.GatewayListener, ...], clusters: set[str],
                       secrets: set[str], out: Update) -> None:
        """The isolated Gateways' listeners and tables (re-encoded through the translator's
        memo when the DAG's tuple changed; the incremental builder keeps it while equal);
        their clusters and secrets are referred to by `(_GROUP, listener name)`."""
        if groups is self._groups:
            return
        self._groups = groups
        parts = dict(zip((g.name for g in groups), self._translator.group_parts(groups),
                         strict=True))
        old = self._group_parts
        for name in old.keys() | parts.keys():
            before, after = old.get(name), parts.get(name)
            if before == after:
                continue
            if before is not None:
                self._clusters.discard((_GROUP, name), before.clusters, clusters)
                self._secrets.discard((_GROUP, name), before.secrets, secrets)
            if after is not None:
                self._clusters.add((_GROUP, name), after.clusters, clusters)
                self._secrets.add((_GROUP, name), after.secrets, secrets)
        out.replace(pb.ROUTE_TYPE, _tables(old), _tables(parts))
        wanted = {n: b for n, b in self._listeners.items() if n not in _listeners(old)}
        wanted.update(_listeners(parts))
        out.replace(pb.LISTENER_TYPE, self._listeners, wanted)
        self._listeners = wanted
        self._group_parts = parts

    def _update_extensions(self, dag: model.DAG, out: Update) -> None:
        """The extension clusters: put what changed, drop what went."""
        wanted = self._translator.extension_clusters(dag.extensions)
        out.replace(pb.CLUSTER_TYPE, self._extensions, wanted)
        self._extensions = wanted

    def forget(self) -> None:
        """Drop the translator's content-keyed verdicts (after a mass removal)."""
        self._translator.forget()

    def resources(self) -> Resources:
        """Everything currently translated (for tests and debugging)."""
        tables = {t.name: t.body() for t in self._tables}
        tables.update(self._strict_tables.current)
        tables.update(_tables(self._group_parts))
        if self._fallback is not None:
            tables[self._fallback_table.name] = self._fallback_table.body()
        out = {
            pb.LISTENER_TYPE: dict(sorted(self._listeners.items())),
            pb.ROUTE_TYPE: dict(sorted(tables.items())),
            pb.CLUSTER_TYPE: dict(sorted({**self._clusters.current, **self._extensions}.items())),
            pb.SECRET_TYPE: dict(sorted(self._secrets.current.items())),
        }
        if scopes.enabled(self._settings):
            out[pb.SCOPED_ROUTE_TYPE] = self._scopes.sorted()
        return out

    def _apply_host(self, host: str, http: object | None, https: object | None,
                    clusters: set[str], secrets: set[str]) -> None:
        """Encode the host's changed values; contribute both ports' parts, or neither when
        Envoy would reject a part of either."""
        built = (self._encode((_HTTP, host), http), self._encode((_HTTPS, host), https))
        reason = next((p.rejected for p in built if p is not None and p.rejected), None)
        if reason is not None:
            built = (None, None)
        elif (held := self.holds.held(host, (http, https), self._current(host))) is not None:
            built, reason = held
        if reason is None:
            self._rejected.pop(host, None)
        else:
            self._rejected[host] = reason
        self._apply((_HTTP, host), built[0], clusters, secrets)
        self._apply((_HTTPS, host), built[1], clusters, secrets)

    def _current(self, host: str) -> Parts:
        return (self._parts.get((_HTTP, host)), self._parts.get((_HTTPS, host)))

    def quarantine(self, host: str, reason: str) -> None:
        """Hold `host` at what Envoy last accepted, reported as rejected with `reason`, until
        its DAG value changes; the next `update(dag, [host])` applies it."""
        values = (self._values.get((_HTTP, host)), self._values.get((_HTTPS, host)))
        self.holds.quarantine(host, values, self._current(host), reason)

    def _encode(self, slot: tuple[int, str], value: object | None) -> VhostParts | None:
        """The parts `value` encodes to, re-encoded only when the value changed."""
        if value is None:
            self._values.pop(slot, None)
            self._built.pop(slot, None)
            return None
        old_value = self._values.get(slot)
        if old_value is value or old_value == value:
            return self._built[slot]
        self._values[slot] = value
        parts = self._built[slot] = self._build(value)
        return parts

    def _apply(self, slot: tuple[int, str], new: VhostParts | None,
               clusters: set[str], secrets: set[str]) -> None:
        """Make the slot contribute `new` (None: nothing) instead of what it did."""
        old = self._parts.get(slot)
        if old is new:
            return
        self.holds.note(slot, old)
        if old is not None:
            del self._parts[slot]
            self._clusters.discard(slot, old.clusters, clusters)
            if old.secret is not None:
                self._secrets.discard(slot, (old.secret,), secrets)
        if new is not None:
            self._parts[slot] = new
            self._clusters.add(slot, new.clusters, clusters)
            if new.secret is not None:
                self._secrets.add(slot, (new.secret,), secrets)
        self._tables[slot[0]].set(_shared_vhost(new), _shared_vhost(old))
        if slot[0] == _HTTP:
            self._apply_scope(slot[1], new, old)
        else:
            self._strict_tables.swap(new.table if new else None, old.table if old else None)
            self._apply_fallback(slot[1], new, old)
            chain = new.chain if new else None
            if self._chains.get(slot[1]) != chain:
                self._chains_dirty = True
                if chain is None:
                    self._chains.pop(slot[1], None)
                else:
                    self._chains[slot[1]] = chain

    def _apply_scope(self, host: str, new: VhostParts | None, old: VhostParts | None) -> None:
        """Keep the scopes, and the hosts making the listener fall back, in step with one
        port-80 slot."""
        self._scopes.swap(new.scope if new else None, old.scope if old else None)
        if new is not None and scopes.unscopable(self._settings, new.vhost, new.scope):
            self._unscopable.add(host)
        else:
            self._unscopable.discard(host)

    def _apply_fallback(self, host: str, new: VhostParts | None, old: VhostParts | None) -> None:
        """Keep the fallback table and the hosts serving it in step with one HTTPS slot."""
        new_vhost = new.vhost if new is not None and new.fallback else None
        old_vhost = old.vhost if old is not None and old.fallback else None
        if new_vhost != old_vhost:
            self._fallback_table.set(new_vhost, old_vhost)
        if new is not None and new.fallback:
            self._fallback_hosts.add(host)
        else:
            self._fallback_hosts.discard(host)

    def _build(self, value: object) -> VhostParts:
        if isinstance(value, model.SecureVirtualHost):
            return self._translator.https_parts(value)
        assert isinstance(value, model.VirtualHost)
        return self._translator.http_parts(value)

    def _update_listeners(self, any_http: bool, out: Update) -> None:
        wanted = dict(self._listeners)
        if any_http:
            wanted[lds.HTTP_LISTENER] = self._translator.http_listener_bytes(
                bool(self._unscopable))
        else:
            wanted.pop(lds.HTTP_LISTENER, None)
        if self._chains_dirty:
            self._chains_dirty = False
            if self._chains:
                chains = [self._chains[h] for h in sorted(self._chains)]
                if self._fallback is not None:
                    chains.append(self._fallback[0])
                wanted[lds.HTTPS_LISTENER] = lds.listener_bytes(self._https_base, chains)
            else:
                wanted.pop(lds.HTTPS_LISTENER, None)
        wanted[lds.STATS_LISTENER] = self._stats_listener
        out.replace(pb.LISTENER_TYPE, self._listeners, wanted)
        self._listeners = wanted


def _shared_vhost(parts: VhostParts | None) -> tuple[str, bytes] | None:
    """The vhost a slot puts in its port's shared table (not a strict-SNI one's)."""
    return parts.vhost if parts is not None and parts.table is None else None


def _tables(parts: Mapping[str, GroupParts]) -> dict[str, bytes]:
    return dict(p.table for p in parts.values())


def _listeners(parts: Mapping[str, GroupParts]) -> dict[str, bytes]:
    return dict(p.listener for p in parts.values() if p.listener is not None)
