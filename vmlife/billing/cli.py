"""Billing subcommands: ``vmlife editions``, ``vmlife bill``, ``vmlife whatif``."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from ..cli import dump, say, table
from ..errors import InputError
from ..io.inventory import add_inventory_argument
from ..timeutil import iso, time_arg

__all__ = ["add_commands"]


def cmd_editions(args: argparse.Namespace, out: TextIO) -> int:
    from ..lifecycle import lifecycle
    from .editions import diff_editions

    lc = lifecycle()
    default = lc.edition().id
    eds = sorted(lc.editions.values(), key=lambda e: e.order)
    if args.diff:
        a, b = (lc.edition(x) for x in args.diff)
        keys = diff_editions(a, b)
        rows: list[dict[str, Any]] = [
            {
                "state": k,
                a.id: {"bills": sorted(a.rule_for(k).bills), "wording": a.rule_for(k).wording},
                b.id: {"bills": sorted(b.rule_for(k).bills), "wording": b.rule_for(k).wording},
            }
            for k in keys
        ]
        if args.json:
            dump({"a": a.id, "b": b.id, "differs": rows}, out)
            return 0
        print(f"States billed differently under {a.id} and {b.id}:", file=out)
        table(
            [
                (r["state"], _bills(r[a.id]["bills"]), r[a.id]["wording"],
                 _bills(r[b.id]["bills"]), r[b.id]["wording"])
                for r in rows
            ],
            ("state", f"{a.id} bills", f"{a.id} says", f"{b.id} bills", f"{b.id} says"),
            out,
        )
        return 0
    if args.json:
        dump(
            [
                {
                    "id": e.id,
                    "title": e.title,
                    "date": e.date,
                    "source": e.source,
                    "default": e.id == default,
                    "plugin": e.plugin,
                    "notes": list(e.notes),
                    "rules": {
                        k: {"bills": sorted(r.bills), "wording": r.wording, "note": r.note}
                        for k, r in sorted(e.rules.items())
                    },
                }
                for e in eds
            ],
            out,
        )
        return 0
    table(
        [(e.id + (" (default)" if e.id == default else ""), e.date, e.title, e.source)
         for e in eds],
        ("edition", "date", "title", "source"),
        out,
    )
    states = sorted({k for e in eds for k in e.rules})
    print("\nWhat each edition bills (c = compute, l = licence; '-' nothing):", file=out)
    table(
        [[k] + [_short(e, k) for e in eds] for k in states],
        ["state", *[e.id for e in eds]],
        out,
    )
    return 0


def _bills(bills: list[str]) -> str:
    return "+".join(bills) if bills else "nothing"


def _short(edition: Any, key: str) -> str:
    if not edition.has_rule(key):
        return "(none)"
    bills = edition.rule_for(key).bills
    return "".join(c for c, n in (("c", "compute"), ("l", "license")) if n in bills) or "-"


def cmd_bill(args: argparse.Namespace, out: TextIO) -> int:
    from .meter import bill
    from .prices import load_prices

    if args.prices and (args.sku or args.os):
        raise InputError("give either --prices or --sku/--os, not both")
    from ..io.folder import is_pull_folder, read_folder_input
    from ..io.history import read_input
    from ..io.inventory import inventory_from_args
    from ..timeline import last_change

    inventory = inventory_from_args(args)
    found, end = None, args.end
    if is_pull_folder(args.file):
        folder = read_folder_input(args.file, format=args.format, initial=args.initial,
                                   strict=args.strict, quiet=args.quiet, start=args.start,
                                   inventory=inventory)
        source, found, inventory = folder.history, folder.prices, folder.inventory
        end = end or folder.end
    else:
        source = read_input(args.file, format=args.format, initial=args.initial,
                            strict=args.strict, quiet=args.quiet, start=args.start,
                            inventory=inventory)
    source.require_usable()
    timelines, anomalies = source.timelines, source.anomalies
    if end is None:  # every VM's last state billed until the input's last change, as report does
        end = last_change(timelines)
    prices = load_prices(args.prices) if args.prices else found
    result = bill(
        timelines,
        edition=args.edition,
        prices=prices,
        granularity=args.granularity,
        start=args.start,
        end=end,
        sku=args.sku,
        os=args.os,
        inventory=inventory,
    )
    # the bill says which VMs the inventory lacks, with the fallback price
    result.notes.extend(n for n in source.notes if not n.startswith("Not in the inventory"))
    if args.json:
        data = result.to_dict()
        data["anomalies"] = [a.as_dict() for a in anomalies]
        if inventory is not None:
            data["inventory_problems"] = [
                {"record": p.record, "field": p.field, "reason": p.reason}
                for p in inventory.problems
            ]
        dump(data, out)
    elif args.csv:
        out.write(result.to_csv())
    elif args.focus:
        out.write(result.to_focus_csv())
    else:
        e = result.edition
        print(f"Edition {e.id} ({e.date}): {e.title} [{e.source}]", file=out)
        print(f"Currency {result.currency}, per {result.granularity} (each continuous run "
              f"floored)\n", file=out)
        if inventory is not None:
            table([(v.vm, v.price.sku, v.price.os, v.price.priority,
                    v.price.region or "(any)", v.price.other_monthly,
                    "no" if v.vm in result.not_in_inventory else "yes") for v in result.vms],
                  ("vm", "priced as size", "os", "priority", "region", "disks/month",
                   "in inventory"), out)
            print(file=out)
        rows = result.summary()
        for row, vm_bill in zip(rows, result.vms, strict=True):
            # hours with no known power state, billed as the last known one (meter doc)
            row["unknown_hours"] = round(vm_bill.unknown_hours, 4)
        table([list(r.values()) for r in rows], list(rows[0]) if rows else ["vm"], out)
        print(f"\nTotal: {result.total_cost} {result.currency}", file=out)
        for vm_bill in result.vms:
            for u in vm_bill.unknown:
                say(f"Unknown power state: {vm_bill.vm} {iso(u.start)} to {iso(u.end)}, billed "
                    f"as {u.billed_as or 'no VM power state (disks and networking only)'}", out)
        for note in result.notes:
            say(f"Note: {note}", out)
        for a in anomalies:
            where = f"{a.record}" + (f", field {a.field!r}" if a.field else "")
            say(f"Anomaly ({where}, VM {a.vm or '?'}): {a.reason}", out)
    return 0


def cmd_whatif(args: argparse.Namespace, out: TextIO) -> int:
    from .prices import load_prices
    from .whatif import DEFAULT_SCHEDULES, Schedule, compare

    schedules = list(DEFAULT_SCHEDULES)
    for op in args.off or ():
        schedules.append(Schedule(f"{op}-overnight", op, attributes=_attrs(args.attribute)))
    editions = None if args.edition is None else (["all"] if args.edition == "all" else
                                                  [args.edition])
    rows = compare(
        schedules,
        start=args.start,
        days=args.days,
        editions=editions,
        prices=load_prices(args.prices) if args.prices else None,
        sku=args.sku,
        os=args.os,
        granularity=args.granularity,
    )
    if args.json:
        dump(rows, out)
        return 0
    print(f"What-if over {args.days} days from {args.start}, {args.sku} {args.os}, working "
          f"hours 08:00-18:00 UTC on weekdays:\n", file=out)
    table(
        [(r["edition"], r["schedule"], r["compute_hours"], r["license_hours"],
          r["compute_cost"], r["license_cost"], r["other_cost"], r["total_cost"])
         for r in rows],
        ("edition", "schedule", "compute h", "licence h", "compute", "licence", "other",
         f"total {rows[0]['currency'] if rows else ''}"),
        out,
    )
    return 0


def _attrs(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError(f"--attribute takes KEY=VALUE, got {pair!r}")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _add_bill_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--edition", help="billing edition id (default: the newest; see "
                   "'vmlife editions')")
    p.add_argument("--prices", metavar="FILE",
                   help="price file: CSV, JSON or Azure Retail Prices API items")
    p.add_argument("--sku", help="VM size for pricing, e.g. Standard_D2s_v5")
    p.add_argument("--os", choices=["linux", "windows"], help="OS for pricing")
    p.add_argument("--granularity", default="minute", choices=["second", "minute", "hour"],
                   help="each continuous billed run is floored to this unit (default: minute)")


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "editions",
        help="list billing editions (revisions of Azure's rules), or diff two",
        description="List the billing editions: each published revision of Azure's VM billing "
        "rules, with its date and source. --diff A B lists the states billed differently.",
    )
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help="compare two editions")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_editions)

    p = sub.add_parser(
        "bill",
        help="bill a timeline file per VM and component",
        description="Bill VM timelines under an edition of Azure's rules, with prices and a "
        "granularity. Without --prices, vmlife's labelled sample prices are used.",
    )
    p.add_argument("file", help="a vmlife timeline file, an Activity Log (REST or export shape, "
                   "JSON or JSON Lines), polled snapshots, or a folder 'vmlife pull' wrote "
                   "(its inventory sizes the VMs, its prices price them); - for standard input")
    _add_bill_options(p)
    p.add_argument("--format", default="auto",
                   help="input shape: auto (default), or one the 'timeline' command lists")
    add_inventory_argument(p)
    p.add_argument("--initial", metavar="STATE",
                   help="state of each VM before its first Activity Log event")
    p.add_argument("--strict", action="store_true",
                   help="treat input anomalies as errors")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--start", type=time_arg,
                   help="bill from this time (ISO 8601); an Activity Log VM's state before its "
                   "first event (inferred or --initial) holds from here")
    p.add_argument("--end", type=time_arg,
                   help="bill until this time (ISO 8601; default: the input's last change, "
                   "until which every VM's last state is billed)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print the bill as JSON")
    fmt.add_argument("--csv", action="store_true", help="print billed runs as CSV")
    fmt.add_argument("--focus", action="store_true", help="print FinOps FOCUS rows as CSV")
    p.set_defaults(func=cmd_bill)

    p = sub.add_parser(
        "whatif",
        help="compare working-hours schedules: always on, stop or deallocate overnight",
        description="Simulate a VM that runs 08:00-18:00 UTC on weekdays and is stopped, "
        "deallocated (or any --off operation) outside those hours; compare the bills.",
    )
    _add_bill_options(p)
    p.set_defaults(sku="Standard_D2s_v5", os="linux")
    p.add_argument("--start", default="2024-01-01T00:00:00Z", type=time_arg,
                   help="period start (ISO 8601)")
    p.add_argument("--days", type=int, default=30, help="period length in days (default 30)")
    p.add_argument("--off", action="append", metavar="OPERATION",
                   help="add a schedule using this operation overnight (e.g. hibernate)")
    p.add_argument("--attribute", action="append", metavar="KEY=VALUE",
                   help="VM attribute for --off schedules, e.g. hibernation_enabled=true")
    p.add_argument("--json", action="store_true", help="print JSON rows")
    p.set_defaults(func=cmd_whatif)
