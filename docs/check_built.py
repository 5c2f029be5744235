"""After ``make docs``: each page that draws the model holds its diagrams and tables.

Run by ``make docs`` (and so by ``make test``); exits 1 naming each page that lacks one.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

#: page -> (inline SVG diagrams at least, vmlife tables at least, PNG pictures at least)
EXPECTED = {
    "state-model.html": (4, 4, 0),
    "billing.html": (1, 5, 1),
    "plugins.html": (1, 0, 0),
    "writing-docs.html": (1, 0, 0),
}


def main(out: Path) -> int:
    problems = []
    for page, (n_svg, n_tables, n_png) in EXPECTED.items():
        path = out / page
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        html = path.read_text(encoding="utf-8")
        svgs = re.findall(r'<figure class="vmlife-diagram[^"]*"><div class="vmlife-picture">'
                          r"(<svg\b.*?</svg>)", html, flags=re.S)
        for svg in svgs:
            ET.fromstring(svg)  # well-formed, or the check fails loudly
        tables = len(re.findall(r'<table class="[^"]*vmlife-table', html))
        pngs = [p for p in re.findall(r'<img src="(_images/vmlife-[0-9a-f]+\.png)"', html)
                if (out / p).is_file()]
        if len(svgs) < n_svg:
            problems.append(f"{path}: {len(svgs)} diagrams, expected {n_svg}")
        if tables < n_tables:
            problems.append(f"{path}: {tables} vmlife tables, expected {n_tables}")
        if len(pngs) < n_png:
            problems.append(f"{path}: {len(pngs)} plots, expected {n_png}")
        if "system-message" in html:
            problems.append(f"{path}: a directive's error is on the page")
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{out}: every page holds its diagrams and tables")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/docs")))
