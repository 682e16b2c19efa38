"""`convert` round-trips every IngressRoute scenario (issue 8): for each scenario of
../shared/scenarios, and for each state its steps put the objects in, the `route` dry-run
answers every request the scenario makes identically before (IngressRoutes) and after
(their HTTPProxies): the same status code and the same backends with the same shares.

The scenarios' own expectations are proved through a real Envoy elsewhere (tests/e2e);
this test proves the conversion keeps whatever the controller serves for them.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

_E2E = str(Path(__file__).resolve().parents[1] / "e2e")
if _E2E not in sys.path:
    sys.path.insert(0, _E2E)

from harness.certs import HarnessCA  # noqa: E402
from harness.scenario import (  # noqa: E402
    generate_secrets,
    load,
    parse_objects,
    resolve_placeholders,
    scenario_files,
    scenarios_dir,
)

from controller.config import BuilderSettings  # noqa: E402
from kubectl_contour.objects import Snapshot  # noqa: E402
from kubectl_contour.queries.build import build_dag  # noqa: E402
from kubectl_contour.queries.convert import convert, served_by  # noqa: E402
from kubectl_contour.queries.route import Request, explain  # noqa: E402

FILES = scenario_files(scenarios_dir())
CONVERTED_KINDS = ("IngressRoute", "TLSCertificateDelegation")


@dataclass(frozen=True)
class Answer:
    status: int
    backends: tuple[tuple[str, str, int, float], ...]
    policy: tuple[tuple[str, str], ...]
    """The effective policy, with the rewrite as the path the backend sees ("upstream
    path"): the two kinds write the same rewrite differently."""


def answer(objects: list[dict[str, Any]], settings: BuilderSettings, req: Request) -> Answer:
    snapshot = Snapshot(objects=tuple(objects), live=False, source="test")
    result = explain(snapshot, build_dag(snapshot, settings=settings), req)
    return Answer(result.status, tuple(sorted((b.namespace, b.service, b.port, b.share)
                                              for b in result.backends)),
                  tuple(p for p in result.policy if p[0] != "prefix rewrite"))


def converted(objects: list[dict[str, Any]],
              settings: BuilderSettings) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects with IngressRoutes and v1beta1 delegations replaced by their conversion,
    and the converter's warnings."""
    dag = build_dag(Snapshot(objects=tuple(objects)), settings=settings)
    result = convert(objects, served_by(dag))
    kept = [o for o in objects if o.get("kind") not in CONVERTED_KINDS]
    return kept + result.objects, result.warnings


def settings_of(controller: dict[str, Any]) -> BuilderSettings:
    roots = controller.get("ingressroute_root_namespaces") or controller.get("root_namespaces")
    return BuilderSettings(root_namespaces=frozenset(roots or ()),
                           ingress_class=controller.get("ingress_class_name", "contour"),
                           disable_permit_insecure=bool(controller.get("disable_permit_insecure")))


def requests_of(block: list[dict[str, Any]]) -> Iterator[Request]:
    for r in block:
        host = str(r.get("host_header") or r["host"]).rsplit(":", 1)[0].lower()
        headers = tuple((str(k), str(v)) for k, v in (r.get("headers") or {}).items())
        yield Request(host, str(r.get("path", "/")), str(r.get("scheme", "http")), headers)


def states(scenario: Any, ca: HarnessCA) -> Iterator[tuple[list[dict[str, Any]], list[Any]]]:
    """(objects, requests) at `expect` and after each step that makes requests."""
    addresses = {b: ("127.0.0.1", 20000 + i) for i, b in enumerate(scenario.external_backends)}

    def prepared(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return generate_secrets(resolve_placeholders(objs, addresses), scenario.certs, ca)

    objects = {_ident(o): o for o in prepared(scenario.objects)}
    yield list(objects.values()), list(requests_of(scenario.expect.get("requests") or []))
    for step in scenario.steps:
        if "apply" in step:
            for obj in prepared(parse_objects(step["apply"])):
                objects[_ident(obj)] = obj
        if "delete" in step:
            kind, ns, name = str(step["delete"]).split("/")
            objects.pop((kind, ns, name), None)
        if "requests" in step:
            yield list(objects.values()), list(requests_of(step["requests"]))


def warned(warnings: list[str], objects: list[dict[str, Any]], host: str) -> bool:
    """A difference is allowed only when the converter warned about an IngressRoute on the
    way to the host: its root or an object the root delegates to, directly or not (each
    warning starts with `IngressRoute ns/name`)."""
    irs = {_ident(o)[1:]: o for o in objects if o.get("kind") == "IngressRoute"}
    todo = [k for k, o in irs.items()
            if str(((o.get("spec") or {}).get("virtualhost") or {}).get("fqdn", "")).lower()
            == host]
    seen: set[tuple[str, str]] = set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        for route in [*((irs[key].get("spec") or {}).get("routes") or []),
                      (irs[key].get("spec") or {}).get("tcpproxy") or {}]:
            d = route.get("delegate") if isinstance(route, dict) else None
            if isinstance(d, dict) and (d.get("namespace") or key[0], d.get("name")) in irs:
                todo.append((d.get("namespace") or key[0], d["name"]))
    prefixes = tuple(f"IngressRoute {ns}/{name}{sep}" for ns, name in seen for sep in ": ")
    return any(w.startswith(prefixes) for w in warnings)


def _ident(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (str(obj.get("kind")), str(meta.get("namespace") or "default"), str(meta["name"]))


@pytest.fixture(scope="module")
def ca() -> HarnessCA:
    return HarnessCA()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_convert_keeps_every_route_answer(path: Path, ca: HarnessCA) -> None:
    scenario = load(path)
    settings = settings_of(scenario.controller)
    differences = []
    for objects, requests in states(scenario, ca):
        after, warnings = converted(copy.deepcopy(objects), settings)
        for req in requests:
            before_answer, after_answer = (answer(objects, settings, req),
                                           answer(after, settings, req))
            if before_answer != after_answer and not warned(warnings, objects, req.host):
                differences.append(f"{req.scheme}://{req.host}{req.path}: IngressRoute "
                                   f"{before_answer}, HTTPProxy {after_answer}")
    assert FILES, "no IngressRoute scenarios found"
    assert not differences, "\n".join(differences)
