#!/usr/bin/env python3
"""Write a release's version, archive URI and sha256 into the krew plugin manifest, in place,
keeping its comments and layout (line edits, no YAML round trip). Standard library only.

    krew_manifest.py MANIFEST --version vX.Y.Z --uri URL --sha256 HEX
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

EDITS = (
    # (pattern, replacement template); each must match exactly once
    (r"^(  version: ).*$", r"\g<1>{version}"),
    (r"^(    uri: ).*$", r"\g<1>{uri}"),
    (r'^(    sha256: ).*$', r'\g<1>"{sha256}"'),
    (r"(/store/contour/)v[^/]+(/)", r"\g<1>{version}\g<2>"),
)


def update(text: str, *, version: str, uri: str, sha256: str) -> str:
    """The manifest with the three values in place; ValueError when a field is not found
    exactly once or a value is malformed."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    if not re.fullmatch(r"v\d+\.\d+\.\d+\S*", version):
        raise ValueError(f"not a vX.Y.Z version: {version!r}")
    values = {"version": version, "uri": uri, "sha256": sha256}
    for pattern, template in EDITS:
        text, n = re.subn(pattern, template.format(**values), text, flags=re.MULTILINE)
        if n != 1:
            raise ValueError(f"{pattern!r} matched {n} times in the manifest, not once")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifest", type=Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--uri", required=True)
    ap.add_argument("--sha256", required=True)
    args = ap.parse_args(argv)
    try:
        text = update(args.manifest.read_text(), version=args.version, uri=args.uri,
                      sha256=args.sha256)
    except ValueError as exc:
        print(f"krew_manifest.py: {args.manifest}: {exc}", file=sys.stderr)
        return 1
    args.manifest.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
