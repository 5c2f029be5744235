"""The HTML report: one self-contained page answering "when was I billed, and for what?".

``vmlife report INPUT -o DIR`` reads an Activity Log, polled snapshots or a vmlife timeline
file and writes ``DIR/index.html`` with: the bill per VM and component, the billing timeline,
how the bill differs across editions, the anomalies found in the input, what the input cannot
show, and the power-state diagram coloured by the chosen edition. Everything is inline (SVG,
a PNG as a data URI, CSS): the page needs no network to be viewed.
"""

from __future__ import annotations

import argparse
import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, TextIO

from ..billing.editions import CATEGORIES, COMPONENTS, billing_category
from ..billing.meter import Bill, bill
from ..billing.prices import PriceTable, load_prices
from ..billing.reconcile import Reconciliation
from ..errors import VmlifeError
from ..io.costs import CostExport
from ..io.inventory import Inventory, add_inventory_argument, inventory_from_args
from ..lifecycle import lifecycle
from ..timeline import Timeline, last_change
from ..timeutil import TimeLike, iso, time_arg, to_epoch
from .palette import legend_html

__all__ = ["Report", "add_commands", "build_report", "write_report"]

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 72rem; color: #1d2733; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d9dee4; }
.sub { color: #5b6875; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { padding: 0.28rem 0.7rem; border-bottom: 1px solid #e4e8ec; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f2f5f8; }
tr.total td { font-weight: 600; border-top: 2px solid #9aa7b4; }
.note { background: #fff8e6; border-left: 4px solid #e8a33d; padding: 0.4rem 0.8rem;
        margin: 0.4rem 0; }
.anomaly { background: #fdecec; border-left: 4px solid #c43c3c; padding: 0.3rem 0.8rem;
           margin: 0.3rem 0; font-size: 0.9rem; }
.ok { color: #2e7d32; }
img, svg { max-width: 100%; height: auto; }
code { background: #f2f5f8; padding: 0 0.2rem; }
.causes td:last-child, .causes th:last-child { text-align: left; }
.causes td:nth-child(2) { white-space: nowrap; }
"""


@dataclass
class Report:
    """Everything one report shows."""

    source: str
    timelines: list[Timeline]
    bill: Bill
    by_edition: list[dict[str, Any]]
    anomalies: list[Any] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: modelled vs charged compute hours, when a Cost Management export was given
    reconciliation: Reconciliation | None = None


def build_report(
    source: str,
    *,
    edition: str | None = None,
    prices: PriceTable | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    quiet: bool = True,
    inventory: Inventory | None = None,
    costs: str | CostExport | None = None,
) -> Report:
    """Read ``source`` (any input ``vmlife bill`` takes, a pull folder too) and bill it under
    every edition. A pull folder's prices are used unless ``prices`` is given.

    The billing period starts at ``start`` (an Activity Log VM's state before its first event
    holds from there, as in ``vmlife bill --start``), else at each VM's first step, and ends
    at ``end``, or when a pull folder was pulled, or at the input's last change
    (:func:`vmlife.timeline.last_change`). ``inventory`` says what each VM is (see
    :mod:`vmlife.io.inventory`; a pull folder's own inventory.json unless given); VMs it does
    not list are named in the notes and priced by :data:`vmlife.billing.meter.FALLBACK`.
    With ``costs`` (a Cost Management export, see
    :func:`vmlife.billing.reconcile.reconciliation`) the report also compares the
    modelled compute hours with what Azure charged, per VM and day.
    """
    from ..io.folder import is_pull_folder, read_folder_input
    from ..io.history import read_input

    if is_pull_folder(source):
        folder = read_folder_input(source, quiet=quiet, start=start, inventory=inventory)
        history, prices = folder.history, prices or folder.prices
        inventory = folder.inventory
        end = folder.end if end is None else end
    else:
        history = read_input(source, quiet=quiet, start=start, inventory=inventory)
    history.require_usable()
    timelines = history.timelines
    stop = to_epoch(end) if end is not None else last_change(timelines)
    main = bill(timelines, edition=edition, prices=prices, granularity=granularity,
                start=start, end=stop, inventory=inventory)
    rows = []
    for ed in sorted(lifecycle().editions.values(), key=lambda e: e.order):
        b = main if ed.id == main.edition.id else bill(
            timelines, edition=ed, prices=prices, granularity=granularity, start=start,
            end=stop, inventory=inventory)
        row: dict[str, Any] = {"edition": ed.id, "date": ed.date}
        for c in COMPONENTS:
            row[f"{c} h"] = round(sum(v.billed_seconds[c] for v in b.vms) / 3600, 2)
        row["total"] = b.total_cost
        rows.append(row)
    rec = None
    if costs is not None:
        from ..billing.reconcile import reconciliation

        rec = reconciliation(history if source == "-" else source, costs, inventory=inventory,
                             edition=main.edition.id, granularity=granularity, start=start,
                             end=end, quiet=quiet)
    return Report(source, timelines, main, rows, list(history.anomalies),
                  [*main.notes, *(n for n in history.notes
                                  if not n.startswith("Not in the inventory"))], rec)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], total: Sequence[Any] = ()) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    if total:
        body += '<tr class="total">' + "".join(
            f"<td>{escape(_fmt(c))}</td>" for c in total) + "</tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if value % 1 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _timeline_png(report: Report) -> str | None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    from .billing_plot import plot_timeline

    fig = Figure(figsize=(11, 1.4 + 0.55 * len(report.timelines)), layout="constrained")
    plot_timeline(report.timelines, edition=report.bill.edition, prices=report.bill.prices,
                  granularity=report.bill.granularity, end=report.bill.end, ax=fig.add_subplot())
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _reconciliation_html(rec: Reconciliation | None) -> str:
    """The "What Azure charged" section: the plot, the rows that differ, what was unmatched."""
    if rec is None:
        return ""
    png = None
    try:
        from matplotlib.figure import Figure
    except ImportError:
        pass
    else:
        from .reconcile_plot import plot_reconciliation

        days = {r["date"] for r in rec.rows}
        fig = Figure(figsize=(9, 3.4), layout="constrained")
        plot_reconciliation(rec, by="day" if len(days) > 1 else "vm", ax=fig.add_subplot())
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        png = base64.b64encode(buf.getvalue()).decode("ascii")
    picture = (f'<img alt="modelled vs charged compute hours" src="data:image/png;base64,{png}">'
               if png else "")
    t = rec.totals
    table = _table(
        ["VM", "day", "modelled h", "charged h", "difference h", "likely cause"],
        [[r["vm"], r["date"], r["modelled_hours"], r["charged_hours"], r["difference_hours"],
          r["explanation"] or "matches"] for r in rec.rows],
        ["Total", "", t["modelled_hours"], t["charged_hours"], t["difference_hours"], ""])
    extra = "".join(
        f'<div class="note">In the export only: {escape(e["vm"])}, {e["charged_hours"]} h '
        f"charged</div>" for e in rec.export_only)
    aside = rec.costs.set_aside
    if aside:
        what = ", ".join(f"{k} {v}" for k, v in sorted(aside.items()))
        extra += f'<div class="note">Set aside (not VM compute): {escape(what)}.</div>'
    extra += "".join(f'<div class="anomaly">{escape(str(p))}</div>'
                     for p in rec.costs.problems)
    src = escape(rec.costs.source)
    return f"""<h2>What Azure charged</h2>
<p>Compute hours modelled from the history under edition {escape(rec.edition)} beside the
compute hours in the Cost Management export <code>{src}</code> ({escape(rec.costs.format)}),
per VM and UTC day. Disk and network rows of the export are set aside. A difference of more
than a minute gets its likely cause.</p>
{picture}
<div class="causes">{table}</div>
{extra}
"""


def _diagram_svg(edition: str) -> str:
    try:
        from . import diagram
        from .html import inline_svg

        svg = inline_svg(diagram(lifecycle(), "power", edition=edition).svg())
        return svg.replace("<svg ", '<svg role="img" aria-label="power-state diagram" ', 1)
    except VmlifeError as exc:  # no Graphviz engine: say so, keep the rest of the report
        return f'<p class="note">{escape(str(exc))}</p>'


def _categories(report: Report) -> list[str]:
    """The billing categories the report's timelines show under its edition."""
    seen = {billing_category(step.state, report.bill.edition) for t in report.timelines
            for step in t}
    return [c for c in CATEGORIES if c in seen]


def render_html(report: Report) -> str:
    """The report as one HTML page (no external resources)."""
    b = report.bill
    ed = b.edition
    vm_rows = []
    for v in b.vms:
        secs, cost = v.billed_seconds, v.cost
        vm_rows.append([v.vm, v.price.sku, v.price.os, v.price.priority,
                        v.price.region or "(any)"]
                       + [round(secs[c] / 3600, 2) for c in COMPONENTS]
                       + [cost[c] for c in COMPONENTS] + [v.total_cost])
    total = (["Total", "", "", "", ""]
             + [round(sum(v.billed_seconds[c] for v in b.vms) / 3600, 2) for c in COMPONENTS]
             + [b.cost[c] for c in COMPONENTS] + [b.total_cost])
    header = ["VM", "size", "OS", "priority", "region"] + [f"{c} h" for c in COMPONENTS] + [
        f"{c} {b.currency}" for c in COMPONENTS] + [f"total {b.currency}"]
    png = _timeline_png(report)
    timeline_html = (f'<img alt="billing timeline" src="data:image/png;base64,{png}">'
                     if png else '<p class="note">Install matplotlib for the timeline picture: '
                     'pip install "vmlife[plot]".</p>')
    eds = report.by_edition
    ed_table = _table(list(eds[0]) if eds else ["edition"],
                      [list(r.values()) for r in eds])
    anomalies = "".join(
        f'<div class="anomaly">{escape(a.record)}'
        f"{escape(', field ' + repr(a.field)) if a.field else ''}"
        f"{escape(', VM ' + a.vm) if a.vm else ''}: {escape(a.reason)}</div>"
        for a in report.anomalies
    ) or '<p class="ok">None: every record was used, or dropped as a duplicate.</p>'
    notes = "".join(f'<div class="note">{escape(n)}</div>' for n in report.notes)
    firsts = [t.start for t in report.timelines if t.start is not None]
    begin = b.start if b.start is not None else (min(firsts) if firsts else None)
    period = f"{iso(begin) or '?'} to {iso(b.end) or 'the last change'}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vmlife report: {escape(Path(report.source).name)}</title>
<style>{CSS}</style>
</head>
<body>
<h1>VM billing report</h1>
<p class="sub">{escape(report.source)}: {len(b.vms)} VMs, {escape(period)}.
Edition <b>{escape(ed.id)}</b> ({escape(ed.date)}, {escape(ed.title)}; source
<code>{escape(ed.source)}</code>), per {escape(b.granularity)}, each continuous billed run
floored.</p>
<h2>Bill per VM and component</h2>
{_table(header, vm_rows, total)}
{notes}
{_reconciliation_html(report.reconciliation)}
<h2>Timeline</h2>
<p>Each band is a power state, coloured by what it bills under edition {escape(ed.id)}; the
line is the cumulative cost.</p>
{legend_html(_categories(report))}
{timeline_html}
<h2>The same history under every edition</h2>
<p>Azure's page on VM states and billing has changed over the years; here is what each
revision would bill.</p>
{ed_table}
<h2>Anomalies in the input</h2>
{anomalies}
<h2>Power states under edition {escape(ed.id)}</h2>
{_diagram_svg(ed.id)}
<p class="sub">Made by vmlife.</p>
</body>
</html>
"""


def write_report(report: Report, out_dir: str | Path) -> Path:
    """Write ``index.html`` into ``out_dir`` (created if needed); returns its path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    report = build_report(
        args.input,
        edition=args.edition,
        prices=load_prices(args.prices) if args.prices else None,
        granularity=args.granularity,
        start=args.start,
        end=args.end,
        quiet=args.quiet,
        inventory=inventory_from_args(args),
        costs=args.costs,
    )
    path = write_report(report, args.output)
    b = report.bill
    print(f"Billed {len(b.vms)} VMs under edition {b.edition.id}: total {b.total_cost} "
          f"{b.currency}; {len(report.anomalies)} anomalies.", file=out)
    rec = report.reconciliation
    if rec is not None:
        t = rec.totals
        print(f"Against {rec.costs.source}: modelled {t['modelled_hours']} h, charged "
              f"{t['charged_hours']} h of compute; {len(rec.mismatches)} of {len(rec.rows)} "
              f"VM-days differ.", file=out)
    print(f"Report: {path.resolve()}", file=out)
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML billing report for an input",
        description="Read an Activity Log, snapshots or a timeline file and write DIR/index.html:"
        " the bill per VM and component, the timeline, every edition's bill, the anomalies and "
        "the power-state diagram. The page needs no network.",
    )
    p.add_argument("input", help="Activity Log, snapshots, vmlife timeline file, or a folder "
                   "'vmlife pull' wrote (its inventory and prices are used)")
    p.add_argument("-o", "--output", default="vmlife-report", metavar="DIR",
                   help="output folder (default: vmlife-report)")
    p.add_argument("--edition", help="billing edition (default: the newest)")
    p.add_argument("--prices", metavar="FILE", help="price file (default: sample prices)")
    p.add_argument("--granularity", default="minute", choices=["second", "minute", "hour"])
    p.add_argument("--start", type=time_arg,
                   help="bill from this time (ISO 8601); an Activity Log VM's state before its "
                   "first event (inferred or --initial) holds from here")
    p.add_argument("--end", type=time_arg,
                   help="bill until this time (default: the input's last change)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_inventory_argument(p)
    p.add_argument("--costs", metavar="EXPORT",
                   help="Cost Management export (EA/MCA cost details CSV, FOCUS CSV/Parquet): "
                   "adds a 'What Azure charged' section, modelled vs charged per VM and day")
    p.set_defaults(func=cmd_report)
