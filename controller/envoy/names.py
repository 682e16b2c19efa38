"""Stable Envoy resource names (spec §3.3, §3.4): hashed truncation, clusters, secrets, vhosts."""

from __future__ import annotations

import hashlib

from controller.dag.model import Cluster, HealthCheck, Secret, UpstreamValidation

NAME_LIMIT = 60
_SHORT_HASH = 6


def hashname(limit: int, *parts: str) -> str:
    """Join `parts` with "/"; when the result is not shorter than `limit`, truncate the parts
    from last to first (each to limit // len(parts), ending in "-" + a short sha256) until it
    fits, else return the hash itself cut to `limit` (upstream Contour's hashname)."""
    joined = "/".join(parts)
    if len(joined) < limit or not parts:
        return joined
    digest = hashlib.sha256(joined.encode()).hexdigest()
    out = list(parts)
    each = limit // len(parts)
    for i in range(len(out) - 1, -1, -1):
        out[i] = _truncate(each, out[i], digest[:_SHORT_HASH])
        joined = "/".join(out)
        if len(joined) < limit:
            return joined
    return digest[:limit]


def _truncate(limit: int, text: str, suffix: str) -> str:
    if limit >= len(text):
        return text
    if limit <= len(suffix):
        return suffix[:limit]
    return text[: limit - len(suffix) - 1] + "-" + suffix


def go_duration(seconds: int) -> str:
    """Go's time.Duration.String() for a whole number of seconds: 2s, 1m30s, 1h0m0s."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _health_check_key(hc: HealthCheck) -> str:
    parts = [
        go_duration(hc.timeout_seconds) if hc.timeout_seconds > 0 else "",
        go_duration(hc.interval_seconds) if hc.interval_seconds > 0 else "",
        str(hc.unhealthy_threshold) if hc.unhealthy_threshold > 0 else "",
        str(hc.healthy_threshold) if hc.healthy_threshold > 0 else "",
    ]
    return "".join(parts) + hc.path  # the host is deliberately not part of the name


def _validation_key(uv: UpstreamValidation) -> str:
    return uv.ca_secret_name + uv.subject_name


def cluster_hash(cluster: Cluster) -> str:
    """H of spec §3.4: the first 10 hex characters of sha1(strategy + health check + CA)."""
    buf = cluster.strategy
    if cluster.health_check is not None:
        buf += _health_check_key(cluster.health_check)
    if cluster.validation is not None:
        buf += _validation_key(cluster.validation)
    return hashlib.sha1(buf.encode()).hexdigest()[:10]


def cluster_name(cluster: Cluster) -> str:
    """`ns/service/port/H`, hashed down to 60 characters. The weight is not part of it."""
    svc = cluster.service
    return hashname(NAME_LIMIT, svc.namespace, svc.name, str(svc.port), cluster_hash(cluster))


def secret_name(secret: Secret) -> str:
    """`ns/name/<sha1(tls.crt)[:10]>`, hashed down to 60 characters: a new cert, a new name."""
    digest = hashlib.sha1(secret.cert).hexdigest()[:10]
    return hashname(NAME_LIMIT, secret.namespace, secret.name, digest)


def vhost_name(host: str) -> str:
    """The Envoy VirtualHost name of an fqdn (or `*`)."""
    return hashname(NAME_LIMIT, host)
