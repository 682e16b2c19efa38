"""Flag definitions shared by several commands, and moving kubectl's global flags.

kubectl users put `-n`, `--context`, ... anywhere (`kubectl contour tree -n foo`); the root
group hoists them in front of the subcommand before parsing, so they work in any position.
"""

from __future__ import annotations

from typing import Annotated

import typer

Output = Annotated[
    str, typer.Option("--output", "-o", help="Print data as json or yaml instead of text.",
                      metavar="json|yaml")
]

GLOBAL_VALUE_FLAGS = ("--kubeconfig", "--context", "--namespace", "-n", "--from-dir",
                      "--ingress-class", "--root-namespaces")
GLOBAL_BOOL_FLAGS = ("--all-namespaces", "-A", "--color", "--no-color",
                     "--disable-permit-insecure")


def hoist_global_flags(args: list[str]) -> list[str]:
    """Move global flags (and their values) ahead of everything else, keeping their order."""
    hoisted: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        taken = global_flag_width(arg)
        if taken == 2 and i + 1 >= len(args):
            taken = 1  # a value flag at the end: let click report the missing value
        if taken:
            hoisted.extend(args[i:i + taken])
            i += taken
            continue
        rest.append(arg)
        i += 1
    return hoisted + rest


def global_flag_width(arg: str) -> int:
    """How many argv items a global flag occupies: 0 (not global), 1 or 2."""
    if arg in GLOBAL_BOOL_FLAGS:
        return 1
    if arg in GLOBAL_VALUE_FLAGS:
        return 2
    if arg.startswith("--") and arg.split("=", 1)[0] in GLOBAL_VALUE_FLAGS:
        return 1
    if arg.startswith("-n") and len(arg) > 2 and not arg.startswith("--"):
        return 1  # -nNAMESPACE
    return 0
