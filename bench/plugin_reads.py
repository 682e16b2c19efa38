"""`python -m bench.plugin_reads --n 10000 --layout single|scoped-inline`: what one poll of
`switch --wait` / `rollout` costs the plugin per Envoy in a route layout.

The translator's real output for N IngressRoutes, re-expressed in the layout
(bench/route_layouts.py), is served to a real Envoy (bench/layouts.py `serving`); once the
last host is served, `reads` times the plugin's read of Envoy's route tables, median of
`--reads`: Envoy's answers to the two admin queries (`queries.envoy.ROUTE_DUMPS`) alone, the
same fetched and parsed as one dump (`admin.get_dumps`), `route_tables` over it, and
`vhost_routes` for one host; and the bytes of each answer. `narrowed`: the same read with
the scopes narrowed to that host (`route_dumps([host])`, what `switch --wait` and `rollout`
ask).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from bench import generate
from bench.bench import Poller, free_port, served
from bench.layouts import serving, translated
from bench.route_layouts import layout


def reads(admin_url: str, n: int, count: int) -> dict[str, Any]:
    """Median ms of Envoy's answers alone (the raw GETs), the fetch + parse
    (`get_dumps`), route_tables and one vhost lookup; bytes answered."""
    from kubectl_contour.admin import UrlFetcher, get_dumps
    from kubectl_contour.queries.envoy import ROUTE_DUMPS, route_tables, vhost_routes

    fetcher = UrlFetcher(admin_url, timeout=120)
    answer, fetch, tables, lookup = [], [], [], []
    for _ in range(count):
        t0 = time.perf_counter()
        sizes = {p: len(fetcher.get(p)) for p in ROUTE_DUMPS}
        answer.append(time.perf_counter() - t0)
    for _ in range(count):
        t0 = time.perf_counter()
        dump = get_dumps(fetcher, ROUTE_DUMPS)
        t1 = time.perf_counter()
        found = route_tables(dump)
        t2 = time.perf_counter()
        vhost_routes(dump, generate.host(n // 2))
        t3 = time.perf_counter()
        fetch.append(t1 - t0)
        tables.append(t2 - t1)
        lookup.append(t3 - t2)
    return {"tables": len(found), "bytes": sizes, "envoy_answer_ms": median_ms(answer),
            "fetch_parse_ms": median_ms(fetch), "route_tables_ms": median_ms(tables),
            "vhost_routes_ms": median_ms(lookup), "narrowed": narrowed(fetcher, n, count)}


def narrowed(fetcher: Any, n: int, count: int) -> dict[str, Any]:
    """What a poll for one host asks (`route_dumps([host])`): median ms of the fetch, parse
    and lookup together, and the bytes answered."""
    from kubectl_contour.admin import get_dumps
    from kubectl_contour.queries.envoy import route_dumps, vhost_routes

    paths, host, took = route_dumps([generate.host(n // 2)]), generate.host(n // 2), []
    for _ in range(count):
        t0 = time.perf_counter()
        assert vhost_routes(get_dumps(fetcher, paths), host)
        took.append(time.perf_counter() - t0)
    return {"bytes": sum(len(fetcher.get(p)) for p in paths), "read_ms": median_ms(took)}


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def run(n: int, name: str, count: int) -> dict[str, Any]:
    """Serve layout `name` at N to a real Envoy and time `count` plugin reads."""
    backend_port, http_port = free_port(), free_port()
    chosen = layout(name, translated(n, backend_port, http_port))
    async with serving(chosen.cold(), backend_port, http_port) as (_, _, envoy):
        envoy.start()
        await asyncio.to_thread(Poller(http_port).wait, generate.host(n - 1), served,
                                timeout=600, interval=0.05)
        url = f"http://127.0.0.1:{envoy.admin_port}"
        out = await asyncio.to_thread(reads, url, n, count)
    return {"bench": "plugin_reads", "layout": name, "n": n, **out}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--layout", choices=("single", "scoped", "scoped-inline"),
                        default="scoped-inline")
    parser.add_argument("--reads", type=int, default=5)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args.n, args.layout, args.reads))), flush=True)


if __name__ == "__main__":
    main()
