"""Reconciliation: vmlife's modelled compute hours beside what Azure charged, per VM and UTC day.

Cost Management says what was charged per resource and day, never which state change caused
it; the Activity Log says when a VM changed state, never what it cost. Reconciling the two:

1. The history (an Activity Log, snapshots or a timeline file) is billed under an edition, as
   ``vmlife bill`` does. Only the ``compute`` component's billed runs count; each run's billed
   seconds (after flooring to the granularity) are laid from the run's start and split at UTC
   midnights. Prices play no part: hours are compared, not money.
2. The export (:func:`vmlife.io.costs.read_costs`) gives compute hours per resource and day.
3. Rows are joined on the resource id, case-insensitively (exports upper-case resource
   groups). A timeline without a resource id (a timeline file naming VMs only) is joined by
   name when exactly one exported VM has that name.
4. One row per VM and day where either side is non-zero, with ``difference_hours`` = charged -
   modelled and, where they differ by more than :data:`TOLERANCE_HOURS`, the likely cause.

**The period.** ``start``/``end`` when given; otherwise from the first to the end of the last
day the export has compute rows for (so the VM's last state is billed to the end of the
export's last day). Days outside it are not compared.

**Explanations** are vmlife's heuristics, not Azure's statements: Azure's documents do not say
why a day's meter differs from a log. Each is worded as a likelihood, checked in this order: the
VM is absent from the log; the day is before the log's first event, or before the VM's own first
event (the Activity Log keeps 90 days: Microsoft Learn, "Azure Monitor activity log", retention
period); a size change (two meters for one VM and day, or a meter that is not the inventory's
size); hours priced by a reservation or savings plan; a difference under 6 minutes (rounding);
otherwise the direction of the difference.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import InputError
from ..timeline import last_change
from ..timeutil import TimeLike, iso, time_arg, to_epoch

# vmlife.billing imports this module for ``vmlife.billing.reconcile``, and the lifecycle imports
# vmlife.billing: so the meter, the readers and the timeline are imported where they are used.
if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..io.costs import CostExport
    from ..io.history import Reconstruction
    from ..io.inventory import Inventory
    from ..timeline import Timeline
    from .meter import Bill
    from .prices import PriceTable

__all__ = [
    "COLUMNS",
    "TOLERANCE_HOURS",
    "Reconciliation",
    "add_commands",
    "daily_compute_hours",
    "reconcile",
    "reconciliation",
]

#: Differences up to this many hours (one minute) are a match: the meter floors per minute.
TOLERANCE_HOURS = 1 / 60
#: Differences under this many hours are put down to rounding.
_ROUNDING_HOURS = 0.1
#: The Activity Log's retention, in days.
LOG_RETENTION_DAYS = 90
_DAY = 86_400

#: The columns of a reconciliation row, in order.
COLUMNS = (
    "vm",
    "resource_id",
    "date",
    "modelled_hours",
    "charged_hours",
    "difference_hours",
    "explanation",
    "charged_cost",
    "meters",
    "pricing",
)


@dataclass
class Reconciliation:
    """Modelled and charged compute hours per VM and day.

    Attributes:
        rows: one dict per VM and UTC day (keys :data:`COLUMNS`), sorted by VM then day.
        edition: the edition the history was billed under.
        granularity: the meter's granularity.
        start, end: the period compared (epoch seconds), or None when open.
        history: the history's source name.
        costs: the export that was read (its rows, what was set aside, its problems).
        export_only: VMs charged in the export that the history does not have.
        log_only: VMs the history bills that the export does not charge.
        notes: what the comparison cannot show.
    """

    rows: list[dict[str, Any]]
    edition: str
    granularity: str
    start: float | None
    end: float | None
    history: str
    costs: CostExport
    export_only: list[dict[str, Any]] = field(default_factory=list)
    log_only: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, float]:
        """Modelled, charged and difference hours over every row."""
        m = sum(r["modelled_hours"] for r in self.rows)
        c = sum(r["charged_hours"] for r in self.rows)
        return {"modelled_hours": _round(m), "charged_hours": _round(c),
                "difference_hours": _round(c - m)}

    @property
    def mismatches(self) -> list[dict[str, Any]]:
        """The rows whose difference is more than :data:`TOLERANCE_HOURS`."""
        return [r for r in self.rows if abs(r["difference_hours"]) > TOLERANCE_HOURS]

    def to_dict(self) -> dict[str, Any]:
        """The ``vmlife reconcile --json`` object."""
        return {
            "rows": list(self.rows),
            "totals": self.totals,
            "mismatched_rows": len(self.mismatches),
            "unmatched": {"export_only": list(self.export_only),
                          "log_only": list(self.log_only)},
            "edition": self.edition,
            "granularity": self.granularity,
            "start": iso(self.start),
            "end": iso(self.end),
            "history": self.history,
            "costs": self.costs.summary(),
            "notes": list(self.notes),
        }

    def to_json(self, **kw: Any) -> str:
        kw.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kw)

    def to_csv(self) -> str:
        """CSV text, one line per row (meters and pricing joined by ``;``)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, list(COLUMNS), lineterminator="\n")
        w.writeheader()
        for r in self.rows:
            w.writerow({**r, "meters": ";".join(r["meters"]), "pricing": ";".join(r["pricing"])})
        return buf.getvalue()

    def to_pandas(self) -> pd.DataFrame:
        """The rows as a DataFrame (imports pandas); ``date`` is a datetime64 day.

        ``df.attrs`` holds ``totals``, ``unmatched``, ``edition``, ``costs`` and ``notes``.
        """
        import pandas as pd

        df = pd.DataFrame(self.rows, columns=list(COLUMNS))
        df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
        data = self.to_dict()
        df.attrs.update({k: data[k] for k in ("totals", "unmatched", "edition", "costs",
                                              "notes", "start", "end")})
        return df

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS[:7])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(str(r[c]))}</td>" for c in COLUMNS[:7]) + "</tr>"
            for r in self.rows)
        t = self.totals
        return (f"<table><caption>Reconciliation under edition {escape(self.edition)}: "
                f"modelled {t['modelled_hours']} h, charged {t['charged_hours']} h"
                f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        t = self.totals
        return (f"<Reconciliation {len(self.rows)} rows, modelled {t['modelled_hours']} h, "
                f"charged {t['charged_hours']} h, {len(self.mismatches)} differ>")


def _round(x: float) -> float:
    return round(x, 6) + 0.0  # + 0.0 turns -0.0 into 0.0


def _day_start(epoch: float) -> float:
    return math.floor(epoch / _DAY) * _DAY


def _day_text(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).date().isoformat()


def _day_epoch(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()


def daily_compute_hours(result: Bill) -> dict[str, dict[str, float]]:
    """Compute hours per VM (the bill's VM name) and UTC day (``YYYY-MM-DD``).

    Each compute run's billed seconds are laid from the run's start and split at midnights.
    """
    out: dict[str, dict[str, float]] = {}
    for run in result.runs:
        if run.component != "compute" or run.billed_seconds <= 0:
            continue
        days = out.setdefault(run.vm, {})
        t, stop = run.start, run.start + run.billed_seconds
        while t < stop:
            edge = min(_day_start(t) + _DAY, stop)
            day = _day_text(t)
            days[day] = days.get(day, 0.0) + (edge - t) / 3600
            t = edge
    return out


def _timelines(
    history: Any, strict: bool, quiet: bool, start: float | None, inventory: Inventory | None
) -> tuple[list[Timeline], str, list[str], dict[str, dict[str, Any]], Inventory | None]:
    """Timelines, source name, notes, the state assumed before each VM's first event, and the
    inventory (a pull folder's own, unless one was given)."""
    from ..io.folder import is_pull_folder, read_folder_input
    from ..io.history import Reconstruction, read_input
    from ..timeline import Timeline

    if isinstance(history, Timeline):
        return [history], "<timelines>", [], {}, inventory
    if isinstance(history, str | os.PathLike) and is_pull_folder(history):
        folder = read_folder_input(history, strict=strict, quiet=quiet, start=start,
                                   inventory=inventory)
        history, inventory = folder.history.require_usable(), folder.inventory
    elif isinstance(history, str):
        history = read_input(history, strict=strict, quiet=quiet, start=start,
                             inventory=inventory).require_usable()
    if isinstance(history, Reconstruction):
        return (list(history.timelines), history.source, list(history.notes),
                dict(history.initial), inventory)
    return list(history), "<timelines>", [], {}, inventory


def _inventory(
    inventory: Inventory | str | os.PathLike[str] | None, strict: bool
) -> Inventory | None:
    """An inventory, read when given as a path."""
    if isinstance(inventory, str | os.PathLike):
        from ..io.inventory import read_inventory

        return read_inventory(os.fspath(inventory), strict=strict)
    return inventory


def _hours_only() -> PriceTable:
    """A price table of one row that matches every VM: the meter needs a price, the
    reconciliation compares hours only."""
    from .prices import Price, PriceTable

    return PriceTable([Price("hours", "linux", 1.0, 0.0, 0.0, "hours")],
                      source="hours only (reconciliation)")


def _size_words(text: str) -> str:
    """A VM size or meter name as comparable words: ``Standard_D2s_v5`` and ``D2s v5`` both
    give ``d2s v5``; Spot and Low Priority suffixes are dropped."""
    t = text.strip().lower()
    t = re.sub(r"^(standard|basic)[_ ]", "", t)
    t = re.sub(r"\s+(spot|low priority)$", "", t)
    return " ".join(t.replace("_", " ").split())


def reconciliation(
    history: str | Reconstruction | Timeline | Iterable[Timeline],
    costs: str | bytes | CostExport,
    *,
    inventory: Inventory | str | os.PathLike[str] | None = None,
    edition: str | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    strict: bool = False,
    quiet: bool = True,
) -> Reconciliation:
    """Compare modelled compute hours with a Cost Management export, per VM and UTC day.

    Args:
        history: a path any ``vmlife bill`` input takes (a folder ``vmlife pull`` wrote too:
            its inventory is used unless ``inventory`` is given), a
            :class:`~vmlife.io.history.Reconstruction`, or timelines.
        costs: a path to (or the bytes of) an export, or a :class:`~vmlife.io.costs.CostExport`.
        inventory: an :class:`~vmlife.io.inventory.Inventory` or a path to one: names VMs
            and tells a size change apart (a meter that is not the inventory's size).
        edition: the billing edition (default the newest); it decides which transitional
            states bill compute.
        granularity: ``minute`` (default), ``second`` or ``hour``, as for ``bill``.
        start, end: the period compared (see the module docstring for the default).
        strict: raise on the first bad record of the history or the export.
        quiet: no progress bar while reading the history.

    Raises:
        InputError: unreadable inputs, or ``start`` not before ``end``.
    """
    from ..io.costs import CostExport, read_costs, resource_key
    from .meter import bill

    export = costs if isinstance(costs, CostExport) else read_costs(costs, strict=strict)
    inv = _inventory(inventory, strict)
    lo = _when(start, "start")
    hi = _when(end, "end")
    days = export.days
    if lo is None and days:
        lo = _day_epoch(days[0])
    if hi is None and days:
        hi = _day_epoch(days[-1]) + _DAY
    if lo is not None and hi is not None and hi <= lo:
        raise InputError(f"the period is empty: end {iso(hi)} is not after start {iso(lo)}",
                         field="end")
    timelines, source, notes, initial, inv = _timelines(history, strict, quiet, lo, inv)
    # Hours, not money: every VM is metered at one price row, so no VM fails on a missing price.
    result = bill(timelines, edition=edition, granularity=granularity, start=lo, end=hi,
                  prices=_hours_only(), sku="hours", os="linux", priority="regular")
    modelled = daily_compute_hours(result)

    charged: dict[tuple[str, str], dict[str, Any]] = {}
    export_names: dict[str, set[str]] = {}
    for row in export.rows:
        day_epoch = _day_epoch(row.date)
        if (lo is not None and day_epoch + _DAY <= lo) or (hi is not None and day_epoch >= hi):
            continue
        cell = charged.setdefault((row.key, row.date), {
            "hours": 0.0, "cost": None, "meters": set(), "pricing": set(), "rid": row.resource_id,
            "name": row.name})
        cell["hours"] += row.hours
        if row.cost is not None:
            cell["cost"] = (cell["cost"] or 0.0) + row.cost
        if row.meter:
            cell["meters"].add(row.meter)
        cell["pricing"].add(row.pricing)
        export_names.setdefault(row.key.rsplit("/", 1)[-1], set()).add(row.key)

    # The history's VMs by resource key.
    log_vm: dict[str, Timeline] = {}
    for tl in timelines:
        rid = str(tl.attributes.get("resource_id") or "")
        if rid:
            key = resource_key(rid)
        else:
            keys = export_names.get(tl.vm.lower(), set())
            key = next(iter(keys)) if len(keys) == 1 else resource_key(tl.vm)
        log_vm[key] = tl
    starts = [f for f in map(_first_event, timelines) if f is not None]
    log_first = min(starts) if starts else None
    log_last = last_change(timelines)

    charged_days: dict[str, set[str]] = {}
    for k, d in charged:
        charged_days.setdefault(k, set()).add(d)
    rows: list[dict[str, Any]] = []
    for key in set(log_vm) | set(charged_days):
        vm_tl = log_vm.get(key)
        per_day = modelled.get(vm_tl.vm, {}) if vm_tl is not None else {}
        for day in sorted(set(per_day) | charged_days.get(key, set())):
            m = per_day.get(day, 0.0)
            got = charged.get((key, day))
            c = got["hours"] if got else 0.0
            if m <= 0 and c <= 0:
                continue
            rid = (str(vm_tl.attributes.get("resource_id") or "") if vm_tl is not None
                   else "") or (got["rid"] if got else vm_tl.vm if vm_tl is not None else key)
            vm_info = inv.get(rid) if inv is not None else None
            name = (getattr(vm_info, "name", None) or (vm_tl.vm if vm_tl is not None else None)
                    or (got["name"] if got else None) or rid.rstrip("/").rsplit("/", 1)[-1])
            meters = sorted(got["meters"]) if got else []
            pricing = sorted(got["pricing"]) if got else []
            rows.append({
                "vm": name,
                "resource_id": rid,
                "date": day,
                "modelled_hours": _round(m),
                "charged_hours": _round(c),
                "difference_hours": _round(c - m),
                "explanation": _explain(
                    c - m, day, vm_tl, meters, pricing, getattr(vm_info, "size", None),
                    log_first, log_last,
                    initial.get(vm_tl.vm, {}).get("state") if vm_tl is not None else None),
                "charged_cost": None if not got or got["cost"] is None
                else _round(got["cost"]),
                "meters": meters,
                "pricing": pricing,
            })
    rows.sort(key=lambda r: (r["vm"].lower(), r["resource_id"].lower(), r["date"]))

    charged_keys = {k for k, _ in charged}
    export_only = _export_only(rows, log_vm)
    log_only = [
        {"vm": tl.vm, "resource_id": str(tl.attributes.get("resource_id") or ""),
         "modelled_hours": _round(sum(modelled.get(tl.vm, {}).values()))}
        for key, tl in sorted(log_vm.items())
        if key not in charged_keys and modelled.get(tl.vm)
    ]
    notes = [*notes]
    if export.problems:
        notes.append(f"{len(export.problems)} export rows could not be read; the first: "
                     f"{export.problems[0]}")
    aside = sum(export.set_aside.values())
    if aside:
        notes.append(f"{aside} export rows are not VM compute and were set aside: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(export.set_aside.items())))
    return Reconciliation(rows, result.edition.id, granularity, lo, hi, source, export,
                          export_only, log_only, notes)


def _export_only(
    rows: list[dict[str, Any]], log_vm: Mapping[str, Timeline]
) -> list[dict[str, Any]]:
    """The export's VMs the history does not have, with their charged hours and days."""
    from ..io.costs import resource_key

    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = resource_key(r["resource_id"])
        if key in log_vm or r["charged_hours"] <= 0:
            continue
        e = out.setdefault(key, {"vm": r["vm"], "resource_id": r["resource_id"],
                                 "charged_hours": 0.0, "days": 0})
        e["charged_hours"] = _round(e["charged_hours"] + r["charged_hours"])
        e["days"] += 1
    return [out[k] for k in sorted(out)]


def _when(value: TimeLike | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return to_epoch(value)
    except ValueError as exc:
        raise InputError(f"{exc} (expected ISO 8601, e.g. 2024-03-04T00:00:00Z)",
                         field=name) from None


def _explain(
    diff: float,
    day: str,
    tl: Timeline | None,
    meters: list[str],
    pricing: list[str],
    size: str | None,
    log_first: float | None,
    log_last: float | None,
    assumed: str | None,
) -> str:
    """The likely causes of a difference, most likely first; ``""`` when the hours match.

    ``assumed`` is the state vmlife assumed for the VM before its first event, when known.
    """
    if abs(diff) <= TOLERANCE_HOURS:
        return ""
    d0 = _day_epoch(day)
    first = _first_event(tl) if tl is not None else None
    causes: list[str] = []
    if tl is None:
        causes.append("likely a VM absent from the Activity Log: no operation on it in the "
                      "log's period, so vmlife has no timeline for it (a VM left running logs "
                      "nothing)")
    elif log_first is not None and d0 + _DAY <= log_first:
        causes.append("likely a day outside the Activity Log's retention: the day is before "
                      "the log's first event (the log keeps 90 days)")
    elif log_last is not None and d0 + _DAY <= log_last - LOG_RETENTION_DAYS * _DAY:
        causes.append("likely a day outside the Activity Log's retention (90 days before its "
                      "last event)")
    elif diff >= _ROUNDING_HOURS and first is not None and d0 < first:
        what = f" ({assumed})" if assumed else ""
        causes.append(f"likely the state before this VM's first event in the log "
                      f"({iso(first)}), which vmlife assumes{what}: a VM stopped but still "
                      f"allocated before it is billed")
    sizes = {_size_words(m) for m in meters}
    if len(sizes) > 1:
        causes.append(f"likely a size change on this day (meters: {', '.join(meters)})")
    elif size and sizes and _size_words(size) not in sizes:
        causes.append(f"likely a size change: the meter is {meters[0]} but the inventory says "
                      f"{size}")
    commit = [p for p in pricing if p in ("reservation", "savings_plan", "commitment")]
    if commit:
        causes.append(f"possibly hours covered by a reservation or savings plan (priced as "
                      f"{', '.join(commit)}), which the export may count differently from "
                      f"usage")
    if abs(diff) < _ROUNDING_HOURS and not causes:
        causes.append("likely rounding: vmlife floors each run to the granularity, and "
                      "whether a few minutes of a transitional state bill depends on the "
                      "edition")
    if not causes:
        if diff > 0:
            causes.append(
                "likely hours the Activity Log does not show: the VM was allocated while the "
                "log implies it was not (an operation missing from the log, or a guest-OS "
                "shutdown, which leaves the VM stopped but allocated and billed, with no event)")
        else:
            causes.append(
                "likely the model bills hours Azure did not meter: the edition bills a "
                "transitional state Azure did not (try --edition), or the VM stopped without "
                "a logged operation the reader maps (a platform event or eviction)")
    return "; ".join(causes)


def _first_event(tl: Timeline) -> float | None:
    """When the VM's first logged operation began (a timeline that starts at the period
    start holds the assumed state until then)."""
    for step in tl:
        if step.operation is not None:
            return step.start
    return tl.start


# ---------------------------------------------------------------------- reconcile -> DataFrame
def reconcile(
    history: str | Reconstruction | Timeline | Iterable[Timeline],
    costs: str | bytes | CostExport,
    **kw: Any,
) -> pd.DataFrame:
    """:func:`reconciliation` as a pandas DataFrame (imports pandas).

    Takes the arguments of :func:`reconciliation`. ``df.attrs`` holds the totals, the
    unmatched VMs, the edition, what the export set aside and the notes.

    Example:
        >>> df = reconcile("activity_log.json", "costs.csv")  # doctest: +SKIP
        >>> df[df.difference_hours.abs() > 0.1][["vm", "date", "explanation"]]  # doctest: +SKIP
    """
    return reconciliation(history, costs, **kw).to_pandas()


# ---------------------------------------------------------------------- CLI
def cmd_reconcile(args: argparse.Namespace, out: TextIO) -> int:
    from ..cli import dump, say, table
    from ..io.inventory import inventory_from_args

    rec = reconciliation(
        args.log, args.costs, inventory=inventory_from_args(args), edition=args.edition,
        granularity=args.granularity, start=args.start, end=args.end, strict=args.strict,
        quiet=args.quiet)
    if args.json:
        dump(rec.to_dict(), out)
        return 0
    if args.csv:
        out.write(rec.to_csv())
        return 0
    print(f"Modelled (edition {rec.edition}, per {rec.granularity}) vs charged compute hours, "
          f"{iso(rec.start) or '?'} to {iso(rec.end) or '?'}:\n", file=out)
    table([(r["vm"], r["date"], f"{r['modelled_hours']:.2f}", f"{r['charged_hours']:.2f}",
            f"{r['difference_hours']:+.2f}", r["explanation"] or "matches") for r in rec.rows],
          ("vm", "date", "modelled h", "charged h", "difference h", "likely cause"), out)
    t = rec.totals
    print(f"\nTotal: modelled {t['modelled_hours']:.2f} h, charged {t['charged_hours']:.2f} h, "
          f"difference {t['difference_hours']:+.2f} h; {len(rec.mismatches)} of "
          f"{len(rec.rows)} rows differ by more than a minute (--json for every digit).",
          file=out)
    for e in rec.export_only:
        days = f"{e['days']} day" + ("s" if e["days"] != 1 else "")
        say(f"In the export only: {e['vm']} ({e['resource_id']}), {e['charged_hours']} h "
            f"charged over {days}", out)
    for e in rec.log_only:
        say(f"In the log only: {e['vm']}, {e['modelled_hours']} h modelled, none charged", out)
    for note in rec.notes:
        say(f"Note: {note}", out)
    return 0


def add_commands(sub: Any) -> None:
    from ..io.inventory import add_inventory_argument

    p = sub.add_parser(
        "reconcile",
        help="compare modelled compute hours with a Cost Management export, per VM and day",
        description="Bill an Activity Log (or snapshots, or a timeline file) and compare its "
        "compute hours with what a Cost Management export charged, per VM and UTC day: an EA "
        "or MCA cost details CSV (actual or amortized) or a FOCUS CSV/Parquet export. Each "
        "day that differs gets its likely cause. Only Virtual Machines compute meters are "
        "compared; disk and network rows are counted and set aside.",
    )
    p.add_argument("log", help="Activity Log (REST or export shape), snapshots, vmlife timeline "
                   "file, or a folder 'vmlife pull' wrote (its inventory is used); - for "
                   "standard input")
    p.add_argument("--costs", required=True, metavar="EXPORT",
                   help="Cost Management export: cost details CSV (EA/MCA) or FOCUS CSV/Parquet")
    add_inventory_argument(p)
    p.add_argument("--edition", help="billing edition for the modelled side (default: newest)")
    p.add_argument("--granularity", default="minute", choices=["second", "minute", "hour"],
                   help="each continuous billed run is floored to this unit (default: minute)")
    p.add_argument("--start", metavar="T", type=time_arg,
                   help="compare from this time (ISO 8601; default: the export's first day)")
    p.add_argument("--end", metavar="T", type=time_arg,
                   help="compare until this time (ISO 8601; default: the end of the export's "
                   "last day)")
    p.add_argument("--strict", action="store_true", help="stop at the first bad record")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true",
                     help='print {"rows": [...], "totals": ..., "unmatched": ...} as JSON')
    fmt.add_argument("--csv", action="store_true", help="print the rows as CSV")
    p.set_defaults(func=cmd_reconcile)
