"""Discovery responses encoded straight from cached resource bytes.

A repeated message field on the wire is the concatenation of ``tag, length, bytes``
per element, so a response can be assembled from the serialized resources the cache
already holds without parsing them into ``Any`` messages first (at 50k clusters this
is milliseconds instead of a full proto build). Field numbers are those of
``envoy.service.discovery.v3.{DiscoveryResponse,DeltaDiscoveryResponse,Resource}``
and ``google.protobuf.Any``; tests parse the output back with the generated classes.
"""

from __future__ import annotations

from collections.abc import Iterable

from controller.xdscache.snapshot import Resource

_LEN = 2  # wire type "length-delimited"


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def _text(number: int, value: str) -> bytes:
    # proto3: an empty string is the default and is not written.
    return _field(number, value.encode()) if value else b""


def encode_any(type_url: str, body: bytes) -> bytes:
    return _text(1, type_url) + _field(2, body)


def sotw_response(
    *, version: str, type_url: str, nonce: str, resources: Iterable[Resource]
) -> bytes:
    """A serialized ``DiscoveryResponse``."""
    parts = [_text(1, version)]
    parts.extend(_field(2, encode_any(type_url, r.body)) for r in resources)
    parts.append(_text(4, type_url))
    parts.append(_text(5, nonce))
    return b"".join(parts)


def _delta_resource(type_url: str, r: Resource) -> bytes:
    return _text(1, r.version) + _field(2, encode_any(type_url, r.body)) + _text(3, r.name)


def delta_response(
    *,
    version: str,
    type_url: str,
    nonce: str,
    resources: Iterable[Resource],
    removed: Iterable[str],
) -> bytes:
    """A serialized ``DeltaDiscoveryResponse``."""
    parts = [_text(1, version)]
    parts.extend(_field(2, _delta_resource(type_url, r)) for r in resources)
    parts.append(_text(4, type_url))
    parts.append(_text(5, nonce))
    # removed_resources is repeated string: an empty name must still be written.
    parts.extend(_field(6, name.encode()) for name in removed)
    return b"".join(parts)
