"""EDS for ExtensionService clusters: one ClusterLoadAssignment `extension/<ns>/<name>`
holding one locality per member Service port, weighted by the ExtensionService's
`services[].weight` (unset for 0, as upstream's endpoint translator does).

`ExtensionAssignments` keeps the members' own assignments (as the EDS fast path produced
them) and recomposes an extension's only when a member's endpoints or the membership
changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from controller.dag import model
from controller.envoy import pb

Members = tuple[tuple[str, int], ...]  # (member EDS name, weight)


def members(ext: model.ExtensionCluster) -> Members:
    return ext.services


def assignment(name: str, parts: Iterable[tuple[pb.ClusterLoadAssignment | None, int]]
               ) -> pb.ClusterLoadAssignment:
    """The members' endpoints as localities of `name`; members without endpoints add none."""
    out = pb.ClusterLoadAssignment(cluster_name=name)
    for member, weight in parts:
        endpoints = [e for loc in member.endpoints for e in loc.lb_endpoints] if member else []
        if not endpoints:
            continue
        locality = out.endpoints.add(lb_endpoints=endpoints)
        if weight:
            locality.load_balancing_weight.value = weight
    return out


class ExtensionAssignments:
    """`set_extensions` after a build, `member_changed` after an EDS publish; `take` the
    serialized assignments to upsert and the names to remove."""

    def __init__(self) -> None:
        self._members: dict[str, Members] = {}
        self._loads: dict[str, pb.ClusterLoadAssignment] = {}
        self._dirty: set[str] = set()
        self._removed: set[str] = set()

    def set_extensions(self, extensions: Iterable[model.ExtensionCluster]) -> None:
        wanted = {e.cluster_name: members(e) for e in extensions}
        self._removed = (self._removed | (self._members.keys() - wanted.keys())) - wanted.keys()
        self._dirty |= {n for n, m in wanted.items() if self._members.get(n) != m}
        self._dirty -= self._removed
        self._members = wanted

    def member_changed(self, loads: Mapping[str, pb.ClusterLoadAssignment | None]) -> None:
        """Members' new assignments (None: gone); extensions using them are recomposed."""
        for name, load in loads.items():
            if load is None:
                self._loads.pop(name, None)
            else:
                self._loads[name] = load
        changed = loads.keys()
        self._dirty |= {n for n, m in self._members.items() if any(e in changed for e, _ in m)}

    def take(self) -> tuple[dict[str, bytes], set[str]]:
        """(name → serialized assignment, removed names) since the last take."""
        out = {name: assignment(name, ((self._loads.get(e), w) for e, w in self._members[name]))
               .SerializeToString(deterministic=True) for name in sorted(self._dirty)}
        removed, self._dirty, self._removed = self._removed, set(), set()
        return out, removed
