"""The ``vmlife`` command line.

Every subcommand that prints data takes ``--json`` for machine-readable output. Errors go to
standard error with a non-zero exit code: 2 for bad usage or input, 3 for a broken plugin set.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from . import __version__
from .errors import DefinitionError, VmlifeError

__all__ = ["main"]

EXIT_INPUT = 2
EXIT_DEFINITION = 3

#: Modules that add subcommands: each has ``add_commands(subparsers)``. They must import
#: nothing heavy at module level (the command functions import what they need).
COMMAND_MODULES: tuple[str, ...] = (
    "vmlife.billing.cli",
    "vmlife.io.cli",
    "vmlife.render.cli",
    "vmlife.render.report",
    "vmlife.billing.reconcile",
    "vmlife.azure.cli",
)


def table(rows: Sequence[Sequence[Any]], header: Sequence[str], out: TextIO) -> None:
    from .render.escape import terminal_text

    enc = getattr(out, "encoding", None)
    cells = [[("" if c is None else terminal_text(str(c), enc)) for c in row] for row in rows]
    widths = [len(h) for h in header]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print(fmt.format(*header).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print(fmt.format(*row).rstrip(), file=out)


def say(text: str, out: TextIO) -> None:
    """Print text that may hold names from the input: each line made safe for a terminal
    (control characters such as ANSI escapes and lone surrogates become U+FFFD)."""
    from .render.escape import terminal_text

    enc = getattr(out, "encoding", None)
    print("\n".join(terminal_text(line, enc) for line in text.split("\n")), file=out)


def dump(obj: Any, out: TextIO) -> None:
    json.dump(obj, out, indent=2)
    out.write("\n")


# ---------------------------------------------------------------------- commands
def cmd_states(args: argparse.Namespace, out: TextIO) -> int:
    from .lifecycle import lifecycle

    lc = lifecycle()
    axes = [args.axis] if args.axis else [a.id for a in lc.axis_order()]
    rows = []
    for axis in axes:
        for st in lc.states_on(axis):
            rows.append(st)
    if args.json:
        dump(
            [
                {
                    "id": s.id,
                    "axis": s.axis,
                    "code": s.code,
                    "displayStatus": s.display,
                    "level": s.level,
                    "transitional": s.transitional,
                    "revisions": list(s.revisions),
                    "plugin": s.plugin,
                    "description": s.description,
                    "note": s.note,
                }
                for s in rows
            ],
            out,
        )
        return 0
    table(
        [
            (
                s.axis,
                s.id,
                s.code,
                s.display,
                s.level,
                "transitional" if s.transitional else "stable",
                " ".join(s.revisions) or "-",
            )
            for s in rows
        ],
        ("axis", "id", "code", "displayStatus", "level", "kind", "revisions"),
        out,
    )
    return 0


def cmd_ops(args: argparse.Namespace, out: TextIO) -> int:
    from .engine import VM
    from .lifecycle import lifecycle

    lc = lifecycle()
    if args.from_state is None:
        ops = list(lc.operations.values())
        if args.json:
            dump([_op_json(o) for o in ops], out)
            return 0
        table(
            [
                (
                    o.id,
                    o.kind,
                    ", ".join(sorted(o.sources))
                    if o.sources
                    else ("(no VM)" if o.creates else "any"),
                    o.provisioning or "-",
                    o.plugin,
                )
                for o in ops
            ],
            ("operation", "kind", "allowed from (power)", "provisioning during", "plugin"),
            out,
        )
        return 0
    name = args.from_state
    if name in ("none", "absent", "-"):
        vm = VM("cli")
    else:
        vm = VM("cli", state=name)
    allowed = vm.allowed()
    refused = {o: vm.why_not(o) for o in lc.operations if o not in allowed}
    if args.json:
        dump({"state": vm.state.as_dict(), "allowed": allowed, "refused": refused}, out)
        return 0
    print(f"From {vm.state.describe()}:", file=out)
    table(
        [(o, "allowed", lc.operations[o].description) for o in allowed]
        + [(o, "refused", "; ".join(r)) for o, r in refused.items()],
        ("operation", "", "why"),
        out,
    )
    return 0


def _op_json(o: Any) -> dict[str, Any]:
    return {
        "id": o.id,
        "kind": o.kind,
        "sources": sorted(o.sources) if o.sources is not None else None,
        "creates": o.creates,
        "deletes": o.deletes,
        "provisioning": o.provisioning,
        "final": dict(o.final),
        "activity_log": list(o.activity_log),
        "plugin": o.plugin,
        "description": o.description,
        "note": o.note,
    }


def cmd_plugins(args: argparse.Namespace, out: TextIO) -> int:
    from .plugin_check import check_plugins

    result = check_plugins()
    code = EXIT_DEFINITION if not result.ok or (args.strict and result.problems) else 0
    if args.json:
        dump(result.as_dict() if args.check else [i.as_dict() for i in result.plugins], out)
    else:
        table(
            [(i.name, i.distribution or "-", i.version or "-", ", ".join(i.hooks))
             for i in result.plugins],
            ("plugin", "distribution", "version", "hooks"),
            out,
        )
        if args.check:
            print(file=out)
            if not result.problems:
                say("No problems: every plugin loads and the lifecycle builds.", out)
            for p in result.problems:
                say(f"{p.severity}: {p.plugin}: {p.kind}: {p.message}", out)
    if not args.check and not result.ok:
        _error(
            f"vmlife: {len(result.errors)} plugin problem(s), first: {result.errors[0].message}"
            "; 'vmlife plugins --check' lists them all"
        )
    return code


def cmd_new_plugin(args: argparse.Namespace, out: TextIO) -> int:
    from .scaffold import names_for, new_plugin

    root = new_plugin(args.name, args.dir)
    n = names_for(args.name)
    say(f"Wrote {root}: the {n.distribution} package, entry point {n.entry_point!r}.", out)
    say(f"Next: pip install -e '{root}[test]' && python -m pytest {root}", out)
    return 0


def cmd_status(args: argparse.Namespace, out: TextIO) -> int:
    from .io.instance_view import read_instance_views_file
    from .lifecycle import lifecycle

    lc = lifecycle()
    readings = read_instance_views_file(args.file, lc=lc)
    rows = [r.as_dict(lc) for r in readings]
    if args.json:
        dump(rows, out)
        return 0
    axes = [a.id for a in lc.axis_order()]
    table(
        [
            [r["vm"] or "-"]
            + [r[a] or "-" for a in axes]
            + [r["error_code"] or "-", ", ".join(r["unknown_codes"]) or "-"]
            for r in rows
        ],
        ["vm", *axes, "error_code", "unknown codes"],
        out,
    )
    return 0


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .engine import VM
    from .timeutil import iso

    print("vmlife demo: the Azure VM state model and a simulated VM\n", file=out)
    cmd_states(argparse.Namespace(axis=None, json=False), out)
    print(
        "\nA VM created from a generalized image, stopped, deallocated, started, deleted:\n",
        file=out,
    )
    vm = VM("demo-vm", start="2024-03-04T08:00:00Z")
    vm.create(generalized=True)
    vm.power_off(at="2024-03-04T12:00:00Z")
    vm.deallocate(at="2024-03-04T12:30:00Z")
    vm.start(at="2024-03-05T08:00:00Z")
    vm.restart(at="2024-03-05T09:00:00Z", fail="InternalOperationError")
    vm.delete(at="2024-03-05T18:00:00Z")
    table(
        [
            (
                iso(s.start),
                iso(s.end) or "...",
                s.state.provisioning or "-",
                s.state.power or "-",
                s.state.os_provisioning or "-",
                s.state.error_code or "-",
                s.operation or "",
            )
            for s in vm.timeline
        ],
        ("start", "end", "provisioning", "power", "os_provisioning", "error", "operation"),
        out,
    )
    print("\nWhat Azure's instance view showed at 2024-03-04T08:01:30Z:", file=out)
    dump(vm.timeline.statuses_at("2024-03-04T08:01:30Z"), out)
    print("\nAnd after the failed restart (2024-03-05T10:00:00Z):", file=out)
    dump(vm.timeline.statuses_at("2024-03-05T10:00:00Z"), out)

    from .billing.meter import bill
    from .lifecycle import lifecycle

    print("\nIts compute bill under each revision of Azure's billing rules (per minute):\n",
          file=out)
    rows = []
    for ed in sorted(lifecycle().editions.values(), key=lambda e: e.order):
        b = bill(vm.timeline, edition=ed)
        secs = b.vms[0].billed_seconds
        rows.append((ed.id, ed.date, round(secs["compute"] / 3600, 3),
                     round(secs["other"] / 3600, 3), b.total_cost))
    table(rows, ("edition", "date", "compute h", "disks/network h", f"total {b.currency}"), out)
    print(f"\n{b.notes[0]}", file=out)
    return 0


# ---------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vmlife",
        description="Azure VM lifecycle and billing: states, status codes, operations, plugins.",
        epilog="Run 'vmlife COMMAND --help' for a command's options. Plugins are loaded from the "
        "'vmlife' entry-point group; VMLIFE_LOAD_PLUGINS=a,b loads only those, "
        "VMLIFE_LOAD_PLUGINS= none.",
    )
    p.add_argument("--version", action="version", version=f"vmlife {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser(
        "states",
        help="list the states of every axis with their Azure codes",
        description="List states: axis, id, status code, displayStatus, level, "
        "transitional or stable, and the spec revisions that list each.",
    )
    s.add_argument("--axis", help="only this axis (provisioning, power, os_provisioning, ...)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_states)

    s = sub.add_parser(
        "ops",
        help="list operations, or those allowed from a state",
        description="Without --from, list every operation. With --from STATE "
        "(a power state id such as deallocated, or axis.id, or 'none' for no VM), "
        "say which operations are allowed from it and why the others are not.",
    )
    s.add_argument("--from", dest="from_state", metavar="STATE")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_ops)

    s = sub.add_parser(
        "plugins",
        help="list plugins with versions and hooks; --check reports every problem",
        description="List the plugins vmlife loads (its default plugins and the entry points "
        "of group 'vmlife' that VMLIFE_LOAD_PLUGINS selects). The lifecycle is built with "
        "all of them: if a plugin is broken (fails to import, implements a misspelled hook, "
        "conflicts with another, registers a state on a missing axis...) the exit status is 3. "
        "--check prints every problem, each naming the plugin by its entry-point name, and "
        "the billing rules that override the power state's (notices).",
    )
    s.add_argument("--json", action="store_true",
                   help="print JSON: the list of plugins; with --check, "
                   "{ok, plugins, problems}")
    s.add_argument("--check", action="store_true",
                   help="print every problem and notice; exit 3 on any error")
    s.add_argument("--strict", action="store_true",
                   help="with --check: notices (billing overrides) fail too")
    s.set_defaults(func=cmd_plugins)

    s = sub.add_parser(
        "new-plugin",
        help="write a new plugin package to start from (installable, with passing tests)",
        description="Write vmlife-NAME/ into DIR: a pyproject.toml with the entry point and a "
        "vmlife dependency, a module with one commented example per hook, tests (one per "
        "hook, with the bare_core fixture) that pass as written, and a README. Then: "
        "pip install -e 'vmlife-NAME[test]' && python -m pytest vmlife-NAME. An existing "
        "folder is never overwritten.",
    )
    s.add_argument("name", help="the plugin's name: lower-case words joined by - or _ "
                   "(e.g. demo, night-shift); the package is vmlife-NAME")
    s.add_argument("--dir", default=".", metavar="D",
                   help="the folder to write the package in (default: the current folder)")
    s.set_defaults(func=cmd_new_plugin)

    s = sub.add_parser(
        "status",
        help="read VM states from instance-view JSON or az vm list -d output",
        description="Read a VM's state from: az vm get-instance-view / REST InstanceView JSON, "
        "a VM GET with properties.instanceView, a List All statusOnly=true page, or "
        "az vm list -d / show -d rows. Only the VM's own top-level statuses count.",
    )
    s.add_argument("file", help="JSON file, or - for standard input")
    s.add_argument(
        "--json",
        action="store_true",
        help="print a list of {vm, <axis>..., error_code, unknown_codes}",
    )
    s.set_defaults(func=cmd_status)

    s = sub.add_parser("demo", help="print the state tables and a simulated VM's history")
    s.set_defaults(func=cmd_demo)

    for modname in COMMAND_MODULES:
        importlib.import_module(modname).add_commands(sub)
    return p


def _error(message: str) -> None:
    """An error message on standard error, safe for a terminal (names may hold anything)."""
    from .render.escape import terminal_text

    print(terminal_text(message, getattr(sys.stderr, "encoding", None)), file=sys.stderr)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, TextIO], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(out)
        return EXIT_INPUT
    try:
        return func(args, out)
    except DefinitionError as exc:
        _error(f"vmlife: plugin or definition error: {exc}")
        return EXIT_DEFINITION
    except VmlifeError as exc:
        _error(f"vmlife: error: {exc}")
        return EXIT_INPUT
    except BrokenPipeError:  # e.g. piped into head
        return 0
