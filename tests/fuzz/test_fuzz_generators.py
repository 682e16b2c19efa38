"""Properties of the fuzzer's generators, driven by Hypothesis (st.randoms() drives the same
code the fuzzer drives with a seeded random.Random, so failures shrink): a mutation
changes its copy and never its input, batches are reproducible from (seed, index), every
object is laid out in a file, and the hostile documents are what they claim."""

from __future__ import annotations

import copy
import json
import random

from fuzzing import cases, documents, proxies, valid
from fuzzing.mutate import mutate
from fuzzing.oracle import UNPARSEABLE, judge
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def family_objects(rnd: random.Random) -> list[dict]:
    return [e.obj for e in cases.ir_family(rnd, "t0").expects] + \
        [e.obj for e in cases.tls_family(rnd, "t1").expects] + \
        [e.obj for e in proxies.proxy_family(rnd, "t2").expects] + \
        [e.obj for e in proxies.proxy_tls_family(rnd, "t3").expects]


@FAST
@given(st.randoms(use_true_random=False))
def test_a_mutation_changes_the_copy_and_not_the_input(rnd: random.Random) -> None:
    for obj in family_objects(random.Random(rnd.random())):
        before = copy.deepcopy(obj)
        mutated, why = mutate(obj, rnd)
        assert obj == before, why
        assert mutated != obj, why
        assert why != "unchanged"


@FAST
@given(st.randoms(use_true_random=False))
def test_unmutated_family_members_are_good(rnd: random.Random) -> None:
    for make in (cases.ir_family, cases.ingress_family, cases.tls_family,
                 cases.tcpproxy_family, cases.graph_family, cases.stolen_secret_family,
                 proxies.proxy_family, proxies.proxy_tls_family, proxies.proxy_graph_family):
        case = make(rnd, "t9")
        for e in case.expects:
            if e.why.startswith("valid"):
                assert e.verdict == "good", (e.kind, e.name, judge(e.obj))


@FAST
@given(st.integers(0, 2**32), st.integers(0, 5000))
def test_batches_are_reproducible_and_laid_out(seed: int, index: int) -> None:
    a, b = cases.make_batch(seed, index, 25), cases.make_batch(seed, index, 25)
    assert a.files == b.files
    assert [(e.file, e.verdict, e.why) for e in a.expects] == \
        [(e.file, e.verdict, e.why) for e in b.expects]
    assert len(a.expects) >= 25
    for e in a.expects:
        assert e.file in a.files and e.file.startswith(f"b{index}/")
        assert e.file.endswith((".yaml", ".json"))


def test_different_batches_differ() -> None:
    assert cases.make_batch(1, 0, 25).files != cases.make_batch(1, 1, 25).files
    assert cases.make_batch(1, 0, 25).files != cases.make_batch(2, 0, 25).files


def test_deep_documents_are_deep() -> None:
    _, text, why = documents.deep_json(random.Random(0), "x")
    depth = max(text.count("["), text.count('{"a":'))
    assert depth >= 1000 and str(depth) in why
    try:
        json.loads(text)
    except RecursionError:
        pass
    else:  # pragma: no cover - only if Python's json stops recursing
        assert depth < 100_000


def test_alias_bomb_expands_beyond_a_billion_only_when_followed() -> None:
    _, text, why = documents.alias_bomb(random.Random(0), "x")
    assert text.count("*l") >= 8 * 9 and "alias bomb" in why


def test_hostile_files_are_expected_unparseable() -> None:
    rnd = random.Random(5)
    for _ in range(20):
        case = cases.document_family(rnd, "d0")
        assert case.raw_file is not None and case.expects[0].verdict == UNPARSEABLE


def test_stolen_secret_names_the_control_secret() -> None:
    case = cases.stolen_secret_family(random.Random(1), "s0")
    text = json.dumps([e.obj for e in case.expects])
    assert f"{cases.CONTROL_NAMESPACE}/{cases.CONTROL_SECRET}" in text
    assert case.groups[0].what == "no_tls" and case.groups[0].fqdn == "s0.fuzz.test"
    assert all(e.obj["metadata"]["namespace"] in valid.FUZZ_NAMESPACES for e in case.expects)


def test_httpproxy_mutations_reach_regexes_includes_and_durations() -> None:
    """The HTTPProxy hazards of issue 7 are produced (KIND_BOOSTS), and the v1 delegation
    is reported under its own kind."""
    whys, kinds = set(), set()
    for index in range(40):
        for e in cases.make_batch(7, index, 50).expects:
            kinds.add(e.kind)
            if e.kind == "HTTPProxy":
                whys.add(e.why.split(" ")[0])
    assert {"regex", "include:", "duration"} <= whys
    assert "TLSCertificateDelegation.projectcontour.io" in kinds


def test_httpproxy_graph_checks_name_every_member() -> None:
    for seed in range(20):
        case = proxies.proxy_graph_family(random.Random(seed), "g0")
        group = case.groups[0]
        assert group.kind == "HTTPProxy" and group.keys
        names = {(e.namespace, e.name) for e in case.expects if e.kind == "HTTPProxy"}
        assert set(group.keys) <= names
