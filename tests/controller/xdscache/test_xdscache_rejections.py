"""The translators' last line of defence: DAGs and endpoint objects that never went through the
validation boundary. A host with a part Envoy would reject is left out (on both ports) and
reported; every other host is sent as before; EDS drops and reports a bad assignment only."""

from __future__ import annotations

from typing import Any

import pytest
from xdscache_samples import LAYOUTS, SECRET, forward, service

from controller.config import ListenerSettings
from controller.dag import model as m
from controller.envoy import pb
from controller.xdscache.endpoints import endpoints_from_endpoints, endpoints_from_endpointslices
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.translator import Translator, decode

SETTINGS = ListenerSettings()
GOOD_HTTP = m.VirtualHost("good.io", (forward("/", m.Cluster(service("good"))),))
GOOD_HTTPS = m.SecureVirtualHost("good.io", (forward("/", m.Cluster(service("good"))),),
                                 secret=SECRET)
TIMEOUT = "routes[0].route.timeout: must be less than 9223372036s"


def bad_route(**fields: Any) -> m.Route:
    return m.Route("/", clusters=(m.Cluster(service("bad")),), **fields)


# host → (the bad host's port-80 and port-443 values, the reason reported)
BAD_HOSTS: dict[str, tuple[m.VirtualHost | None, m.SecureVirtualHost | None, str]] = {
    "timeout-out-of-range": (
        m.VirtualHost("bad.io", (bad_route(timeout=1e12),)), None,
        f"Envoy would reject virtual host 'bad.io': {TIMEOUT}"),
    "https-rejects-http-too": (
        m.VirtualHost("bad.io", (bad_route(),)),
        m.SecureVirtualHost("bad.io", (bad_route(prefix_rewrite="/\n"),), secret=SECRET),
        "Envoy would reject virtual host 'bad.io': routes[0].route.prefix_rewrite: must be a "
        "valid header string (no NUL, CR or LF)"),
    "cluster-health-check-path": (
        m.VirtualHost("bad.io", (m.Route("/", clusters=(
            m.Cluster(service("bad"), health_check=m.HealthCheck("/\r\n")),)),)), None,
        "Envoy would reject cluster 'default/bad/80/"),
    "regex-too-big": (
        m.VirtualHost("bad.io", (m.Route("/" + "a" * 120, clusters=(m.Cluster(service("bad")),),
                                         regex=True),)), None,
        "Envoy would reject virtual host 'bad.io': routes[0].match.safe_regex.regex: must be "
        "RE2 syntax"),
    "value-beyond-uint32": (
        m.VirtualHost("bad.io", (m.Route("/", clusters=(m.Cluster(
            m.ServicePort("default", "bad", 80, max_connections=2**40)),)),)), None,
        "Envoy would reject virtual host 'bad.io': cannot be encoded: Value out of range"),
    "partial-wildcard-server-name": (
        None, m.SecureVirtualHost("b*d.io", (bad_route(),), secret=SECRET),
        "Envoy would reject filter chain 'b*d.io': filter_chain_match.server_names[0]: partial "
        "wildcards are not supported"),
}


def dag_with(http: m.VirtualHost | None, https: m.SecureVirtualHost | None) -> m.DAG:
    return m.DAG(http=tuple(v for v in (GOOD_HTTP, http) if v is not None),
                 https=tuple(v for v in (GOOD_HTTPS, https) if v is not None))


BASELINE = decode(Translator(SETTINGS).translate(dag_with(None, None)))


@pytest.mark.parametrize("case", sorted(BAD_HOSTS))
def test_a_rejected_host_is_left_out_and_reported(case: str) -> None:
    http, https, reason = BAD_HOSTS[case]
    translator = Translator(SETTINGS)
    out = decode(translator.translate(dag_with(http, https)))
    host = (http or https).host  # type: ignore[union-attr]
    assert list(translator.rejected) == [host]
    assert translator.rejected[host].startswith(reason)
    assert out == BASELINE  # nothing of the bad host is sent, the good host is unchanged


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("case", sorted(BAD_HOSTS))
def test_incremental_translator_rejects_the_same_and_recovers(case: str, layout: str) -> None:
    http, https, _ = BAD_HOSTS[case]
    settings = LAYOUTS[layout]
    translator = IncrementalTranslator(settings)
    good = dag_with(None, None)
    translator.update(good)
    bad = dag_with(http, https)
    update = translator.update(bad, {(http or https).host})  # type: ignore[union-attr]
    full = Translator(settings)
    assert translator.resources() == full.translate(bad)
    assert update.rejected == full.rejected
    assert not update.changed.get(pb.CLUSTER_TYPE) and not update.changed.get(pb.SECRET_TYPE)
    fixed = translator.update(good, {(http or https).host})  # type: ignore[union-attr]
    assert fixed.rejected == {}
    assert translator.resources() == Translator(settings).translate(good)


def test_a_shared_bad_cluster_rejects_every_host_using_it() -> None:
    bad = m.Cluster(service("shared"), health_check=m.HealthCheck(""))
    dag = m.DAG(http=(GOOD_HTTP, m.VirtualHost("x.io", (forward("/", bad),)),
                      m.VirtualHost("y.io", (forward("/", bad),))))
    translator = Translator(SETTINGS)
    out = decode(translator.translate(dag))
    assert sorted(translator.rejected) == ["x.io", "y.io"]
    assert all("health_checks[0].http_health_check.path: must not be empty" in r
               for r in translator.rejected.values())
    assert sorted(out[pb.CLUSTER_TYPE]) == sorted(BASELINE[pb.CLUSTER_TYPE])


# -- EDS -------------------------------------------------------------------------------------

def endpoints(name: str, subsets: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": name}, "subsets": subsets}


def subset(ip: Any, port: Any = 8080) -> list[dict[str, Any]]:
    return [{"addresses": [{"ip": ip}], "ports": [{"name": "http", "port": port}]}]


ADDRESS = "endpoints[0].lb_endpoints[0].endpoint.address.socket_address"
BAD_ENDPOINTS: dict[str, tuple[Any, str, str]] = {
    "ip-999.1.1.1": (subset("999.1.1.1"), "default/bad/http",
                     f"{ADDRESS}.address: must be an IP address, not '999.1.1.1'"),
    "ip-hostname": (subset("kuard.default"), "default/bad/http",
                    f"{ADDRESS}.address: must be an IP address, not 'kuard.default'"),
    "ip-with-space": (subset("10.0.0.1 "), "default/bad/http", "must be an IP address"),
    "ip-::zz": (subset("::zz"), "default/bad/http", "must be an IP address, not '::zz'"),
    "port-70000": (subset("10.0.0.1", 70000), "default/bad/http",
                   f"{ADDRESS}.port_value: must be at most 65535"),
    "port-negative": (subset("10.0.0.1", -1), "default/bad/http", "cannot be encoded"),
    "port-as-string": (subset("10.0.0.1", "80"), "default/bad", "port '80' is not an integer"),
    "ip-as-number": (subset(12345), "default/bad/http", "cannot be encoded"),
    "addresses-as-string": ([{"addresses": "str", "ports": [{"port": 80}]}], "default/bad",
                            "cannot be read: AttributeError"),
    "subsets-as-map": ({"a": 1}, "default/bad", "cannot be read: AttributeError"),
}


@pytest.mark.parametrize("case", sorted(BAD_ENDPOINTS))
def test_bad_endpoints_are_rejected_not_sent(case: str) -> None:
    subsets, name, reason = BAD_ENDPOINTS[case]
    got = endpoints_from_endpoints(endpoints("bad", subsets))
    assert dict(got) == {}
    assert list(got.rejected) == [name]
    assert reason in got.rejected[name]


def test_one_bad_port_name_leaves_the_others() -> None:
    obj = endpoints("mixed", [
        {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"name": "http", "port": 8080}]},
        {"addresses": [{"ip": "kuard"}], "ports": [{"name": "admin", "port": 9000}]},
    ])
    got = endpoints_from_endpoints(obj)
    assert list(got) == ["default/mixed/http"]
    assert list(got.rejected) == ["default/mixed/admin"]


def test_endpointslices_are_checked_too() -> None:
    def eps(ip: str) -> dict[str, Any]:
        return {"metadata": {"namespace": "default", "name": f"s-{ip}",
                             "labels": {"kubernetes.io/service-name": "svc"}},
                "addressType": "IPv4", "ports": [{"name": "http", "port": 80}],
                "endpoints": [{"addresses": [ip]}]}

    got = endpoints_from_endpointslices([eps("10.0.0.1"), eps("999.1.1.1")])
    assert dict(got) == {}
    assert "not '999.1.1.1'" in got.rejected["default/svc/http"]
    assert list(endpoints_from_endpointslices([eps("10.0.0.1")])) == ["default/svc/http"]
