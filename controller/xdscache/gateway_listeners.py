"""Isolated Gateways' own listeners (DAG.gateway_listeners) → one Envoy Listener
(`gateway/NS/NAME/PORT@ENVOY_PORT`) and one RouteConfiguration (`gateway/NS/NAME/PORT`)
each.

An HTTP one is `ingress_http`'s twin on its own port, routed by its own table; a secure
one holds an SNI chain per secure vhost (TLS-terminated HTTP routed by its table, or TCP
passthrough), as `ingress_https` does. A vhost with a part Envoy would reject is left out
of its listener only (`GroupParts.rejected` says why); the shared listeners are not
touched. Clusters and secrets come from the translator's memos (shared with the vhosts).

In: one `GatewayListener` and the translator (for its settings, memos and rate limit).
Out: `GroupParts`, serialized, which both translators merge into their resources.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from controller.config import ListenerSettings
from controller.dag import model
from controller.envoy import listener as envoy_listener
from controller.envoy import pb
from controller.envoy import route as envoy_route
from controller.envoy.constraints import rejection
from controller.xdscache import listeners as lds
from controller.xdscache import routes as rds

Named = tuple[str, bytes]


class Translator(Protocol):
    """What the group encoding needs of translator.Translator (its memos)."""

    settings: ListenerSettings
    rate_limit: model.RateLimitService | None

    def clusters_of(self, refs: Iterable[model.Cluster]
                    ) -> tuple[tuple[Named, ...], str | None]: ...

    def secret_of(self, secret: model.Secret) -> tuple[Named, str | None]: ...


@dataclass(frozen=True, slots=True)
class GroupParts:
    listener: Named | None
    """None for a secure listener without a chain (Envoy refuses a listener without one)."""
    table: Named
    clusters: tuple[Named, ...] = ()
    """In visit order (vhosts by host), duplicates kept: the first visited wins."""
    secrets: tuple[Named, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    """(host, why Envoy would reject it): left out of this listener."""


def group_parts(group: model.GatewayListener, tr: Translator) -> GroupParts:
    """The listener's Listener and RouteConfiguration, and what they reference."""
    vhosts: list[pb.VirtualHost] = []
    chains: list[pb.FilterChain] = []
    clusters: list[Named] = []
    secrets: list[Named] = []
    rejected: list[tuple[str, str]] = []
    values: tuple[model.VirtualHost | model.SecureVirtualHost, ...] = (
        group.https if group.secure else group.http)
    for vh in values:
        reason = _add_vhost(vh, group, tr, (vhosts, chains, clusters, secrets))
        if reason is not None:
            rejected.append((vh.host, reason))
    table = envoy_route.route_configuration(group.name, sorted(vhosts, key=lambda v: v.name))
    listener = None if group.secure and not chains else _named(_listener(group, tr, chains))
    return GroupParts(listener, _named(table), tuple(clusters), tuple(secrets),
                      tuple(rejected))


Collected = tuple[list[pb.VirtualHost], list[pb.FilterChain], list[Named], list[Named]]


def _add_vhost(vh: model.VirtualHost | model.SecureVirtualHost, group: model.GatewayListener,
               tr: Translator, into: Collected) -> str | None:
    """Encode one vhost (and its chain, when secure) into `into`; why Envoy would reject a
    part of it (then nothing is added)."""
    refs = [c for r in vh.routes for c in model.route_clusters(r)]
    chain = None
    secret: tuple[Named | None, str | None] = (None, None)
    if isinstance(vh, model.SecureVirtualHost):
        refs += vh.tcp_proxy.clusters if vh.tcp_proxy is not None else ()
        chain = lds.https_filter_chain(vh, tr.settings, tr.rate_limit, table=group.name)
        secret = (None, None) if vh.secret is None else tr.secret_of(vh.secret)
        vhost = rds.https_virtual_host(vh)
    else:
        vhost = rds.http_virtual_host(vh)
    clusters, reason = tr.clusters_of(refs)
    reason = reason or secret[1]
    if reason is None and chain is not None:
        reason = rejection(f"filter chain {vh.host!r}", chain)
    if reason is None and vhost is not None:
        reason = rejection(f"virtual host {vh.host!r}", vhost)
    if reason is not None:
        return reason
    vhosts, chains, all_clusters, secrets = into
    vhosts += [vhost] if vhost is not None else []
    chains += [chain] if chain is not None else []
    all_clusters += clusters
    secrets += [secret[0]] if secret[0] is not None else []
    return None


def _listener(group: model.GatewayListener, tr: Translator,
              chains: list[pb.FilterChain]) -> pb.Listener:
    settings = tr.settings
    if not group.secure:
        hcm = envoy_listener.http_connection_manager(
            group.name, settings.http_access_log,
            rate_limit=lds.rate_limit_filters(tr.rate_limit))
        chains = [pb.FilterChain(filters=[hcm])]
    return envoy_listener.listener(
        listener_name(group), settings.https_address if group.secure else settings.http_address,
        group.port, filter_chains=sorted(chains, key=_server_name),
        listener_filters=envoy_listener.listener_filters(
            proxy_protocol=settings.use_proxy_protocol, tls_inspector=group.secure))


def listener_name(group: model.GatewayListener) -> str:
    """`TABLE@ENVOY_PORT`: a listener that moves to another Envoy port is another listener
    (removed, then added: Envoy handles removals first), never an address update, which
    Envoy refuses when, in the same update, a new listener takes the old port ("duplicate
    address": seen when an older Gateway took the port of a newer one)."""
    return f"{group.name}@{group.port}"


def _server_name(chain: pb.FilterChain) -> str:
    return ",".join(chain.filter_chain_match.server_names)


def _named(message: pb.Listener | pb.RouteConfiguration) -> Named:
    return message.name, message.SerializeToString(deterministic=True)
