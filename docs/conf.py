"""Sphinx configuration for vmlife's own docs (``make docs`` builds them into out/docs)."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

project = "vmlife"
author = "the vmlife authors"
copyright = "vmlife authors"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "vmlife.sphinx",
]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_generated", "data"]
html_theme = "furo"
html_title = "vmlife"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
# Pages include sections of the README, whose headings start at level 2 and whose links
# point into the repository rather than at other pages.
suppress_warnings = ["myst.header", "myst.xref_missing"]
nitpicky = False


def _cli_help() -> None:
    """Write every command's --help into _generated/cli.txt (the CLI page includes it)."""
    import argparse

    from vmlife.cli import build_parser

    parser = build_parser()
    out = io.StringIO()
    out.write(parser.format_help())
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.write(f"\n\n$ vmlife {name} --help\n\n")
                out.write(sub.format_help())
    target = HERE / "_generated"
    target.mkdir(exist_ok=True)
    text = out.getvalue()
    path = target / "cli.txt"
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)


os.environ.setdefault("COLUMNS", "100")
_cli_help()
