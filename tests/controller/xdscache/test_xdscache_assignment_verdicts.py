"""EDS verdicts by shape (controller/xdscache/verdicts.py `assignment_rejection`): whatever
the name, addresses and ports, the answer is the full checker's, including after the
same endpoint count was seen clean (when the walk is skipped)."""

from __future__ import annotations

import itertools

import pytest

from controller.envoy.constraints import rejection
from controller.envoy.endpoint import ip_port_assignment
from controller.xdscache import verdicts
from controller.xdscache.verdicts import assignment_rejection

NAMES = ["default/svc/http", ""]
TARGETS = [("10.0.0.1", 80), ("::1", 8080), ("::", 1), ("999.1.1.1", 80), ("kuard", 80),
           ("10.0.0.1 ", 80), ("", 80), ("10.0.0.2", 70000), ("10.0.0.3", 0)]
CASES = [(name, list(combo)) for name in NAMES for n in (0, 1, 2)
         for combo in itertools.combinations(TARGETS, n)]


@pytest.mark.parametrize("clean_first", [False, True], ids=["cold", "count-seen-clean"])
def test_assignment_verdict_is_the_full_checkers(clean_first: bool) -> None:
    verdicts._CLEAN_ASSIGNMENTS.clear()
    if clean_first:  # every count seen clean: the fast path answers where it can
        for n in (0, 1, 2):
            good = [(f"10.1.0.{i}", 80) for i in range(n)]
            assert assignment_rejection("x", "ns/s", good, ip_port_assignment("ns/s", good)) \
                is None
        assert sorted(verdicts._CLEAN_ASSIGNMENTS) == [0, 1, 2]
    for name, targets in CASES:
        built = ip_port_assignment(name, targets)
        what = f"ClusterLoadAssignment {name!r}"
        assert assignment_rejection(what, name, targets, built) == rejection(what, built), \
            (name, targets)


def test_a_bad_address_is_still_found_after_clean_ones() -> None:
    verdicts._CLEAN_ASSIGNMENTS.clear()
    good = [("10.0.0.1", 80)]
    assert assignment_rejection("a", "n", good, ip_port_assignment("n", good)) is None
    bad = [("kuard", 80)]
    reason = assignment_rejection("a", "n", bad, ip_port_assignment("n", bad))
    assert reason is not None and "must be an IP address, not 'kuard'" in reason
