"""Mermaid ``stateDiagram-v2`` text for a :class:`~vmlife.render.graph.Graph`.

GitHub and JupyterLab render it from a fenced ``mermaid`` block. The text is deterministic.
Names are written as entity codes (``#34;``) except for letters, digits and plain punctuation,
so no name can end a string, start a comment or a statement, or inject markup.
"""

from __future__ import annotations

import json

from .escape import mermaid_text, plain_line
from .graph import Graph, LegendEntry, Node
from .palette import INK as STYLE
from .palette import style as category_style

__all__ = ["to_mermaid"]


def _class_name(n: Node) -> str:
    if n.kind == "any":
        return "pseudo"
    name = n.category.replace(" ", "_").replace("'", "")
    if n.transitional:
        name += "_t"
    if n.changed:
        name += "_changed"
    if n.highlighted:
        name += "_current"
    return name


def _class_style(name: str) -> str:
    if name == "pseudo":
        return (f"fill:{STYLE['paper']},stroke:{STYLE['muted']},color:{STYLE['muted']},"
                "stroke-dasharray:2 3")
    parts = name.split("_")
    flags = {"t", "changed", "current"}
    cat = category_style(" ".join(p for p in parts if p not in flags))
    stroke, width = STYLE["border"], None
    if "changed" in parts:
        stroke = STYLE["changed"]
    if "current" in parts:
        stroke, width = STYLE["highlight"], 4.0
    out = cat.mermaid_style(stroke, width)
    if "t" in parts:
        out += ",font-style:italic"
    return out


def _state_text(n: Node, diff: tuple[str, str] | None) -> str:
    lines = [n.name, n.billing]
    if n.changed and diff is not None:
        lines.append(f"was: {n.changed} ({diff[0]})")
    if n.plugin:
        lines.append(f"[{n.plugin}]")
    if n.highlighted:
        lines.append("current")
    return "<br/>".join(mermaid_text(x) for x in lines if x)


def _legend_class(e: LegendEntry) -> str:
    if e.kind == "category":
        return e.category.replace(" ", "_")
    return {
        "transitional": "legend_t",
        "failure": "legend_failure",
        "highlighted": "legend_current",
        "changed": "legend_changed",
    }.get(e.kind, "legend")


def to_mermaid(g: Graph) -> str:
    """The Mermaid ``stateDiagram-v2`` text of a graph (deterministic; ends with a newline)."""
    nodes = {n.id: n for n in g.nodes}
    out = ["---", f"title: {json.dumps(plain_line(g.title))}", "---", "stateDiagram-v2",
           "    direction LR"]

    def ref(node_id: str) -> str:
        kind = nodes[node_id].kind
        return "[*]" if kind in ("start", "end") else node_id

    many = len(g.clusters) > 1
    classes: dict[str, list[str]] = {}
    body: list[str] = []
    for c in g.clusters:
        indent = "    "
        if many:
            title = c.title + (f" [{c.plugin}]" if c.plugin else "")
            body.append(f'    state "{mermaid_text(title)}" as {c.id} {{')
            indent = "        "
        members = set(c.nodes)
        for nid in c.nodes:
            n = nodes[nid]
            if n.kind == "any":
                body.append(f'{indent}state "any state" as {n.id}')
            elif n.kind == "state":
                body.append(f'{indent}state "{_state_text(n, g.diff)}" as {n.id}')
            else:
                continue
            classes.setdefault(_class_name(n), []).append(n.id)
        for e in g.edges:
            if e.source in members:
                label = mermaid_text(", ".join(e.labels))
                if e.kind == "failure":
                    label = mermaid_text("fails")
                body.append(f"{indent}{ref(e.source)} --> {ref(e.target)} : {label}")
        if many:
            body.append("    }")

    legend_classes: list[str] = []
    body.append('    state "Legend" as legend {')
    for i, entry in enumerate(g.legend):
        lid = f"legend_{i}"
        body.append(f'        state "{mermaid_text(entry.text)}" as {lid}')
        cls = _legend_class(entry)
        legend_classes.append(cls)
        classes.setdefault(cls, []).append(lid)
    body.append("    }")

    paper, ink = STYLE["paper"], STYLE["text"]
    styles = {
        "legend": f"fill:{paper},stroke:{STYLE['border']},color:{ink}",
        "legend_t": f"fill:{paper},stroke:{STYLE['border']},color:{ink},font-style:italic",
        "legend_current": f"fill:{paper},stroke:{STYLE['highlight']},stroke-width:4px,color:{ink}",
        "legend_changed": f"fill:{paper},stroke:{STYLE['changed']},stroke-width:3px,color:{ink}",
        "legend_failure": f"fill:{paper},stroke:{STYLE['failure']},color:{STYLE['failure']}",
    }
    for name in sorted(classes):
        out.append(f"    classDef {name} {styles.get(name) or _class_style(name)}")
    out += body
    for name in sorted(classes):
        out.append(f"    class {', '.join(classes[name])} {name}")
    return "\n".join(out) + "\n"
