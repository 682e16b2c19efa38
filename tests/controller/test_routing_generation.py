"""The store compares parsed views, so an edit the views do not read is no store change; the
routing path still rebuilds when the object's generation moved (its statuses must carry
the new observedGeneration)."""

from __future__ import annotations

import copy
from typing import Any

from controller.config import Settings
from controller.events import ObjectEvent
from controller.routing import RoutingPublisher

ROOT: dict[str, Any] = {
    "apiVersion": "contour.heptio.com/v1beta1", "kind": "IngressRoute",
    "metadata": {"name": "r", "namespace": "default", "generation": 1},
    "spec": {"virtualhost": {"fqdn": "a.example.com"},
             "routes": [{"match": "/", "services": [{"name": "s", "port": 80}]}]},
}


def routing() -> RoutingPublisher:
    from controller.app import Controller

    return Controller(Settings()).routing


def edited(generation: int, **labels: str) -> dict[str, Any]:
    out = copy.deepcopy(ROOT)
    out["metadata"]["generation"] = generation
    out["metadata"]["labels"] = labels
    return out


def test_an_unread_edit_matters_only_when_the_generation_moved() -> None:
    r = routing()
    assert r.apply(ObjectEvent.upsert(ROOT)) is True
    assert r.apply(ObjectEvent.upsert(edited(1, a="b"))) is False  # labels: no generation
    assert r.store.upsert(edited(2)) is False  # the store alone sees no change
    r2 = routing()
    r2.apply(ObjectEvent.upsert(ROOT))
    assert r2.apply(ObjectEvent.upsert(edited(2))) is True  # but the routing path rebuilds
    assert r2.apply(ObjectEvent.upsert(edited(2))) is False
