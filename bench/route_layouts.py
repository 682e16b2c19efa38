"""Route layouts of the HTTP listener's routes, for `bench.bench layouts` (issue 12 item 4).

Each layout takes the translator's real output (`{type_url: {name: bytes}}`, one
`ingress_http` RouteConfiguration holding every vhost) and re-expresses the HTTP listener's
routing in another xDS shape; `change(host, prefix)` returns the resources one host's
prefix-rewrite change publishes in that shape:

- `single`: as the controller serves it (one table; a change resends the whole table);
- `scoped`: scoped RDS keyed on `:authority` up to its first `:` (the port dropped); one
  ScopedRouteConfiguration per host naming a RouteConfiguration of its own, fetched by RDS
  (a change resends one small table);
- `scoped-inline`: the same scopes, each carrying its table inline (no RDS subscription per
  host; a change resends one scope);
- `vhds`: the one table with no vhosts and `vhds` over ADS; every vhost a VirtualHost
  resource `ingress_http/<host>` (a change resends one vhost).

The `ingress_https` listener and table are left as they are in every layout.
"""

from __future__ import annotations

from collections.abc import Mapping

from envoy.config.listener.v3 import listener_pb2
from envoy.config.route.v3 import route_pb2, scoped_route_pb2
from envoy.config.route.v3.route_components_pb2 import VirtualHost
from envoy.extensions.filters.http.lua.v3 import lua_pb2
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as hcm_pb2,
)

from controller.envoy import pb
from controller.envoy.core import config_source
from controller.envoy.listener import LOWERCASE_AUTHORITY
from controller.envoy.type_urls import SCOPED_ROUTE_TYPE, VIRTUAL_HOST_TYPE
from controller.xdscache.routes import HTTP_ROUTES

Resources = dict[str, dict[str, bytes]]
HCM_TYPE = pb.TYPE_PREFIX + "envoy.extensions.filters.network.http_connection_manager.v3." \
    "HttpConnectionManager"
LAYOUTS = ("single", "scoped", "scoped-inline", "vhds")


class Single:
    """One table; a change re-joins the cached vhost blocks around the changed one (as the
    production translator does, controller/xdscache/incremental.py)."""

    def __init__(self, resources: Mapping[str, Mapping[str, bytes]]) -> None:
        table = route_pb2.RouteConfiguration.FromString(resources[pb.ROUTE_TYPE][HTTP_ROUTES])
        self.vhosts = {vh.name: vh for vh in table.virtual_hosts}
        self.blocks = {name: _block(vh) for name, vh in self.vhosts.items()}
        del table.virtual_hosts[:]
        self.header = table.SerializeToString()
        self.resources = {t: dict(r) for t, r in resources.items()}

    def cold(self) -> Resources:
        return self.resources

    def change(self, host: str, prefix: str) -> Resources:
        """The whole table with `host`'s first route rewriting to `prefix`."""
        self.blocks[host] = _block(rewritten(self.vhosts[host], prefix))
        body = self.header + b"".join(self.blocks[h] for h in sorted(self.blocks))
        return {pb.ROUTE_TYPE: {HTTP_ROUTES: body}}


class Scoped:
    """One scope per host, keyed on the authority without its port; `inline` puts each
    host's table in its scope instead of naming it for RDS."""

    def __init__(self, resources: Mapping[str, Mapping[str, bytes]], *, inline: bool,
                 lowercase: bool = False) -> None:
        table = route_pb2.RouteConfiguration.FromString(resources[pb.ROUTE_TYPE][HTTP_ROUTES])
        self.vhosts = {vh.name: vh for vh in table.virtual_hosts}
        del table.virtual_hosts[:]
        self.template, self.inline = table, inline
        self.original = resources
        self.resources = {t: dict(r) for t, r in resources.items()}
        self.resources[pb.LISTENER_TYPE][HTTP_ROUTES] = scoped_listener(
            resources[pb.LISTENER_TYPE][HTTP_ROUTES], lowercase=lowercase)
        del self.resources[pb.ROUTE_TYPE][HTTP_ROUTES]
        self.resources[SCOPED_ROUTE_TYPE] = {}
        for host, vh in self.vhosts.items():
            self._put(self.resources, host, vh)

    def cold(self) -> Resources:
        return self.resources

    def change(self, host: str, prefix: str) -> Resources:
        """The one resource (table or inline scope) that carries `host`'s change."""
        out: Resources = {}
        self._put(out, host, rewritten(self.vhosts[host], prefix))
        if not self.inline:
            del out[SCOPED_ROUTE_TYPE]  # the scope itself did not move
        return out

    def fallback(self, catch_all: str) -> tuple[Resources, dict[str, list[str]]]:
        """Back to one table, now with a `*` vhost sending every other host to `catch_all`'s
        routes (what a host-less Ingress rule does): (upserts, removals)."""
        star = VirtualHost()
        star.CopyFrom(self.vhosts[catch_all])
        star.name, star.domains[:] = "*", ["*"]
        table = route_pb2.RouteConfiguration()
        table.CopyFrom(self.template)
        table.virtual_hosts.extend([*(self.vhosts[h] for h in sorted(self.vhosts)), star])
        listener = self.original[pb.LISTENER_TYPE][HTTP_ROUTES]
        return ({pb.LISTENER_TYPE: {HTTP_ROUTES: listener},
                 pb.ROUTE_TYPE: {HTTP_ROUTES: table.SerializeToString()}},
                {t: sorted(n for n in self.resources[t] if n.startswith(HTTP_ROUTES + "/"))
                 for t in (SCOPED_ROUTE_TYPE, pb.ROUTE_TYPE)})

    def _put(self, out: Resources, host: str, vh: VirtualHost) -> None:
        name = f"{HTTP_ROUTES}/{host}"
        table = route_pb2.RouteConfiguration()
        table.CopyFrom(self.template)
        table.name = name
        table.virtual_hosts.append(vh)
        scope = scoped_route_pb2.ScopedRouteConfiguration(name=name)
        scope.key.fragments.add().string_key = host
        if self.inline:
            scope.route_configuration.CopyFrom(table)
        else:
            scope.route_configuration_name = name
            out.setdefault(pb.ROUTE_TYPE, {})[name] = table.SerializeToString()
        out.setdefault(SCOPED_ROUTE_TYPE, {})[name] = scope.SerializeToString()


class Vhds:
    """The table's vhosts served by VHDS (Envoy subscribes to them by wildcard)."""

    def __init__(self, resources: Mapping[str, Mapping[str, bytes]]) -> None:
        table = route_pb2.RouteConfiguration.FromString(resources[pb.ROUTE_TYPE][HTTP_ROUTES])
        self.vhosts = {vh.name: vh for vh in table.virtual_hosts}
        del table.virtual_hosts[:]
        table.vhds.config_source.CopyFrom(config_source())
        self.resources = {t: dict(r) for t, r in resources.items()}
        self.resources[pb.ROUTE_TYPE][HTTP_ROUTES] = table.SerializeToString()
        self.resources[VIRTUAL_HOST_TYPE] = {
            f"{HTTP_ROUTES}/{h}": vh.SerializeToString() for h, vh in self.vhosts.items()}

    def cold(self) -> Resources:
        return self.resources

    def change(self, host: str, prefix: str) -> Resources:
        """The one VirtualHost resource carrying `host`'s change."""
        body = rewritten(self.vhosts[host], prefix).SerializeToString()
        return {VIRTUAL_HOST_TYPE: {f"{HTTP_ROUTES}/{host}": body}}


def layout(name: str, resources: Mapping[str, Mapping[str, bytes]], *,
           lowercase: bool = False) -> Single | Scoped | Vhds:
    """The layout called `name` (one of LAYOUTS) over the translator's `resources`;
    `lowercase`: scoped layouts lowercase `:authority` first (`LOWERCASE_AUTHORITY`)."""
    if name == "single":
        return Single(resources)
    if name == "vhds":
        return Vhds(resources)
    return Scoped(resources, inline=name == "scoped-inline", lowercase=lowercase)


def scoped_listener(body: bytes, *, lowercase: bool = False) -> bytes:
    """The HTTP listener with its HCM's `rds` replaced by `scoped_routes` over ADS, the
    scope key being `:authority` up to its first `:`; `lowercase` puts a Lua filter
    running LOWERCASE_AUTHORITY first."""
    listener = listener_pb2.Listener.FromString(body)
    for chain in listener.filter_chains:
        for f in chain.filters:
            if f.typed_config.type_url != HCM_TYPE:
                continue
            hcm = hcm_pb2.HttpConnectionManager.FromString(f.typed_config.value)
            hcm.ClearField("rds")
            scoped = hcm.scoped_routes
            scoped.name = HTTP_ROUTES
            extractor = scoped.scope_key_builder.fragments.add().header_value_extractor
            extractor.name, extractor.element_separator, extractor.index = ":authority", ":", 0
            scoped.rds_config_source.CopyFrom(config_source())
            scoped.scoped_rds.scoped_rds_config_source.CopyFrom(config_source())
            if lowercase:
                hcm.http_filters.insert(0, _lua_filter("lowercase-authority",
                                                       LOWERCASE_AUTHORITY))
            f.typed_config.value = hcm.SerializeToString()
    return listener.SerializeToString()


def _lua_filter(name: str, script: str) -> hcm_pb2.HttpFilter:
    lua = lua_pb2.Lua()
    lua.default_source_code.inline_string = script
    out = hcm_pb2.HttpFilter(name=name)
    out.typed_config.Pack(lua)
    return out


def rewritten(vh: VirtualHost, prefix: str) -> VirtualHost:
    """A copy of `vh` whose first route rewrites its prefix to `prefix`."""
    out = VirtualHost()
    out.CopyFrom(vh)
    out.routes[0].route.prefix_rewrite = prefix
    return out


def _block(vh: VirtualHost) -> bytes:
    """`vh` as a RouteConfiguration `virtual_hosts` field (tag, length, body)."""
    return route_pb2.RouteConfiguration(virtual_hosts=[vh]).SerializeToString()
