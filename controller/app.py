"""Composition root: builds the source, store, builder, translators, snapshot cache, xDS
server, web servers and status sink, and runs them in one TaskGroup."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from controller import memory
from controller.config import ConfigError, Settings
from controller.dag.model import DAG
from controller.endpoint_publisher import EndpointPublisher
from controller.envoy import constraints
from controller.events import BuildStats, Pipeline
from controller.k8s import fastyaml
from controller.nacks import NackResolver
from controller.rejections import Rejections
from controller.routing import RoutingPublisher
from controller.state_view import Heartbeat, StateView
from controller.xds.registry import NodeRegistry
from controller.xdscache.retire import Retirer
from controller.xdscache.snapshot import SnapshotCache

log = logging.getLogger(__name__)


class Controller:
    """Builds every part from the settings and wires them; holds no logic of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = SnapshotCache()
        self.registry = NodeRegistry()
        self.rejections = Rejections()
        self.routing = RoutingPublisher(settings, self.cache, Retirer(self.cache, self.registry),
                                        self.rejections)
        self.routing.nodes = self.registry.nodes
        self.nacks = NackResolver(self.routing, self.registry, self.cache)
        self.registry.on_event.append(lambda _event: self.routing.envoys_answered())
        self.registry.on_event.append(self.nacks.on_event)
        self.endpoints = EndpointPublisher(self.cache)
        self.heartbeat = Heartbeat()
        self.view = StateView(settings, self.routing, self.rejections, self.cache,
                              self.registry, BuildStats(), self.heartbeat)

    def _rebuild(self) -> DAG:
        """Rebuild the DAG; then the ExtensionServices' assignments follow its clusters."""
        dag = self.routing.rebuild()
        self.endpoints.set_extensions(dag.extensions)
        return dag

    def _release_memory(self) -> None:
        """After a mass removal (events.py): forget the memos kept by content, whose entries
        outlive the objects they came from, then hand the freed memory back (memory.py)."""
        self.routing.forget_memos()
        constraints.forget()
        fastyaml.forget()
        memory.trim()

    def pipeline(self, *, expected_sources: int = 1) -> Pipeline:
        pipeline = Pipeline(
            apply_object=self.routing.apply,
            apply_endpoints=self.endpoints.apply,
            record=self.rejections.record,
            rebuild=self._rebuild,
            publish_endpoints=self.endpoints.publish,
            on_ready=self.cache.mark_ready,
            expected_sources=expected_sources,
            release_memory=self._release_memory,
        )
        self.view.build_stats = pipeline.stats
        return pipeline


GC_GEN0_THRESHOLD = 50_000
"""perf (bench/): CPython's default (700) makes the cyclic GC ~45% of a cold start at 10k
objects; allocation bursts of parsed objects are not garbage."""


def tune_gc() -> None:
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


async def serve(settings: Settings, *, first_reader: Executor | None = None) -> None:
    """Run `contour serve` until SIGINT/SIGTERM. `first_reader`: a reader process already
    started for the folder source's first scan (sources/first_read.py)."""
    memory.trace_from_env()
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(Controller(settings), stop, first_reader=first_reader)


async def run(controller: Controller, stop: asyncio.Event, *,
              first_reader: Executor | None = None) -> None:
    """Start every part, run until `stop` is set (or a part fails), then stop them all."""
    from controller.webapp import start_web_servers
    from controller.xds.server import XdsServer

    settings = controller.settings
    pipeline = controller.pipeline(expected_sources=1)
    source, background = make_source(controller, first_reader)
    server = XdsServer(controller.cache, controller.registry)
    port = await server.start(settings.xds_address, settings.xds_port,
                              credentials=server_credentials(settings))
    log.info("xDS server listening on %s:%d", settings.xds_address, port)
    web = start_web_servers(controller.view)
    threads_stop = threading.Event()
    for target in background:
        threading.Thread(target=target, args=(threads_stop,), daemon=True).start()
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(pipeline.run()),
                     tg.create_task(source.run(pipeline.queue.put_nowait)),
                     tg.create_task(beat(controller.heartbeat))]
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        threads_stop.set()
        if controller.view.leader is not None:
            # before exiting (daemon threads die with the process): stop writing and hand
            # the lease over now, so a peer takes over in one retry period
            await asyncio.to_thread(controller.view.leader.release)
        for w in web:
            w.stop()
        await server.stop(1.0)


async def beat(heartbeat: Heartbeat) -> None:
    """Proves the event loop turns (/livez): a wedged loop stops beating."""
    while True:
        heartbeat.beat()
        await asyncio.sleep(1.0)


def make_source(controller: Controller, first_reader: Executor | None = None,
                ) -> tuple[Any, list[Callable[[threading.Event], None]]]:
    """The folder source, or the cluster source with its status writer and leader election."""
    settings = controller.settings
    if settings.source_dir:
        from controller.sources.folder import FolderSource

        folder = FolderSource(Path(settings.source_dir), first_reader=first_reader)
        controller.view.source_errors = folder.errors
        controller.view.source_reading = folder.reading
        return folder, []
    from controller.k8s.client import KubeClient, load_api_client
    from controller.k8s.gateway_service_writer import GatewayServiceWriter
    from controller.k8s.leader import LeaderElector
    from controller.k8s.status import StatusWriter
    from controller.sources.cluster import ClusterSource, watched_kinds

    try:
        api = load_api_client(kubeconfig=settings.kubeconfig, incluster=settings.incluster)
    except Exception as err:  # kubernetes raises ConfigException and plain OSErrors here
        raise ConfigError(f"no cluster to watch ({err}); give --kubeconfig, --incluster, "
                          "or --source-dir DIR") from err
    client = KubeClient(api)
    cluster = ClusterSource(client, watched_kinds(settings.builder.root_namespaces,
                                                  settings.builder.fallback_certificate))
    controller.view.watch_stats = cluster.stats
    background: list[Callable[[threading.Event], None]] = []
    is_leader: Callable[[], bool] = lambda: True  # noqa: E731
    if settings.enable_leader_election:
        elector = LeaderElector(client, settings.namespace,
                                identity=os.environ.get("POD_NAME") or str(uuid.uuid4()))
        controller.view.leader = elector
        is_leader = elector.is_leader
        background.append(elector.run)
    stored = controller.routing.stored_statuses
    writer = StatusWriter(client, lambda kind, ns, n: stored.get((kind, ns, n)), is_leader,
                          gateway_controller=settings.builder.gateway_controller_name)
    controller.routing.status_sink = writer.submit
    controller.view.status_writes = writer
    background.append(writer.run)
    if settings.builder.gateway_ports is not None and settings.builder.gateway_ref is None:
        services = GatewayServiceWriter(client, is_leader, settings.builder.envoy_service)
        controller.routing.gateway_services_sink = services.submit
        background.append(services.run)
    return cluster, background


def server_credentials(settings: Settings) -> Any:
    """gRPC server credentials: mutual TLS from the trio, or None for --insecure."""
    if settings.insecure:
        return None
    import grpc

    tls = settings.tls
    read = lambda p: Path(p).read_bytes()  # noqa: E731
    return grpc.ssl_server_credentials(
        [(read(tls.keyfile), read(tls.certfile))],
        root_certificates=read(tls.cafile), require_client_auth=True)
