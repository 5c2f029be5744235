r"""One visual language: the colour, the second cue and the legend wording of every billing
category, and the few other colours the pictures use.

Every picture vmlife draws (the state diagram as DOT, SVG, PNG and Mermaid; the matplotlib
billing timeline; the HTML report; both widgets) asks this module by meaning ("billed",
"not billed"), never by hex, so a category looks and reads the same everywhere.

The categories, in legend order (see :attr:`vmlife.billing.Rule.category`):

===========================  ===========  ===========  =================  =====================
category                     fill         hatch (mpl)  border (DOT, SVG)  meaning
===========================  ===========  ===========  =================  =====================
billed                       vermillion   none         thick, solid       compute and licence
hardware only                orange       ``//``       thick, dashed      compute; the document
                                                                          says hardware only
billed without licence       yellow       ``\\``       thick, dotted      compute; licences
                                                                          excluded
licence only                 purple       ``||``       thin, dashed       licence, no compute
not billed                   sky blue     ``..``       thin, solid        neither
unknown                      grey         ``xx``       thin, dotted       no rule or no reading
===========================  ===========  ===========  =================  =====================

The fills are Okabe and Ito's colour-blind-safe set ("Color Universal Design", Okabe & Ito,
2002/2008; the grey is ours). A thick border means compute bills; the border's pattern (and,
in matplotlib, the hatch) tells the categories apart without colour, so the pictures survive
greyscale printing. :func:`simulate_cvd` implements the colour-vision-deficiency simulation of
Machado, Oliveira and Fernandes, "A Physiologically-based Model for Simulation of Color Vision
Deficiency", IEEE TVCG 15(6), 2009 (their severity-1.0 matrices for protanopia, deuteranopia
and tritanopia, applied to linear RGB); the tests check that every pair of category colours
stays apart (CIE 1976 delta E) under each.

Example:
    >>> from vmlife.render.palette import style
    >>> style("not billed").colour
    '#56B4E9'
    >>> style("billed").legend
    'billed: compute and licence'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any, Literal

from ..billing.editions import (
    BILLED,
    BILLED_WITHOUT_LICENCE,
    CATEGORIES,
    HARDWARE_ONLY,
    LICENCE_ONLY,
    NOT_BILLED_CATEGORY,
    UNKNOWN,
)
from ..errors import UnknownNameError

__all__ = [
    "AS_POWER",
    "BILLED",
    "BILLED_WITHOUT_LICENCE",
    "CATEGORIES",
    "HARDWARE_ONLY",
    "INK",
    "LEGEND_ORDER",
    "LICENCE_ONLY",
    "NOT_BILLED",
    "PALETTE",
    "UNKNOWN",
    "CategoryStyle",
    "delta_e",
    "legend_html",
    "mpl_patch",
    "simulate_cvd",
    "style",
    "swatch_html",
]

NOT_BILLED = NOT_BILLED_CATEGORY
#: Not a billing category: a state on another axis that bills as the power state it occurs
#: with, when that differs between walks (drawn white, thin solid border).
AS_POWER = "as its power state"
#: Every style, in legend order: the billing categories, then :data:`AS_POWER`.
LEGEND_ORDER: tuple[str, ...] = (*CATEGORIES, AS_POWER)

Border = Literal["solid", "dashed", "dotted"]

#: SVG ``stroke-dasharray`` values of each border pattern (Graphviz draws the same two).
_DASHES: dict[str, str] = {"solid": "", "dashed": "6 3", "dotted": "2 3"}
#: Border widths in pixels: thick when compute bills.
THICK, THIN = 2.6, 1.0


@dataclass(frozen=True)
class CategoryStyle:
    """How one billing category is drawn and named.

    Attributes:
        category: the category ("billed", ...).
        colour: the fill, ``#RRGGBB``.
        hatch: the matplotlib hatch ("" for none).
        border: the border pattern: "solid", "dashed" or "dotted".
        heavy: a thick border (compute bills).
        legend: the legend wording, the same in every picture.
    """

    category: str
    colour: str
    hatch: str
    border: Border
    heavy: bool
    legend: str

    @property
    def width(self) -> float:
        """Border width in pixels (points in Graphviz)."""
        return THICK if self.heavy else THIN

    @property
    def dasharray(self) -> str:
        """The border as an SVG/CSS ``stroke-dasharray`` ("" for solid)."""
        return _DASHES[self.border]

    def dot_style(self) -> str:
        """Graphviz ``style`` words for the border ("" for solid)."""
        return "" if self.border == "solid" else self.border

    def mermaid_style(self, stroke: str, width: float | None = None) -> str:
        """A Mermaid ``classDef`` body: fill, border colour, width and pattern."""
        w = self.width if width is None else width
        out = f"fill:{self.colour},stroke:{stroke},stroke-width:{w:g}px,color:{INK['text']}"
        if self.dasharray:
            out += f",stroke-dasharray:{self.dasharray}"
        return out

    def css(self) -> str:
        """Inline CSS for an HTML swatch: fill, border, and the hatch as a stripe pattern."""
        parts = [
            f"background-color:{self.colour}",
            f"border:{self.width:g}px {self.border} {INK['border']}",
        ]
        stripes = _CSS_HATCH.get(self.hatch)
        if stripes:
            parts.append(f"background-image:{stripes}")
        return ";".join(parts)


#: The billing categories' styles (the only place their colours are written).
PALETTE: dict[str, CategoryStyle] = {
    s.category: s
    for s in (
        CategoryStyle(BILLED, "#D55E00", "", "solid", True, "billed: compute and licence"),
        CategoryStyle(
            HARDWARE_ONLY, "#E69F00", "//", "dashed", True,
            "hardware only: compute, as the document says (no software)",
        ),
        CategoryStyle(
            BILLED_WITHOUT_LICENCE, "#F0E442", "\\\\", "dotted", True,
            "billed without licence: compute; software licences excluded",
        ),
        CategoryStyle(
            LICENCE_ONLY, "#CC79A7", "||", "dashed", False, "licence only: no compute",
        ),
        CategoryStyle(
            NOT_BILLED, "#56B4E9", "..", "solid", False,
            "not billed: no compute or licence (disks and networking still bill)",
        ),
        CategoryStyle(
            UNKNOWN, "#BBBBBB", "xx", "dotted", False,
            "unknown: no rule (no compute or licence) or no power reading (billed as the last "
            "known)",
        ),
        CategoryStyle(
            AS_POWER, "#FFFFFF", "", "solid", False, "billed as the power state it occurs with",
        ),
    )
}

#: Colours that are not billing categories: text, borders, marks and lines.
INK: dict[str, str] = {
    "text": "#000000",
    "border": "#444444",
    "edge": "#555555",
    "muted": "#555555",
    "highlight": "#0072B2",  # Okabe-Ito blue: the current state
    "changed": "#A3123A",  # a diff's "billing changed" mark
    "failure": "#A3123A",
    "plugin": "#5B3F8C",
    "pseudo": "#222222",  # start and end dots
    "operation": "#222222",  # operation start marks in the timeline
    "cost": "#1F3B73",  # the cumulative cost line
    "grid": "#E0E0E0",
    "cluster": "#BBBBBB",  # the box around one axis in a whole-lifecycle diagram
    "paper": "#FFFFFF",
    # reconciliation (vmlife.render.reconcile_plot): Okabe-Ito colours no category uses
    "modelled": "#0072B2",  # blue: hours vmlife modelled
    "charged": "#009E73",  # bluish green, hatched: hours a Cost Management export charged
}

#: CSS stripe patterns that draw each matplotlib hatch in HTML swatches.
_LINE = "rgba(0,0,0,0.45)"
_CSS_HATCH: dict[str, str] = {
    "//": f"repeating-linear-gradient(-45deg,{_LINE} 0 1px,transparent 1px 5px)",
    "\\\\": f"repeating-linear-gradient(45deg,{_LINE} 0 1px,transparent 1px 5px)",
    "||": f"repeating-linear-gradient(90deg,{_LINE} 0 1px,transparent 1px 5px)",
    "..": f"radial-gradient({_LINE} 1px,transparent 1.5px) 0 0/5px 5px",
    "xx": (
        f"repeating-linear-gradient(45deg,{_LINE} 0 1px,transparent 1px 6px),"
        f"repeating-linear-gradient(-45deg,{_LINE} 0 1px,transparent 1px 6px)"
    ),
}


def style(category: str) -> CategoryStyle:
    """The style of a category (or of :data:`AS_POWER`).

    Raises:
        UnknownNameError: not a category; the message lists them.
    """
    try:
        return PALETTE[category]
    except KeyError:
        raise UnknownNameError("billing category", category, PALETTE) from None


def legend_html(categories: Iterable[str] | None = None) -> str:
    """An HTML legend (swatch and wording per category), for reports and widgets.

    Args:
        categories: which to show, in legend order; default every billing category.
    """
    wanted = list(CATEGORIES) if categories is None else list(categories)
    order = [c for c in LEGEND_ORDER if c in wanted]
    items = "".join(
        '<li style="display:flex;align-items:center;gap:0.5em;margin:0.15em 0">'
        f"{swatch_html(c)}{escape(style(c).legend)}</li>"
        for c in order
    )
    ul_style = "list-style:none;padding:0;margin:0.4em 0"
    return f'<ul class="vmlife-legend" style="{ul_style}">{items}</ul>'


def swatch_html(category: str, text: str = "") -> str:
    """An inline HTML swatch of a category, with ``text`` (escaped) inside it."""
    pad = "padding:0 0.4em;" if text else "width:2.4em;height:1.1em;"
    return (
        f'<span class="vmlife-swatch vmlife-{escape(category.replace(" ", "-"))}" '
        f'title="{escape(style(category).legend)}" '
        f'style="display:inline-block;{pad}color:{INK["text"]};{style(category).css()}">'
        f"{escape(text)}</span>"
    )


def mpl_patch(category: str, **kwargs: Any) -> dict[str, Any]:
    """Keyword arguments for a matplotlib patch (``broken_barh``, ``Patch``) of a category:
    ``facecolor``, ``hatch``, ``edgecolor`` and ``linewidth``; ``kwargs`` are added."""
    s = style(category)
    out: dict[str, Any] = {
        "facecolor": s.colour,
        "hatch": s.hatch or None,
        "edgecolor": INK["border"],
        "linewidth": 0.4,
    }
    out.update(kwargs)
    return out


# ---------------------------------------------------------------- colour-vision simulation
#: Machado, Oliveira & Fernandes (2009), Table 1, severity 1.0; rows map linear RGB to the
#: simulated linear RGB.
CVD_MATRICES: dict[str, tuple[tuple[float, float, float], ...]] = {
    "protanopia": (
        (0.152286, 1.052583, -0.204868),
        (0.114503, 0.786281, 0.099216),
        (-0.003882, -0.048116, 1.051998),
    ),
    "deuteranopia": (
        (0.367322, 0.860646, -0.227968),
        (0.280085, 0.672501, 0.047413),
        (-0.011820, 0.042940, 0.968881),
    ),
    "tritanopia": (
        (1.255528, -0.076749, -0.178779),
        (-0.078411, 0.930809, 0.147602),
        (0.004733, 0.691367, 0.303900),
    ),
}


def _linear(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"not a #RRGGBB colour: {hex_colour!r}")
    chans = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in chans)
    return r, g, b


def _lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIELAB (D65) of a linear sRGB colour."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def simulate_cvd(hex_colour: str, vision: str = "normal") -> tuple[float, float, float]:
    """A colour as seen with ``vision``, in CIELAB.

    Args:
        hex_colour: ``#RRGGBB``.
        vision: "normal", "protanopia", "deuteranopia", "tritanopia" or "greyscale" (the
            lightness alone).
    """
    rgb = _linear(hex_colour)
    if vision == "normal":
        return _lab(rgb)
    if vision == "greyscale":
        return (_lab(rgb)[0], 0.0, 0.0)
    try:
        m = CVD_MATRICES[vision]
    except KeyError:
        raise UnknownNameError(
            "vision", vision, ["normal", "greyscale", *CVD_MATRICES]
        ) from None
    r, g, b = (min(1.0, max(0.0, row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2]))
               for row in m)
    return _lab((r, g, b))


def delta_e(a: str, b: str, vision: str = "normal") -> float:
    """CIE 1976 colour difference between two colours as seen with ``vision``."""
    return math.dist(simulate_cvd(a, vision), simulate_cvd(b, vision))
