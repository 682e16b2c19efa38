"""Scenario files: load, validate strictly, GENERATE secrets, resolve placeholders.

Anything the harness does not understand is an error (the scenario fails),
never silently ignored.
"""

from __future__ import annotations

import base64
import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .certs import HarnessCA
from .schema import (
    CAPABILITIES,
    REQUEST_EXPECT_KEYS,
    ScenarioError,
    check_controller,
    check_observed,
    check_request,
    check_status,
    parse_backend_id,
    parse_duration,
)

__all__ = [
    "REQUEST_EXPECT_KEYS", "Scenario", "ScenarioError", "generate_secrets", "load",
    "object_key", "parse_backend_id", "parse_duration", "parse_objects",
    "resolve_placeholders", "scenario_files", "scenario_id", "scenarios_dir", "scenarios_dirs",
]

TOP_KEYS = {
    "name", "source", "about", "requires", "controller", "certs", "objects", "endpoints",
    "backends_tls", "external_backends", "expect", "steps",
}
EXPECT_KEYS = {"requests", "status", "backend_observed"}
STEP_KINDS = {"apply", "delete", "endpoints", "requests", "status"}

_PLACEHOLDER_RE = re.compile(r"^\{\{(ip|port):([^}]+)\}\}$")
SCENARIO_FOLDERS = ("scenarios", "scenarios-httpproxy")
"""The folders next to the repository (in ../shared) whose scenarios the e2e tests run."""


def object_key(obj: dict[str, Any]) -> tuple[str, str, str]:
    """(Kind, namespace ('' for cluster scoped), name)."""
    md = obj.get("metadata") or {}
    kind = obj.get("kind")
    name = md.get("name")
    if not kind or not name:
        raise ScenarioError(f"object without kind or metadata.name: {obj!r}")
    ns = "" if kind == "Namespace" else md.get("namespace", "default")
    return kind, ns, name


def parse_objects(text: str | None) -> list[dict[str, Any]]:
    if not text:
        return []
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise ScenarioError(f"objects are not valid YAML: {e}") from e
    for d in docs:
        if not isinstance(d, dict) or "apiVersion" not in d:
            raise ScenarioError(f"object without apiVersion: {d!r}")
        object_key(d)
    return docs


@dataclass
class Scenario:
    path: Path
    name: str
    data: dict[str, Any]
    requires: list[str]
    controller: dict[str, Any]
    certs: dict[str, dict[str, Any]]
    objects: list[dict[str, Any]]
    endpoints: list[str]
    backends_tls: dict[str, dict[str, Any]]
    external_backends: list[str]
    expect: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.path.name


def _read_top(path: Path) -> dict[str, Any]:
    """The file's top-level mapping: known keys, the required ones, a matching name."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path.name}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ScenarioError(f"{path.name}: top level must be a mapping")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ScenarioError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
    for k in ("name", "objects", "expect"):
        if k not in data:
            raise ScenarioError(f"{path.name}: missing {k!r}")
    want_name = re.sub(r"^\d+-", "", path.stem)
    if data["name"] != want_name:
        raise ScenarioError(f"{path.name}: name {data['name']!r} != file name {want_name!r}")
    return data


def _check_requires(path: Path, data: dict[str, Any]) -> list[str]:
    requires = data.get("requires") or []
    if not isinstance(requires, list):
        raise ScenarioError(f"{path.name}: requires must be a list, got {requires!r}")
    missing = set(requires) - CAPABILITIES
    if missing:
        raise ScenarioError(
            f"{path.name}: requires capabilities this harness does not have: {sorted(missing)}")
    return list(requires)


def _check_backends(path: Path, data: dict[str, Any], requires: set[str]) -> None:
    """certs, endpoints, backends_tls and external_backends."""
    for k, v in (data.get("certs") or {}).items():
        if not isinstance(v, dict) or "cn" not in v:
            raise ScenarioError(f"{path.name}: certs[{k}] needs cn")
    backends_tls = dict(data.get("backends_tls") or {})
    if backends_tls and "tls_backend" not in requires:
        raise ScenarioError(f"{path.name}: backends_tls without requires: [tls_backend]")
    external = list(data.get("external_backends") or [])
    if external and "external_backend" not in requires:
        raise ScenarioError(f"{path.name}: external_backends without requires: [external_backend]")
    endpoints = list(data.get("endpoints") or [])
    for e in endpoints + external + list(backends_tls):
        parse_backend_id(e)
    for b in backends_tls:
        if b not in endpoints and b not in external:
            raise ScenarioError(f"{path.name}: backends_tls {b} is not in endpoints")


def _check_expect(path: Path, expect: Any, requires: set[str]) -> None:
    if not isinstance(expect, dict) or set(expect) - EXPECT_KEYS:
        raise ScenarioError(f"{path.name}: expect must be a mapping with keys "
                            f"{sorted(EXPECT_KEYS)}, got {expect!r}")
    for i, r in enumerate(expect.get("requests") or []):
        check_request(f"{path.name} expect.requests[{i}]", r, requires)
    for i, s in enumerate(expect.get("status") or []):
        check_status(f"{path.name} expect.status[{i}]", s)
    obs = expect.get("backend_observed") or []
    if obs and "backend_observation" not in requires:
        raise ScenarioError(
            f"{path.name}: backend_observed without requires: [backend_observation]")
    for i, o in enumerate(obs):
        check_observed(f"{path.name} expect.backend_observed[{i}]", o)


def _check_step(where: str, st: Any, requires: set[str]) -> None:
    if not isinstance(st, dict) or len(st) != 1 or next(iter(st)) not in STEP_KINDS:
        raise ScenarioError(f"{where}: a step is exactly one of {sorted(STEP_KINDS)}: {st!r}")
    kind, val = next(iter(st.items()))
    if kind == "apply":
        parse_objects(val)
    elif kind == "delete":
        if not isinstance(val, str) or val.count("/") != 2:
            raise ScenarioError(f"{where}: delete wants Kind/namespace/name, got {val!r}")
    elif kind == "endpoints":
        for e in val or []:
            parse_backend_id(e)
    elif kind == "requests":
        for j, r in enumerate(val or []):
            check_request(f"{where}[{j}]", r, requires)
    else:
        for j, s in enumerate(val or []):
            check_status(f"{where}[{j}]", s)


def load(path: Path) -> Scenario:
    """Read and strictly validate one scenario file; ScenarioError names what is wrong."""
    path = Path(path)
    data = _read_top(path)
    requires = _check_requires(path, data)
    req_set = set(requires)
    controller = data.get("controller") or {}
    check_controller(path.name, controller)
    _check_backends(path, data, req_set)
    objects = parse_objects(data["objects"])
    expect = data["expect"] or {}
    _check_expect(path, expect, req_set)
    steps = list(data.get("steps") or [])
    for i, st in enumerate(steps):
        _check_step(f"{path.name} steps[{i}]", st, req_set)
    return Scenario(
        path=path, name=data["name"], data=data, requires=requires, controller=dict(controller),
        certs=dict(data.get("certs") or {}), objects=objects,
        endpoints=list(data.get("endpoints") or []),
        backends_tls=dict(data.get("backends_tls") or {}),
        external_backends=list(data.get("external_backends") or []), expect=expect, steps=steps,
    )


def generate_secrets(objects: list[dict[str, Any]], certs: dict[str, dict[str, Any]],
                     ca: HarnessCA) -> list[dict[str, Any]]:
    """Replace Secret data values that are exactly GENERATE (base64 PEM)."""
    out = copy.deepcopy(objects)
    for obj in out:
        if obj.get("kind") != "Secret":
            continue
        data = obj.get("data") or {}
        gen = [k for k, v in data.items() if v == "GENERATE"]
        if not gen:
            continue
        _, ns, name = object_key(obj)
        spec = certs.get(f"{ns}/{name}")
        if spec is None:
            if "tls.crt" in gen:
                raise ScenarioError(f"Secret {ns}/{name}: tls.crt is GENERATE but there is no "
                                    f"certs entry for it")
            # only the key is generated (e.g. next to a deliberately broken tls.crt): any
            # valid key will do; take it from a leaf with a name that cannot collide
            spec = {"cn": f"{name}.{ns}.harness.invalid"}
        leaf = ca.issue(spec["cn"], spec.get("sans"))
        for k in gen:
            if k == "tls.crt":
                pem = leaf.cert_pem
            elif k == "tls.key":
                pem = leaf.key_pem
            elif k == "ca.crt":
                pem = ca.cert_pem
            else:
                raise ScenarioError(f"Secret {ns}/{name}: cannot GENERATE data key {k!r}")
            data[k] = base64.b64encode(pem).decode()
    return out


def resolve_placeholders(objects: list[dict[str, Any]],
                         addresses: dict[str, tuple[str, int]]) -> list[dict[str, Any]]:
    """Replace "{{ip:ns/svc:port}}" (str) and "{{port:ns/svc:port}}" (int) values."""

    def walk(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, str) and "{{" in v:
            m = _PLACEHOLDER_RE.match(v.strip())
            if not m:
                raise ScenarioError(f"malformed placeholder {v!r}")
            what, ident = m.group(1), m.group(2)
            if ident not in addresses:
                raise ScenarioError(f"placeholder {v!r} names no external backend "
                                    f"(have {sorted(addresses)})")
            ip, port = addresses[ident]
            return ip if what == "ip" else port
        return v

    return [walk(o) for o in objects]


def _shared_dir() -> Path:
    # tests/e2e/harness/scenario.py: parents[3] is the repository root; the scenarios
    # live next to it in ../shared
    return Path(__file__).resolve().parents[3].parent / "shared"


def scenarios_dir() -> Path:
    """The IngressRoute-era folder (env CONTOUR_SCENARIOS_DIR when set)."""
    env = os.environ.get("CONTOUR_SCENARIOS_DIR")
    if env:
        return Path(env.split(os.pathsep)[0]).resolve()
    return _shared_dir() / SCENARIO_FOLDERS[0]


def scenarios_dirs() -> list[Path]:
    """Every folder the scenario tests run: CONTOUR_SCENARIOS_DIR (one folder or several,
    os.pathsep-separated) when set, else ../shared/{scenarios,scenarios-httpproxy}."""
    env = os.environ.get("CONTOUR_SCENARIOS_DIR")
    if env:
        return [Path(d).resolve() for d in env.split(os.pathsep) if d]
    return [_shared_dir() / f for f in SCENARIO_FOLDERS]


def scenario_id(path: Path) -> str:
    """A test id naming the folder too: `scenarios-httpproxy/200-hp-basic-fqdn.yaml`."""
    return f"{path.parent.name}/{path.name}"


def scenario_files(d: Path) -> list[Path]:
    return sorted(p for p in d.glob("*.yaml") if re.match(r"^\d+-", p.name))
