"""Holds in the incremental translator: a quarantined host keeps contributing what Envoy
last accepted (nothing, for a new host) and is reported rejected, until its DAG value
changes; a probed host is held without a rejection. The results equal the full translator's
on the DAG the held hosts are taken from."""

from __future__ import annotations

import pytest
from xdscache_samples import LAYOUTS, forward, service

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator


def dag(**routes: str) -> m.DAG:
    """One port-80 vhost per host, its one route to a service named by `routes[host]`."""
    return m.DAG(http=tuple(m.VirtualHost(f"{h}.com", (forward("/", m.Cluster(service(s))),))
                            for h, s in sorted(routes.items())))


def full(d: m.DAG, settings: ListenerSettings) -> object:
    return Translator(settings).translate(d)


@pytest.mark.parametrize("settings", LAYOUTS.values(), ids=list(LAYOUTS))
def test_quarantine_serves_what_was_accepted_until_the_value_changes(
        settings: ListenerSettings) -> None:
    tr = IncrementalTranslator(settings)
    accepted = dag(a="s1", b="s1")
    tr.update(accepted)
    tr.holds.mark_stable()
    rejected = dag(a="s2", b="s3")
    tr.update(rejected)
    assert tr.holds.changed_hosts() == ["a.com", "b.com"]
    tr.quarantine("a.com", "Envoy said no")
    out = tr.update(rejected, {"a.com"})
    assert out.rejected == {"a.com": "Envoy said no"}
    assert tr.resources() == full(dag(a="s1", b="s3"), settings)
    assert tr.holds.changed_hosts() == ["b.com"]  # quarantined hosts are no suspects
    tr.holds.mark_stable()
    tr.update(rejected)  # a rebuild of the same value keeps the quarantine
    assert tr.resources() == full(dag(a="s1", b="s3"), settings)
    fixed = dag(a="s4", b="s3")
    out = tr.update(fixed, {"a.com"})
    assert out.rejected == {}
    assert tr.resources() == full(fixed, settings)


@pytest.mark.parametrize("settings", LAYOUTS.values(), ids=list(LAYOUTS))
def test_a_new_host_quarantined_contributes_nothing(settings: ListenerSettings) -> None:
    tr = IncrementalTranslator(settings)
    tr.update(dag(a="s1"))
    tr.holds.mark_stable()
    tr.update(dag(a="s1", n="s9"))
    tr.quarantine("n.com", "no")
    tr.update(dag(a="s1", n="s9"), {"n.com"})
    assert tr.resources() == full(dag(a="s1"), settings)


@pytest.mark.parametrize("settings", LAYOUTS.values(), ids=list(LAYOUTS))
def test_probing_holds_without_rejecting(settings: ListenerSettings) -> None:
    tr = IncrementalTranslator(settings)
    tr.update(dag(a="s1", b="s1"))
    tr.holds.mark_stable()
    tr.update(dag(a="s2", b="s2"))
    tr.holds.probe({"b.com"})
    out = tr.update(dag(a="s2", b="s2"), {"a.com", "b.com"})
    assert out.rejected == {}
    assert tr.resources() == full(dag(a="s2", b="s1"), settings)
    tr.holds.probe(set())
    tr.update(dag(a="s2", b="s2"), {"a.com", "b.com"})
    assert tr.resources() == full(dag(a="s2", b="s2"), settings)


@pytest.mark.parametrize("settings", LAYOUTS.values(), ids=list(LAYOUTS))
def test_with_no_envoy_connected_nothing_is_kept(settings: ListenerSettings) -> None:
    """Suspects are only kept while some Envoy lags: with none connected, every publish is
    stable (the resolver listens to the cache), so no earlier parts are held in memory."""
    from controller.app import Controller
    from controller.config import Settings
    from controller.events import ObjectEvent, Synced

    ctl = Controller(Settings())
    pipeline = ctl.pipeline()
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "s", "namespace": "default"},
               "spec": {"ports": [{"port": 80}]}}
    pipeline.process([Synced("test"), ObjectEvent.upsert(service), ObjectEvent.upsert({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "i", "namespace": "default"},
        "spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}})])
    assert [vh.host for vh in ctl.routing.dag.http] == ["*"]
    assert ctl.routing.translator.holds.changed_hosts() == []
