"""Flags and helpers shared by the commands that talk to Envoy's admin interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

AdminUrl = Annotated[str, typer.Option(
    help="Envoy admin base URL (e.g. http://127.0.0.1:9001); default: port-forward to the "
         "Envoy pod(s).", metavar="URL")]
AdminUrls = Annotated[list[str] | None, typer.Option(
    "--admin-url", help="Envoy admin base URL, once per Envoy (e.g. --admin-url "
    "http://127.0.0.1:9001 --admin-url http://127.0.0.1:9002); default: port-forward to every "
    "Envoy pod.", metavar="URL")]
EnvoyNamespace = Annotated[str, typer.Option(help="Namespace of the Envoy pods.")]
Selector = Annotated[str, typer.Option("--selector", "-l", help="Label selector of the Envoy "
                                       "pods.")]

ContourUrl = Annotated[str, typer.Option(
    help="Controller debug base URL (e.g. http://127.0.0.1:6060); default: port-forward to a "
         "contour pod.", metavar="URL")]
ContourSelector = Annotated[str, typer.Option(help="Label selector of the contour pods.")]

DEFAULT_NAMESPACE = "heptio-contour"
DEFAULT_SELECTOR = "app=contour"


def envoy_fetchers(session: Any, *, admin_url: str | Sequence[str] | None, namespace: str,
                   selector: str, pod: str = "") -> list[Any]:
    """One fetcher per admin URL given (a repeatable flag passes several), else one per
    running Envoy pod (port-forward)."""
    from kubectl_contour.admin import ENVOY_ADMIN_PORT, PodChoice, UrlFetcher, pod_fetchers

    urls = [admin_url] if isinstance(admin_url, str) else list(admin_url or ())
    if any(urls):
        return [UrlFetcher(u) for u in urls if u]
    return pod_fetchers(session.kube, PodChoice(namespace, selector, pod), port=ENVOY_ADMIN_PORT)


def contour_fetcher(session: Any, *, contour_url: str, namespace: str, selector: str) -> Any:
    """The controller's debug server: by URL, or through a port-forward to a contour pod."""
    from kubectl_contour.admin import CONTOUR_DEBUG_PORT, PodChoice, UrlFetcher, pod_fetchers

    if contour_url:
        return UrlFetcher(contour_url)
    return pod_fetchers(session.kube, PodChoice(namespace, selector),
                        port=CONTOUR_DEBUG_PORT)[0]


def contour_fetchers(session: Any, *, contour_url: str, namespace: str,
                     selector: str) -> list[Any]:
    """Every controller's debug server: the URL's, or one port-forward per running contour
    pod. In the deployment layout (manifests/) each pod runs a controller and the Envoy that
    connects to it, so an Envoy is known only to the controller of its own pod."""
    from kubectl_contour.admin import CONTOUR_DEBUG_PORT, PodChoice, UrlFetcher, pod_fetchers

    if contour_url:
        return [UrlFetcher(contour_url)]
    return pod_fetchers(session.kube, PodChoice(namespace, selector), port=CONTOUR_DEBUG_PORT)
