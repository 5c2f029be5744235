"""Graphviz DOT text for a :class:`~vmlife.render.graph.Graph`.

The text is deterministic (the graph's own stable order; no ids from memory addresses), so a
diagram kept in the docs changes only when the lifecycle does. Every name goes through
:mod:`.escape`: labels are HTML-like labels with entities escaped, tooltips quoted strings with
backslashes and quotes escaped, and node ids are the graph's safe identifiers.
"""

from __future__ import annotations

from .escape import dot_html, dot_string
from .graph import Edge, Graph, LegendEntry, Node
from .palette import INK, style

__all__ = ["to_dot"]

FONT = "Helvetica,Arial,sans-serif"
STYLE = INK

_WRAP = 26  # characters per line of an edge label


def _node_label(n: Node, diff: tuple[str, str] | None) -> str:
    name = f"<I>{dot_html(n.name)}</I>" if n.transitional else dot_html(n.name)
    rows = [f"<B>{name}</B>"]
    if n.billing:
        rows.append(f'<FONT POINT-SIZE="9">{dot_html(n.billing)}</FONT>')
    if n.changed and diff is not None:
        rows.append(
            f'<FONT POINT-SIZE="9" COLOR="{STYLE["changed"]}">'
            f"{dot_html(f'was: {n.changed} ({diff[0]})')}</FONT>"
        )
    if n.plugin:
        rows.append(
            f'<FONT POINT-SIZE="8" COLOR="{STYLE["plugin"]}">{dot_html(f"[{n.plugin}]")}</FONT>'
        )
    if n.highlighted:
        rows.append(f'<FONT POINT-SIZE="8" COLOR="{STYLE["highlight"]}"><B>current</B></FONT>')
    return "<" + "<BR/>".join(rows) + ">"


def _node(n: Node, diff: tuple[str, str] | None) -> str:
    if n.kind == "start":
        attrs = [
            f'shape=circle, style=filled, fillcolor="{STYLE["pseudo"]}", color="{STYLE["pseudo"]}"',
            'label="", width=0.2, height=0.2, fixedsize=true',
            f"tooltip={dot_string(n.display or 'no VM yet')}",
        ]
    elif n.kind == "end":
        attrs = [
            f'shape=doublecircle, style=filled, fillcolor="{STYLE["pseudo"]}", '
            f'color="{STYLE["pseudo"]}"',
            'label="", width=0.14, height=0.14, fixedsize=true',
            f"tooltip={dot_string(n.display or 'deleted')}",
        ]
    elif n.kind == "any":
        attrs = [
            f'shape=box, style="rounded,dotted", color="{STYLE["muted"]}"',
            f'label=<<I>any state</I>>, fontcolor="{STYLE["muted"]}"',
            'tooltip="from any state of this axis"',
        ]
    else:
        cat = style(n.category)
        words = ",".join(w for w in ("rounded", "filled", cat.dot_style()) if w)
        attrs = [
            f'style="{words}", fillcolor="{cat.colour}", penwidth={cat.width:g}',
            f"label={_node_label(n, diff)}",
            f"tooltip={dot_string(f'{n.axis}.{n.name}: {n.display}')}",
        ]
        if n.changed and not n.highlighted:
            attrs.append(f'color="{STYLE["changed"]}"')
    if n.highlighted:
        attrs.append(f'peripheries=2, color="{STYLE["highlight"]}"')
    return f"    {n.id} [{', '.join(attrs)}];"


def _edge_label(e: Edge) -> str:
    """The label's HTML: a plugin's operations in the plugin colour, one by one when the edge
    mixes them with vmlife's own (the whole label when every operation is a plugin's)."""
    mixed = any(e.plugins) and not all(e.plugins)
    plugins = e.plugins or ("",) * len(e.labels)
    lines: list[list[str]] = []
    widths: list[int] = []
    for text, plugin in zip(e.labels, plugins, strict=True):
        html = dot_html(text)
        if mixed and plugin:
            html = f'<FONT COLOR="{STYLE["plugin"]}">{html}</FONT>'
        if lines and widths[-1] + 2 + len(text) <= _WRAP:
            lines[-1].append(html)
            widths[-1] += 2 + len(text)
        else:
            lines.append([html])
            widths.append(len(text))
    return ",<BR/>".join(", ".join(line) for line in lines)


def _edge(e: Edge) -> str:
    attrs = [f"label=<{_edge_label(e)}>"]
    if e.kind == "failure":
        c = STYLE["failure"]
        attrs.append(f'style=dashed, color="{c}", fontcolor="{c}"')
    elif e.kind == "guest":
        attrs.append("style=dotted")
    if e.plugins and all(e.plugins):
        attrs.append(f'fontcolor="{STYLE["plugin"]}"')
    return f"    {e.source} -> {e.target} [{', '.join(attrs)}];"


def _legend_row(entry: LegendEntry) -> str:
    swatch_attrs = 'WIDTH="52" HEIGHT="16" FIXEDSIZE="TRUE"'
    if entry.kind == "category":
        cat = style(entry.category)
        swatch_attrs += f' BGCOLOR="{cat.colour}" BORDER="{round(cat.width)}"'
        if cat.dot_style():
            swatch_attrs += f' STYLE="{cat.dot_style()}"'
        swatch = " "
    elif entry.kind == "transitional":
        swatch_attrs += ' BORDER="0"'
        swatch = "<I>name</I>"
    elif entry.kind == "highlighted":
        swatch_attrs += f' COLOR="{STYLE["highlight"]}"'
        swatch = f'<FONT COLOR="{STYLE["highlight"]}"><B>current</B></FONT>'
    elif entry.kind == "failure":
        swatch_attrs += ' BORDER="0"'
        swatch = f'<FONT COLOR="{STYLE["failure"]}">- - &gt;</FONT>'
    elif entry.kind == "guest":
        swatch_attrs += ' BORDER="0"'
        swatch = "\u00b7 \u00b7 &gt;"
    elif entry.kind == "changed":
        swatch_attrs += f' COLOR="{STYLE["changed"]}"'
        swatch = f'<FONT COLOR="{STYLE["changed"]}">was:</FONT>'
    else:  # plugin
        swatch = f'<FONT COLOR="{STYLE["plugin"]}">[p]</FONT>'
    return (
        f'<TR><TD {swatch_attrs}>{swatch}</TD>'
        f'<TD ALIGN="LEFT" BORDER="0">{dot_html(entry.text)}</TD></TR>'
    )


def _caption(g: Graph) -> str:
    """The graph's label: the title, then the legend. The title sits in the text column (a
    cell spanning both would widen the swatch column)."""
    rows = "".join(_legend_row(e) for e in g.legend)
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="3" CELLPADDING="3">'
        '<TR><TD BORDER="0"> </TD>'
        f'<TD ALIGN="LEFT" BORDER="0"><FONT POINT-SIZE="13"><B>{dot_html(g.title)}</B></FONT>'
        f"</TD></TR>{rows}</TABLE>>"
    )


def to_dot(g: Graph) -> str:
    """The DOT text of a graph (deterministic; ends with a newline)."""
    out = [
        "digraph vmlife {",
        f'    graph [rankdir=LR, fontname="{FONT}", fontsize=11, labelloc=b, labeljust=l, '
        f"nodesep=0.35, ranksep=0.5, pad=0.25, label={_caption(g)}];",
        f'    node [shape=box, fontname="{FONT}", fontsize=11, color="{STYLE["border"]}", '
        'penwidth=1.3, margin="0.14,0.06"];',
        f'    edge [fontname="{FONT}", fontsize=9, color="{STYLE["edge"]}", '
        f'fontcolor="{STYLE["text"]}", arrowsize=0.7];',
    ]
    nodes = {n.id: n for n in g.nodes}
    many = len(g.clusters) > 1
    # Left to right, Graphviz stacks clusters bottom-up in the order given: reversed, they read
    # top-down in display order.
    for c in reversed(g.clusters):
        indent = ""
        if many:
            title = c.title + (f" [{c.plugin}]" if c.plugin else "")
            out.append(f"    subgraph cluster_{c.id} {{")
            out.append(
                f'        graph [label=<<B>{dot_html(title)}</B>>, labelloc=t, labeljust=l, '
                f'style="rounded", color="{STYLE["cluster"]}", fontsize=12];'
            )
            indent = "    "
        for nid in c.nodes:
            out.append(indent + _node(nodes[nid], g.diff))
        if many:
            out.append("    }")
    for e in g.edges:
        out.append(_edge(e))
    out.append("}")
    return "\n".join(out) + "\n"
