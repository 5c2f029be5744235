"""Diagram subcommands: ``vmlife diagram`` and ``vmlife doctor``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..cli import dump, table
from ..errors import InputError

__all__ = ["add_commands"]

SCOPE_CHOICES = ("power", "provisioning", "os", "lifecycle")


def cmd_diagram_all(args: argparse.Namespace, out: TextIO) -> int:
    """``--all``: every scope under every edition, with an index; ``--check`` compares."""
    from ..lifecycle import lifecycle
    from .engine import require_engine
    from .gallery import check_gallery, gallery_files, write_gallery

    given = [flag for flag, value in (("SCOPE", args.scope), ("--edition", args.edition),
                                      ("--highlight", args.highlight), ("--diff", args.diff),
                                      ("--format", args.format)) if value]
    if given:
        raise InputError(f"--all draws every scope under every edition: drop {', '.join(given)}")
    if not args.output:
        raise InputError("--all needs -o DIR: the folder to write (or to --check)")
    lc = lifecycle()
    svg = not args.no_svg
    if args.check:
        problems = check_gallery(gallery_files(lc, svg=svg, draw=False), args.output)
        for line in problems:
            print(f"stale: {line}", file=out)
        if problems:
            print(f"{len(problems)} stale; regenerate with: vmlife diagram --all -o "
                  f"{args.output}" + (" --no-svg" if args.no_svg else ""), file=out)
            return 1
        print(f"{args.output}: every diagram is up to date", file=out)
        return 0
    if svg:
        require_engine("svg")  # says what to install, or to pass --no-svg
    paths = write_gallery(gallery_files(lc, svg=svg), args.output)
    print(f"Wrote {len(paths)} files to {args.output} (index: "
          f"{Path(args.output) / 'index.md'}, {Path(args.output) / 'index.html'})", file=out)
    return 0


def cmd_diagram(args: argparse.Namespace, out: TextIO) -> int:
    from ..lifecycle import lifecycle
    from . import OUTPUT_FORMATS, diagram, format_for_path

    if args.all:
        return cmd_diagram_all(args, out)
    if args.check or args.no_svg:
        raise InputError("--check and --no-svg go with --all")
    args.scope = args.scope or "power"
    lc = lifecycle()
    fmt = args.format or (format_for_path(args.output) if args.output else None) or "svg"
    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"unknown format {fmt!r}; valid: {', '.join(OUTPUT_FORMATS)}")
    highlight = lc.find_state(args.highlight).key if args.highlight else None
    d = diagram(lc, args.scope, edition=args.edition, highlight=highlight,
                diff=tuple(args.diff) if args.diff else None)
    data = d.render(fmt)
    if args.output:
        with open(args.output, "wb") as fh:
            fh.write(data)
        print(f"Wrote {args.output} ({fmt}, {len(data):,} bytes)", file=out)
    elif fmt in ("png", "pdf"):
        if sys.stdout.isatty():
            raise InputError(f"{fmt.upper()} is binary: give -o FILE or redirect the output")
        sys.stdout.buffer.write(data)
    else:
        out.write(data.decode("utf-8"))
        if not data.endswith(b"\n"):
            out.write("\n")
    return 0


#: Optional packages ``vmlife doctor`` reports: module, the extra that installs it, its use.
OPTIONAL = (
    ("matplotlib", "plot", "billing timelines"),
    ("pandas", "pandas", "fleet billing and DataFrames"),
    ("ipywidgets", "notebook", "notebook explorers"),
    ("msgspec", "fast", "reading large Activity Logs fast"),
    ("pyarrow", "parquet", "Parquet events and cost exports"),
)


def cmd_doctor(args: argparse.Namespace, out: TextIO) -> int:
    from .. import __version__
    from ..cli import EXIT_DEFINITION
    from ..plugin_check import check_plugins
    from .engine import INSTALL_HINT, find_engine

    engine = find_engine()
    check = check_plugins()
    info: dict[str, Any] = {
        "vmlife": __version__,
        "python": sys.version.split()[0],
        "graphviz_engine": engine.as_dict() if engine else None,
        "plugins": [p.name for p in check.plugins],
        "plugin_problems": [p.as_dict() for p in check.errors],
    }
    code = 0 if check.ok else EXIT_DEFINITION
    for mod, extra, use in OPTIONAL:
        try:
            __import__(mod)
            info[mod] = f"installed: {use}"
        except ImportError:
            info[mod] = f'missing: pip install "vmlife[{extra}]" for {use}'
    if args.json:
        dump(info, out)
        return code
    rows = [("vmlife", info["vmlife"]), ("python", info["python"])]
    if engine:
        rows.append(("graphviz engine", f"{engine.name}: {engine.path} "
                     f"({', '.join(sorted(engine.formats))}; {engine.version()})"))
    else:
        rows.append(("graphviz engine", f"none: DOT and Mermaid only. To draw: {INSTALL_HINT}"))
    rows += [(m, info[m]) for m, _, _ in OPTIONAL]
    rows.append(("plugins", ", ".join(info["plugins"])))
    rows += [("plugin problem", f"{p.plugin}: {p.message}") for p in check.errors]
    table(rows, ("what", "status"), out)
    return code


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "diagram",
        help="draw a state diagram (SVG, PNG, PDF, DOT or Mermaid)",
        description="Draw the power, provisioning or OS-provisioning axis, or the whole "
        "lifecycle with plugins: states coloured by what they bill under an edition, "
        "transitional states dashed, edges labelled by operation. DOT and Mermaid text need no "
        "Graphviz; pictures use the system dot or graphviz-pure ('vmlife doctor' says which). "
        "For docs that are not Sphinx: 'vmlife diagram --all -o docs/diagrams' writes them all "
        "with an index page, and '--check' in CI names each stale file.",
    )
    p.add_argument("scope", nargs="?", default=None, metavar="|".join(SCOPE_CHOICES),
                   help="what to draw (default: power); a plugin's axis id works too "
                   "(e.g. hibernation)")
    p.add_argument("--edition", help="billing edition that colours the states (default: newest)")
    p.add_argument("--highlight", metavar="STATE",
                   help="highlight a state: an id (power preferred) or axis.id")
    p.add_argument("--diff", nargs=2, metavar=("A", "B"),
                   help="mark the states whose billing changed from edition A to edition B")
    p.add_argument("--format", choices=["svg", "png", "pdf", "dot", "mermaid"],
                   help="output format (default: from -o's suffix, else svg)")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here instead of standard output (with --all: a folder)")
    p.add_argument("--all", action="store_true",
                   help="every scope (plugin axes included) under every edition, as SVG and "
                   "Mermaid, with index.md and index.html, into the folder -o DIR")
    p.add_argument("--check", action="store_true",
                   help="with --all: write nothing; exit 1 naming each file in DIR that is "
                   "missing, out of date or no longer made (for a docs CI; SVGs are compared "
                   "by the DOT they were drawn from, so no Graphviz is needed)")
    p.add_argument("--no-svg", action="store_true",
                   help="with --all: Mermaid and the index only (no Graphviz needed)")
    p.set_defaults(func=cmd_diagram)

    p = sub.add_parser(
        "doctor",
        help="say which Graphviz engine, optional extras and plugins are in use",
        description="Which Graphviz engine and optional extras are in use, and the plugins; "
        "exit status 3 when a plugin is broken ('vmlife plugins --check' says how).",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_doctor)
