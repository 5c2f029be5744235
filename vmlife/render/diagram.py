"""A state diagram ready to show or save, with rich display in Jupyter.

Example:
    >>> import vmlife
    >>> from vmlife.render import diagram
    >>> d = diagram(vmlife.lifecycle(), "power", edition="2023-10", highlight="stopped")
    >>> d.dot().splitlines()[0]
    'digraph vmlife {'
    >>> d.mermaid().splitlines()[3]
    'stateDiagram-v2'
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import RunError
from ..model import VMState
from .dot import to_dot
from .engine import EngineNotFound, render_dot
from .graph import DELETED, Graph, build_graph
from .mermaid import to_mermaid

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import VM
    from ..lifecycle import Lifecycle

__all__ = ["OUTPUT_FORMATS", "Diagram", "diagram", "format_for_path"]

#: Every output format of a diagram: text (dot, mermaid) and pictures (svg, png, pdf).
OUTPUT_FORMATS: tuple[str, ...] = ("svg", "png", "pdf", "dot", "mermaid")
_SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
}


def format_for_path(path: str | Path) -> str | None:
    """The output format a file name implies (``.svg``, ``.png``, ``.pdf``, ``.dot``/``.gv``,
    ``.mmd``/``.mermaid``), or None."""
    return _SUFFIXES.get(Path(path).suffix.lower())


class Diagram:
    """A diagram of the lifecycle: DOT and Mermaid text, SVG/PNG/PDF pictures.

    In Jupyter it shows itself as SVG when a Graphviz engine is available, else as a Mermaid
    block (JupyterLab 4.1+ draws it); ``format(d, "dot")`` and ``format(d, "mermaid")`` give
    the text.

    Attributes:
        graph: the plain :class:`~vmlife.render.graph.Graph` it draws.
    """

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def dot(self) -> str:
        """Graphviz DOT text (deterministic)."""
        return to_dot(self.graph)

    def mermaid(self) -> str:
        """Mermaid ``stateDiagram-v2`` text (deterministic)."""
        return to_mermaid(self.graph)

    def render(self, fmt: str = "svg") -> bytes:
        """The diagram in any of :data:`OUTPUT_FORMATS`, as bytes (text formats as UTF-8).

        Raises:
            EngineNotFound: a picture format and no Graphviz engine that writes it.
        """
        if fmt == "dot":
            return self.dot().encode("utf-8")
        if fmt == "mermaid":
            return self.mermaid().encode("utf-8")
        if fmt not in OUTPUT_FORMATS:
            raise RunError(f"unknown diagram format {fmt!r}; valid: {', '.join(OUTPUT_FORMATS)}")
        return render_dot(self.dot(), fmt)

    def svg(self) -> str:
        """SVG text (needs a Graphviz engine)."""
        return self.render("svg").decode("utf-8")

    def save(self, path: str | Path, fmt: str | None = None) -> Path:
        """Write the diagram to ``path``; the format defaults to what its suffix says."""
        path = Path(path)
        fmt = fmt or format_for_path(path)
        if fmt is None:
            raise RunError(
                f"cannot tell the format of {str(path)!r} from its suffix; give one of "
                f"{', '.join(OUTPUT_FORMATS)} or use {', '.join(sorted(_SUFFIXES))}"
            )
        path.write_bytes(self.render(fmt))
        return path

    # ---------------------------------------------------------------- display
    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except EngineNotFound:
            return None

    def _repr_mimebundle_(
        self, include: Collection[str] | None = None, exclude: Collection[str] | None = None
    ) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": repr(self)}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        else:
            bundle["text/markdown"] = f"```mermaid\n{self.mermaid()}```\n"
        if include:
            bundle = {k: v for k, v in bundle.items() if k in include}
        if exclude:
            bundle = {k: v for k, v in bundle.items() if k not in exclude}
        return bundle

    def __format__(self, spec: str) -> str:
        if spec == "dot":
            return self.dot()
        if spec == "mermaid":
            return self.mermaid()
        if spec == "":
            return str(self)
        raise ValueError(f"unknown format spec {spec!r} for a Diagram; use 'dot' or 'mermaid'")

    def __repr__(self) -> str:
        g = self.graph
        states = sum(1 for n in g.nodes if n.kind == "state")
        return f"<Diagram {g.scope}: {states} states, {len(g.edges)} edges, edition {g.edition}>"


def diagram(
    source: Lifecycle | VM | None = None,
    scope: str = "power",
    *,
    edition: str | None = None,
    highlight: VMState | str | Collection[str] | None = None,
    diff: tuple[str, str] | None = None,
    loops: bool = True,
) -> Diagram:
    """A :class:`Diagram` of one axis or of the whole lifecycle.

    Args:
        source: a lifecycle (default: ``vmlife.lifecycle()``), or a VM: its lifecycle, with
            its current state highlighted (the end pseudo-node once it is deleted).
        scope: "power", "provisioning", "os", "lifecycle" or an axis id.
        edition: the billing edition that colours the states (default: the newest).
        highlight: states to highlight (see :func:`~vmlife.render.graph.build_graph`).
        diff: two edition ids: mark the states whose billing changed from the first to the
            second (coloured by the second).
        loops: draw operations that leave the axis unchanged as loops.
    """
    from ..engine import VM
    from ..lifecycle import lifecycle

    if isinstance(source, VM):
        lc = source.lifecycle
        if highlight is None:
            highlight = DELETED if source.deleted and not source.state.exists else source.state
    else:
        lc = source if source is not None else lifecycle()
    return Diagram(
        build_graph(lc, scope, edition=edition, highlight=highlight, diff=diff, loops=loops)
    )
