"""Every diagram at once, for docs that are not Sphinx (MkDocs, GitHub Markdown).

``vmlife diagram --all -o DIR`` writes each scope (power, provisioning, os, lifecycle and every
loaded plugin's own axis) under each billing edition as Mermaid text (``.mmd``) and, when a
Graphviz engine is installed, as SVG, with an index page (``index.md`` for Markdown sites and
GitHub, ``index.html`` to open in a browser). ``--check`` writes nothing: it exits 1 naming
each file that is missing, out of date or no longer made, so a docs CI notices that a new
edition or plugin made a picture stale.

An SVG depends on the Graphviz version that drew it, so it carries the SHA-256 of the DOT text
it was drawn from (an XML comment ``vmlife-dot-sha256``): ``--check`` compares that, not the
picture's bytes, and a docs CI with another Graphviz agrees with a writer's machine. Text files
and the index are compared byte for byte.

Example:
    >>> import vmlife
    >>> from vmlife.render.gallery import gallery_files
    >>> files = gallery_files(vmlife.lifecycle(), svg=False)
    >>> "power-2023-10.mmd" in files and "index.md" in files
    True
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import CORE_AXES
from .diagram import Diagram, diagram

if TYPE_CHECKING:  # pragma: no cover
    from ..lifecycle import Lifecycle

__all__ = ["FINGERPRINT", "GalleryItem", "check_gallery", "gallery_files", "gallery_items",
           "write_gallery"]

#: The XML comment an SVG of the gallery carries: the SHA-256 of the DOT text it was drawn from.
FINGERPRINT = "vmlife-dot-sha256"
_FINGERPRINT_RE = re.compile(rf"<!-- {FINGERPRINT}: ([0-9a-f]{{64}}) -->")
#: The files the gallery writes are named like this (others in DIR are left alone).
_OURS = re.compile(r"^(index\.(md|html)|[A-Za-z0-9_.-]+\.(svg|mmd))$")
_CORE_SCOPES = ("power", "provisioning", "os", "lifecycle")


@dataclass(frozen=True)
class GalleryItem:
    """One diagram of the gallery: a scope under an edition."""

    scope: str
    edition: str
    diagram: Diagram

    @property
    def stem(self) -> str:
        """The file name without suffix, ``power-2023-10``."""
        return f"{_safe(self.scope)}-{_safe(self.edition)}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def scopes(lc: Lifecycle) -> list[str]:
    """The core scopes, then every plugin axis (in the lifecycle's axis order)."""
    extra = [a.id for a in lc.axis_order() if a.id not in CORE_AXES]
    return [*_CORE_SCOPES, *extra]


def gallery_items(lc: Lifecycle) -> list[GalleryItem]:
    """Every scope under every edition (oldest edition first)."""
    eds = sorted(lc.editions.values(), key=lambda e: e.order)
    return [GalleryItem(scope, ed.id, diagram(lc, scope, edition=ed.id))
            for scope in scopes(lc) for ed in eds]


def fingerprinted_svg(d: Diagram) -> bytes:
    """The SVG of a diagram with the SHA-256 of its DOT text as a comment after the prolog."""
    svg = d.render("svg").decode("utf-8")
    mark = f"<!-- {FINGERPRINT}: {_sha(d.dot())} -->\n"
    at = svg.find("<svg")
    svg = svg[:at] + mark + svg[at:] if at >= 0 else mark + svg
    return svg.encode("utf-8")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def gallery_files(lc: Lifecycle, *, svg: bool = True, draw: bool = True) -> dict[str, bytes]:
    """File name -> content of the whole gallery.

    Args:
        lc: the lifecycle (its loaded plugins decide the extra scopes).
        svg: include SVGs.
        draw: draw them (needs a Graphviz engine); with ``draw=False`` an SVG's content is
            only its fingerprint comment, which is all :func:`check_gallery` compares.
    """
    items = gallery_items(lc)
    files: dict[str, bytes] = {}
    for it in items:
        files[f"{it.stem}.mmd"] = it.diagram.mermaid().encode("utf-8")
        if svg:
            files[f"{it.stem}.svg"] = (
                fingerprinted_svg(it.diagram) if draw
                else f"<!-- {FINGERPRINT}: {_sha(it.diagram.dot())} -->".encode()
            )
    files["index.md"] = _index_md(lc, items, svg).encode("utf-8")
    files["index.html"] = _index_html(lc, items, svg).encode("utf-8")
    return files


def _plugins(lc: Lifecycle) -> list[str]:
    names = {a.plugin for a in lc.axes.values()} | {o.plugin for o in lc.operations.values()}
    from ..plugins import DEFAULT_PLUGINS

    return sorted(n for n in names if n and n not in DEFAULT_PLUGINS)


def _intro(lc: Lifecycle) -> str:
    plugins = ", ".join(_plugins(lc)) or "none"
    return (f"Every scope under every billing edition, with the plugins loaded: {plugins}. "
            "Made by `vmlife diagram --all`; do not edit: regenerate, and check with "
            "`vmlife diagram --all -o DIR --check`.")


def _title(lc: Lifecycle, scope: str) -> str:
    if scope == "lifecycle":
        return "Whole lifecycle"
    axis = {"os": "os_provisioning"}.get(scope, scope)
    return lc.axes[axis].title or axis


def _by_scope(items: Iterable[GalleryItem]) -> dict[str, list[GalleryItem]]:
    out: dict[str, list[GalleryItem]] = {}
    for it in items:
        out.setdefault(it.scope, []).append(it)
    return out


def _index_md(lc: Lifecycle, items: list[GalleryItem], svg: bool) -> str:
    lines = ["# vmlife state diagrams", "", _intro(lc), ""]
    for scope, group in _by_scope(items).items():
        lines += [f"## {_title(lc, scope)} (`{scope}`)", ""]
        for it in group:
            ed = lc.edition(it.edition)
            lines += [f"### Edition {ed.id} ({ed.date})", ""]
            if svg:
                lines += [f"![{_title(lc, scope)} under edition {ed.id}]({it.stem}.svg)", ""]
            lines += [f"Mermaid: [{it.stem}.mmd]({it.stem}.mmd)", ""]
    return "\n".join(lines)


def _index_html(lc: Lifecycle, items: list[GalleryItem], svg: bool) -> str:
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        "<title>vmlife state diagrams</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:90rem}"
        "img{max-width:100%;height:auto;border:1px solid #ddd}</style>",
        "</head>", "<body>", "<h1>vmlife state diagrams</h1>",
        f"<p>{escape(_intro(lc))}</p>",
    ]
    for scope, group in _by_scope(items).items():
        parts.append(f"<h2>{escape(_title(lc, scope))} (<code>{escape(scope)}</code>)</h2>")
        for it in group:
            ed = lc.edition(it.edition)
            parts.append(f"<h3>Edition {escape(ed.id)} ({escape(ed.date)})</h3>")
            if svg:
                alt = f"{_title(lc, scope)} under edition {ed.id}"
                parts.append(f'<p><img src="{escape(it.stem)}.svg" alt="{escape(alt)}"></p>')
            parts.append(f'<p>Mermaid: <a href="{escape(it.stem)}.mmd">{escape(it.stem)}.mmd'
                         "</a></p>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_gallery(files: dict[str, bytes], out_dir: str | Path) -> list[Path]:
    """Write the files (the folder is created); returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _same(name: str, expected: bytes, actual: bytes) -> bool:
    if name.endswith(".svg"):
        want = _FINGERPRINT_RE.search(expected.decode("utf-8", "replace"))
        got = _FINGERPRINT_RE.search(actual.decode("utf-8", "replace"))
        return bool(want and got and want.group(1) == got.group(1))
    return expected == actual


def check_gallery(files: dict[str, bytes], out_dir: str | Path) -> list[str]:
    """What is stale in ``out_dir``: one line per file (missing, out of date, no longer made).

    ``files`` is :func:`gallery_files` (``draw=False`` is enough: SVGs are compared by the
    fingerprint of their DOT text). Files whose names the gallery never uses are ignored.
    """
    out = Path(out_dir)
    problems: list[str] = []
    for name, data in files.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif not _same(name, data, path.read_bytes()):
            problems.append(f"{path}: out of date")
    if out.is_dir():
        for path in sorted(out.iterdir()):
            if path.is_file() and _OURS.match(path.name) and path.name not in files:
                problems.append(f"{path}: no longer made (remove it)")
    return problems
