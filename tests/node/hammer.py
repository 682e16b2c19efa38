"""A client hammering one URL, for the node tests' rolling update: run inside the node's
network namespace (`scripts/node.sh exec DIR python3 hammer.py ...`), one new connection per
request (a dropped listener or a reset shows), until STOPFILE exists or MAX seconds pass.
Prints one JSON line: {"ok": n, "failed": n, "errors": [first few], "pods": [who answered]}.
Standard library only: the node has no packages of its own.

    hammer.py URL HOST STOPFILE MAX_SECONDS
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from urllib.parse import urlsplit


def one(url: str, host: str) -> str:
    """One GET on a new connection; the answering pod's name, or raises."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=3)
    try:
        conn.request("GET", parts.path or "/", headers={"Host": host, "Connection": "close"})
        resp = conn.getresponse()
        body = resp.read().decode(errors="replace")
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {body[:80]}")
        return body.split()[0]
    finally:
        conn.close()


def main(url: str, host: str, stopfile: str, max_seconds: float) -> dict:
    ok, errors, pods = 0, [], set()
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline and not os.path.exists(stopfile):
        try:
            pods.add(one(url, host))
            ok += 1
        except (OSError, RuntimeError, http.client.HTTPException) as exc:
            errors.append(f"{time.strftime('%H:%M:%S')} {type(exc).__name__}: {exc}")
        time.sleep(0.02)
    return {"ok": ok, "failed": len(errors), "errors": errors[:10], "pods": sorted(pods)}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]))))
