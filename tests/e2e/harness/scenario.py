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

CAPABILITIES = frozenset({
    "backend_control", "backend_observation", "websocket", "tls_versions", "tls_backend",
    "http10", "raw_path", "external_backend", "slow",
})

TOP_KEYS = {
    "name", "source", "about", "requires", "controller", "certs", "objects", "endpoints",
    "backends_tls", "external_backends", "expect", "steps",
}
CONTROLLER_KEYS = {
    "ingressroute_root_namespaces", "disable_permit_insecure", "ingress_class_name",
    "tls_minimum_protocol_version",
}
REQUEST_INPUT_KEYS = {
    "host", "path", "scheme", "method", "host_header", "http_version", "raw_path",
    "tls_min_version", "tls_max_version", "websocket", "backend_delay", "backend_fail_first",
    "backend_fail_status", "n", "tolerance",
}
REQUEST_EXPECT_KEYS = {
    "expect_backend", "expect_status", "expect_location", "expect_header",
    "expect_header_seen_by_backend", "expect_path_seen_by_backend", "expect_split",
    "expect_tls_failure", "expect_websocket", "expect_cert_cn", "expect_min_elapsed",
    "expect_max_elapsed",
}
STATUS_KEYS = {"kind", "namespace", "name", "currentStatus", "description_contains"}
OBSERVED_KEYS = {"backend", "path", "host", "within"}
EXPECT_KEYS = {"requests", "status", "backend_observed"}
STEP_KINDS = {"apply", "delete", "endpoints", "requests", "status"}

# which request keys need which capability
KEY_CAPABILITY = {
    "backend_delay": "backend_control",
    "backend_fail_first": "backend_control",
    "backend_fail_status": "backend_control",
    "tls_min_version": "tls_versions",
    "tls_max_version": "tls_versions",
    "websocket": "websocket",
    "raw_path": "raw_path",
}

_ID_RE = re.compile(r"^([a-z0-9][-a-z0-9.]*)/([a-z0-9][-a-z0-9.]*):(\d+)$")
_PLACEHOLDER_RE = re.compile(r"^\{\{(ip|port):([^}]+)\}\}$")
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)$")


class ScenarioError(Exception):
    """The scenario file is malformed or uses something the harness cannot do."""


def parse_duration(v: Any) -> float:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    m = _DURATION_RE.match(str(v).strip())
    if not m:
        raise ScenarioError(f"bad duration {v!r} (want e.g. 200ms, 3s, 0.9s, 1m)")
    n = float(m.group(1))
    return {"ms": n / 1000, "s": n, "m": n * 60}[m.group(2)]


def parse_backend_id(s: Any) -> tuple[str, str, int]:
    m = _ID_RE.match(str(s))
    if not m:
        raise ScenarioError(f"bad backend identity {s!r} (want ns/svc:port)")
    return m.group(1), m.group(2), int(m.group(3))


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


def _check_request(where: str, r: Any, requires: set[str]) -> None:
    if not isinstance(r, dict):
        raise ScenarioError(f"{where}: request must be a mapping, got {r!r}")
    unknown = set(r) - REQUEST_INPUT_KEYS - REQUEST_EXPECT_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown request keys {sorted(unknown)}")
    if "host" not in r:
        raise ScenarioError(f"{where}: request without host")
    if not (set(r) & REQUEST_EXPECT_KEYS):
        raise ScenarioError(f"{where}: request without any expectation")
    scheme = r.get("scheme", "http")
    if scheme not in ("http", "https"):
        raise ScenarioError(f"{where}: bad scheme {scheme!r}")
    hv = str(r.get("http_version", "1.1"))
    if hv not in ("1.0", "1.1", "2"):
        raise ScenarioError(f"{where}: bad http_version {hv!r}")
    if hv == "2" and scheme != "https":
        raise ScenarioError(f"{where}: http_version 2 needs scheme https")
    if hv == "1.0" and "http10" not in requires:
        raise ScenarioError(f"{where}: http_version 1.0 used without requires: [http10]")
    for k in ("tls_min_version", "tls_max_version"):
        if k in r and str(r[k]) not in ("1.0", "1.1", "1.2", "1.3"):
            raise ScenarioError(f"{where}: bad {k} {r[k]!r}")
    for k, cap in KEY_CAPABILITY.items():
        if k in r and cap not in requires:
            raise ScenarioError(f"{where}: {k} used without requires: [{cap}]")
    for k in ("backend_delay", "expect_min_elapsed", "expect_max_elapsed"):
        if k in r:
            parse_duration(r[k])
    if "expect_backend" in r:
        parse_backend_id(r["expect_backend"])
    if "expect_split" in r:
        if not isinstance(r["expect_split"], dict) or not r["expect_split"]:
            raise ScenarioError(f"{where}: expect_split must be a non-empty mapping")
        for b in r["expect_split"]:
            parse_backend_id(b)
        if "n" not in r:
            raise ScenarioError(f"{where}: expect_split without n")
    if "n" in r and "expect_split" not in r:
        raise ScenarioError(f"{where}: n without expect_split")
    for k in ("expect_header", "expect_header_seen_by_backend"):
        if k in r:
            if not isinstance(r[k], dict):
                raise ScenarioError(f"{where}: {k} must be a mapping")
            for v in r[k].values():
                if v is not None:
                    re.compile(str(v))


def _check_status(where: str, s: Any) -> None:
    if not isinstance(s, dict) or set(s) - STATUS_KEYS \
            or not {"kind", "namespace", "name"} <= set(s):
        raise ScenarioError(f"{where}: bad status entry {s!r} (keys {sorted(STATUS_KEYS)})")
    if "currentStatus" not in s and "description_contains" not in s:
        raise ScenarioError(f"{where}: status entry without expectation {s!r}")


def load(path: Path) -> Scenario:
    path = Path(path)
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

    requires = list(data.get("requires") or [])
    missing = set(requires) - CAPABILITIES
    if missing:
        raise ScenarioError(
            f"{path.name}: requires capabilities this harness does not have: {sorted(missing)}")
    req_set = set(requires)

    controller = dict(data.get("controller") or {})
    if set(controller) - CONTROLLER_KEYS:
        raise ScenarioError(f"{path.name}: unknown controller settings "
                            f"{sorted(set(controller) - CONTROLLER_KEYS)}")

    certs = dict(data.get("certs") or {})
    for k, v in certs.items():
        if not isinstance(v, dict) or "cn" not in v:
            raise ScenarioError(f"{path.name}: certs[{k}] needs cn")
    backends_tls = dict(data.get("backends_tls") or {})
    if backends_tls and "tls_backend" not in req_set:
        raise ScenarioError(f"{path.name}: backends_tls without requires: [tls_backend]")
    external = list(data.get("external_backends") or [])
    if external and "external_backend" not in req_set:
        raise ScenarioError(f"{path.name}: external_backends without requires: [external_backend]")
    endpoints = list(data.get("endpoints") or [])
    for e in endpoints + external + list(backends_tls):
        parse_backend_id(e)
    for b in backends_tls:
        if b not in endpoints and b not in external:
            raise ScenarioError(f"{path.name}: backends_tls {b} is not in endpoints")

    objects = parse_objects(data["objects"])

    expect = data["expect"] or {}
    if set(expect) - EXPECT_KEYS:
        raise ScenarioError(f"{path.name}: unknown expect keys {sorted(set(expect) - EXPECT_KEYS)}")
    for i, r in enumerate(expect.get("requests") or []):
        _check_request(f"{path.name} expect.requests[{i}]", r, req_set)
    for i, s in enumerate(expect.get("status") or []):
        _check_status(f"{path.name} expect.status[{i}]", s)
    obs = expect.get("backend_observed") or []
    if obs and "backend_observation" not in req_set:
        raise ScenarioError(
            f"{path.name}: backend_observed without requires: [backend_observation]")
    for i, o in enumerate(obs):
        if not isinstance(o, dict) or set(o) - OBSERVED_KEYS or "backend" not in o:
            raise ScenarioError(f"{path.name} expect.backend_observed[{i}]: bad entry {o!r}")
        parse_backend_id(o["backend"])
        if "within" in o:
            parse_duration(o["within"])

    steps = list(data.get("steps") or [])
    for i, st in enumerate(steps):
        where = f"{path.name} steps[{i}]"
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
                _check_request(f"{where}[{j}]", r, req_set)
        elif kind == "status":
            for j, s in enumerate(val or []):
                _check_status(f"{where}[{j}]", s)

    return Scenario(
        path=path, name=data["name"], data=data, requires=requires, controller=controller,
        certs=certs, objects=objects, endpoints=endpoints, backends_tls=backends_tls,
        external_backends=external, expect=expect, steps=steps,
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


def scenarios_dir() -> Path:
    env = os.environ.get("CONTOUR_SCENARIOS_DIR")
    if env:
        return Path(env).resolve()
    # tests/e2e/harness/scenario.py: parents[3] is the repository root; the scenarios
    # live next to it in ../shared/scenarios
    repo = Path(__file__).resolve().parents[3]
    return repo.parent / "shared" / "scenarios"


def scenario_files(d: Path) -> list[Path]:
    return sorted(p for p in d.glob("*.yaml") if re.match(r"^\d+-", p.name))
