"""The scoped route layout of port 80: one scope per exact host, each with its one-vhost
table inline; the listener routes by them unless a `*` or wildcard host is in the table;
the table is published in both cases (the hitless switch)."""

from __future__ import annotations

import pytest
from xdscache_samples import LAYOUTS, forward

from controller.config import ConfigError, parse_route_layout
from controller.dag import model as m
from controller.envoy import pb
from controller.envoy import route as envoy_route
from controller.envoy.listener import LOWERCASE_AUTHORITY_FILTER
from controller.xdscache import scopes
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode

SCOPED = LAYOUTS["scoped"]


def _dag(*hosts: str) -> m.DAG:
    return m.DAG(http=tuple(m.VirtualHost(h, (forward("/"),)) for h in hosts))


def _hcm(listener: pb.Listener) -> pb.HttpConnectionManager:
    hcm = pb.HttpConnectionManager()
    listener.filter_chains[0].filters[0].typed_config.Unpack(hcm)
    return hcm


def test_one_scope_per_host_with_its_table_inline() -> None:
    out = decode(Translator(SCOPED).translate(_dag("b.io", "a.io")))
    found = out[pb.SCOPED_ROUTE_TYPE]
    assert list(found) == ["ingress_http/a.io", "ingress_http/b.io"]
    table = out[pb.ROUTE_TYPE]["ingress_http"]
    for host, vhost in zip(("a.io", "b.io"), table.virtual_hosts, strict=True):
        scope = found[f"ingress_http/{host}"]
        assert [f.string_key for f in scope.key.fragments] == [host]
        expected = pb.RouteConfiguration()
        expected.CopyFrom(table)
        expected.name = f"ingress_http/{host}"
        expected.ClearField("virtual_hosts")
        expected.virtual_hosts.append(vhost)
        assert scope.route_configuration == expected


@pytest.mark.parametrize("host", ["a.io", "A.Io", "x" * 60 + "." + "y" * 70 + ".example.com"])
def test_scope_bytes_equal_the_whole_message_serialized(host: str) -> None:
    vhost = pb.VirtualHost(name="v", domains=[host], routes=[pb.Route(name="r" * 200)])
    name, body = scopes.scope(host, vhost.SerializeToString())
    whole = pb.ScopedRouteConfiguration(
        name=name, route_configuration=envoy_route.route_configuration(name, [vhost]))
    whole.key.fragments.add().string_key = host.lower()
    assert body == whole.SerializeToString(deterministic=True)


@pytest.mark.parametrize("hosts, scoped", [
    (("a.io", "b.io"), True),
    (("a.io", "*"), False),
    (("a.io", "*.w.io"), False),
    ((), True),
])
def test_the_listener_falls_back_to_the_table_while_a_host_is_unscopable(
        hosts: tuple[str, ...], scoped: bool) -> None:
    dag = _dag("z.io", *hosts)
    out = decode(Translator(SCOPED).translate(dag))
    hcm = _hcm(out[pb.LISTENER_TYPE]["ingress_http"])
    assert hcm.HasField("scoped_routes") is scoped
    assert hcm.HasField("rds") is not scoped
    assert (hcm.http_filters[0].name == LOWERCASE_AUTHORITY_FILTER) is scoped
    # both are published whichever the listener uses: old connections keep the other
    assert sorted(out[pb.SCOPED_ROUTE_TYPE]) == sorted(
        f"ingress_http/{h}" for h in ("z.io", *hosts) if not h.startswith("*"))
    assert len(out[pb.ROUTE_TYPE]["ingress_http"].virtual_hosts) == 1 + len(hosts)
    if scoped:
        builder = hcm.scoped_routes.scope_key_builder.fragments[0].header_value_extractor
        assert (builder.name, builder.element_separator, builder.index) == (":authority", ":", 0)
        assert hcm.scoped_routes.name == "ingress_http"


def test_the_switch_both_ways_in_one_update_each() -> None:
    tr = IncrementalTranslator(SCOPED)
    tr.update(_dag("a.io"))
    to_table = tr.update(_dag("a.io", "*"), {"*"})
    assert set(to_table.changed) == {pb.LISTENER_TYPE, pb.ROUTE_TYPE}  # no scope moved
    assert _hcm(pb.Listener.FromString(to_table.changed[pb.LISTENER_TYPE]["ingress_http"])
                ).HasField("rds")
    back = tr.update(_dag("a.io"), {"*"})
    assert _hcm(pb.Listener.FromString(back.changed[pb.LISTENER_TYPE]["ingress_http"])
                ).HasField("scoped_routes")
    one = tr.update(_dag("a.io", "b.io"), {"b.io"})
    assert set(one.changed[pb.SCOPED_ROUTE_TYPE]) == {"ingress_http/b.io"}
    gone = tr.update(_dag("a.io"), {"b.io"})
    assert gone.removed[pb.SCOPED_ROUTE_TYPE] == {"ingress_http/b.io"}


def test_the_single_layout_publishes_no_scope() -> None:
    out = Translator(LAYOUTS["single"]).translate(_dag("a.io"))
    assert pb.SCOPED_ROUTE_TYPE not in out
    assert _hcm(decode(out)[pb.LISTENER_TYPE]["ingress_http"]).HasField("rds")


@pytest.mark.parametrize("value, expected", [("single", "single"), (" scoped ", "scoped")])
def test_route_layout_parses(value: str, expected: str) -> None:
    assert parse_route_layout(value, "--route-layout") == expected


@pytest.mark.parametrize("value", ["", "Scoped", "vhds", None, 1])
def test_a_bad_route_layout_is_a_clear_error(value: object) -> None:
    with pytest.raises(ConfigError, match="route-layout: .* is not a route layout"):
        parse_route_layout(value, "route-layout")
