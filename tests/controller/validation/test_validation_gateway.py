"""The Gateway API CRDs' CEL rules at the folder boundary (cel_gateway.py): every case of
gateway_cases.py is admitted or refused with the CRD's message, as the API server does
(tests/cluster/test_gateway_api_cluster.py runs the same cases there); every rule of the
pinned CRDs has a twin."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from gateway_cases import CASES

from controller.validation.boundary import Admitted, admit
from controller.validation.cel_gateway import twin
from controller.validation.gateway_crds import MANIFEST


@pytest.mark.parametrize("obj, refusal", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_cel_rules_at_the_boundary(obj: dict[str, Any], refusal: str | None) -> None:
    verdict = admit(obj)
    if refusal is None:
        assert isinstance(verdict, Admitted), verdict
    else:
        assert not isinstance(verdict, Admitted)
        assert any(refusal in r for r in verdict.reasons), verdict.reasons


def _rules(node: Any) -> set[str]:
    if isinstance(node, list):
        return {r for v in node for r in _rules(v)}
    if not isinstance(node, dict):
        return set()
    own = {e["rule"] for e in node.get("x-kubernetes-validations", [])}
    return own | {r for v in node.values() for r in _rules(v)}


def test_every_rule_of_the_pinned_crds_has_a_twin() -> None:
    rules = _rules(list(yaml.safe_load_all(MANIFEST.read_text())))
    assert len(rules) == 70
    assert [r for r in rules if twin(r) is None] == []


def test_a_rule_without_a_twin_is_unknown() -> None:
    assert twin("self.size() > 3") is None
    assert twin("self.filter(f, f.type == 'X').size() <= 2") is None
