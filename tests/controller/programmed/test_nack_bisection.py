"""The bisection of a rejected update, table-driven against a fake Envoy that rejects any
update carrying one of its culprits: every culprit alone is found, a rejection no host
explains (every update rejected) quarantines none, and the rounds stay logarithmic."""

from __future__ import annotations

import asyncio

import pytest

from controller.nacks import NackResolver, named_hosts
from controller.xds.registry import Nack

NACK = Nack("strict", "type.googleapis.com/envoy.config.listener.v3.Listener", "v1", "1", 3,
            "Error adding/updating listener(s) ingress_https", 0.0)


class FakeEnvoy(NackResolver):
    """`_try` answers as an Envoy that rejects an update carrying any of `culprits`."""

    def __init__(self, culprits: set[str], *, always: bool = False) -> None:
        self.culprits, self.always = culprits, always
        self.rounds = 0

    async def _try(self, nack: Nack, suspects: list[str], held: set[str]) -> bool | None:
        self.rounds += 1
        return not self.always and not (set(suspects) - held) & self.culprits


HOSTS = [f"h{i:02}.example.com" for i in range(16)]


@pytest.mark.parametrize("culprit", [HOSTS[0], HOSTS[7], HOSTS[8], HOSTS[15]])
def test_one_culprit_among_sixteen(culprit: str) -> None:
    envoy = FakeEnvoy({culprit})
    assert asyncio.run(envoy._bisect(NACK, HOSTS, HOSTS)) == culprit
    assert envoy.rounds == 6  # log2(16) halvings and two confirmations


def test_a_named_host_is_confirmed_without_bisecting() -> None:
    envoy = FakeEnvoy({HOSTS[3]})
    assert asyncio.run(envoy._bisect(NACK, HOSTS, [HOSTS[3]])) == HOSTS[3]
    assert envoy.rounds == 2


def test_a_rejection_no_host_explains_quarantines_none() -> None:
    envoy = FakeEnvoy(set(), always=True)
    assert asyncio.run(envoy._bisect(NACK, HOSTS, HOSTS)) is None


def test_two_culprits_yield_one_of_them() -> None:
    envoy = FakeEnvoy({HOSTS[2], HOSTS[12]})
    assert asyncio.run(envoy._bisect(NACK, HOSTS, HOSTS)) in {HOSTS[2], HOSTS[12]}


@pytest.mark.parametrize(("message", "named"), [
    pytest.param("Error adding/updating scoped route(s): ingress_http/h03.example.com: "
                 "Proto constraint validation failed", [HOSTS[3]], id="scope"),
    pytest.param("route config https/h04.example.com: invalid regex", [HOSTS[4]],
                 id="strict-table"),
    pytest.param("vhost domain h05.example.com.", [HOSTS[5]], id="end-of-sentence"),
    pytest.param("ingress_http/xh03.example.com and h03.example.com.au", [], id="no-part"),
    pytest.param("Error adding/updating listener(s) ingress_https", [], id="none"),
])
def test_the_hosts_a_message_names(message: str, named: list[str]) -> None:
    assert named_hosts(HOSTS, message) == named
