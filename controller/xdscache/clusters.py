"""CDS: every cluster reachable from a surviving vhost, de-duplicated by name (the first
visited wins) and sorted by name (spec §3.4)."""

from __future__ import annotations

from controller.dag import model
from controller.envoy import cluster as envoy_cluster
from controller.envoy import pb
from controller.envoy.names import cluster_name


def unique_clusters(dag: model.DAG) -> dict[str, model.Cluster]:
    """DAG clusters by Envoy cluster name, first visited wins, sorted by name."""
    seen: dict[str, model.Cluster] = {}
    for c in dag.clusters():
        seen.setdefault(cluster_name(c), c)
    return dict(sorted(seen.items()))


def clusters(dag: model.DAG) -> dict[str, pb.Cluster]:
    return {name: envoy_cluster.cluster(c) for name, c in unique_clusters(dag).items()}


ClusterKey = tuple[
    model.ServicePort, str, model.HealthCheck | None, model.UpstreamValidation | None,
    model.SlowStart | None, float | None,
]


def cluster_key(c: model.Cluster) -> ClusterKey:
    """What an Envoy cluster depends on: everything but the route weight and the header
    policies (those shape the route's weighted-cluster entry)."""
    return (c.service, c.strategy, c.health_check, c.validation, c.slow_start,
            c.idle_connection_timeout)


def cluster_of(key: ClusterKey) -> model.Cluster:
    """A cluster value with exactly what `key` holds (weight 0, no header policies)."""
    service, strategy, health_check, validation, slow_start, idle = key
    return model.Cluster(service, 0, strategy, health_check, validation, slow_start, idle)
