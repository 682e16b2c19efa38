"""ExtensionService assignments: the member Services' endpoints as weighted localities,
recomposed when a member's endpoints or the membership change."""

from __future__ import annotations

from xdscache_samples import service

from controller.dag import model as m
from controller.envoy import pb
from controller.envoy.endpoint import ip_port_assignment
from controller.xdscache.extension_endpoints import ExtensionAssignments

A, B = service("a", 9000), service("b", 9001)
EXT = m.ExtensionCluster("x", "authz", ((A.eds_name, 3), (B.eds_name, 0)))


def _decoded(out: dict[str, bytes]) -> dict[str, list[tuple[int, list[int]]]]:
    """name → [(locality weight, [ports])]."""
    got = {}
    for name, data in out.items():
        cla = pb.ClusterLoadAssignment.FromString(data)
        got[name] = [(loc.load_balancing_weight.value,
                      [e.endpoint.address.socket_address.port_value for e in loc.lb_endpoints])
                     for loc in cla.endpoints]
    return got


def test_members_become_weighted_localities() -> None:
    ext = ExtensionAssignments()
    ext.set_extensions([EXT])
    assert _decoded(ext.take()[0]) == {"extension/x/authz": []}  # no endpoints yet
    ext.member_changed({A.eds_name: ip_port_assignment(A.eds_name, [("127.0.0.1", 1)]),
                        B.eds_name: ip_port_assignment(B.eds_name, [("127.0.0.1", 2)])})
    assert _decoded(ext.take()[0]) == {"extension/x/authz": [(3, [1]), (0, [2])]}
    assert ext.take() == ({}, set())  # nothing changed since


def test_unrelated_members_and_removal() -> None:
    ext = ExtensionAssignments()
    ext.set_extensions([EXT])
    ext.take()
    ext.member_changed({"default/other": ip_port_assignment("default/other", [("127.0.0.1", 5)])})
    assert ext.take() == ({}, set())
    ext.member_changed({A.eds_name: None})
    assert _decoded(ext.take()[0]) == {"extension/x/authz": []}
    ext.set_extensions([])
    assert ext.take() == ({}, {"extension/x/authz"})
    ext.set_extensions([EXT])
    assert list(ext.take()[0]) == ["extension/x/authz"]
