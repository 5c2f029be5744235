"""The Sphinx extension: a small project (reStructuredText and MyST pages) with every directive,
built by ``sphinx.cmd.build`` in a temporary folder; the HTML is checked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

import vmlife
from vmlife.billing.meter import bill
from vmlife.render import find_engine
from vmlife.render.palette import INK, style

pytestmark = pytest.mark.skipif(find_engine() is None, reason="no Graphviz engine installed")

CONF = """
extensions = ["myst_parser", "vmlife.sphinx"]
myst_enable_extensions = ["colon_fence"]
project = "vmlife sphinx test"
html_theme = "alabaster"
"""

INDEX_RST = """
Test
====

.. toctree::

   markdown

.. vmlife-diagram:: power
   :edition: draft
   :highlight: stopped
   :caption: Power states under the draft
   :alt: power-state diagram, draft edition
   :align: center

.. vmlife-diagram:: lifecycle
   :diff: draft 2023-10
   :plugins: none

.. vmlife-diagram:: hibernation
   :plugins: hibernation

.. vmlife-diagram:: os
   :format: mermaid

.. vmlife-diagram:: power
   :format: png

.. vmlife-states::
   :axis: power

.. vmlife-ops::
   :plugins: none

.. vmlife-editions::

.. vmlife-editions::
   :diff: draft 2023-10

.. vmlife-bill:: data/night.json
   :edition: 2018-08
   :plot:

Broken on purpose
-----------------

.. vmlife-diagram:: power
   :edition: 1999-01
"""

MARKDOWN = """
# In Markdown

```{vmlife-diagram} provisioning
:edition: 2023-10
:highlight: updating
```

```{vmlife-states}
:axis: os
```

```{vmlife-editions}
:diff: lifecycle 2018-08
```
"""


def make_project(root: Path) -> Path:
    src = root / "src"
    (src / "data").mkdir(parents=True)
    (src / "conf.py").write_text(CONF)
    (src / "index.rst").write_text(INDEX_RST)
    (src / "markdown.md").write_text(MARKDOWN)
    vm = vmlife.VM("web-1", start="2024-03-04T08:00:00Z", state="running")
    vm.power_off(at="2024-03-04T18:00:00Z")
    vm.start(at="2024-03-05T08:00:00Z")
    vm.deallocate(at="2024-03-05T10:00:00Z")
    vmlife.dump_timelines([vm.timeline], src / "data" / "night.json")
    return src


def build(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    env["VMLIFE_LOAD_PLUGINS"] = "hibernation"
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", *extra, str(src), str(out)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("sphinx")
    src = make_project(root)
    proc = build(src, root / "html")
    assert proc.returncode == 0, proc.stderr
    return src, root / "html", proc.stderr


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg\b.*?</svg>", html, flags=re.S)]


def test_every_inline_svg_parses_and_the_highlight_is_drawn(site: tuple[Path, Path, str]) -> None:
    _, out, _ = site
    html = (out / "index.html").read_text()
    figures = svgs(html)
    assert len(figures) == 3  # power (draft), lifecycle diff, hibernation
    power = figures[0]
    assert power.get("aria-label") == "power-state diagram, draft edition"
    ns = "{http://www.w3.org/2000/svg}"
    highlighted = [
        g.find(f"{ns}title").text for g in power.iter(f"{ns}g")
        if g.get("class") == "node"
        and any((el.get("stroke") or "").lower() == INK["highlight"].lower()
                for el in g.iter())
    ]
    assert highlighted == ["s_power__stopped"]
    assert '<figcaption><p>Power states under the draft</p></figcaption>' in html
    assert 'class="vmlife-diagram align-center"' in html
    # the palette colours the states: hardware only under the draft
    assert style("hardware only").colour.lower() in ET.tostring(power).decode().lower()


def test_plugins_option_chooses_what_is_drawn(site: tuple[Path, Path, str]) -> None:
    _, out, _ = site
    html = (out / "index.html").read_text()
    lifecycle_svg, hibernation_svg = (ET.tostring(e).decode() for e in svgs(html)[1:3])
    assert "hibernat" not in lifecycle_svg  # :plugins: none
    assert "hibernated" in hibernation_svg
    assert "billing changes from draft to 2023-10" in lifecycle_svg


def test_mermaid_png_and_tables(site: tuple[Path, Path, str]) -> None:
    _, out, _ = site
    html = (out / "index.html").read_text()
    assert re.search(r'<pre class="mermaid">---\ntitle: .*stateDiagram-v2', html, flags=re.S)
    pngs = re.findall(r'<img src="(_images/vmlife-[0-9a-f]+\.png)"', html)
    assert len(pngs) == 2  # the png diagram and the bill's plot
    for p in pngs:
        assert (out / p).read_bytes().startswith(b"\x89PNG")
    # the states table: code and displayStatus
    assert "PowerState/deallocated" in html and "VM deallocated" in html
    # the operations table: the Activity Log name of deallocate
    assert "Microsoft.Compute/virtualMachines/deallocate/action" in html
    # the editions table, then what each bills, then the diff
    assert re.search(r'<table class="[^"]*vmlife-editions[ "]', html)
    assert "2023-10 (default)" in html and "Billed (Hardware only)" in html
    diff = html[html.index("vmlife-editions-diff"):]
    assert "draft says" in diff and "power.starting" in diff.split("</table>")[0]
    # the bill: web-1 stopped overnight, which 2018-08 does not bill; the numbers are the API's
    src, _, _ = site
    expected = bill(vmlife.load_timelines(src / "data" / "night.json"),
                           edition="2018-08").summary()[0]
    cells = re.findall(r"<td><p>([^<]*)</p></td>",
                       html[html.index("vmlife-bill"):].split("</table>")[0])
    assert cells == ["web-1", f"{expected['compute_hours']:g}", f"{expected['license_hours']:g}",
                     f"{expected['other_hours']:g}", f"{expected['total_cost']:.2f}"]
    assert 10 < expected["compute_hours"] < 12 < expected["other_hours"]


def test_markdown_pages_reach_the_same_directives(site: tuple[Path, Path, str]) -> None:
    _, out, _ = site
    html = (out / "markdown.html").read_text()
    (prov,) = svgs(html)
    assert "Provisioning" in ET.tostring(prov).decode()
    assert "OSProvisioningComplete" in html
    assert "lifecycle says" in html and "2018-08 says" in html


def test_an_unknown_edition_is_a_warning_with_file_and_line(
    site: tuple[Path, Path, str]
) -> None:
    src, out, stderr = site
    lines = INDEX_RST.splitlines()
    line = max(i for i, text in enumerate(lines) if text == ".. vmlife-diagram:: power") + 1
    assert re.search(rf"index\.rst:{line}: WARNING: vmlife-diagram: .*1999-01.*2023-10", stderr)
    assert (out / "index.html").is_file()
    # with -W the same warning fails the build
    strict = build(src, out.parent / "strict", "-W")
    assert strict.returncode != 0
    assert "1999-01" in strict.stderr


def test_build_is_reproducible(site: tuple[Path, Path, str], tmp_path: Path) -> None:
    src, out, _ = site
    again = build(src, tmp_path / "again")
    assert again.returncode == 0
    figures = re.compile(r'<figure class="vmlife-.*?</figure>', flags=re.S)
    for page in ("index.html", "markdown.html"):
        a = figures.findall((out / page).read_text())
        b = figures.findall((tmp_path / "again" / page).read_text())
        assert a and a == b
    for png in (out / "_images").glob("vmlife-*.png"):
        assert (tmp_path / "again" / "_images" / png.name).read_bytes() == png.read_bytes()


def test_a_changed_input_or_model_rebuilds_the_page(tmp_path: Path) -> None:
    src = make_project(tmp_path)
    out = tmp_path / "html"
    assert build(src, out).returncode == 0
    vm = vmlife.VM("db-1", start="2024-03-04T08:00:00Z", state="running")
    vm.wait(3600)
    vmlife.dump_timelines([vm.timeline], src / "data" / "night.json")
    assert build(src, out).returncode == 0
    assert "db-1" in (out / "index.html").read_text()
    # another set of plugins: the pages that draw the model are read again, with no manual step
    env = {k: v for k, v in os.environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    env["VMLIFE_LOAD_PLUGINS"] = "hibernation,spot"
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src),
                           str(out)], capture_output=True, text=True, env=env, timeout=600,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "evict [spot]" in (out / "index.html").read_text()
