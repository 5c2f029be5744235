"""Mermaid checked by Mermaid: every scope's Mermaid text rendered by the real ``mermaid``
library (the npm package ``make mermaid`` installs into out/node, loaded from disk; no network)
in Debian's Chromium, with and without the first-party plugins. A parse or render error fails.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import vmlife
from vmlife.render import diagram
from vmlife.render.gallery import scopes

ROOT = Path(__file__).resolve().parents[1]
MERMAID = ROOT / "out" / "node" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
CHROMIUM = os.environ.get("VMLIFE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FIRST_PARTY = ("vmlife_hibernation", "vmlife_spot", "vmlife_classic_migration")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.skipif(not MERMAID.is_file(),
                       reason="no mermaid from npm: run 'make mermaid' (make test does)"),
]
sync_api = pytest.importorskip("playwright.sync_api")

RENDER_ALL = """
async (texts) => {
  mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
  const out = [];
  for (let i = 0; i < texts.length; i++) {
    try {
      const {svg} = await mermaid.render("d" + i, texts[i]);
      out.push(svg.includes("<svg") && !svg.includes("Syntax error") ? "" : "no svg");
    } catch (e) {
      out.push(String(e && e.message || e));
    }
  }
  return out;
}
"""


@contextlib.contextmanager
def first_party_plugins() -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for name in FIRST_PARTY:
            stack.enter_context(vmlife.registered(importlib.import_module(name), name=name))
        yield


def texts() -> dict[str, str]:
    lc = vmlife.lifecycle()
    out = {}
    for scope in scopes(lc):
        for ed in lc.editions:
            out[f"{scope} {ed}"] = diagram(lc, scope, edition=ed).mermaid()
        out[f"{scope} diff"] = diagram(lc, scope, diff=("draft", "2023-10")).mermaid()
    out["power highlight"] = diagram(lc, "power", highlight="stopped").mermaid()
    return out


def render(tmp_path: Path, diagrams: dict[str, str]) -> dict[str, str]:
    page = tmp_path / "mermaid.html"
    page.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8">'
                    f'<script src="{MERMAID.as_uri()}"></script></head><body></body></html>')
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.goto(page.as_uri())
            tab.wait_for_function("() => typeof mermaid !== 'undefined'", timeout=30_000)
            errors = tab.evaluate(RENDER_ALL, list(diagrams.values()))
        finally:
            browser.close()
    return {name: err for name, err in zip(diagrams, errors, strict=True) if err}


def test_every_scope_renders_in_mermaid_bare_core(tmp_path: Path) -> None:
    diagrams = texts()
    assert {"power 2023-10", "provisioning draft", "os lifecycle", "lifecycle diff"} <= set(
        diagrams)
    assert render(tmp_path, diagrams) == {}


def test_every_scope_renders_in_mermaid_with_first_party_plugins(tmp_path: Path) -> None:
    pytest.importorskip("vmlife_hibernation")
    with first_party_plugins():
        diagrams = texts()
    assert "hibernation 2023-10" in diagrams
    assert render(tmp_path, diagrams) == {}


def test_a_broken_text_fails(tmp_path: Path) -> None:
    broken = diagram(vmlife.lifecycle(), "power").mermaid().replace("-->", "-=>", 1)
    errors = render(tmp_path, {"broken": broken})
    assert list(errors) == ["broken"], json.dumps(errors)
