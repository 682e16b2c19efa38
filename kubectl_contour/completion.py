"""Shell completion in cobra's `__complete` protocol (what kubectl ≥ 1.26 asks a plugin's
`kubectl_complete-<name>` for, and what completions/*.{bash,zsh,fish} call).

`kubectl-contour __complete ARGS... CURRENT` prints one candidate per line (`value<TAB>help`)
then `:<directive>`. This module imports nothing heavy: commands and flags are listed here
(tests/kubectl_contour/test_completion.py checks them against the typer app) and resource
names come from `kubectl get` (or from --from-dir).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

ERROR, NO_SPACE, NO_FILES, FILTER_EXT, DIRS_ONLY = 1, 2, 4, 8, 16

COMMANDS = {
    "analyze": "Coded findings: orphans, shadowed routes, TLS, endpoints, classes",
    "certs": "The certificate served for a host (SNI), its secret and delegation",
    "convert": "IngressRoutes as HTTPProxies (lossless)",
    "diff": "Controller versus Envoy: stale, NACKed and drifted versions",
    "endpoints": "Pod addresses behind a Service or a route",
    "envoy-dump": "Envoy's configuration from its admin interface",
    "proxy-status": "Every Envoy the controller serves: synced, stale or NACKed",
    "rollout": "Shift traffic from one object to another in metric-gated steps",
    "route": "Dry-run one request through the routing graph",
    "status": "Every IngressRoute, HTTPProxy and Ingress with its status",
    "switch": "Repoint root delegations or includes from one object to another",
    "tree": "IngressRoute delegation and HTTPProxy include trees",
    "wait": "Block until an object is programmed on every Envoy (or valid)",
}
GLOBAL_FLAGS = {
    "--kubeconfig": "path", "--context": "context", "--namespace": "namespace",
    "-n": "namespace", "--all-namespaces": "", "-A": "", "--from-dir": "dir",
    "--ingress-class": "text", "--root-namespaces": "text", "--disable-permit-insecure": "",
    "--color": "", "--no-color": "", "--help": "", "-h": "",
}
ENVOY_FLAGS = {"--admin-url": "text", "--envoy-namespace": "namespace", "--selector": "text",
               "-l": "text"}
COMMAND_FLAGS: dict[str, dict[str, str]] = {
    "tree": {"--output": "output", "-o": "output"},
    "analyze": {"--output": "output", "-o": "output", "--apply-dir": "dir", **ENVOY_FLAGS},
    "convert": {"--output": "output", "-o": "output"},
    "status": {"--output": "output", "-o": "output"},
    "route": {"--output": "output", "-o": "output", "--header": "text", "-H": "text",
              "--scheme": "scheme"},
    "endpoints": {"--output": "output", "-o": "output", "--scheme": "scheme"},
    "switch": {"--output": "output", "-o": "output", "--root": "switch-root", "--yes": "",
               "-y": "", "--dry-run": "", "--wait": "", "--timeout": "text", **ENVOY_FLAGS},
    "envoy-dump": {"--output": "output", "-o": "output", "--type": "type", "-t": "type",
                   **ENVOY_FLAGS},
    "diff": {"--output": "output", "-o": "output", "--contour-url": "text",
             "--contour-selector": "text", "--to-dir": "dir", **ENVOY_FLAGS},
    "certs": {"--output": "output", "-o": "output", "--address": "text", **ENVOY_FLAGS},
    "wait": {"--output": "output", "-o": "output", "--for": "goal", "--timeout": "text",
             "--contour-url": "text", "--contour-selector": "text",
             "--envoy-namespace": "namespace"},
    "proxy-status": {"--output": "output", "-o": "output", "--contour-url": "text",
                     "--contour-selector": "text", "--envoy-namespace": "namespace",
                     "--selector": "text", "-l": "text"},
    "rollout": {},
}
ROLLOUT_ENVOY = {"--timeout": "text", **ENVOY_FLAGS}
SUBCOMMANDS: dict[str, dict[str, str]] = {"rollout": {
    "start": "Start a rollout FROM TO (`rollout FROM TO` for short)",
    "status": "The rollout recorded on a root",
    "promote": "The next step now (or --full: 100%), then drive the rest",
    "abort": "Return a running rollout to FROM",
    "undo": "Restore the root as it was before the rollout",
}}
"""Commands with subcommands; the first (`start`) runs when the word after the command is
none of them."""
SUBCOMMAND_FLAGS: dict[str, dict[str, dict[str, str]]] = {"rollout": {
    "start": {"--root": "proxy", "--steps": "text", "--interval": "text", "--max-5xx": "text",
              "--max-p99": "text", "--min-requests": "text", "--yes": "", "-y": "",
              "--dry-run": "", **ROLLOUT_ENVOY},
    "status": {"--watch": "", "-w": "", "--output": "output", "-o": "output"},
    "promote": {"--full": "", **ROLLOUT_ENVOY},
    "abort": {"--wait": "", **ROLLOUT_ENVOY},
    "undo": {"--wait": "", **ROLLOUT_ENVOY},
}}
SUBCOMMAND_ARGS = {"rollout": {"start": 2, "status": 1, "promote": 1, "abort": 1, "undo": 1}}
"""How many object names each subcommand takes (FROM TO, or ROOT)."""
ARGUMENTS = {"tree": "tree-root", "convert": "ingressroute", "switch": "proxy",
             "endpoints": "service", "envoy-dump": "pod", "wait": "routing"}
BACKEND_ROOTS = ("httproute/", "grpcroute/")
"""`switch --root` values whose FROM and TO are Services (a weighted backendRef switch)."""
CHOICES = {"output": ["json", "yaml"], "scheme": ["http", "https"],
           "goal": ["programmed", "valid"],
           "type": ["all", "clusters", "endpoints", "listeners", "routes", "secrets"]}
RESOURCES = {"ingressroute": ("ingressroutes.contour.heptio.com",),
             "proxy": ("ingressroutes.contour.heptio.com", "httpproxies.projectcontour.io"),
             "service": ("services",), "namespace": ("namespaces",), "pod": ("pods",),
             "routing": ("ingressroutes.contour.heptio.com", "httpproxies.projectcontour.io",
                         "ingresses.networking.k8s.io", "httproutes.gateway.networking.k8s.io",
                         "grpcroutes.gateway.networking.k8s.io",
                         "tlsroutes.gateway.networking.k8s.io"),
             "tree-root": ("ingressroutes.contour.heptio.com", "httpproxies.projectcontour.io",
                           "gateways.gateway.networking.k8s.io"),
             "switch-root": ("ingressroutes.contour.heptio.com", "httpproxies.projectcontour.io",
                             "httproutes.gateway.networking.k8s.io",
                             "grpcroutes.gateway.networking.k8s.io")}
"""Completion kind → the API resources whose names it offers (`proxy`: both kinds, each
listed on its own so that a cluster without one of the CRDs still completes the other)."""
KINDS = {"ingressroute": ("IngressRoute",), "proxy": ("IngressRoute", "HTTPProxy"),
         "service": ("Service",), "namespace": ("Namespace",),
         "routing": ("IngressRoute", "HTTPProxy", "Ingress", "HTTPRoute", "GRPCRoute",
                     "TLSRoute"),
         "tree-root": ("IngressRoute", "HTTPProxy", "Gateway"),
         "switch-root": ("IngressRoute", "HTTPProxy", "HTTPRoute", "GRPCRoute")}
PREFIXES = {"Gateway": "gateway/", "HTTPRoute": "httproute/", "GRPCRoute": "grpcroute/",
            "TLSRoute": "tlsroute/", "gateways.gateway.networking.k8s.io": "gateway/",
            "httproutes.gateway.networking.k8s.io": "httproute/",
            "grpcroutes.gateway.networking.k8s.io": "grpcroute/",
            "tlsroutes.gateway.networking.k8s.io": "tlsroute/"}
"""Kinds (and their resources) named `kind/NAME` on the command line, as the commands take
them (`tree gateway/NAME`, `switch --root httproute/NAME`)."""


def complete(args: Sequence[str], *, describe: bool = True) -> int:
    words, current = list(args[:-1]), (args[-1] if args else "")
    candidates, directive = candidates_for(words, current)
    out = sys.stdout
    for value, help_text in candidates:
        if value.startswith(current):
            out.write(f"{value}\t{help_text}\n" if describe and help_text else f"{value}\n")
    out.write(f":{directive}\n")
    return 0


def command_of(words: list[str]) -> str:
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word in GLOBAL_FLAGS:
            skip = GLOBAL_FLAGS[word] != ""
        elif not word.startswith("-"):
            return word
    return ""


def candidates_for(words: list[str], current: str) -> tuple[list[tuple[str, str]], int]:
    command = command_of(words)
    if command in SUBCOMMANDS:
        return sub_candidates(words, current, command)
    flags = {**GLOBAL_FLAGS, **COMMAND_FLAGS.get(command, {})}
    if words and words[-1] in flags and flags[words[-1]]:
        return value_candidates(flags[words[-1]], words)
    if current.startswith("-"):
        return [(f, "") for f in sorted(flags)], NO_FILES
    if not command:
        return sorted(COMMANDS.items()), NO_FILES
    kind = ARGUMENTS.get(command)
    if command == "switch" and flag_value(words, "--root").startswith(BACKEND_ROOTS):
        kind = "service"
    if kind is None or positionals(words, command, flags) >= (2 if command == "switch" else 1):
        return [], NO_FILES
    return [(n, "") for n in resource_names(kind, words)], NO_FILES


def sub_candidates(words: list[str], current: str,
                   command: str) -> tuple[list[tuple[str, str]], int]:
    """Completion within a command that has subcommands (`rollout status ROOT`)."""
    first = next((w for w in words[words.index(command) + 1:] if not w.startswith("-")), "")
    sub = first if first in SUBCOMMANDS[command] else ""
    flags = {**GLOBAL_FLAGS, **SUBCOMMAND_FLAGS[command][sub or next(iter(SUBCOMMANDS[command]))]}
    if words and words[-1] in flags and flags[words[-1]]:
        return value_candidates(flags[words[-1]], words)
    if current.startswith("-"):
        return [(f, "") for f in sorted(flags)], NO_FILES
    given = positionals(words, command, flags) - (1 if sub else 0)
    if given >= SUBCOMMAND_ARGS[command][sub or "start"]:
        return [], NO_FILES
    names = [(n, "") for n in resource_names("proxy", words)]
    if not sub and given == 0:
        names = sorted(SUBCOMMANDS[command].items()) + names
    return names, NO_FILES


def positionals(words: list[str], command: str, flags: dict[str, str]) -> int:
    """Arguments already given after the command."""
    after = words[words.index(command) + 1:]
    count, skip = 0, False
    for word in after:
        if skip:
            skip = False
        elif word in flags:
            skip = flags[word] != ""
        elif not word.startswith("-"):
            count += 1
    return count


def value_candidates(kind: str, words: list[str]) -> tuple[list[tuple[str, str]], int]:
    if kind in CHOICES:
        return [(c, "") for c in CHOICES[kind]], NO_FILES
    if kind == "dir":
        return [], DIRS_ONLY
    if kind == "path":
        return [], 0
    if kind == "context":
        return [(c, "") for c in kubectl_lines(["config", "get-contexts", "-o", "name"],
                                                words)], NO_FILES
    if kind in RESOURCES:
        return [(n, "") for n in resource_names(kind, words)], NO_FILES
    return [], NO_FILES


def flag_value(words: list[str], *names: str) -> str:
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                return words[i + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    return ""


def resource_names(kind: str, words: list[str]) -> list[str]:
    from_dir = flag_value(words, "--from-dir")
    if from_dir:
        return names_from_dir(kind, from_dir)
    scope: list[str] = []
    if kind == "pod":
        namespace = flag_value(words, "--envoy-namespace") or "heptio-contour"
        scope = ["-n", namespace, "-l", flag_value(words, "--selector", "-l") or "app=contour"]
    elif kind != "namespace":
        namespace = flag_value(words, "--namespace", "-n")
        all_ns = "-A" in words or "--all-namespaces" in words
        scope = ["-n", namespace] if namespace else (["-A"] if all_ns else [])
    return sorted({PREFIXES.get(resource, "") + n for resource in RESOURCES[kind]
                   for line in kubectl_lines(["get", resource, "-o",
                                              "jsonpath={.items[*].metadata.name}", *scope], words)
                   for n in line.split()})


def kubectl_lines(args: list[str], words: list[str]) -> list[str]:
    """`kubectl ARGS` with the user's --kubeconfig/--context; quiet and quick on failure."""
    target = [f"{flag}={value}" for flag in ("--kubeconfig", "--context")
              if (value := flag_value(words, flag))]
    try:
        done = subprocess.run(["kubectl", *target, *args, "--request-timeout=3s"],
                              capture_output=True, text=True, timeout=4, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return done.stdout.splitlines() if done.returncode == 0 else []


def names_from_dir(kind: str, directory: str) -> list[str]:
    from pathlib import Path

    from kubectl_contour.errors import PluginError
    from kubectl_contour.sources import load_dir

    wanted = KINDS.get(kind, ())
    try:
        snapshot = load_dir(Path(directory))
    except PluginError:
        return []
    names = {PREFIXES.get(str(o.get("kind")), "") + str((o.get("metadata") or {}).get("name")
                                                        or "")
             for o in snapshot.objects if o.get("kind") in wanted and
             (o.get("metadata") or {}).get("name")}
    if kind == "namespace":
        names |= {str((o.get("metadata") or {}).get("namespace") or "") for o in snapshot.objects}
    return sorted(n for n in names if n)
