"""A Sphinx extension: vmlife's diagrams and tables drawn where the docs are written.

Add ``"vmlife.sphinx"`` to ``extensions`` in ``conf.py`` (``pip install "vmlife[docs]"``). The
directives work in reStructuredText and, through MyST's fenced directives, in Markdown:

``.. vmlife-diagram:: SCOPE``
    The state diagram of ``power``, ``provisioning``, ``os``, ``lifecycle`` or a plugin's axis.
    Options: ``:edition:`` (default the newest), ``:highlight:`` (state names, comma
    separated), ``:diff: A B`` (mark what changed from edition A to B), ``:plugins:`` (comma
    separated plugin names whose states and operations to draw, or ``none``; default: every
    plugin loaded), ``:format:`` ``svg`` (inline, the default), ``png`` or ``mermaid`` (a
    ``<pre class="mermaid">`` block for themes that load Mermaid), ``:caption:``, ``:alt:``,
    ``:align:`` (left, center, right).
``.. vmlife-states::``
    The states with status code, displayStatus, level, kind, the spec revisions that list them
    and notes. Options ``:axis:``, ``:plugins:``.
``.. vmlife-ops::``
    The operations with kind, the power states they start from, the provisioning state while
    they run, their power path, Activity Log names and notes. Option ``:plugins:``.
``.. vmlife-editions::``
    The billing editions, and what each bills per state; ``:diff: A B`` lists the states two
    editions bill differently. Option ``:plugins:``.
``.. vmlife-bill:: PATH``
    The bill of a small input in the docs tree (a vmlife timeline file, an Activity Log or
    snapshots; the path is relative to the page): hours and cost per VM and component.
    Options ``:edition:``, ``:granularity:``, ``:plot:`` (add the billing timeline as a PNG).

Diagrams are drawn while the page is read, with the system ``dot`` or ``graphviz-pure`` (no
network). The output is reproducible: the same input gives byte-identical HTML. A page that
uses a directive is read again when the model changes (a plugin installed, removed or
updated, a new vmlife), and a ``vmlife-bill`` page when its input file changes. An error in a
directive (an unknown edition, scope or state, a missing file, no Graphviz) is a Sphinx
warning naming the file and line, never a crash; ``-W`` turns it into a failed build.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util.docutils import SphinxDirective

from . import __version__
from .errors import VmlifeError

if TYPE_CHECKING:  # pragma: no cover
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment
    from sphinx.writers.html5 import HTML5Translator

    from .lifecycle import Lifecycle

__all__ = ["setup"]

FORMATS = ("svg", "png", "mermaid")
ALIGNS = ("left", "center", "right")


# ---------------------------------------------------------------------- the model
def lifecycle_for(plugins: str | None) -> Lifecycle:
    """The lifecycle with vmlife's own default plugins and the named loaded plugins.

    Args:
        plugins: comma-separated plugin names as ``vmlife plugins`` lists them, ``none`` for
            the bare core, or None for every plugin loaded.

    Raises:
        UnknownNameError: a name that is not a loaded plugin (the message lists them).
    """
    import pluggy

    from . import hookspecs
    from .errors import UnknownNameError
    from .lifecycle import Lifecycle, lifecycle
    from .plugins import DEFAULT_PLUGINS, generation, get_plugin_manager

    if plugins is None:
        return lifecycle()
    names = [n.strip() for n in plugins.split(",") if n.strip() and n.strip() != "none"]
    pm = get_plugin_manager()
    loaded = {name: plugin for name, plugin in pm.list_name_plugin()
              if name not in DEFAULT_PLUGINS}
    for name in names:
        if name not in loaded:
            raise UnknownNameError("plugin", name, ["none", *sorted(loaded)])
    key = (generation(), tuple(names))
    cached = _SUBSETS.get(key)
    if cached is not None:
        return cached
    sub = pluggy.PluginManager("vmlife")
    sub.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        sub.register(pm.get_plugin(name), name=name)
    for name in names:
        sub.register(loaded[name], name=name)
    lc = Lifecycle(sub)
    _SUBSETS.clear()
    _SUBSETS[key] = lc
    return lc


_SUBSETS: dict[tuple[int, tuple[str, ...]], Lifecycle] = {}


def model_fingerprint() -> str:
    """A digest of everything the directives draw from: vmlife's version, the loaded plugins
    with their versions, and the whole lifecycle as Mermaid under every edition."""
    from .lifecycle import lifecycle
    from .plugins import list_plugins
    from .render import diagram

    lc = lifecycle()
    h = hashlib.sha256(__version__.encode())
    h.update(Path(__file__).read_bytes())  # this extension's own code
    for p in list_plugins():
        h.update(json.dumps(p.as_dict(), sort_keys=True, default=str).encode())
    for ed in sorted(lc.editions):
        h.update(diagram(lc, "lifecycle", edition=ed).mermaid().encode())
        h.update(repr(sorted((k, sorted(r.bills), r.wording)
                             for k, r in lc.editions[ed].rules.items())).encode())
    for op in lc.operations.values():
        h.update(repr((op.id, op.description, op.note, op.activity_log)).encode())
    return h.hexdigest()


# ---------------------------------------------------------------------- nodes
class vmlife_picture(nodes.General, nodes.Element):  # type: ignore[misc]  # docutils: untyped
    """A diagram or plot: ``format`` svg (inline), png (written to ``_images``) or mermaid."""


def _visit_picture_html(self: HTML5Translator, node: vmlife_picture) -> None:
    fmt = node["format"]
    alt = node["alt"]
    align = f" align-{node['align']}" if node.get("align") else ""
    body: str
    if fmt == "svg":
        from .render.html import inline_svg

        svg = inline_svg(node["data"].decode("utf-8"))
        body = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(alt)}" ', 1)
    elif fmt == "png":
        name = f"vmlife-{hashlib.sha256(node['data']).hexdigest()[:20]}.png"
        out = Path(self.builder.outdir) / self.builder.imagedir
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(node["data"])
        body = f'<img src="{self.builder.imgpath}/{name}" alt="{_attr(alt)}">'
    else:
        body = f'<pre class="mermaid">{_text(node["data"].decode("utf-8"))}</pre>'
    self.body.append(f'<figure class="vmlife-{node["kind"]}{align}">'
                     f'<div class="vmlife-picture">{body}</div>')
    if node.get("caption"):
        self.body.append(f"<figcaption><p>{_text(node['caption'])}</p></figcaption>")
    self.body.append("</figure>\n")
    raise nodes.SkipNode


def _skip(self: Any, node: vmlife_picture) -> None:
    """Builders other than HTML (text, LaTeX, man...) leave pictures out."""
    raise nodes.SkipNode


def _attr(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


def _text(text: str) -> str:
    from html import escape

    return escape(text, quote=False)


# ---------------------------------------------------------------------- directives
def _plugins_option(value: str | None) -> str:
    return directives.unchanged_required(value)  # type: ignore[no-any-return]


class _VmlifeDirective(SphinxDirective):
    """Common behaviour: errors become warnings at the directive's line; usage is recorded."""

    name: ClassVar[str] = ""

    def run(self) -> list[nodes.Node]:
        _record_use(self.env)
        try:
            return self.make()
        except (VmlifeError, OSError, ValueError) as exc:
            msg = f"{self.name}: {exc}"
            return [self.state_machine.reporter.warning(msg, line=self.lineno)]

    def make(self) -> list[nodes.Node]:  # pragma: no cover - every directive overrides it
        raise NotImplementedError

    def lifecycle(self) -> Lifecycle:
        return lifecycle_for(self.options.get("plugins"))


class DiagramDirective(_VmlifeDirective):
    """``.. vmlife-diagram:: SCOPE``."""

    name = "vmlife-diagram"
    required_arguments = 1
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "edition": directives.unchanged_required,
        "highlight": directives.unchanged_required,
        "diff": directives.unchanged_required,
        "plugins": _plugins_option,
        "format": lambda v: directives.choice(v, FORMATS),
        "caption": directives.unchanged,
        "alt": directives.unchanged,
        "align": lambda v: directives.choice(v, ALIGNS),
    }

    def make(self) -> list[nodes.Node]:
        from .render import diagram

        lc = self.lifecycle()
        scope = self.arguments[0]
        diff = None
        if "diff" in self.options:
            parts = self.options["diff"].split()
            if len(parts) != 2:
                raise ValueError(f":diff: takes two edition ids, got {self.options['diff']!r}")
            diff = (parts[0], parts[1])
        highlight = None
        if "highlight" in self.options:
            highlight = [h.strip() for h in self.options["highlight"].split(",") if h.strip()]
        d = diagram(lc, scope, edition=self.options.get("edition"), highlight=highlight,
                    diff=diff)
        fmt = self.options.get("format", "svg")
        data = d.mermaid().encode("utf-8") if fmt == "mermaid" else d.render(fmt)
        node = vmlife_picture(kind="diagram", format=fmt, data=data,
                              alt=self.options.get("alt") or d.graph.title,
                              caption=self.options.get("caption", ""),
                              align=self.options.get("align", ""))
        return [node]


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], classes: str) -> nodes.table:
    """A docutils table; cells starting with a backquote pair are code."""
    rows = list(rows)
    table = nodes.table(classes=["vmlife-table", classes])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(headers)
    body = nodes.tbody()
    group += body
    for r in rows:
        body += _row(r)
    return table


def _row(cells: Sequence[str]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        if cell.startswith("``") and cell.endswith("``") and len(cell) > 4:
            para += nodes.literal(text=cell[2:-2])
        else:
            para += nodes.Text(cell)
        entry += para
        row += entry
    return row


class StatesDirective(_VmlifeDirective):
    """``.. vmlife-states::``."""

    name = "vmlife-states"
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "axis": directives.unchanged_required,
        "plugins": _plugins_option,
    }

    def make(self) -> list[nodes.Node]:
        from .errors import UnknownNameError

        lc = self.lifecycle()
        axis = self.options.get("axis")
        if axis is not None:
            axis = {"os": "os_provisioning"}.get(axis, axis)
            if axis not in lc.axes:
                raise UnknownNameError("axis", axis, lc.axes)
        axes = [axis] if axis else [a.id for a in lc.axis_order()]
        rows = []
        for a in axes:
            for s in lc.states_on(a):
                code = s.code + ("/<code>" if s.detail else "")
                notes = " ".join(x for x in (s.description, s.note) if x)
                if s.plugin and not s.plugin.startswith("vmlife."):
                    notes = f"[{s.plugin}] {notes}".strip()
                kind = "transitional" if s.transitional else "stable"
                if s.level != "Info":
                    kind += f" (level {s.level})"
                rows.append((s.axis, s.id, f"``{code}``", s.display, kind,
                             " ".join(s.revisions) or "-", notes))
        return [_table(("axis", "state", "status code", "displayStatus", "kind", "revisions",
                        "notes"), rows, "vmlife-states")]


def _path(lc: Lifecycle, op: Any) -> str:
    """The power path an operation walks from its first source (or from no VM)."""
    from .model import VMState

    if op.creates:
        src = VMState()
    else:
        power = sorted(op.sources)[0] if op.sources else "running"
        src = VMState(provisioning="succeeded", power=power)
    try:
        phases = op.plan(src, {})
    except Exception:  # a planner that needs parameters: say so rather than guess
        return "(depends on parameters)"
    steps = [ph.set.get("power") for ph in phases if ph.set.get("power")]
    end = dict(op.final).get("power", "")
    if end and (not steps or steps[-1] != end):
        steps.append(end)
    if op.deletes:
        steps.append("(deleted)")
    return " \u2192 ".join(s for s in steps if s) or "(unchanged)"


class OpsDirective(_VmlifeDirective):
    """``.. vmlife-ops::``."""

    name = "vmlife-ops"
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {"plugins": _plugins_option}

    def make(self) -> list[nodes.Node]:
        lc = self.lifecycle()
        rows = []
        for o in lc.operations.values():
            sources = ("(no VM)" if o.creates else
                       ", ".join(sorted(o.sources)) if o.sources else "any")
            notes = " ".join(x for x in (o.description, o.note) if x)
            if o.plugin and not o.plugin.startswith("vmlife."):
                notes = f"[{o.plugin}] {notes}".strip()
            rows.append((o.id, o.kind, sources, o.provisioning or "-", _path(lc, o),
                         ", ".join(o.activity_log) or "-", notes))
        return [_table(("operation", "kind", "from (power)", "provisioning while running",
                        "power path", "Activity Log operationName", "notes"), rows,
                       "vmlife-ops")]


def _bills(bills: Iterable[str]) -> str:
    b = set(bills)
    return " + ".join(c for c in ("compute", "license") if c in b) or "nothing"


class EditionsDirective(_VmlifeDirective):
    """``.. vmlife-editions::``."""

    name = "vmlife-editions"
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "diff": directives.unchanged_required,
        "plugins": _plugins_option,
    }

    def make(self) -> list[nodes.Node]:
        from .billing.editions import diff_editions

        lc = self.lifecycle()
        eds = sorted(lc.editions.values(), key=lambda e: e.order)
        if "diff" in self.options:
            parts = self.options["diff"].split()
            if len(parts) != 2:
                raise ValueError(f":diff: takes two edition ids, got {self.options['diff']!r}")
            a, b = lc.edition(parts[0]), lc.edition(parts[1])
            rows = [(f"``{k}``", _bills(a.rule_for(k).bills), a.rule_for(k).wording,
                     _bills(b.rule_for(k).bills), b.rule_for(k).wording)
                    for k in diff_editions(a, b)]
            return [_table(("state", f"{a.id} bills", f"{a.id} says", f"{b.id} bills",
                            f"{b.id} says"), rows, "vmlife-editions-diff")]
        default = lc.edition().id
        out: list[nodes.Node] = [_table(
            ("edition", "date", "title", "source", "notes"),
            [(e.id + (" (default)" if e.id == default else ""), e.date, e.title,
              e.source, " ".join(e.notes)) for e in eds],
            "vmlife-editions")]
        keys = sorted({k for e in eds for k in e.rules})
        out.append(_table(
            ("state", *[e.id for e in eds]),
            [(f"``{k}``", *[e.rule_for(k).wording if e.has_rule(k) else "(no rule)"
                             for e in eds]) for k in keys],
            "vmlife-editions-rules"))
        return out


class BillDirective(_VmlifeDirective):
    """``.. vmlife-bill:: PATH``."""

    name = "vmlife-bill"
    required_arguments = 1
    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        "edition": directives.unchanged_required,
        "granularity": lambda v: directives.choice(v, ("second", "minute", "hour")),
        "plot": directives.flag,
    }

    def make(self) -> list[nodes.Node]:
        from .billing.meter import bill
        from .io.history import read_input
        from .timeline import last_change

        rel, path = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(rel)
        if not Path(path).is_file():
            raise FileNotFoundError(f"no file {rel!r} (paths are relative to the page)")
        history = read_input(str(path), quiet=True).require_usable()
        b = bill(history.timelines, edition=self.options.get("edition"),
                 granularity=self.options.get("granularity", "minute"),
                 end=last_change(history.timelines))
        rows = []
        for r in b.summary():
            rows.append((r["vm"], f"{r['compute_hours']:g}", f"{r['license_hours']:g}",
                         f"{r['other_hours']:g}", f"{r['total_cost']:.2f}"))
        sample = " (sample prices)" if b.prices.sample else ""
        table = _table(("VM", "compute h", "licence h", "other h", f"total {b.currency}"),
                       rows, "vmlife-bill")
        title = nodes.title(text=f"Edition {b.edition.id} ({b.edition.date}), per "
                                 f"{b.granularity}: total {b.total_cost:.2f} {b.currency}"
                                 f"{sample}")
        table.insert(0, title)
        out: list[nodes.Node] = [table]
        if "plot" in self.options:
            out.append(vmlife_picture(kind="plot", format="png", data=_plot_png(b, history),
                                      alt=f"billing timeline of {rel}", caption="", align=""))
        return out


def _plot_png(b: Any, history: Any) -> bytes:
    import io

    from matplotlib.figure import Figure

    from .render.billing_plot import plot_timeline

    fig = Figure(figsize=(10, 1.4 + 0.5 * len(history.timelines)), layout="constrained")
    plot_timeline(history.timelines, edition=b.edition, prices=b.prices,
                  granularity=b.granularity, start=b.start, end=b.end, ax=fig.add_subplot())
    buf = io.BytesIO()
    # no date in the PNG's metadata: the same input gives the same bytes
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})
    return buf.getvalue()


# ---------------------------------------------------------------------- rebuilds
def _record_use(env: BuildEnvironment) -> None:
    docs: set[str] = env.__dict__.setdefault("vmlife_docs", set())
    docs.add(env.docname)


def _outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str],
              removed: set[str]) -> list[str]:
    """Pages that use a directive are read again when the model changed."""
    current = model_fingerprint()
    previous = env.__dict__.get("vmlife_fingerprint")
    env.__dict__["vmlife_fingerprint"] = current
    if previous is None or previous == current:
        return []
    return sorted(env.__dict__.get("vmlife_docs", set()) - removed)


def _purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    env.__dict__.get("vmlife_docs", set()).discard(docname)


def _merge(app: Sphinx, env: BuildEnvironment, docnames: Iterable[str],
           other: BuildEnvironment) -> None:
    docs: set[str] = env.__dict__.setdefault("vmlife_docs", set())
    docs |= other.__dict__.get("vmlife_docs", set())


CSS = """
figure.vmlife-diagram, figure.vmlife-plot { margin: 1rem 0; overflow-x: auto; }
figure.vmlife-diagram svg, figure.vmlife-plot img { max-width: 100%; height: auto; }
figure.vmlife-diagram.align-center, figure.vmlife-plot.align-center { text-align: center; }
figure.vmlife-diagram.align-right { text-align: right; }
figure.vmlife-diagram figcaption { font-size: 0.9em; text-align: center; }
table.vmlife-table { font-size: 0.82em; }
table.vmlife-table td, table.vmlife-table th { vertical-align: top; padding: 0.25em 0.5em; }
table.vmlife-table td p { margin: 0; }
table.vmlife-table { width: 100%; }
table.vmlife-table code { white-space: normal; overflow-wrap: anywhere; }
"""


def _add_css(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "vmlife.css").write_text(CSS, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directives with Sphinx."""
    passthrough = (_skip, None)
    app.add_node(vmlife_picture, html=(_visit_picture_html, None), latex=passthrough,
                 text=passthrough, man=passthrough, texinfo=passthrough)
    for directive in (DiagramDirective, StatesDirective, OpsDirective, EditionsDirective,
                      BillDirective):
        app.add_directive(directive.name, directive)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _add_css)
    app.add_css_file("vmlife.css")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
