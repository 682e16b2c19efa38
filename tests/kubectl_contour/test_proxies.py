"""queries/proxies.py: what one IngressRoute or HTTPProxy declares, one shape for both."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_contour.queries.proxies import Entry, ServiceRef, entries, entries_to, join_prefix


def obj(kind: str, spec: dict[str, Any], ns: str = "app") -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x", "namespace": ns}, "spec": spec}


@pytest.mark.parametrize(("kind", "spec", "want"), [
    pytest.param("IngressRoute", {"routes": [
        {"match": "/", "services": [{"name": "s", "port": 80, "weight": 5}]},
        {"match": "/d", "delegate": {"name": "c"}}]},
        [Entry("routes", 0, "/", "/", None, (ServiceRef("s", 80, 5),)),
         Entry("routes", 1, "/d", "/d", ("app", "c"))], id="ir-route-and-delegate"),
    pytest.param("IngressRoute", {"tcpproxy": {"delegate": {"name": "t", "namespace": "o"}}},
                 [Entry("tcpproxy", 0, "tcpproxy", "", ("o", "t"))], id="ir-tcpproxy"),
    pytest.param("HTTPProxy", {
        "routes": [{"conditions": [{"prefix": "/r"}, {"header": {"name": "h", "exact": "v"}}],
                    "services": [{"name": "s", "port": 80}]}],
        "includes": [{"name": "c", "namespace": "o", "conditions": [{"prefix": "/i"}]}]},
        [Entry("includes", 0, "prefix /i", "/i", ("o", "c")),
         Entry("routes", 0, "prefix /r, header h exact 'v'", "/r", None,
               (ServiceRef("s", 80),))], id="hp-includes-first"),
    pytest.param("HTTPProxy", {"routes": [{"services": [{"name": "s", "port": 80}]}]},
                 [Entry("routes", 0, "prefix /", "", None, (ServiceRef("s", 80),))],
                 id="hp-no-conditions"),
    pytest.param("HTTPProxy", {"routes": [{"conditions": [{"exact": "/e"}],
                                           "services": [{"name": "s", "port": 80}]}]},
                 [Entry("routes", 0, "exact /e", "", None, (ServiceRef("s", 80),))],
                 id="hp-exact"),
    pytest.param("HTTPProxy", {"tcpproxy": {"include": {"name": "t"}}},
                 [Entry("tcpproxy", 0, "tcpproxy", "", ("app", "t"))], id="hp-tcpproxy"),
])
def test_entries(kind: str, spec: dict[str, Any], want: list[Entry]) -> None:
    assert entries(kind, obj(kind, spec)) == want


def test_entries_to_one_child() -> None:
    spec = {"includes": [{"name": "a", "conditions": [{"prefix": "/1"}]},
                         {"name": "b"}, {"name": "a", "conditions": [{"prefix": "/2"}]}]}
    assert [e.prefix for e in entries_to("HTTPProxy", obj("HTTPProxy", spec),
                                         ("app", "a"))] == ["/1", "/2"]
    assert entries_to("HTTPProxy", None, ("app", "a")) == []


@pytest.mark.parametrize(("base", "prefix", "joined"), [
    ("", "/api", "/api"), ("/", "/api", "/api"), ("/api", "/v1", "/api/v1"),
    ("/api/", "/v1", "/api/v1"), ("/api", "", "/api"),
])
def test_join_prefix(base: str, prefix: str, joined: str) -> None:
    assert join_prefix(base, prefix) == joined
