"""The incremental translator equals the full one, byte for byte, over random sequences of
DAGs built from every HTTPProxy model field (routes, vhost policies, fallback certificate)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from xdscache_samples import (
    ALLOW_LOOPBACK,
    CERT,
    CORS,
    KEY,
    LAYOUTS,
    LIMIT,
    SECRET,
    httpproxy_routes,
    service,
)

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.xdscache.incremental import IncrementalTranslator, Update
from controller.xdscache.translator import Translator

SETTINGS = ListenerSettings()
HOSTS = tuple(f"h{i}.example.com" for i in range(6))
UNSCOPABLE = ("*", "*.w.example.com")  # port 80 only: the scoped layout's fallback switch
SERVICES = tuple(service(f"s{i}") for i in range(3))
FALLBACKS = (m.Secret("default", "fallback", CERT, KEY),
             m.Secret("default", "fallback", CERT + b"2", KEY))
SEEDS = 12
AUTH = m.ExternalAuthorization("extension/a/authz", fail_open=True, response_timeout=1.0)
LIMITS = ((m.RateLimitEntry("generic_key", key="k", value="v"),),
          (m.RateLimitEntry("remote_address"),))
EXTENSIONS = (m.ExtensionCluster("a", "authz", (("a/authz", 0),)),
              m.ExtensionCluster("a", "rl", (("a/rl", 0), ("a/rl2", 5)), "h2c"))
RATE_LIMITS = (None, m.RateLimitService("a", "rl", "d"),
               m.RateLimitService("a", "rl", "d", fail_open=True, timeout=0.5))


def _routes(rng: random.Random) -> tuple[m.Route, ...]:
    every = httpproxy_routes(rng.choice(SERVICES))
    routes = rng.sample(every, rng.randint(1, len(every)))
    return tuple(_extended(rng, r) if rng.random() < 0.3 else r for r in routes)


def _extended(rng: random.Random, route: m.Route) -> m.Route:
    """A route with authorization overrides and global rate limits."""
    return replace(route, auth_disabled=rng.random() < 0.5,
                   auth_context=rng.choice(((), (("k", "v"),))),
                   global_rate_limits=rng.choice(((), LIMITS)),
                   ignore_vhost_rate_limits=rng.random() < 0.3)


def _policies(rng: random.Random) -> dict[str, object]:
    return {"cors": rng.choice((None, CORS)), "ip_filter": rng.choice((None, ALLOW_LOOPBACK)),
            "rate_limit": rng.choice((None, LIMIT)), "global_rate_limits": rng.choice(((), LIMITS))}


def _secure(rng: random.Random, host: str) -> m.SecureVirtualHost:
    return m.SecureVirtualHost(host, _routes(rng), secret=replace(SECRET, name=host),
                               max_tls_version=rng.choice(("", "1.2")),
                               fallback_certificate=rng.random() < 0.5,
                               strict_sni=rng.random() < 0.5,
                               authorization=rng.choice((None, AUTH)), **_policies(rng))


def _dag(rng: random.Random) -> m.DAG:
    http = [m.VirtualHost(h, _routes(rng), **_policies(rng)) for h in HOSTS if rng.random() < 0.7]
    http += [m.VirtualHost(h, _routes(rng)) for h in UNSCOPABLE if rng.random() < 0.15]
    https = [_secure(rng, h) for h in HOSTS if rng.random() < 0.5]
    return m.DAG(http=tuple(http), https=tuple(https),
                 fallback_secret=rng.choice((None, *FALLBACKS)),
                 extensions=tuple(e for e in EXTENSIONS if rng.random() < 0.5),
                 rate_limit_service=rng.choice(RATE_LIMITS))


def _changed_hosts(before: m.DAG, after: m.DAG) -> set[str]:
    def by_host(dag: m.DAG) -> dict[tuple[int, str], object]:
        return {**{(0, v.host): v for v in dag.http}, **{(1, v.host): v for v in dag.https}}

    old, new = by_host(before), by_host(after)
    return {host for slot, host in old.keys() | new.keys() if old.get((slot, host)) != new.get(
        (slot, host))}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("seed", range(SEEDS))
def test_incremental_equals_full_translation(seed: int, layout: str) -> None:
    rng = random.Random(seed)
    settings = LAYOUTS[layout]
    incremental = IncrementalTranslator(settings)
    dag = m.DAG()
    published: dict[str, dict[str, bytes]] = {}
    for step in range(25):
        # Mostly a few hosts change; sometimes only the fallback secret and rate limit service do.
        new = _dag(rng) if rng.random() < 0.8 else replace(
            dag, fallback_secret=rng.choice((None, *FALLBACKS)),
            rate_limit_service=rng.choice(RATE_LIMITS))
        update = incremental.update(new, _changed_hosts(dag, new) if rng.random() < 0.7
                                    else None)
        _publish(published, update)
        full = Translator(settings).translate(new)
        assert incremental.resources() == full, f"seed {seed} step {step}"
        # what production publishes: the updates, applied one after the other
        assert {t: r for t, r in published.items() if r} == {t: r for t, r in full.items() if r}, \
            f"seed {seed} step {step}"
        dag = new


def _publish(published: dict[str, dict[str, bytes]], update: Update) -> None:
    """Apply one update as the snapshot cache does (EDS is not the translator's)."""
    for type_url, names in update.removed.items():
        for name in names:
            published.get(type_url, {}).pop(name, None)
    for type_url, bodies in update.changed.items():
        published.setdefault(type_url, {}).update(bodies)
    for type_url, bodies in published.items():
        published[type_url] = dict(sorted(bodies.items()))


def test_fallback_table_and_chain_follow_the_vhosts() -> None:
    routes = httpproxy_routes()
    on = m.SecureVirtualHost("a.io", routes, secret=SECRET, fallback_certificate=True)
    dag = m.DAG(https=(on,), fallback_secret=FALLBACKS[0])
    incremental = IncrementalTranslator(SETTINGS)
    first = incremental.update(dag)
    assert "ingress_fallbackcert" in first.changed[pb.ROUTE_TYPE]
    off = m.DAG(https=(replace(on, fallback_certificate=False),), fallback_secret=FALLBACKS[0])
    second = incremental.update(off, {"a.io"})
    assert second.removed[pb.ROUTE_TYPE] == {"ingress_fallbackcert"}
    assert incremental.resources() == Translator(SETTINGS).translate(off)
