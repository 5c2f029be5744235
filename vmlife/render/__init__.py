"""Pictures of the lifecycle: state diagrams as DOT, Mermaid, SVG, PNG and PDF.

Diagrams go data -> plain graph -> renderer: :func:`build_graph` reads the lifecycle (every
plugin's states and operations included) into a :class:`Graph`; :func:`to_dot` and
:func:`to_mermaid` write deterministic text; a Graphviz engine (the system ``dot`` or the
pip-installable ``graphviz-pure``, see :mod:`vmlife.render.engine`) draws pictures.

Example:
    >>> import vmlife
    >>> from vmlife.render import diagram
    >>> d = diagram(vmlife.lifecycle(), "power", edition="draft")
    >>> "stateDiagram-v2" in d.mermaid()
    True

``import vmlife`` does not import this package; the rich-display methods of the core objects
import it when called.
"""

from __future__ import annotations

from .diagram import OUTPUT_FORMATS, Diagram, diagram, format_for_path
from .dot import to_dot
from .engine import EngineNotFound, GraphvizEngine, find_engine, render_dot
from .graph import (
    CATEGORIES,
    DELETED,
    NO_VM,
    SCOPES,
    Cluster,
    Edge,
    Graph,
    LegendEntry,
    Node,
    build_graph,
)
from .html import timeline_html, vm_html
from .mermaid import to_mermaid

__all__ = [
    "CATEGORIES",
    "DELETED",
    "NO_VM",
    "OUTPUT_FORMATS",
    "SCOPES",
    "Cluster",
    "Diagram",
    "Edge",
    "EngineNotFound",
    "Graph",
    "GraphvizEngine",
    "LegendEntry",
    "Node",
    "build_graph",
    "diagram",
    "find_engine",
    "format_for_path",
    "render_dot",
    "timeline_html",
    "to_dot",
    "to_mermaid",
    "vm_html",
]
