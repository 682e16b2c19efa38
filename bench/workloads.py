"""The routing objects of `bench.bench peer`, in a real API server: creating them, changing
one (so the change shows in traffic), and putting the changed ones back.

- `IngressWorkload`: N Ingress v1 `ing-i` (host app-i → svc-i:80). A change renames one
  Ingress's host (`app-i-vK`): both controllers serve it only once the change is live
  (Ingress has no rewrite both understand, and a new host answers 404 until then).
- `ProxyWorkload`: bench/generate.py's HTTPProxies (N roots; even ones include a child).
  A change sets `pathRewritePolicy` on the object carrying host i's route; the backend
  echoes the path, so the new prefix shows when the change is live.

Changes go round robin over the first `MUTABLE` hosts, as in the other bench modes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bench import generate
from bench.bench import Obj, rewritten, served
from bench.cluster_run import AdminApi

NS = generate.NAMESPACE
MUTABLE = 20
JSON, MERGE = "application/json", "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
INGRESSES = f"/apis/networking.k8s.io/v1/namespaces/{NS}/ingresses"
PROXIES = f"/apis/projectcontour.io/v1/namespaces/{NS}/httpproxies"
Check = Callable[[int, str], bool]


class Workload:
    """N routing objects of one kind in namespace `bench`; subclasses say which."""

    kind = ""
    collection = ""

    def __init__(self, api: AdminApi, n: int) -> None:
        self.api, self.n = api, n
        self.changed: set[int] = set()

    def objects(self) -> list[Obj]:
        raise NotImplementedError

    def host(self, i: int) -> str:
        return generate.host(i)

    def change(self, k: int) -> tuple[str, Check]:
        """Apply change number k; returns the host to poll and what shows it is live."""
        raise NotImplementedError

    def original(self, i: int) -> Obj:
        """The object of host i whose spec a change moves, as created."""
        raise NotImplementedError

    def create(self, objects: list[Obj]) -> float:
        """POST the objects (8 keep-alive connections); returns the seconds it took."""
        return self.api.bulk(f"{self.kind} objects", [
            ("POST", self.collection, o, JSON) for o in objects])

    def reset(self) -> None:
        """Put back the spec of every object a change touched (each run starts alike)."""
        for i in sorted(self.changed):
            obj = self.original(i)
            self.patch(obj["metadata"]["name"], {"spec": obj["spec"]})
        self.changed.clear()

    def patch(self, name: str, body: Obj, sub: str = "") -> None:
        self.api.must("PATCH", f"{self.collection}/{name}{sub}", body, MERGE)

    def get(self, name: str) -> Obj:
        status, body = self.api.request("GET", f"{self.collection}/{name}")
        if status != 200:
            raise RuntimeError(f"GET {self.kind} {name}: {status}")
        got: Obj = json.loads(body)
        return got

    def delete_all(self) -> None:
        """Delete the collection and wait until the API server lists none."""
        self.api.must("DELETE", self.collection)
        for _ in range(600):
            _, body = self.api.request("GET", f"{self.collection}?limit=1")
            if not json.loads(body).get("items"):
                return
            time.sleep(0.1)
        raise TimeoutError(f"{self.kind}: collection not deleted")


class IngressWorkload(Workload):
    kind = "ingress"
    collection = INGRESSES

    def __init__(self, api: AdminApi, n: int) -> None:
        super().__init__(api, n)
        self.hosts: dict[int, str] = {}

    def objects(self) -> list[Obj]:
        return [generate.ingress(i) for i in range(self.n)]

    def host(self, i: int) -> str:
        return self.hosts.get(i, generate.host(i))

    def original(self, i: int) -> Obj:
        return generate.ingress(i)

    def change(self, k: int) -> tuple[str, Check]:
        i = k % min(self.n, MUTABLE)
        new = f"app-{i}-v{k}.{generate.DOMAIN}"
        self.patch(f"ing-{i}", {"spec": generate.ingress(i, hostname=new)["spec"]})
        self.hosts[i] = new
        self.changed.add(i)
        return new, served

    def reset(self) -> None:
        super().reset()
        self.hosts.clear()


class ProxyWorkload(Workload):
    kind = "httpproxy"
    collection = PROXIES
    LEARN = ("hp-0", "hp-0-child", "hp-1")
    """The three roles (a root including a child, that child, a root with a route) whose
    statuses are learned from each controller before the N objects exist."""

    def objects(self) -> list[Obj]:
        return [o for i in range(self.n) for o in generate.httpproxies(i)]

    def original(self, i: int) -> Obj:
        return generate.httpproxies(i)[-1]

    def change(self, k: int) -> tuple[str, Check]:
        i = k % min(self.n, MUTABLE)
        prefix = f"/r{k}x/"
        carrier = generate.httpproxies(i, prefix_rewrite=prefix)[-1]
        self.patch(carrier["metadata"]["name"], {"spec": carrier["spec"]})
        self.changed.add(i)
        return generate.host(i), rewritten(prefix)

    @staticmethod
    def role(name: str) -> str:
        """Which learned object's status `name` gets."""
        if name.endswith("-child"):
            return "hp-0-child"
        return "hp-0" if int(name.removeprefix("hp-")) % 2 == 0 else "hp-1"

    def preset(self, learned: dict[str, Obj], objects: list[Obj]) -> float:
        """Write on every object the status its role got from one controller, with the
        object's own generation (the changed ones have moved on)."""
        gens = {o["metadata"]["name"]: 1 for o in objects}
        for i in range(min(self.n, MUTABLE)):
            name = self.original(i)["metadata"]["name"]
            gens[name] = int(self.get(name)["metadata"].get("generation", 1))
        # JSON Patch `add` replaces the whole status (a merge patch would keep the keys
        # only the other controller writes)
        calls = [("PATCH", f"{self.collection}/{name}/status",
                  [{"op": "add", "path": "/status",
                    "value": with_generation(learned[self.role(name)], gen)}], JSON_PATCH)
                 for name, gen in sorted(gens.items())]
        return self.api.bulk("HTTPProxy statuses", calls)


def with_generation(status: Obj, generation: int) -> Obj:
    """A deep copy of `status` whose every `observedGeneration` is `generation`."""
    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: generation if k == "observedGeneration" else walk(v)
                    for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: Obj = walk(status)
    return out
