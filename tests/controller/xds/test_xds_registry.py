"""`NodeRegistry.all_answered`: the question make-before-break (xdscache.retire) asks."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from controller.xds.registry import NodeRegistry

LDS, RDS = "lds-type", "rds-type"
Step = Callable[[NodeRegistry], object]


def connect(node: str) -> Step:
    return lambda r: r.connect(node)


def ack(node: str, type_url: str, version: str) -> Step:
    return lambda r: r.record_ack(node, type_url, version)


def nack(node: str, type_url: str, version: str) -> Step:
    return lambda r: r.record_nack(node, type_url, version, nonce="n", code=3, message="no")


@pytest.mark.parametrize(
    ("steps", "answered"),
    [
        ([], True),  # nobody connected: nobody to wait for
        ([connect("a")], False),
        ([connect("a"), ack("a", RDS, "2")], True),
        ([connect("a"), nack("a", RDS, "2")], True),  # a rejection is an answer
        ([connect("a"), ack("a", RDS, "1")], False),  # an older version is not
        ([connect("a"), nack("a", RDS, "1")], False),
        ([connect("a"), ack("a", LDS, "2")], False),  # nor the same version of another type
        ([connect("a"), connect("b"), ack("a", RDS, "2")], False),
        ([connect("a"), connect("b"), ack("a", RDS, "2"), nack("b", RDS, "2")], True),
        ([connect("a"), connect("b"), ack("a", RDS, "2"), lambda r: r.disconnect("b")], True),
    ],
    ids=["no-nodes", "silent", "acked", "nacked", "older-ack", "older-nack", "other-type",
         "one-of-two", "ack-and-nack", "silent-one-left"],
)
def test_all_answered(steps: list[Step], answered: bool) -> None:
    registry = NodeRegistry()
    for step in steps:
        step(registry)
    assert registry.all_answered(RDS, "2") is answered


def held(node: str, type_url: str, serial: int, *, implicit: bool = False) -> Step:
    if implicit:
        return lambda r: r.record_current(node, type_url, serial)
    return lambda r: r.record_ack(node, type_url, "v", serial=serial)


@pytest.mark.parametrize(("steps", "holds"), [
    pytest.param([], True, id="nobody-connected"),
    pytest.param([connect("a")], False, id="holds-nothing"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 5)], True, id="acked"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 5, implicit=True)], True,
                 id="current-counts"),
    pytest.param([connect("a"), held("a", LDS, 9), held("a", RDS, 4)], False, id="one-short"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 5), nack("a", RDS, "x")],
                 False, id="rejecting"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 5), nack("a", RDS, "x"),
                  held("a", RDS, 6)], True, id="ack-after-nack-clears"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 9), held("a", RDS, 3)], True,
                 id="never-goes-back"),
    pytest.param([connect("a"), held("a", LDS, 5), held("a", RDS, 5),
                  lambda r: r.disconnect("a"), connect("a")], False,
                 id="reconnected-holds-nothing"),
])
def test_all_hold(steps: list[Step], holds: bool) -> None:
    registry = NodeRegistry()
    for step in steps:
        step(registry)
    assert registry.all_hold({LDS: 5, RDS: 5}, (LDS, RDS)) is holds
