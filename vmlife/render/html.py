"""HTML for Jupyter's rich display: a timeline as a table, a VM as its state and diagram.

Every value is escaped (:func:`~vmlife.render.escape.html_text`); SVG from Graphviz is embedded
without its XML prolog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import CORE_AXES
from ..timeutil import iso
from .engine import EngineNotFound
from .escape import html_text

if TYPE_CHECKING:
    from ..billing.meter import Bill
    from ..engine import VM
    from ..timeline import Timeline

__all__ = ["MAX_ROWS", "bill_table_html", "inline_svg", "timeline_html", "vm_html"]

#: Rows shown by :func:`timeline_html` before it says how many more there are.
MAX_ROWS = 200

_TABLE_STYLE = "border-collapse:collapse;font-family:sans-serif;font-size:12px"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "open"
    s = round(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {s:02d}s"
    if minutes:
        return f"{minutes}m {s:02d}s"
    return f"{s}s"


def _axes(tl: Timeline) -> list[str]:
    seen: list[str] = []
    for step in tl:
        for axis in step.state:
            if axis not in seen:
                seen.append(axis)
    core = [a for a in CORE_AXES if a in seen]
    return core + [a for a in seen if a not in core]


def timeline_html(tl: Timeline, max_rows: int = MAX_ROWS) -> str:
    """A timeline as an HTML table: start, end, duration, operation, one column per axis, error.

    At most ``max_rows`` steps are shown; a last row says how many were left out.
    """
    axes = _axes(tl)
    head = ["start", "end", "duration", "operation", *axes, "error"]
    rows = []
    for step in tl[:max_rows]:
        cells = [
            iso(step.start) or "",
            iso(step.end) or "\N{HORIZONTAL ELLIPSIS}",
            _duration(step.duration),
            step.operation or "",
            *[step.state.get(a) or "" for a in axes],
            step.state.error_code or "",
        ]
        if not step.state.exists:
            cells[4] = "(no VM)"
        rows.append(
            "<tr>" + "".join(f'<td style="{_CELL}">{html_text(c)}</td>' for c in cells) + "</tr>"
        )
    if len(tl) > max_rows:
        rows.append(
            f'<tr><td style="{_CELL}" colspan="{len(head)}">'
            f"\N{HORIZONTAL ELLIPSIS} {len(tl) - max_rows} more steps</td></tr>"
        )
    header = "".join(f'<th style="{_CELL}">{html_text(h)}</th>' for h in head)
    caption = f"Timeline of {tl.vm}: {len(tl)} steps"
    return (
        f'<table style="{_TABLE_STYLE}"><caption style="text-align:left;font-weight:bold">'
        f"{html_text(caption)}</caption><thead><tr>{header}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def inline_svg(svg: str) -> str:
    """SVG text ready to embed in HTML: the XML declaration, doctype and comments before the
    ``<svg`` element dropped."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def vm_svg(vm: VM) -> str | None:
    """The power-state diagram of a VM with its state highlighted, or None with no engine."""
    from .diagram import diagram

    try:
        return diagram(vm, "power").svg()
    except EngineNotFound:
        return None


def vm_html(vm: VM) -> str:
    """A VM in HTML: its name, state, the operations allowed now, and its diagram."""
    allowed = ", ".join(vm.allowed()) or "(none)"
    parts = [
        '<div style="font-family:sans-serif;font-size:13px">',
        f"<p><b>{html_text(vm.name)}</b>: {html_text(vm.state.describe())} at "
        f"{html_text(iso(vm.clock) or '')}<br/>allowed now: {html_text(allowed)}</p>",
    ]
    svg = vm_svg(vm)
    if svg is not None:
        parts.append(inline_svg(svg))
    parts.append("</div>")
    return "".join(parts)


def bill_table_html(b: Bill) -> str:
    """A small, stable HTML table of a bill: hours and cost per VM and component."""
    rows = b.summary()
    cols = ["vm", "compute_hours", "license_hours", "other_hours", "compute_cost",
            "license_cost", "other_cost", "total_cost"]
    head = "".join(f"<th>{html_text(c.replace('_', ' '))}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td>{html_text(str(r[c]))}</td>" for c in cols) + "</tr>" for r in rows
    )
    sample = " (sample prices)" if b.prices.sample else ""
    caption = (
        f"Edition {html_text(b.edition.id)} ({html_text(b.edition.date)}), per "
        f"{html_text(b.granularity)}, total {b.total_cost:.2f} {html_text(b.currency)}{sample}"
    )
    return (f'<table class="vmlife-bill"><caption>{caption}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
