"""Envoy's constraints (controller/envoy/constraints.py): what the checker says Envoy rejects,
Envoy rejects (each bad case is run through `envoy --mode validate`), and what it accepts,
Envoy accepts (a property test over translated DAGs and endpoints)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from envoy.config.core.v3.protocol_pb2 import UpstreamHttpProtocolOptions
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_envoy_validate import SETTINGS, static_bootstrap

from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.bootstrap import bootstrap
from controller.envoy.cluster import cluster
from controller.envoy.constraints import MAX_DURATION_SECONDS, rejection, violations
from controller.envoy.core import HTTP_PROTOCOL_OPTIONS, any_of, duration, socket_address
from controller.envoy.endpoint import ip_port_assignment
from controller.envoy.filters import hcm_filters
from controller.envoy.listener import HTTP_CONNECTION_MANAGER, filter_chain
from controller.envoy.pgv_rules import UNCHECKED
from controller.envoy.route import route, virtual_host
from controller.xdscache.endpoints import endpoints_from_endpoints
from controller.xdscache.routes import http_virtual_host
from controller.xdscache.translator import Translator, decode

KUARD = m.ServicePort("default", "kuard", 80)
Build = Callable[[], Message]


def vhost_with(**action: object) -> pb.VirtualHost:
    """a.com with one route `/` → kuard, its RouteAction fields set from `action`."""
    vh = virtual_host("a.com", [route(m.Route("/", clusters=(m.Cluster(KUARD),)))])
    target = vh.routes[0].route
    for name, value in action.items():
        if isinstance(value, Message):
            getattr(target, name).CopyFrom(value)
        else:
            setattr(target, name, value)
    return vh


def regex_vhost(pattern: str) -> pb.VirtualHost:
    return virtual_host("a.com", [route(m.Route(pattern, clusters=(m.Cluster(KUARD),),
                                                regex=True))])


def static_cluster(address: str, port: int = 80, kind: int = pb.Cluster.STATIC) -> pb.Cluster:
    out = pb.Cluster(name="static", type=kind, connect_timeout=duration(1))  # type: ignore[arg-type]
    out.load_assignment.CopyFrom(ip_port_assignment("static", [(address, port)]))
    return out


def chain(server_name: str, stat_prefix: str = "ingress_https") -> pb.FilterChain:
    hcm = pb.HttpConnectionManager(stat_prefix=stat_prefix, rds=pb.Rds(
        route_config_name="ingress_https", config_source=pb.ConfigSource(ads={})))
    hcm.http_filters.add(name="envoy.filters.http.router", typed_config=any_of(pb.Router()))
    return filter_chain(server_name, pb.Filter(name=HTTP_CONNECTION_MANAGER,
                                               typed_config=any_of(hcm)), None)


def sni_header(header: str) -> pb.Cluster:
    """A cluster whose HTTP protocol options (a map of Any) name an SNI header."""
    options = pb.HttpProtocolOptions(
        upstream_http_protocol_options=UpstreamHttpProtocolOptions(
            auto_sni=True, override_auto_sni_header=header),
        explicit_http_config=pb.HttpProtocolOptions.ExplicitHttpConfig(
            http_protocol_options=pb.Http1ProtocolOptions()))
    out = pb.Cluster(name="c", type=pb.Cluster.STATIC, connect_timeout=duration(1))
    out.typed_extension_protocol_options[HTTP_PROTOCOL_OPTIONS].CopyFrom(any_of(options))
    return out


def proxy_vhost(**fields: object) -> pb.VirtualHost:
    """a.com with one HTTPProxy route `/` → kuard, its model fields set from `fields`."""
    fields.setdefault("clusters", (m.Cluster(KUARD),))
    built = http_virtual_host(m.VirtualHost("a.com", (m.Route("/", **fields),)))  # type: ignore[arg-type]
    assert built is not None
    return built


def expecting(*ranges: tuple[int, int]) -> pb.Cluster:
    return cluster(m.Cluster(KUARD, health_check=m.HealthCheck("/", expected_statuses=ranges)))


PSEUDO = m.HeadersPolicy(set=((":path", "/x"),))
LIMIT_PER_ROUTE = "routes[0].typed_per_filter_config['envoy.filters.http.local_ratelimit']"
STATUS_RANGE = ("health_checks[0].http_health_check.expected_statuses[0]: must be a range "
                "within [100, 600] with start < end")
RBAC_PER_ROUTE = ("routes[0].typed_per_filter_config['envoy.filters.http.rbac'](RBACPerRoute)"
                  ".rbac.rules.policies['ip-rules'].principals[0].direct_remote_ip")
TIMEOUT = "routes[0].route.timeout"
ADDRESS = "endpoints[0].lb_endpoints[0].endpoint.address.socket_address"
REGEX = "routes[0].match.safe_regex.regex: must be RE2 syntax with a program size of at most 100"
BAD: dict[str, tuple[Build, str]] = {
    "duration-beyond-int64-nanos": (
        lambda: vhost_with(timeout=pb.Duration(seconds=MAX_DURATION_SECONDS)),
        f"{TIMEOUT}: must be less than 9223372036s"),
    "duration-beyond-protobuf-range": (
        lambda: vhost_with(timeout=pb.Duration(seconds=10**12)),
        f"{TIMEOUT}: must be less than 9223372036s"),
    "duration-negative": (lambda: vhost_with(timeout=pb.Duration(seconds=-1)),
                          f"{TIMEOUT}: must not be negative"),
    "duration-negative-nanos": (lambda: vhost_with(timeout=pb.Duration(nanos=-5)),
                                f"{TIMEOUT}: must not be negative"),
    "duration-nanos-overflow": (lambda: vhost_with(timeout=pb.Duration(nanos=10**9)),
                                f"{TIMEOUT}: must be less than 9223372036s"),
    "pgv-duration-gt-zero": (
        lambda: pb.Cluster(name="c", type=pb.Cluster.STATIC, connect_timeout=pb.Duration()),
        "connect_timeout: must be greater than 0s"),
    "port-above-65535": (lambda: ip_port_assignment("x", [("10.0.0.1", 70000)]),
                         f"{ADDRESS}.port_value: must be at most 65535"),
    "empty-cluster-name": (lambda: pb.Cluster(connect_timeout=duration(1)),
                           "name: must not be empty"),
    "vhost-without-domains": (lambda: pb.VirtualHost(name="v"), "domains: must not be empty"),
    "header-name-with-newline": (
        lambda: pb.VirtualHost(name="v", domains=["a.com"], request_headers_to_add=[
            pb.HeaderValueOption(header=pb.HeaderValue(key="x-a\nb", value="v"))]),
        "request_headers_to_add[0].header.key: must be a valid header string (no NUL, CR or LF)"),
    "header-name-strict": (
        lambda: sni_header("bad name"),
        f"typed_extension_protocol_options[{HTTP_PROTOCOL_OPTIONS!r}](HttpProtocolOptions)"
        ".upstream_http_protocol_options.override_auto_sni_header: must be a valid HTTP header "
        "name"),
    "prefix-rewrite-with-crlf": (
        lambda: vhost_with(prefix_rewrite="/\r\n"),
        "routes[0].route.prefix_rewrite: must be a valid header string (no NUL, CR or LF)"),
    "health-check-path-empty": (
        lambda: cluster(m.Cluster(KUARD, health_check=m.HealthCheck(""))),
        "health_checks[0].http_health_check.path: must not be empty"),
    "enum-undefined": (lambda: pb.Cluster(name="c", connect_timeout=duration(1), lb_policy=99),  # type: ignore[arg-type]
                       "lb_policy: must be a defined enum value"),
    "required-oneof-unset": (lambda: pb.Route(match=pb.RouteMatch(prefix="/")),
                             "action: one of its fields must be set"),
    "required-message-unset": (lambda: pb.Route(route=pb.RouteAction(cluster="x")),
                               "match: is required"),
    "endpoint-999.1.1.1": (lambda: ip_port_assignment("x", [("999.1.1.1", 80)]),
                           f"{ADDRESS}.address: must be an IP address, not '999.1.1.1'"),
    "endpoint-hostname": (lambda: ip_port_assignment("x", [("kuard.default", 80)]),
                          f"{ADDRESS}.address: must be an IP address, not 'kuard.default'"),
    "endpoint-with-space": (lambda: ip_port_assignment("x", [("10.0.0.1 ", 80)]),
                            f"{ADDRESS}.address: must be an IP address, not '10.0.0.1 '"),
    "endpoint-::zz": (lambda: ip_port_assignment("x", [("::zz", 80)]),
                      f"{ADDRESS}.address: must be an IP address, not '::zz'"),
    "static-cluster-hostname": (lambda: static_cluster("example.com"),
                                f"load_assignment.{ADDRESS}.address: must be an IP address, "
                                "not 'example.com'"),
    "regex-program-too-big": (lambda: regex_vhost("a" * 97), REGEX),
    "regex-lookahead": (lambda: regex_vhost("/(?=a)"), REGEX),
    "server-name-partial-wildcard": (lambda: chain("a*.example.com"),
                                     "filter_chain_match.server_names[0]: partial wildcards "
                                     "are not supported"),
    "typed-config-payload": (lambda: chain("a.com", stat_prefix=""),
                             "filters[0].typed_config(HttpConnectionManager).stat_prefix: "
                             "must not be empty"),
    "header-to-add-pseudo": (lambda: proxy_vhost(request_headers=PSEUDO),
                             "routes[0].request_headers_to_add[0].header.key: :-prefixed or "
                             "host headers may not be modified"),
    "header-to-add-host-on-a-cluster": (
        lambda: proxy_vhost(clusters=(m.Cluster(KUARD, response_headers=m.HeadersPolicy(
            set=(("Host", "x"),))),)),
        "routes[0].route.weighted_clusters.clusters[0].response_headers_to_add[0].header.key: "
        ":-prefixed or host headers may not be modified"),
    "header-to-remove-host": (
        lambda: proxy_vhost(response_headers=m.HeadersPolicy(remove=("host",))),
        "routes[0].response_headers_to_remove[0]: :-prefixed or host headers may not be "
        "removed"),
    "rate-limit-fill-below-50ms": (
        lambda: proxy_vhost(rate_limit=m.LocalRateLimit(1, 1, 0.049)),
        f"{LIMIT_PER_ROUTE}(LocalRateLimit).token_bucket.fill_interval: must be at least 50ms"),
    "rate-limit-header-pseudo": (
        lambda: proxy_vhost(rate_limit=m.LocalRateLimit(1, 1, 1.0, headers=((":a", "b"),))),
        f"{LIMIT_PER_ROUTE}(LocalRateLimit).response_headers_to_add[0].header.key: "
        ":-prefixed or host headers may not be modified"),
    "rbac-cidr-not-an-ip": (
        lambda: proxy_vhost(ip_filter=m.IPFilter(True, (m.CIDR("300.1.1.1", 8),))),
        f"{RBAC_PER_ROUTE}.address_prefix: must be an IP address, not '300.1.1.1'"),
    "expected-status-below-100": (lambda: expecting((99, 200)), STATUS_RANGE),
    "expected-status-above-600": (lambda: expecting((200, 601)), STATUS_RANGE),
    "expected-status-reversed": (lambda: expecting((300, 200)), STATUS_RANGE),
    "rbac-prefix-len-over-128": (
        lambda: proxy_vhost(ip_filter=m.IPFilter(False, (m.CIDR("fd00::", 129),))),
        f"{RBAC_PER_ROUTE}.prefix_len: must be at most 128"),
    "direct-response-status": (
        lambda: proxy_vhost(clusters=(), direct_response=m.DirectResponse(600)),
        "routes[0].direct_response.status: must be at least 200 and less than 600"),
    "header-match-regex": (
        lambda: proxy_vhost(headers=(m.HeaderMatch("x", "regex", "(a"),)),
        "routes[0].match.headers[0].string_match.safe_regex.regex: must be RE2 syntax with a "
        "program size of at most 100"),
}
GOOD: dict[str, Build] = {
    "headers-other-than-host": lambda: proxy_vhost(
        request_headers=m.HeadersPolicy(set=(("x-host", "a"),), remove=("x-forwarded-host",))),
    "rate-limit-fill-50ms": lambda: proxy_vhost(rate_limit=m.LocalRateLimit(1, 1, 0.05)),
    "rbac-cidr-ipv4-prefix-over-32": lambda: proxy_vhost(
        ip_filter=m.IPFilter(False, (m.CIDR("10.0.0.0", 40, remote=True),))),
    "expected-status-full-range": lambda: expecting((100, 600)),
    "header-match-pseudo-header": lambda: proxy_vhost(
        headers=(m.HeaderMatch(":authority", "exact", "a.com"),)),
    "duration-just-below-limit": lambda: vhost_with(
        timeout=pb.Duration(seconds=MAX_DURATION_SECONDS - 1, nanos=999_999_999)),
    "regex-program-at-limit": lambda: regex_vhost("a" * 96),
    "header-name-strict": lambda: sni_header(":authority"),
    "endpoint-ipv6": lambda: ip_port_assignment("x", [("fd00::1", 65535)]),
    "endpoint-scoped-ipv6": lambda: ip_port_assignment("x", [("fe80::1%lo", 80)]),
    "strict-dns-hostname": lambda: static_cluster("example.com", kind=pb.Cluster.STRICT_DNS),
    "server-name-wildcard": lambda: chain("*.example.com"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_checker_names_the_field_and_the_reason(case: str) -> None:
    build, expected = BAD[case]
    assert expected in violations(build())


@pytest.mark.parametrize("case", sorted(GOOD))
def test_checker_accepts(case: str) -> None:
    assert violations(GOOD[case]()) == ()


def test_rejection_quotes_what_and_why() -> None:
    assert rejection("cluster 'x'", pb.Cluster(connect_timeout=duration(1))) == (
        "Envoy would reject cluster 'x': name: must not be empty")
    assert rejection("cluster 'x'", pb.Cluster(name="x")) is None


def test_every_rule_reachable_from_what_we_send_is_checked() -> None:
    """pgv_rules leaves a few rule kinds unchecked; none may apply to what we send."""
    from validate import validate_pb2 as pgv
    seen: set[str] = set()
    found: set[tuple[str, str]] = set()
    stack = [t.DESCRIPTOR for t in (pb.Listener, pb.RouteConfiguration, pb.Cluster,
                                    pb.ClusterLoadAssignment, pb.Secret, pb.HttpConnectionManager,
                                    pb.TcpProxy, pb.DownstreamTlsContext, pb.UpstreamTlsContext)]
    while stack:
        desc = stack.pop()
        if desc.full_name in seen:
            continue
        seen.add(desc.full_name)
        for fd in desc.fields:
            options = fd.GetOptions()
            if options.HasExtension(pgv.rules):
                rules = options.Extensions[pgv.rules]
                for kind, typed in rules.ListFields():
                    found.update((kind.name, r.name) for r, _ in typed.ListFields())
            if fd.message_type is not None:
                stack.append(fd.message_type)
    assert len(seen) > 300
    assert not found & UNCHECKED


# -- Envoy agrees ------------------------------------------------------------------------------

def embed(message: Message) -> pb.Bootstrap:
    """A bootstrap holding `message` where Envoy validates it: a route in a vhost, a vhost in
    an inline route
    table (with the clusters it names), a cluster or a secret as a static resource, an
    assignment as a STATIC cluster's endpoints, a filter chain in a listener."""
    config = bootstrap(admin_port=19913, node_id="constraints", node_cluster="contour")
    static = config.static_resources
    if isinstance(message, pb.Route):
        message = pb.VirtualHost(name="probe", domains=["probe"], routes=[message])
    if isinstance(message, pb.VirtualHost):
        names = {r.route.cluster for r in message.routes} | {
            w.name for r in message.routes for w in r.route.weighted_clusters.clusters}
        for name in sorted(names - {""}):
            static.clusters.add(name=name, type=pb.Cluster.STATIC, connect_timeout=duration(1))
        message = pb.Listener(name="probe", address=socket_address("127.0.0.1", 18991),
                              filter_chains=[pb.FilterChain(filters=[_inline_hcm(message)])])
    if isinstance(message, pb.ClusterLoadAssignment):
        message = pb.Cluster(name="probe", type=pb.Cluster.STATIC, connect_timeout=duration(1),
                             load_assignment=message)
    if isinstance(message, pb.FilterChain):
        message = pb.Listener(name="probe", address=socket_address("127.0.0.1", 18992),
                              filter_chains=[message])
    getattr(static, {pb.Listener: "listeners", pb.Cluster: "clusters",
                     pb.Secret: "secrets"}[type(message)]).append(message)
    return config


def _inline_hcm(vhost: pb.VirtualHost) -> pb.Filter:
    hcm = pb.HttpConnectionManager(stat_prefix="probe", route_config=pb.RouteConfiguration(
        name="probe", virtual_hosts=[vhost]), http_filters=hcm_filters())
    return pb.Filter(name=HTTP_CONNECTION_MANAGER, typed_config=any_of(hcm))


def envoy_verdict(envoy_binary: str, config: pb.Bootstrap, tmp_path: Path) -> str | None:
    """`envoy --mode validate` on the binary bootstrap (JSON cannot carry the out-of-range
    durations): None when Envoy accepts it, else what it said."""
    path = tmp_path / "envoy.pb"
    path.write_bytes(config.SerializeToString())
    cmd = [envoy_binary, "--mode", "validate", "-c", str(path), "--disable-hot-restart",
           "-l", "critical"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    return None if result.returncode == 0 else result.stdout + result.stderr


def envoy_words(violation: str) -> str:
    """A regex for how Envoy words the rejection the checker predicts: its own checks have
    their own messages; a PGV rule names the message and the CamelCased field (a oneof, the
    field)."""
    if "must be an IP address" in violation:
        return "malformed IP address"
    if "host headers may not be" in violation:
        return ":-prefixed or host headers may not be (modified|removed)"
    if "at least 50ms" in violation:
        return "fill timer must be >= 50ms"
    if "must be a range within" in violation:
        return "Invalid http expected status range"
    if "9223372036s" in violation or "must not be negative" in violation:
        return "Invalid duration"
    if "RE2" in violation:
        return "RE2 program size|invalid perl operator|missing \\)"
    if "partial wildcards" in violation:
        return "partial wildcards are not supported"
    field = re.sub(r"\[.*?\]|\(.*?\)", "", violation.split(":")[0]).split(".")[-1]
    camel = "".join(w.capitalize() for w in field.split("_"))
    return f'ValidationError\\.{camel}:|field: "{field}"'  # the second: a required oneof


@pytest.mark.parametrize("case", sorted(BAD))
def test_envoy_rejects_what_the_checker_rejects(case: str, envoy_binary: str,
                                                tmp_path: Path) -> None:
    build, violation = BAD[case]
    said = envoy_verdict(envoy_binary, embed(build()), tmp_path)
    assert said is not None
    assert re.search(envoy_words(violation), said), said[-600:]


@pytest.mark.parametrize("case", sorted(GOOD))
def test_envoy_accepts_what_the_checker_accepts(case: str, envoy_binary: str,
                                                tmp_path: Path) -> None:
    assert envoy_verdict(envoy_binary, embed(GOOD[case]()), tmp_path) is None


# -- property: what the checker lets through, Envoy accepts ------------------------------------

NASTY = st.one_of(st.text(st.sampled_from("abc/-."), max_size=8), st.text(
    st.sampled_from("a/-.*:[]^$(){}?+\\ \t\r\n\x00\x7fé"), max_size=12))
SECONDS = st.one_of(st.floats(min_value=-10, max_value=1e5, allow_nan=False),
                    st.sampled_from([0.0, 9223372035.5, 9223372036.0, 315576000001.0, 1e13]))
PORTS = st.one_of(st.integers(min_value=1, max_value=65535), st.integers(65536, 2**32 - 1))
IPS = st.one_of(st.ip_addresses().map(str), st.sampled_from(
    ["999.1.1.1", "kuard", "a b", "::zz", "01.2.3.4", "1.2.3", "fe80::1%lo"]))


CLEAN = st.text(st.sampled_from("abc-"), min_size=1, max_size=6)
# Mostly clean values, so that most hosts survive the checker and reach Envoy.
NAMES = st.one_of(*[CLEAN] * 8, NASTY, st.sampled_from(["host", "Host", ":path", ""]))
VALUES = st.one_of(*[CLEAN] * 8, NASTY)
STATUSES = st.one_of(*[st.integers(200, 599)] * 8, st.integers(0, 700))
MAYBE_CIDRS = st.none() | st.builds(m.IPFilter, st.booleans(), st.lists(st.builds(
    m.CIDR, IPS, st.integers(0, 140), st.booleans()), max_size=2).map(tuple))
MAYBE_LIMIT = st.none() | st.builds(
    m.LocalRateLimit, st.integers(0, 5), st.integers(0, 5), st.floats(0, 2), STATUSES,
    st.lists(st.tuples(NAMES, VALUES), max_size=2).map(tuple))
MAYBE_HEADERS = st.none() | st.builds(
    m.HeadersPolicy, st.lists(st.tuples(NAMES, VALUES), max_size=2).map(tuple),
    st.lists(NAMES, max_size=2).map(tuple), VALUES)
MAYBE_CORS = st.none() | st.builds(
    m.CORSPolicy, st.lists(st.tuples(VALUES, st.booleans()), min_size=1, max_size=2).map(tuple),
    st.lists(VALUES, max_size=2).map(tuple), max_age=VALUES)


@st.composite
def upstreams(draw: st.DrawFn, i: int) -> m.Cluster:
    svc = m.ServicePort("default", f"svc{i}", draw(PORTS))
    ranges = st.one_of(*[st.integers(100, 599).map(lambda a: (a, a + 1))] * 8,
                       st.tuples(STATUSES, STATUSES))
    statuses = draw(st.lists(ranges, max_size=2).map(tuple))
    health = draw(st.none() | VALUES.map(lambda p: m.HealthCheck(p, expected_statuses=statuses)))
    return m.Cluster(svc, health_check=health, request_headers=draw(MAYBE_HEADERS),
                     slow_start=draw(st.none() | st.builds(
                         m.SlowStart, st.floats(0, 100), st.floats(0, 5),
                         st.one_of(*[st.integers(0, 100)] * 8, st.integers(0, 200)))))


@st.composite
def proxy_fields(draw: st.DrawFn) -> dict[str, object]:
    """HTTPProxy route fields, nasty values included."""
    headers = st.builds(m.HeaderMatch, NAMES, st.sampled_from(m.HEADER_OPS), VALUES,
                        st.booleans(), st.booleans())
    queries = st.builds(m.QueryMatch, VALUES, st.sampled_from(m.QUERY_OPS), VALUES,
                        st.booleans())
    return {
        "headers": tuple(draw(st.lists(headers, max_size=2))),
        "query_params": tuple(draw(st.lists(queries, max_size=2))),
        "request_headers": draw(MAYBE_HEADERS), "response_headers": draw(MAYBE_HEADERS),
        "direct_response": draw(st.none() | st.builds(m.DirectResponse, STATUSES, VALUES)),
        "ip_filter": draw(MAYBE_CIDRS), "rate_limit": draw(MAYBE_LIMIT),
        "hash_policies": tuple(draw(st.lists(st.builds(
            m.HashPolicy, st.sampled_from(("header", "query", "source_ip")), NAMES),
            max_size=2))),
    }


@st.composite
def dags(draw: st.DrawFn) -> m.DAG:
    hosts = []
    for i in range(draw(st.integers(1, 4))):
        upstream = draw(upstreams(i))
        routes = tuple(
            m.Route(draw(NASTY.map(lambda s: "/" + s)), clusters=(upstream,),
                    regex=draw(st.booleans()), timeout=draw(st.none() | SECONDS),
                    prefix_rewrite=draw(NASTY),
                    retry=draw(st.none() | st.builds(m.RetryPolicy, st.just("5xx"),
                                                      st.integers(0, 5), SECONDS)),
                    **(draw(proxy_fields()) if draw(st.booleans()) else {}))  # type: ignore[arg-type]
            for _ in range(draw(st.integers(1, 3))))
        hosts.append(m.VirtualHost(f"h{i}.example.com", routes, cors=draw(MAYBE_CORS),
                                   ip_filter=draw(MAYBE_CIDRS), rate_limit=draw(MAYBE_LIMIT)))
    return m.DAG(http=tuple(hosts))


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dag=dags(), targets=st.lists(st.tuples(IPS, PORTS), min_size=1, max_size=4))
def test_envoy_accepts_whatever_the_checker_lets_through(
        envoy_validate: Callable[..., subprocess.CompletedProcess[str]], dag: m.DAG,
        targets: list[tuple[str, int]]) -> None:
    config = static_bootstrap(decode(Translator(SETTINGS).translate(dag)), admin_port=19914)
    static = config.static_resources
    obj = {"metadata": {"namespace": "default", "name": "eps"},
           "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": f"p{i}", "port": port}]}
                       for i, (ip, port) in enumerate(targets)]}
    for cla in endpoints_from_endpoints(obj).values():
        static.clusters.add(name=cla.cluster_name, type=pb.Cluster.STATIC,
                            connect_timeout=duration(1), load_assignment=cla)
    result = envoy_validate(config)
    assert result.returncode == 0, result.stderr
