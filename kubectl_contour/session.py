"""Everything a command needs, built once from the global flags: kube access (lazy),
the object snapshot, the namespace scope, the output format and the consoles."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubectl_contour.errors import UsageError

if TYPE_CHECKING:
    from controller.config import BuilderSettings
    from controller.dag.model import DAG
    from kubectl_contour.kube import Kube
    from kubectl_contour.objects import Snapshot

@dataclass(frozen=True, slots=True)
class Options:
    """The global flags, as given."""

    kubeconfig: str = ""
    context: str = ""
    namespace: str = ""
    all_namespaces: bool = False
    from_dir: str = ""
    ingress_class: str = "contour"
    root_namespaces: str = ""
    disable_permit_insecure: bool = False
    color: bool | None = None
    """None: colour when stdout is a terminal (and NO_COLOR is unset)."""


@dataclass(slots=True)
class Session:
    options: Options
    output: str = ""
    _kube: Any = field(default=None, repr=False)
    _snapshot: Any = field(default=None, repr=False)

    @property
    def offline(self) -> bool:
        return bool(self.options.from_dir)

    @property
    def kube(self) -> Kube:
        if self.offline:
            raise UsageError("this command needs a cluster; drop --from-dir")
        if self._kube is None:
            from kubectl_contour.kube import Kube, KubeTarget

            self._kube = Kube(KubeTarget(self.options.kubeconfig, self.options.context))
        return self._kube  # type: ignore[no-any-return]

    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            from kubectl_contour import sources

            if self.offline:
                self._snapshot = sources.load_dir(Path(self.options.from_dir))
            else:
                self._snapshot = sources.load_cluster(self.kube)
        return self._snapshot  # type: ignore[no-any-return]

    def scope(self) -> str | None:
        """The namespace to show, or None for all: -A; -n; offline: all; else the context's."""
        if self.options.all_namespaces:
            return None
        if self.options.namespace:
            return self.options.namespace
        return None if self.offline else self.kube.default_namespace()

    def builder_settings(self) -> BuilderSettings:
        from controller.config import BuilderSettings

        roots = frozenset(
            n.strip() for n in self.options.root_namespaces.split(",") if n.strip()
        )
        return BuilderSettings(
            root_namespaces=roots,
            ingress_class=self.options.ingress_class or "contour",
            disable_permit_insecure=self.options.disable_permit_insecure,
        )

    def build(self, snapshot: Snapshot | None = None) -> DAG:
        from kubectl_contour.queries.build import build_dag

        return build_dag(snapshot or self.snapshot(), settings=self.builder_settings())

    @property
    def rich(self) -> bool:
        """Rich output on a terminal; plain text when piped (or --no-color with no TTY)."""
        return sys.stdout.isatty() and not self.output

    def console(self, *, stderr: bool = False) -> Any:
        from rich.console import Console

        color = self.options.color
        if color is None:
            color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        return Console(stderr=stderr, no_color=not color, highlight=False,
                       soft_wrap=not self.rich)

    def print(self, renderable: Any) -> None:
        """The one way commands print data: rich renderables on a TTY, text when piped."""
        if isinstance(renderable, str):
            sys.stdout.write(renderable if renderable.endswith("\n") else renderable + "\n")
            sys.stdout.flush()
            return
        self.console().print(renderable)

    def note(self, message: str) -> None:
        """A remark for the human on stderr (never mixed with data)."""
        sys.stderr.write(message.rstrip("\n") + "\n")
