from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from controller.xds.registry import NodeRegistry  # noqa: E402
from controller.xds.server import XdsServer  # noqa: E402
from controller.xdscache.snapshot import SnapshotCache  # noqa: E402


@pytest.fixture
def cache() -> SnapshotCache:
    return SnapshotCache()


@pytest.fixture
def registry() -> NodeRegistry:
    return NodeRegistry()


@pytest.fixture
async def xds_port(cache: SnapshotCache, registry: NodeRegistry) -> AsyncIterator[int]:
    server = XdsServer(cache, registry)
    port = await server.start("127.0.0.1", 0)
    yield port
    await server.stop(0)


@pytest.fixture
async def channel(xds_port: int) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{xds_port}") as ch:
        yield ch
