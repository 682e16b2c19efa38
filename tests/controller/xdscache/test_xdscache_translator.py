"""The caching Translator: same output as the pure translators, reused bytes, dropped entries."""

from __future__ import annotations

import pytest
from xdscache_samples import KUARD, SECRET, forward, httpproxy_dag, many_vhosts, redirect, service

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.xdscache.clusters import clusters
from controller.xdscache.listeners import listeners
from controller.xdscache.routes import routes
from controller.xdscache.secrets import secrets
from controller.xdscache.translator import Memo, Translator, decode

SETTINGS = ListenerSettings(use_proxy_protocol=True)


def _dag() -> m.DAG:
    weighted = (m.Cluster(service("a"), 30), m.Cluster(service("b"), 70))
    return m.DAG(
        http=(
            m.VirtualHost("*", (forward("/"),)),
            m.VirtualHost("web.io", (redirect("/"), forward("/open", *weighted))),
        ),
        https=(
            m.SecureVirtualHost(
                "web.io", (forward("/"), forward("/open", *weighted)), secret=SECRET
            ),
            m.SecureVirtualHost("pass.io", tcp_proxy=m.TCPProxy((m.Cluster(service("tcp")),))),
        ),
    )


@pytest.mark.parametrize("dag", [_dag(), httpproxy_dag()], ids=["ingressroute", "httpproxy"])
def test_output_equals_the_pure_translators(dag: m.DAG) -> None:
    got = decode(Translator(SETTINGS).translate(dag))
    assert got == {
        pb.LISTENER_TYPE: listeners(dag, SETTINGS),
        pb.ROUTE_TYPE: routes(dag),
        pb.CLUSTER_TYPE: clusters(dag),
        pb.SECRET_TYPE: secrets(dag),
    }


def test_names_are_sorted() -> None:
    out = Translator(SETTINGS).translate(many_vhosts(50))
    for named in out.values():
        assert list(named) == sorted(named)


def test_equal_dag_reuses_every_value_and_bytes() -> None:
    translator = Translator(SETTINGS)
    first = translator.translate(_dag())
    misses = translator.misses()
    assert translator.translate(_dag()) == first  # equal values, new objects
    assert translator.misses() == misses


def test_only_the_changed_vhost_is_translated_again() -> None:
    translator = Translator(SETTINGS)
    translator.translate(many_vhosts(100))
    before = translator.misses()
    out = translator.translate(many_vhosts(100, changed=7))
    assert translator.misses() - before == 1  # the vhost; its clusters were reused
    assert decode(out)[pb.ROUTE_TYPE] == routes(many_vhosts(100, changed=7))


def test_removed_values_are_forgotten() -> None:
    translator = Translator(SETTINGS)
    translator.translate(_dag())
    translator.translate(m.DAG(http=(m.VirtualHost("a.io", (forward("/"),)),)))
    translator.translate(m.DAG(http=(m.VirtualHost("a.io", (forward("/"),)),)))
    before = translator.misses()
    translator.translate(_dag())
    assert translator.misses() > before  # nothing of the first DAG was kept


def test_memo_keeps_only_the_last_generation() -> None:
    built: list[int] = []

    def double(key: int) -> int:
        built.append(key)
        return key * 2

    memo: Memo[int, int] = Memo(double)
    assert [memo(1), memo(2), memo(1)] == [2, 4, 2]
    memo.rotate()
    memo(1)
    memo.rotate()
    memo(2)
    assert built == [1, 2, 2]  # 2 was dropped by the rotate after a build that did not use it
    memo.rotate()
    assert len(memo) == 1


def test_empty_dag() -> None:
    out = Translator(SETTINGS).translate(m.DAG())
    assert list(out[pb.LISTENER_TYPE]) == ["stats-health"]
    assert list(out[pb.ROUTE_TYPE]) == ["ingress_http", "ingress_https"]
    assert out[pb.CLUSTER_TYPE] == {} and out[pb.SECRET_TYPE] == {}


def test_cluster_weight_does_not_split_the_cache() -> None:
    dag = m.DAG(
        http=(m.VirtualHost("a.io", (forward("/", m.Cluster(KUARD, 5), m.Cluster(KUARD, 95)),)),)
    )
    out = Translator(SETTINGS).translate(dag)
    assert list(out[pb.CLUSTER_TYPE]) == ["default/kuard/80/da39a3ee5e"]


def test_ten_thousand_vhosts_translate_and_retranslate_the_same() -> None:
    """Its speed is measured by bench/ (BENCHMARKS.md), not here: this checks that a warm
    translator's output equals a cold one's after a few vhosts changed."""
    translator = Translator(SETTINGS)
    out = translator.translate(many_vhosts(10_000))
    assert len(out[pb.CLUSTER_TYPE]) == 20_000
    changed = many_vhosts(10_000, changed=5)
    assert translator.translate(changed) == Translator(SETTINGS).translate(changed)
