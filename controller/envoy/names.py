"""Stable Envoy resource names (spec §3.3, §3.4): hashed truncation, clusters, secrets, vhosts."""

from __future__ import annotations

import hashlib

from controller.dag.model import Cluster, HealthCheck, Secret, SlowStart, UpstreamValidation

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


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String(): 2s, 1m30s, 1h0m0s, 1.5s, 500ms, 0s (to the nanosecond)."""
    nanos = round(seconds * 1e9)
    if nanos == 0:
        return "0s"
    sign, nanos = ("-", -nanos) if nanos < 0 else ("", nanos)
    if nanos < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if nanos >= size or unit == "ns":
                return sign + _decimal(nanos, size) + unit
    hours, rest = divmod(nanos, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    secs = _decimal(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def _decimal(value: int, unit: int) -> str:
    """value / unit without trailing zeros (Go's fmtFrac)."""
    whole, frac = divmod(value, unit)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


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


def _slow_start_key(slow: SlowStart) -> str:
    # Go's "%s%f%d" of window, aggression and min weight percent (upstream's String()).
    return f"{go_duration(slow.window)}{slow.aggression:f}{slow.min_weight_percent}"


def cluster_hash(cluster: Cluster) -> str:
    """H of spec §3.4: the first 10 hex characters of sha1(strategy + health check + CA),
    followed, when set, by HTTPProxy's idle connection timeout and slow start (v1.33's
    Clustername; unset, the IngressRoute names are unchanged)."""
    buf = cluster.strategy
    if cluster.health_check is not None:
        buf += _health_check_key(cluster.health_check)
    if cluster.validation is not None:
        buf += _validation_key(cluster.validation)
    if cluster.idle_connection_timeout is not None:
        buf += go_duration(max(cluster.idle_connection_timeout, 0))
    if cluster.slow_start is not None:
        buf += _slow_start_key(cluster.slow_start)
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
