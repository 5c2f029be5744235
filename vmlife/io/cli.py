"""``vmlife timeline``: real histories (Activity Logs, polled instance views) as timelines.

Registered through :data:`vmlife.cli.COMMAND_MODULES`; imports nothing heavy at module level.
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from ..cli import dump, say, table
from ..timeutil import time_arg, to_datetime
from .inventory import add_inventory_argument

__all__ = ["add_commands", "cmd_timeline", "format_span"]


def add_commands(sub: Any) -> None:
    """Add ``timeline`` to the ``vmlife`` subcommands."""
    s = sub.add_parser(
        "timeline",
        help="rebuild VM timelines from an Activity Log or polled instance views",
        description="Read an Azure Activity Log (REST/portal JSON, or the storage / Event Hubs "
        "export; a JSON array, an object with 'value' or 'records', or JSON Lines) or polled "
        "instance views (JSON Lines of {time, vm, statuses}) and print each VM's steps. "
        "Records that cannot be used are listed as anomalies, and the record counts reconcile: "
        "read = used + duplicates + anomalies + ignored. Guest-OS shutdowns are not in the "
        "Activity Log.",
    )
    s.add_argument("file", help="the file, or - for standard input")
    s.add_argument(
        "--json",
        action="store_true",
        help="print the vmlife timeline file format plus 'anomalies', 'counts' and 'notes'",
    )
    s.add_argument(
        "--format",
        default="auto",
        choices=("auto", "rest", "export", "azureactivity", "snapshots"),
        help="the input: detect (default), Activity Log REST or export shape, Log Analytics "
        "AzureActivity rows (JSON or the portal's CSV export), or snapshots",
    )
    s.add_argument(
        "--initial",
        metavar="STATE",
        help="Activity Logs: every VM's state before its first event (e.g. deallocated, or "
        "none); default: inferred from the first operation",
    )
    s.add_argument(
        "--start",
        metavar="TIME",
        type=time_arg,
        help="Activity Logs: the period start (ISO 8601); the state before each VM's first "
        "event (inferred or --initial) holds from here",
    )
    add_inventory_argument(s)
    s.add_argument("--strict", action="store_true", help="stop with an error at the first anomaly")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_timeline)


def cmd_timeline(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``vmlife timeline``."""
    from .history import read_history
    from .inventory import inventory_from_args

    result = read_history(
        args.file,
        format=args.format,
        initial=args.initial,
        strict=args.strict,
        quiet=args.quiet,
        start=args.start,
        inventory=inventory_from_args(args),
    )
    if args.json:
        dump(result.to_dict(), out)
        result.require_usable()  # the anomalies are printed; then exit 2 if nothing was usable
        return 0
    kind = "Activity Log" if result.kind == "activity_log" else "snapshots"
    say(f"{result.source}: {kind} ({result.format}), {len(result.timelines)} VMs", out)
    for tl in result.timelines:
        print(file=out)
        head = tl.vm
        rid = tl.attributes.get("resource_id")
        if rid:
            head += f"  {rid}"
        if "size" in tl.attributes and "region" in tl.attributes:
            a = tl.attributes
            head += (f"\n  {a['size']} {a.get('os_type') or a.get('os')} in {a['region']}, "
                     f"priority {a.get('priority')}"
                     + (", Azure Hybrid Benefit" if a.get("ahb") else ""))
        init = result.initial.get(tl.vm)
        if init is not None:
            before = init["state"] or "no VM"
            head += f"\n  before the first event: {before} ({init['how']})"
        say(head, out)
        table(
            [
                (
                    _when(s.start),
                    _when(s.end) if s.end is not None else "...",
                    format_span(s.duration),
                    s.state.provisioning or "-",
                    s.state.power or "-",
                    s.state.error_code or "-",
                    s.operation or "",
                )
                for s in tl
            ],
            ("start", "end", "duration", "provisioning", "power", "error", "operation"),
            out,
        )
        for s in tl:
            for note in s.notes:
                say(f"  note on {s.operation or 'the step'} at {_when(s.start)}: {note}", out)
    print(file=out)
    if result.anomalies:
        print(f"Anomalies ({len(result.anomalies)}):", file=out)
        table(
            [
                (a.record, a.vm or "-", a.field or "-", a.records, a.reason)
                for a in result.anomalies
            ],
            ("record", "vm", "field", "records", "reason"),
            out,
        )
    else:
        print("No anomalies.", file=out)
    c = result.counts
    print(
        f"Records: {c.read} read = {c.used} used + {c.duplicates} duplicates + "
        f"{c.anomalies} in anomalies + {c.ignored} ignored",
        file=out,
    )
    if c.guard_noted:
        print(f"Of the used records, {c.guard_noted} are of operations a plugin's guard would "
              "have refused: recorded as they happened, with the guard's reason as a note.",
              file=out)
    if result.unknown_codes:
        codes = ", ".join(f"{k} ({v})" for k, v in sorted(result.unknown_codes.items()))
        say(f"Unknown status codes: {codes}", out)
    for note in result.notes:
        say(f"Note: {note}", out)
    result.require_usable()
    return 0


def _when(t: float) -> str:
    return f"{to_datetime(t):%Y-%m-%d %H:%M:%S}"


def format_span(seconds: float | None) -> str:
    """A duration as ``[Nd ]H:MM:SS`` (rounded to the second); ``...`` for an open step.

    Example:
        >>> format_span(3725.4), format_span(90061)
        ('1:02:05', '1d 1:01:01')
    """
    if seconds is None:
        return "..."
    total = round(seconds)
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{h}:{m:02d}:{s:02d}"
    return f"{days}d {text}" if days else text
