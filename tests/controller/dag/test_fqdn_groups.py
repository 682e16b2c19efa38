"""FqdnGroups: moving roots between fqdn groups reports both groups."""

from __future__ import annotations

from controller.dag.fqdn_groups import FqdnGroups


def test_move_reports_the_left_and_joined_groups() -> None:
    groups = FqdnGroups()
    changed: set[str] = set()
    groups.move(("a", "r"), "x.com", changed)
    groups.move(("a", "s"), "x.com", changed)
    assert changed == {"x.com"} and groups.members("x.com") == {("a", "r"), ("a", "s")}
    changed.clear()
    groups.move(("a", "r"), "y.com", changed)
    assert changed == {"x.com", "y.com"} and groups.members("x.com") == {("a", "s")}
    changed.clear()
    groups.move(("a", "s"), None, changed)
    assert changed == {"x.com"} and groups.members("x.com") == set()
