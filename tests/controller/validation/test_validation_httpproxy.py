"""The boundary on the projectcontour.io kinds, generated from v1.33's CRDs: valid objects
pass as they are; wrong types, unknown fields (pruned with a warning), out-of-range values,
bad enums and patterns are rejected or pruned with the path and the reason; the one CEL
rule is checked; hypothesis-generated bad HTTPProxies are always rejected with a reason at
the path that was broken."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validationkit import DELETE, delegation_v1, extensionservice, httpproxy, mutate

from controller.validation import Admitted, Rejected, admit, cel, kinds

SERVICE = ("spec", "routes", 0, "services", 0)
VALIDATION = (*SERVICE, "validation")


@pytest.mark.parametrize("make", [httpproxy, delegation_v1, extensionservice])
def test_valid_objects_are_admitted_as_they_are(make) -> None:
    obj = make()
    verdict = admit(obj)
    assert verdict == Admitted(obj, ()) and verdict.obj is obj


REJECTED = [
    # (path, value, reason)
    ((*SERVICE, "port"), -80, "spec.routes[0].services[0].port: must be at least 1"),
    ((*SERVICE, "port"), 65536, "spec.routes[0].services[0].port: must be less than 65536"),
    ((*SERVICE, "port"), "80", "spec.routes[0].services[0].port: must be an integer"),
    ((*SERVICE, "weight"), -1, "spec.routes[0].services[0].weight: must be at least 0"),
    ((*SERVICE, "protocol"), "h3",
     'spec.routes[0].services[0].protocol: must be one of ["h2", "h2c", "tls"]'),
    ((*SERVICE, "name"), DELETE, "spec.routes[0].services[0].name: is required"),
    (("spec", "virtualhost", "fqdn"), "EXAMPLE.com", "spec.virtualhost.fqdn: must match pattern"),
    (("spec", "virtualhost", "fqdn"), DELETE, "spec.virtualhost.fqdn: is required"),
    (("spec", "virtualhost", "fqdn"), 7, "spec.virtualhost.fqdn: must be a string"),
    (("spec", "routes", 0, "timeoutPolicy", "response"), "soon",
     "spec.routes[0].timeoutPolicy.response: must match pattern"),
    (("spec", "routes", 0, "retryPolicy", "count"), -2,
     "spec.routes[0].retryPolicy.count: must be at least -1"),
    (("spec", "routes", 0, "retryPolicy", "retryOn"), ["sometimes"],
     "spec.routes[0].retryPolicy.retryOn[0]: must be one of"),
    (("spec", "routes", 1, "requestRedirectPolicy", "statusCode"), 304,
     "spec.routes[1].requestRedirectPolicy.statusCode: must be one of [301, 302, 303, 307, 308]"),
    (("spec", "routes", 0, "rateLimitPolicy", "local", "unit"), "day",
     "spec.routes[0].rateLimitPolicy.local.unit: must be one of"),
    (("spec", "routes", 0, "healthCheckPolicy", "expectedStatuses", 0, "end"), 601,
     "spec.routes[0].healthCheckPolicy.expectedStatuses[0].end: must be at most 600"),
    (("spec", "virtualhost", "corsPolicy", "allowMethods"), [],
     "spec.virtualhost.corsPolicy.allowMethods: must have at least 1 items"),
    (("spec", "virtualhost", "ipAllowPolicy", 0, "source"), "Client",
     'spec.virtualhost.ipAllowPolicy[0].source: must be one of ["Peer", "Remote"]'),
    (("spec", "includes", 0, "name"), DELETE, "spec.includes[0].name: is required"),
    (("spec",), DELETE, "spec: is required"),
    ((*VALIDATION, "subjectNames"), ["other", "web.team"],
     "spec.routes[0].services[0].validation: subjectNames[0] must equal subjectName if set"),
]


@pytest.mark.parametrize(("path", "value", "reason"), REJECTED,
                         ids=[r[2].split(":")[0] + f"={r[1]!r}"[:20] for r in REJECTED])
def test_bad_httpproxies_are_rejected_with_path_and_reason(path, value, reason) -> None:
    verdict = admit(mutate(httpproxy(), path, value))
    assert isinstance(verdict, Rejected), verdict
    assert (verdict.kind, verdict.namespace, verdict.name) == ("HTTPProxy", "team", "root")
    assert any(r.startswith(reason) for r in verdict.reasons), verdict.reasons


PRUNED = [
    (("spec", "colour"), "spec.colour: unknown field, pruned"),
    ((*SERVICE, "colour"), "spec.routes[0].services[0].colour: unknown field, pruned"),
    (("spec", "routes", 0, "conditions", 0, "suffix"),
     "spec.routes[0].conditions[0].suffix: unknown field, pruned"),
]


@pytest.mark.parametrize(("path", "warning"), PRUNED)
def test_unknown_fields_are_pruned_with_a_warning(path, warning) -> None:
    obj = mutate(httpproxy(), path, "blue")
    verdict = admit(obj)
    assert isinstance(verdict, Admitted) and verdict.warnings == (warning,)
    assert verdict.obj == httpproxy()


def test_an_integral_float_port_is_stored_as_an_integer() -> None:
    verdict = admit(mutate(httpproxy(), (*SERVICE, "port"), 80.0))
    assert isinstance(verdict, Admitted)
    assert verdict.obj["spec"]["routes"][0]["services"][0]["port"] == 80


@pytest.mark.parametrize(("validation", "ok"), [
    ({"caSecret": "ca", "subjectName": "a"}, True),
    ({"caSecret": "ca", "subjectName": "a", "subjectNames": ["a"]}, True),
    ({"caSecret": "ca", "subjectName": "a", "subjectNames": ["a", "b"]}, True),
    ({"caSecret": "ca", "subjectName": "a", "subjectNames": ["b", "a"]}, False),
])
def test_the_cel_rule_of_upstream_validation(validation, ok) -> None:
    for make, path in [(httpproxy, VALIDATION), (extensionservice, ("spec", "validation"))]:
        verdict = admit(mutate(make(), path, validation))
        assert isinstance(verdict, Admitted) is ok, (make.__name__, verdict)


def test_cel_rules_are_found_wherever_upstream_validation_is() -> None:
    rule = kinds.RULES["HTTPProxy"]["projectcontour.io/v1"]
    assert sorted("/".join(r.where) for r in rule.cel) == [
        "spec/routes/*/services/*/validation",
        "spec/tcpproxy/services/*/validation",
        "spec/virtualhost/jwtProviders/*/remoteJWKS/validation",
    ]
    assert [r.where for r in kinds.RULES["ExtensionService"]["projectcontour.io/v1alpha1"].cel
            ] == [("spec", "validation")]


def test_an_unknown_cel_rule_is_refused() -> None:
    schema = {"type": "object", "properties": {"a": {
        "type": "object", "x-kubernetes-validations": [{"rule": "self.x > 1"}]}}}
    with pytest.raises(cel.UnknownRule, match="a: CEL rule 'self.x > 1'"):
        cel.rules_in(schema)


# -- generated bad HTTPProxies ---------------------------------------------------------------

BREAKS = st.sampled_from([
    ((*SERVICE, "port"), st.integers(max_value=0) | st.integers(min_value=65536)),
    ((*SERVICE, "weight"), st.integers(max_value=-1)),
    ((*SERVICE, "name"), st.integers() | st.booleans() | st.lists(st.text(), max_size=2)),
    (("spec", "routes", 0, "directResponsePolicy"),
     st.builds(lambda c: {"statusCode": c}, st.integers(max_value=199) | st.integers(600))),
    (("spec", "virtualhost", "fqdn"), st.from_regex(r"\A[A-Z][a-z]{0,5}\.com\Z")),
    (("spec", "routes", 0, "services"), st.text(max_size=5) | st.integers()),
    # no h, m, n, s or u: a lone unit letter is a duration ("h" is 0h)
    (("spec", "routes", 0, "retryPolicy", "perTryTimeout"),
     st.from_regex(r"\A[a-gi-lo-rtv-z]{1,6}\Z")),
])  # fmt: skip


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_bad_httpproxies_are_rejected_at_the_broken_path(data) -> None:
    path, values = data.draw(BREAKS)
    verdict = admit(mutate(httpproxy(), path, data.draw(values)))
    assert isinstance(verdict, Rejected), verdict
    where = "spec" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:])
    assert any(r.startswith(where) and ": " in r for r in verdict.reasons), verdict.reasons
