"""EDS: Endpoints and EndpointSlices (raw dicts) → ClusterLoadAssignments (spec §3.7)."""

from __future__ import annotations

from typing import Any

import pytest

from controller.envoy import pb
from controller.xdscache.endpoints import endpoints_from_endpoints, endpoints_from_endpointslices


def _targets(loads: dict[str, pb.ClusterLoadAssignment]) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for name, cla in loads.items():
        assert cla.cluster_name == name
        assert len(cla.endpoints) <= 1  # a single locality
        out[name] = [
            (
                e.endpoint.address.socket_address.address,
                e.endpoint.address.socket_address.port_value,
            )
            for group in cla.endpoints
            for e in group.lb_endpoints
        ]
    return out


def _endpoints(*subsets: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"namespace": "default", "name": "kuard"}, "subsets": list(subsets)}


def _ips(*ips: str) -> list[dict[str, str]]:
    return [{"ip": ip} for ip in ips]


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        pytest.param(_endpoints(), {}, id="no subsets"),
        pytest.param(
            _endpoints(
                {
                    "addresses": _ips("10.0.0.2", "10.0.0.1"),
                    "notReadyAddresses": _ips("10.0.0.9"),
                    "ports": [{"port": 8080}],
                }
            ),
            {"default/kuard": [("10.0.0.1", 8080), ("10.0.0.2", 8080)]},
            id="unnamed port, ready addresses only, sorted",
        ),
        pytest.param(
            _endpoints(
                {
                    "addresses": _ips("10.0.0.1"),
                    "ports": [{"name": "http", "port": 8080}, {"name": "admin", "port": 9000}],
                }
            ),
            {
                "default/kuard/admin": [("10.0.0.1", 9000)],
                "default/kuard/http": [("10.0.0.1", 8080)],
            },
            id="one assignment per port name",
        ),
        pytest.param(
            _endpoints(
                {"addresses": _ips("10.0.0.1"), "ports": [{"name": "http", "port": 8080}]},
                {"addresses": _ips("10.0.0.2"), "ports": [{"name": "http", "port": 8081}]},
            ),
            {"default/kuard/http": [("10.0.0.1", 8080), ("10.0.0.2", 8081)]},
            id="same port name, different target ports across subsets",
        ),
        pytest.param(
            _endpoints({"notReadyAddresses": _ips("10.0.0.1"), "ports": [{"port": 8080}]}),
            {},
            id="subset without ready addresses is skipped",
        ),
    ],
)
def test_endpoints(obj: dict[str, Any], want: dict[str, list[tuple[str, int]]]) -> None:
    assert _targets(endpoints_from_endpoints(obj)) == want


def test_long_names_are_never_hashed() -> None:
    name = "x" * 80
    obj = {
        "metadata": {"namespace": "default", "name": name},
        "subsets": [{"addresses": _ips("10.0.0.1"), "ports": [{"name": "http", "port": 80}]}],
    }
    assert list(endpoints_from_endpoints(obj)) == [f"default/{name}/http"]


def _slice(
    *endpoints: dict[str, Any],
    ports: Any = None,
    service: str | None = "kuard",
    address_type: str = "IPv4",
) -> dict[str, Any]:
    labels = {} if service is None else {"kubernetes.io/service-name": service}
    return {
        "metadata": {"namespace": "default", "name": "kuard-abc", "labels": labels},
        "addressType": address_type,
        "endpoints": list(endpoints),
        "ports": [{"name": "http", "port": 8080}] if ports is None else ports,
    }


def _ep(ip: str, ready: bool | None = True) -> dict[str, Any]:
    conditions = {} if ready is None else {"ready": ready}
    return {"addresses": [ip], "conditions": conditions}


@pytest.mark.parametrize(
    ("slices", "want"),
    [
        pytest.param([], {}, id="none"),
        pytest.param(
            [_slice(_ep("10.0.0.1"), _ep("10.0.0.2", False), _ep("10.0.0.3", None))],
            {"default/kuard/http": [("10.0.0.1", 8080), ("10.0.0.3", 8080)]},
            id="ready not false",
        ),
        pytest.param(
            [
                _slice(_ep("10.0.0.2"), ports=[{"port": 80}, {"name": "admin", "port": 9000}]),
                _slice(_ep("10.0.0.1"), _ep("10.0.0.2"), ports=[{"name": "", "port": 80}]),
            ],
            {
                "default/kuard": [("10.0.0.1", 80), ("10.0.0.2", 80)],
                "default/kuard/admin": [("10.0.0.2", 9000)],
            },
            id="port names across slices, duplicates merged",
        ),
        pytest.param([_slice(_ep("a.example.com"), address_type="FQDN")], {}, id="FQDN ignored"),
        pytest.param([_slice(_ep("10.0.0.1"), service=None)], {}, id="no service label"),
        pytest.param([_slice(_ep("10.0.0.1", False))], {}, id="no ready endpoint"),
        pytest.param([_slice(_ep("10.0.0.1"), ports=[])], {}, id="no ports"),
    ],
)
def test_endpointslices(
    slices: list[dict[str, Any]], want: dict[str, list[tuple[str, int]]]
) -> None:
    assert _targets(endpoints_from_endpointslices(slices)) == want


def test_both_sources_agree() -> None:
    obj = _endpoints(
        {"addresses": _ips("10.0.0.1", "10.0.0.2"), "ports": [{"name": "http", "port": 8080}]}
    )
    slices = [_slice(_ep("10.0.0.2")), _slice(_ep("10.0.0.1"))]
    assert endpoints_from_endpoints(obj) == endpoints_from_endpointslices(slices)
