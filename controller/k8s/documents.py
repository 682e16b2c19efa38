"""Bounded parsing of manifest files: text in, a list of documents out, or `ParseError`.

A file is user input like any other, so the parse is bounded before it can hurt the process:
- JSON nested deeper than CPython's parser can recurse raises RecursionError inside
  `json.loads`; it is reported as a ParseError, never let out;
- YAML: libyaml refuses more than 1000 levels of nesting itself; aliases are bounded by
  how far they expand (a "billion laughs" document is 30 lines that expand to 10⁹ nodes,
  and every later walk of it, validation included, would pay that);
- a file holds at most `MAX_DOCUMENTS` documents.
Size is the caller's bound (it knows the file's size before reading it).

Both the controller's folder source and the plugin's `--from-dir` read files through here,
so a file means the same to both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

from controller.k8s.fastyaml import FastSafeLoader

# libyaml's loader is ~10x faster than the pure-Python one; same safe subset of YAML. Its
# constructor is Python, so plain containers and strings are built by fastyaml's walk.
_LOADER = FastSafeLoader

MAX_DOCUMENTS = 100_000
"""Documents per file: 10x the largest generated file of the benchmarks (10k objects)."""
MAX_ALIAS_EXPANSION = 1_000_000
"""Nodes a file's aliases may expand to; only files that use aliases are counted."""


class ParseError(Exception):
    """The file cannot be read as manifests; the message says why."""


def parse_documents(text: str, *, json_file: bool) -> list[Any]:
    """Every document of a file, `List` kinds flattened (`kubectl get -o yaml` output), empty
    documents dropped. Raises ParseError with a one-line reason."""
    out = [d for doc in raw_documents(text, json_file=json_file) for d in flatten(doc)]
    if len(out) > MAX_DOCUMENTS:
        raise ParseError(f"{len(out)} documents is more than the {MAX_DOCUMENTS} a file may hold")
    return out


_MARKER = re.compile(r"^---(?=[ \t\r\n]|$)", re.MULTILINE)


def yaml_document_texts(text: str) -> list[str] | None:
    """A YAML stream cut at its `---` document markers, or None when it has directives
    (`%`) or `...` end markers (then only a whole parse reads it right). A marker line at
    column 0 always ends a document, even inside a block scalar (YAML 1.2 c-forbidden), so
    parsing each piece equals parsing the stream. Lets the folder source re-parse only the
    documents of a file that changed (issue 12: one object edited in a 500-object file)."""
    if re.search(r"^(?:%|\.\.\.(?=[ \t\r\n]|$))", text, re.MULTILINE):
        return None
    starts = [m.start() for m in _MARKER.finditer(text)]
    if not starts:
        return [text]
    pieces = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    head = text[:starts[0]]  # a document only if it holds more than comments
    return [head, *pieces] if _has_content(head) else pieces


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#")
               for line in text.splitlines())


def raw_documents(text: str, *, json_file: bool) -> list[Any]:
    """The file's documents as parsed, one per YAML document (an empty one is None), not
    flattened. Raises ParseError with a one-line reason."""
    try:
        return [json.loads(text, parse_constant=_not_json)] if json_file \
            else _yaml_documents(text)
    except RecursionError as err:
        raise ParseError("nested too deeply to parse") from err
    except (yaml.YAMLError, ValueError) as err:
        raise ParseError(" ".join(str(err).split())) from err


def _not_json(constant: str) -> Any:
    """Python's json reads NaN and Infinity; JSON (and the API server) does not."""
    raise ValueError(f"{constant} is not a JSON value")


def flatten(doc: Any) -> Iterator[Any]:
    """A document, or the items of a `*List` document (one level: a List of Lists is not a
    Kubernetes shape). `None` (an empty document) yields nothing."""
    if doc is None:
        return
    if isinstance(doc, dict) and isinstance(doc.get("kind"), str) \
            and doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
        yield from (item for item in doc["items"] if item is not None)
        return
    yield doc


def _yaml_documents(text: str) -> list[Any]:
    # perf: the alias count is a second (event-only) parse, a third of a large file's read
    # (0.5 of 1.5 s for a 1.3 MB HTTPProxy), paid only by files that can hold an alias that
    # expands: that needs a `*` and an anchor's `&` (an alias without an anchor is an error
    # of the parse itself).
    if "*" in text and "&" in text:
        _check_aliases(text)
    return list(yaml.load_all(text, Loader=_LOADER))


def _check_aliases(text: str) -> None:
    """Raise ParseError when the file's aliases expand to more than MAX_ALIAS_EXPANSION
    nodes. Walks parser events only (no recursion, nothing built)."""
    sizes: dict[str, int] = {}  # anchor → nodes it expands to
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    total = 0
    for event in yaml.parse(text, Loader=_LOADER):
        size = _event_size(event, sizes)
        if isinstance(event, yaml.CollectionStartEvent):
            stack.append((event.anchor, 1))
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
        elif size and isinstance(event, yaml.ScalarEvent) and event.anchor:
            sizes[event.anchor] = size
        if size and stack:
            stack[-1] = (stack[-1][0], stack[-1][1] + size)
        elif size:
            total += size
        if total > MAX_ALIAS_EXPANSION or (stack and stack[-1][1] > MAX_ALIAS_EXPANSION):
            raise ParseError(f"aliases expand to more than {MAX_ALIAS_EXPANSION} nodes")


def _event_size(event: yaml.Event, sizes: dict[str, int]) -> int:
    """Nodes one scalar or alias event stands for (0 for structural events)."""
    if isinstance(event, yaml.AliasEvent):
        return sizes.get(event.anchor or "", 1)
    return 1 if isinstance(event, yaml.ScalarEvent) else 0
