"""Reading one file of the folder source, and what the source keeps of what it read.

The folder source diffs each rewritten file against what it last emitted, and re-emits an
object when the file that wins its key changes (a later file removed, an earlier one still
holding it). It keeps each object as a `Kept`: the object `marshal`led (memory, issue 12
item 4: 50k IngressRoutes, Services and Endpoints read from YAML held 976 MB in the
controller, the source's raw dicts and document texts the largest part; a marshalled
object is ~200 bytes against ~1.5 KB of dicts), compared as bytes, unpacked only to
re-emit. A read also carries the events it parsed (`FileRead.live`), so what was just read
is emitted without unpacking, except across a process boundary, where only the compact
form travels (marshal.loads is cheaper than unpickling the dicts).
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import sys
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from controller import faults
from controller.events import REJECT, ObjectEvent
from controller.k8s.documents import (
    MAX_DOCUMENTS,
    ParseError,
    flatten,
    parse_documents,
    raw_documents,
    yaml_document_texts,
)
from controller.sources.files import Stamp
from controller.sources.intake import admit_event

# A source file larger than this is refused (reported, its last good objects kept): a
# runaway generator must not take the controller's memory with it.
MAX_FILE_BYTES = 256 * 1024 * 1024

Key = tuple[str, str, str]  # kind, namespace, name
MARSHAL_VERSION = 4
"""Version 3 and up keep interned strings interned (the keys fastyaml interns are shared by
every unpacked object, not copied into each) and refer back to a string repeated within
an object. Their back-references depend on refcounts, so equal objects can marshal to
other bytes: same() then compares the objects (a cost, never a wrong answer). Measured: a
JSON file read twice marshals to the same bytes; a YAML file 71 % (fastyaml's resolver memo
holds the first read's scalars), which only documents parsed again pay (pieces skip the
rest): ~10 µs each."""


class Kept(NamedTuple):
    """An event as the folder source keeps it, without its key: `packed` is the object
    marshalled (bytes), the object itself when marshal refuses a value it holds, or None
    (a reject)."""

    op: str
    packed: bytes | dict[str, Any] | None
    source: str
    reasons: tuple[str, ...]
    warnings: tuple[str, ...]


def kept(event: ObjectEvent) -> Kept:
    """The compact form of an event (its key is kept by the caller)."""
    packed: bytes | dict[str, Any] | None = event.obj
    if packed is not None:
        with contextlib.suppress(ValueError):  # a value marshal refuses, or nested too deep
            packed = marshal.dumps(packed, MARSHAL_VERSION)
    return Kept(event.op, packed, event.source, event.reasons, event.warnings)


def unpacked(key: Key, k: Kept) -> ObjectEvent:
    """The event a Kept stands for (a new object each call)."""
    return ObjectEvent(k.op, *key, _obj(k.packed), k.source, k.reasons, k.warnings)


def _obj(packed: bytes | dict[str, Any] | None) -> dict[str, Any] | None:
    if isinstance(packed, bytes):
        obj: dict[str, Any] = marshal.loads(packed)
        return obj
    return packed


def same(old: Kept | None, new: Kept) -> bool:
    """Equal but for the file a valid object came from: a renamed file is not a change. A
    report names its file, so for a rejected object the file counts. Equal bytes are equal
    objects; unequal bytes are compared as objects (1 and 1.0 are equal, as they were)."""
    if old is None or (old.op, old.reasons, old.warnings) != (new.op, new.reasons,
                                                              new.warnings):
        return False
    if new.op == REJECT and old.source != new.source:
        return False
    return old.packed == new.packed or _obj(old.packed) == _obj(new.packed)


DIGEST_BYTES = 16
"""A document text's digest (blake2b): what a re-read compares instead of the text."""


@dataclass(frozen=True, slots=True)
class Contents:
    """What the folder source keeps of a file's read: each object's key and Kept, in document
    order (a later duplicate wins its key); for a YAML stream read by pieces, each document
    text's digest (DIGEST_BYTES each, joined) and where its objects start in that order.
    memory: flat tuples and one bytes per file; a dict of pieces (digest → a Piece of (key,
    Kept) pairs) cost ~260 bytes per document (7.4 MB at 10k IngressRoutes from YAML)."""

    keys: tuple[Key, ...] = ()
    kept: tuple[Kept, ...] = ()
    digests: bytes = b""
    starts: array[int] = field(default_factory=lambda: array("I"))

    def winner(self, key: Key) -> Kept:
        """The Kept of `key` (which the file holds): its last document's."""
        for i in range(len(self.keys) - 1, -1, -1):
            if self.keys[i] == key:
                return self.kept[i]
        raise KeyError(key)

    def spans(self) -> dict[bytes, tuple[int, int]]:
        """Each document's digest → where its objects start and end."""
        ends = [*self.starts[1:], len(self.keys)]
        return {self.digests[i * DIGEST_BYTES:(i + 1) * DIGEST_BYTES]: (start, end)
                for i, (start, end) in enumerate(zip(self.starts, ends, strict=True))}


class FileRead:
    """A file's Contents, its objects by key, and the events parsed by this read whose
    object won its key (`live`: not pickled, see the module)."""

    __slots__ = ("contents", "objects", "live")

    def __init__(self, contents: Contents, live: dict[Key, ObjectEvent] | None = None) -> None:
        self.contents = contents
        self.objects = dict(zip(contents.keys, contents.kept, strict=True))
        self.live = live or {}

    def __reduce__(self) -> tuple[type[FileRead], tuple[Contents]]:
        return (FileRead, (self.contents,))

    def event(self, key: Key) -> ObjectEvent:
        """The event of `key` (which the file holds)."""
        found = self.live.get(key)
        return found if found is not None else unpacked(key, self.objects[key])


Read = FileRead | str
"""A file's read, or the one-line reason it cannot be read."""


def file_events(path: Path, text: str, previous: Contents | None = None) -> FileRead:
    """The events a file's documents stand for, through the validation boundary. A YAML
    document whose text is among `previous` (the file's last read) is not parsed or
    validated again (perf: one object edited in a 500-object file re-read all 500: p50
    232 ms per change at 1.2k objects). Raises ParseError when the file cannot be read as
    manifests at all."""
    source = str(path)
    texts = None if path.suffix == ".json" else yaml_document_texts(text)
    if texts is None or previous is None or not previous.digests:
        raw = raw_documents(text, json_file=path.suffix == ".json")
        if texts is None or len(raw) != len(texts):
            fresh = _fresh(source, [d for r in raw for d in flatten(r)], 0)
            return _read(Contents(tuple(_key(e) for _, e in fresh),
                                  tuple(k for k, _ in fresh)), fresh)
        parsed: list[list[Any] | None] = [list(flatten(r)) for r in raw]  # one parser
        return _by_pieces(source, texts, parsed, None)
    return _by_pieces(source, texts, [None] * len(texts), previous)


def _by_pieces(source: str, texts: list[str], parsed: list[list[Any] | None],
               previous: Contents | None) -> FileRead:
    """A YAML stream's read by documents: each text's parse (None: not parsed yet) is used
    unless `previous` has the same text where the same names result."""
    old = previous.spans() if previous is not None else {}
    keys: list[Key] = []
    kepts: list[Kept] = []
    digests, starts = bytearray(), array("I")
    fresh: list[tuple[Kept, ObjectEvent]] = []
    for piece_text, docs in zip(texts, parsed, strict=True):
        digest = hashlib.blake2b(piece_text.encode(), digest_size=DIGEST_BYTES).digest()
        span, start = old.get(digest), len(keys)
        if previous is not None and span is not None and (
                span[0] == start or not _named_by_index(source, previous.keys[slice(*span)])):
            keys += previous.keys[slice(*span)]
            kepts += previous.kept[slice(*span)]
        else:
            admitted = _fresh(source, docs if docs is not None else parse_documents(
                piece_text, json_file=False), start)
            fresh += admitted
            keys += (_key(e) for _, e in admitted)
            kepts += (k for k, _ in admitted)
        digests += digest
        starts.append(start)
        if len(keys) > MAX_DOCUMENTS:
            raise ParseError(f"more than the {MAX_DOCUMENTS} documents a file may hold")
    return _read(Contents(tuple(keys), tuple(kepts), bytes(digests), starts), fresh)


def _key(event: ObjectEvent) -> Key:
    """An event's key, its kind and namespace interned (memory: a few distinct values, kept
    with each of 150k objects at 50k, and copied by each unpickled read)."""
    return (sys.intern(event.kind), sys.intern(event.namespace), event.name)


def _named_by_index(source: str, keys: tuple[Key, ...]) -> bool:
    """Whether a document's objects include one named by its place (`file#3`), which a
    move within the file renames."""
    return any(name.startswith(f"{source}#") for _, _, name in keys)


def _fresh(source: str, docs: list[object], start: int) -> list[tuple[Kept, ObjectEvent]]:
    """Documents through the validation boundary: each event with its compact form."""
    events = [admit_event(doc, source=source, fallback_name=f"{source}#{start + i}")
              for i, doc in enumerate(docs)]
    return [(kept(e), e) for e in events]


def _read(contents: Contents, fresh: list[tuple[Kept, ObjectEvent]]) -> FileRead:
    """The FileRead of `contents`, with the events parsed now whose object won its key."""
    read = FileRead(contents)
    parsed_now = {id(k): e for k, e in fresh}  # the Kepts are alive: ids are unique
    read.live.update((key, e) for key, k in read.objects.items()
                     if (e := parsed_now.get(id(k))) is not None)
    return read


def read_file(path: Path, stamp: Stamp, previous: Contents | None) -> Read:
    """One file's read, or why it cannot be read. Pure: it runs in the lane's process too
    (there without `previous`: the pieces would cross the process boundary)."""
    try:
        if stamp[1] > MAX_FILE_BYTES:
            raise ParseError(f"{stamp[1]} bytes is more than the {MAX_FILE_BYTES} a "
                             "source file may hold")
        return file_events(path, path.read_text(encoding="utf-8"), previous)
    except (OSError, UnicodeDecodeError, ParseError) as err:
        return str(err)
    except Exception as err:  # noqa: BLE001 - the parse stage's error boundary
        return faults.quarantine_reason("parse", str(path), err)


def read_new(path: Path, stamp: Stamp) -> Read:
    """read_file of a file never read before (picklable, for first_read's helper)."""
    return read_file(path, stamp, None)
