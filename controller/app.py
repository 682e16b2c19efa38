"""Composition root: builds the source, store, builder, translators, snapshot cache, xDS
server, web servers and status sink, and runs them in one TaskGroup."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from controller.config import ConfigError, Settings
from controller.dag.incremental import IncrementalBuilder
from controller.dag.model import DAG, Status
from controller.dag.store import ObjectStore
from controller.envoy import pb
from controller.events import UPSERT, BuildStats, ObjectEvent, Pipeline
from controller.k8s.endpoints import EndpointsIndex, ServiceKey
from controller.k8s.status import Observed, observed_status
from controller.xds.registry import NodeRegistry
from controller.xdscache import endpoints as eds
from controller.xdscache.incremental import IncrementalTranslator
from controller.xdscache.retire import Retirer
from controller.xdscache.snapshot import SnapshotCache

if TYPE_CHECKING:
    from controller.k8s.leader import LeaderElector
    from controller.k8s.status import StatusWriter
    from controller.sources.cluster import WatchStats

log = logging.getLogger(__name__)


@dataclass
class Controller:
    """The controller's state; every part is built here and passed down."""

    settings: Settings
    store: ObjectStore = field(init=False)
    endpoints: EndpointsIndex = field(default_factory=EndpointsIndex)
    cache: SnapshotCache = field(default_factory=SnapshotCache)
    translator: IncrementalTranslator = field(init=False)
    builder: IncrementalBuilder = field(init=False)
    dag: DAG = field(default_factory=DAG)
    statuses: tuple[Status, ...] = ()
    registry: NodeRegistry = field(default_factory=NodeRegistry)
    source_errors: dict[str, str] = field(default_factory=dict)
    stored_statuses: dict[tuple[str, str], Observed] = field(default_factory=dict)
    """IngressRoute statuses as the source last showed them: the writer skips equal ones."""
    build_stats: BuildStats = field(default_factory=BuildStats)
    status_writer: StatusWriter | None = None
    leader: LeaderElector | None = None
    watch_stats: WatchStats | None = None
    retirer: Retirer = field(init=False)
    heartbeat: float = field(default_factory=time.monotonic)
    _dirty_services: set[ServiceKey] = field(default_factory=set)
    _eds_names: dict[ServiceKey, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.store = ObjectStore(self.settings.builder)
        # perf (bench/): incremental builder and translator, see controller/dag/incremental.py
        self.builder = IncrementalBuilder(self.store, self.settings.builder)
        self.translator = IncrementalTranslator(self.settings.listeners)
        self.retirer = Retirer(self.cache, self.registry)

    # -- events ----------------------------------------------------------------------------
    def apply_object(self, event: ObjectEvent) -> bool:
        key = (event.namespace, event.name)
        self.builder.touch(event.kind, event.namespace, event.name)  # perf: what to rebuild
        if event.op == UPSERT and event.obj is not None:
            if event.kind == "IngressRoute":
                self.stored_statuses[key] = observed_status(event.obj)
            return self.store.upsert(event.obj)
        if event.kind == "IngressRoute":
            self.stored_statuses.pop(key, None)
        return self.store.remove(event.kind, event.namespace, event.name)

    def apply_endpoints(self, event: ObjectEvent) -> bool:
        if event.op == UPSERT and event.obj is not None:
            svc = self.endpoints.upsert(event.obj)
        else:
            svc = self.endpoints.remove(event.kind, event.namespace, event.name)
        if svc is not None:
            self._dirty_services.add(svc)
        return svc is not None

    # -- publishing ------------------------------------------------------------------------
    def rebuild(self) -> DAG:
        # perf (bench/): re-process only the roots and re-encode only the hosts the
        # events touched; publish only what changed.
        dag, changes = self.builder.build()
        update = self.translator.update(dag, None if changes.full else changes.hosts,
                                        http=self.builder.http_vhosts,
                                        https=self.builder.https_vhosts)
        self.retirer.hold_back(update.changed, update.removed)  # make-before-break
        self.cache.publish(update.changed, partial=True, removed=update.removed)
        self.dag, self.statuses = dag, dag.statuses
        if self.status_writer is not None:
            self.status_writer.submit(dag.statuses)
        if changes.full:
            # perf: the initial objects live as long as the process; keep the cyclic GC
            # from re-scanning them on every later collection.
            gc.freeze()
        return dag

    def publish_endpoints(self) -> None:
        """Translate only the Services whose endpoints changed (all of them the first time)."""
        if not self.cache.ready:
            self._dirty_services = set(self.endpoints.services()) | set(self._eds_names)
        changed: dict[str, bytes] = {}
        removed: set[str] = set()
        for svc in sorted(self._dirty_services):
            assignments = self._assignments(svc)
            old = self._eds_names.get(svc, frozenset())
            removed |= old - assignments.keys()
            changed.update(assignments)
            self._eds_names[svc] = frozenset(assignments)
            if not assignments:
                self._eds_names.pop(svc, None)
        self._dirty_services.clear()
        self.cache.update(pb.ENDPOINT_TYPE, changed, removed)

    def _assignments(self, svc: ServiceKey) -> dict[str, bytes]:
        kind, objects = self.endpoints.source_of(svc)
        if kind == "slices":
            loads = eds.endpoints_from_endpointslices(objects)
        elif kind == "endpoints":
            loads = eds.endpoints_from_endpoints(objects[0])
        else:
            loads = {}
        return {name: cla.SerializeToString(deterministic=True) for name, cla in loads.items()}

    def pipeline(self, *, expected_sources: int = 1) -> Pipeline:
        return Pipeline(
            apply_object=self.apply_object,
            apply_endpoints=self.apply_endpoints,
            rebuild=self.rebuild,
            publish_endpoints=self.publish_endpoints,
            on_ready=self.cache.mark_ready,
            expected_sources=expected_sources,
        )

    def status_rows(self) -> list[dict[str, Any]]:
        return [
            {"kind": s.kind, "namespace": s.namespace, "name": s.name,
             "currentStatus": s.current, "description": s.description}
            for s in self.statuses
        ]


GC_GEN0_THRESHOLD = 50_000
"""perf (bench/): CPython's default (700) makes the cyclic GC ~45% of a cold start at 10k
objects; allocation bursts of parsed objects are not garbage."""


def tune_gc() -> None:
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


async def serve(settings: Settings) -> None:
    """Run `contour serve` until SIGINT/SIGTERM."""
    tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run(Controller(settings), stop)


async def run(controller: Controller, stop: asyncio.Event) -> None:
    """Start every part, run until `stop` is set (or a part fails), then stop them all."""
    from controller.webapp import start_web_servers
    from controller.xds.server import XdsServer

    settings = controller.settings
    pipeline = controller.pipeline(expected_sources=1)
    controller.build_stats = pipeline.stats
    source, background = make_source(controller)
    server = XdsServer(controller.cache, controller.registry)
    port = await server.start(settings.xds_address, settings.xds_port,
                              credentials=server_credentials(settings))
    log.info("xDS server listening on %s:%d", settings.xds_address, port)
    web = start_web_servers(controller)
    threads_stop = threading.Event()
    for target in background:
        threading.Thread(target=target, args=(threads_stop,), daemon=True).start()
    try:
        async with asyncio.TaskGroup() as tg:
            tasks = [tg.create_task(pipeline.run()),
                     tg.create_task(source.run(pipeline.queue.put_nowait)),
                     tg.create_task(beat(controller))]
            await stop.wait()
            for t in tasks:
                t.cancel()
    finally:
        threads_stop.set()
        if controller.leader is not None:
            # before exiting (daemon threads die with the process): stop writing and hand
            # the lease over now, so a peer takes over in one retry period
            await asyncio.to_thread(controller.leader.release)
        for w in web:
            w.stop()
        await server.stop(1.0)


async def beat(controller: Controller) -> None:
    """Proves the event loop turns (/livez): a wedged loop stops beating."""
    while True:
        controller.heartbeat = time.monotonic()
        await asyncio.sleep(1.0)


def make_source(controller: Controller) -> tuple[Any, list[Callable[[threading.Event], None]]]:
    """The folder source, or the cluster source with its status writer and leader election."""
    settings = controller.settings
    if settings.source_dir:
        from controller.sources.folder import FolderSource

        folder = FolderSource(Path(settings.source_dir))
        controller.source_errors = folder.errors
        return folder, []
    from controller.k8s.client import KubeClient, load_api_client
    from controller.k8s.leader import LeaderElector
    from controller.k8s.status import StatusWriter
    from controller.sources.cluster import ClusterSource, watched_kinds

    try:
        api = load_api_client(kubeconfig=settings.kubeconfig, incluster=settings.incluster)
    except Exception as err:  # kubernetes raises ConfigException and plain OSErrors here
        raise ConfigError(f"no cluster to watch ({err}); give --kubeconfig, --incluster, "
                          "or --source-dir DIR") from err
    client = KubeClient(api)
    cluster = ClusterSource(client, watched_kinds(settings.builder.root_namespaces))
    controller.watch_stats = cluster.stats
    background: list[Callable[[threading.Event], None]] = []
    is_leader: Callable[[], bool] = lambda: True  # noqa: E731
    if settings.enable_leader_election:
        elector = LeaderElector(client, settings.namespace,
                                identity=os.environ.get("POD_NAME") or str(uuid.uuid4()))
        controller.leader = elector
        is_leader = elector.is_leader
        background.append(elector.run)
    writer = StatusWriter(client, lambda ns, n: controller.stored_statuses.get((ns, n)),
                          is_leader)
    controller.status_writer = writer
    background.append(writer.run)
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
