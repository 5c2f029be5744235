"""One visual language: every picture colours billing categories from the palette only, each
category has a second cue that survives greyscale, the legend wording is the same everywhere,
and the colours stay apart under a colour-vision-deficiency simulation (Machado et al. 2009)."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import vmlife
from vmlife.billing.editions import billing_category
from vmlife.render import diagram, find_engine
from vmlife.render.escape import dot_html, mermaid_text
from vmlife.render.palette import (
    AS_POWER,
    CATEGORIES,
    INK,
    LEGEND_ORDER,
    PALETTE,
    delta_e,
    legend_html,
    simulate_cvd,
    style,
)

PALETTE_COLOURS = {s.colour.lower() for s in PALETTE.values()}
VISIONS = ("normal", "protanopia", "deuteranopia", "tritanopia")
#: CIE76 delta E: about 2.3 is a just-noticeable difference; 12 is plainly different.
MIN_DELTA_E = 12.0
EDITIONS = ("draft", "2018-08", "lifecycle", "2021-03", "2023-10")
needs_engine = pytest.mark.skipif(find_engine() is None, reason="no Graphviz engine installed")


def every_diagram() -> list[tuple[str, str | None, tuple[str, str] | None]]:
    out: list[tuple[str, str | None, tuple[str, str] | None]] = [
        (scope, ed, None) for scope in ("power", "provisioning", "os", "lifecycle")
        for ed in EDITIONS
    ]
    out.append(("power", None, ("draft", "2023-10")))
    out.append(("lifecycle", None, ("lifecycle", "2018-08")))
    return out


# ---------------------------------------------------------------- the palette itself
@pytest.mark.parametrize("vision", VISIONS)
def test_category_colours_stay_apart_for_every_vision(vision: str) -> None:
    for a, b in itertools.combinations(LEGEND_ORDER, 2):
        d = delta_e(style(a).colour, style(b).colour, vision)
        assert d >= MIN_DELTA_E, f"{a} and {b} are only {d:.1f} apart under {vision}"


def test_second_cue_tells_every_pair_apart_without_colour() -> None:
    hatches = [style(c).hatch for c in CATEGORIES]
    assert len(set(hatches)) == len(hatches)  # matplotlib
    borders = [(style(c).border, style(c).heavy) for c in CATEGORIES]
    assert len(set(borders)) == len(borders)  # DOT, SVG, Mermaid, HTML
    # a thick border means compute bills, in every category
    for c in CATEGORIES:
        assert style(c).heavy == (c in ("billed", "hardware only", "billed without licence"))


def test_the_simulation_confuses_what_it_should() -> None:
    # Machado's matrices keep white white and black black (rows sum to ~1)
    for vision in VISIONS:
        assert simulate_cvd("#FFFFFF", vision)[0] == pytest.approx(100, abs=0.5)
        assert simulate_cvd("#000000", vision)[0] == pytest.approx(0, abs=0.5)
    # a red and a green of like lightness: far apart normally, close for red-green deficits
    red, green = "#D0312D", "#4C8C2B"
    normal = delta_e(red, green)
    assert normal > 60
    assert delta_e(red, green, "deuteranopia") < normal / 5
    assert delta_e(red, green, "protanopia") < normal / 3
    # tritanopia confuses blue with green, not red with green
    assert delta_e(red, green, "tritanopia") > normal / 2
    blue, teal = "#0072B2", "#009E73"
    assert delta_e(blue, teal, "tritanopia") < delta_e(blue, teal) / 3
    assert delta_e(blue, teal, "deuteranopia") > delta_e(blue, teal) / 2
    with pytest.raises(vmlife.VmlifeError, match="achromatopsia"):
        simulate_cvd("#FFFFFF", "achromatopsia")


def test_unknown_category_is_named() -> None:
    with pytest.raises(vmlife.VmlifeError, match="billed without licence"):
        style("free")


# ---------------------------------------------------------------- the model's categories
def test_hardware_only_and_licence_excluded_are_split() -> None:
    lc = vmlife.lifecycle()
    assert lc.edition("draft").rule_for("power.stopped").category == "hardware only"
    assert lc.edition("lifecycle").rule_for("power.stopped").category == "billed without licence"
    # both bill the same component: the meter is unchanged
    assert (lc.edition("draft").rule_for("power.stopped").bills
            == lc.edition("lifecycle").rule_for("power.stopped").bills == {"compute"})
    # no rule: unknown, and the meter still bills nothing for it
    assert lc.edition("draft").rule_for("power.creating").category == "unknown"
    assert lc.edition("draft").rule_for("power.creating").bills == frozenset()


def test_billing_category_of_a_composite_state_follows_the_meter() -> None:
    lc = vmlife.lifecycle()
    vm = vmlife.VM("a").create()
    assert billing_category(vm.state, lc.edition("2023-10")) == "billed"
    vm.power_off()
    assert billing_category(vm.state, lc.edition("2018-08")) == "not billed"
    assert billing_category(vm.state, lc.edition("lifecycle")) == "billed without licence"
    assert billing_category(vmlife.VMState(), lc.edition("2023-10")) is None
    assert billing_category(vmlife.VMState(power="unknown"), lc.edition("2023-10")) == "unknown"


# ---------------------------------------------------------------- every picture type
@pytest.mark.parametrize(("scope", "edition", "diff"), every_diagram())
def test_dot_and_mermaid_fill_states_from_the_palette(
    scope: str, edition: str | None, diff: tuple[str, str] | None
) -> None:
    d = diagram(vmlife.lifecycle(), scope, edition=edition, diff=diff)
    dot = d.dot()
    for n in d.graph.nodes:
        if n.kind != "state":
            continue
        m = re.search(rf"\b{n.id} \[[^\n]*fillcolor=\"([^\"]+)\"[^\n]*penwidth=([\d.]+)", dot)
        assert m, n.id
        assert m.group(1) == style(n.category).colour
        assert float(m.group(2)) == style(n.category).width
    legend_fills = set(re.findall(r'BGCOLOR="([^"]+)"', dot))
    assert {f.lower() for f in legend_fills} <= PALETTE_COLOURS
    mermaid = d.mermaid()
    fills = set(re.findall(r"classDef \w+ fill:(#[0-9A-Fa-f]{6})", mermaid))
    assert {f.lower() for f in fills} <= PALETTE_COLOURS | {INK["paper"].lower()}
    # one legend wording: the palette's, in both texts
    for entry in d.graph.legend:
        if entry.kind == "category":
            assert entry.text == style(entry.category).legend
            assert mermaid_text(entry.text) in mermaid
            assert dot_html(entry.text) in dot


def _svg_fills(svg: str) -> set[str]:
    root = ET.fromstring(svg.encode())
    fills = set()
    for el in root.iter():
        fill = el.get("fill")
        if fill and fill.startswith("#"):
            fills.add(fill.lower())
    return fills


@needs_engine
@pytest.mark.parametrize("scope", ["power", "lifecycle"])
def test_svg_uses_only_palette_and_ink_colours(scope: str) -> None:
    svg = diagram(vmlife.lifecycle(), scope, edition="draft", highlight="stopped").svg()
    ink = {c.lower() for c in INK.values()}
    fills = _svg_fills(svg)
    assert fills <= PALETTE_COLOURS | ink | {"#ffffff"}
    used = {style(n.category).colour.lower()
            for n in diagram(vmlife.lifecycle(), scope, edition="draft").graph.nodes
            if n.kind == "state"}
    assert used <= fills


def _timelines() -> list[vmlife.Timeline]:
    a = vmlife.VM("a", start="2024-01-01T00:00:00Z", state="running")
    a.power_off(at="2024-01-01T10:00:00Z")
    a.deallocate(at="2024-01-01T18:00:00Z")
    b = vmlife.VM("b", start="2024-01-01T00:00:00Z", state="stopped")
    b.start(at="2024-01-02T00:00:00Z")
    return [a.timeline, b.timeline]


def test_timeline_bands_and_legend_come_from_the_palette() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_hex
    from matplotlib.figure import Figure

    from vmlife.render.billing_plot import plot_timeline

    tls = _timelines()
    ax = Figure().add_subplot()
    plot_timeline(tls, ax=ax, end="2024-01-03T00:00:00Z", edition="lifecycle", cost=False)
    by_colour = {s.colour.lower(): s for s in PALETTE.values()}
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert bands
    seen = set()
    for band in bands:
        colour = to_hex(band.get_facecolor()[0]).lower()
        assert colour in by_colour, colour
        assert (band.get_hatch() or "") == by_colour[colour].hatch
        seen.add(by_colour[colour].category)
    # running bills, stopped bills without licence under the lifecycle page, deallocated not
    assert {"billed", "billed without licence", "not billed"} <= seen
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [style(c).legend for c in LEGEND_ORDER if c in seen]


def test_html_report_legend_and_pictures_use_the_palette(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from vmlife.render.report import build_report, render_html

    sample = Path(vmlife.__file__).parent / "data" / "sample_activity_log.json"
    html = render_html(build_report(str(sample), edition="lifecycle"))
    swatches = re.findall(r'class="vmlife-swatch vmlife-([\w-]+)"[^>]*background-color:(#\w+)',
                          html)
    assert swatches
    for name, colour in swatches:
        assert colour == style(name.replace("-", " ")).colour
    for name, _ in swatches:
        assert style(name.replace("-", " ")).legend in html
    if find_engine() is not None:
        svg = html[html.index("<svg"): html.index("</svg>") + 6]
        assert _svg_fills(svg) <= PALETTE_COLOURS | {c.lower() for c in INK.values()} | {
            "#ffffff"}


def test_legend_html_lists_every_category_in_order() -> None:
    html = legend_html()
    found = re.findall(r"vmlife-swatch vmlife-([\w-]+)", html)
    assert [f.replace("-", " ") for f in found] == list(CATEGORIES)
    assert AS_POWER not in [f.replace("-", " ") for f in found]


def test_widgets_use_the_palette() -> None:
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_hex

    from vmlife.widgets import BillingTimeline, LifecycleExplorer

    ex = LifecycleExplorer(edition="2018-08")
    ex.run("create")
    ex.run("power_off")
    chip = re.search(r'vmlife-swatch vmlife-([\w-]+)"[^>]*background-color:(#\w+)',
                     ex.state_label.value)
    assert chip and chip.group(1) == "not-billed"
    assert chip.group(2) == style("not billed").colour
    bt = BillingTimeline(_timelines(), edition="lifecycle")
    fig = bt.figure()
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert bands
    assert {to_hex(b.get_facecolor()[0]).lower() for b in bands} <= PALETTE_COLOURS
