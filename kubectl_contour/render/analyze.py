"""The `analyze` view: one line per finding, `istioctl analyze` style, its fix hint below
it, and a count per severity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubectl_contour.render.text import Part, to_rich_text

SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}
LABELS = {"error": "Error", "warning": "Warning", "info": "Info"}


def finding_lines(finding: Any) -> list[list[Part]]:
    """`Error [CTR1002] (HTTPProxy shop/shop) message` and `    hint: ...`."""
    head: list[Part] = [
        (LABELS.get(finding.severity, finding.severity), SEVERITY_STYLES.get(finding.severity, "")),
        (f" [{finding.code}] ", "bold"),
        (f"({finding.kind} {finding.namespace}/{finding.name}) ", ""),
        (finding.message, ""),
    ]
    return [head, [(f"    hint: {finding.hint}", "dim")]] if finding.hint else [head]


def summary(counts: dict[str, int]) -> str:
    """`2 errors, 1 warning, 0 info`."""
    return ", ".join(f"{n} {s}{'s' if n != 1 and s != 'info' else ''}"
                     for s, n in counts.items())


def findings_view(findings: Sequence[Any], counts: dict[str, int], *, rich: bool) -> Any:
    if not findings:
        return "No findings."
    lines = [line for f in findings for line in finding_lines(f)]
    lines += [[], [(summary(counts), "bold")]]
    if not rich:
        return "\n".join("".join(text for text, _ in line) for line in lines)
    from rich.console import Group

    return Group(*(to_rich_text(line) for line in lines))
