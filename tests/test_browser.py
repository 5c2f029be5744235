"""Real-browser checks: JupyterLab on 127.0.0.1 driven by Playwright in Debian's Chromium.

The tour notebook is run in JupyterLab; the LifecycleExplorer must render as a live widget
(not its text fallback), and clicking an operation must change the VM's state and move the
diagram's highlight. Screenshots go to ``out/screenshots/``. The server is stopped by its PID
(its whole process group) however the test ends.

Skipped, with the reason, when Chromium or Playwright is missing (``make test`` installs both
when it runs as root).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vmlife.render.palette import INK

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("VMLIFE_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "out" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("jupyterlab")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on 127.0.0.1 serving a copy of the notebooks."""
    root = tmp_path_factory.mktemp("lab")
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(nb, root / nb.name)
    port, token = _free_port(), "vmlife-test-token"
    env = {k: v for k, v in os.environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")
    # no "get notified about Jupyter news?" toast over the page (and no fetch from outside)
    settings = root / ".jupyter" / "lab" / "user-settings" / "@jupyterlab"
    (settings / "apputils-extension").mkdir(parents=True)
    (settings / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    # render every cell: with windowing, cells out of view (the explorer) are not in the DOM
    (settings / "notebook-extension").mkdir(parents=True)
    (settings / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}')
    cmd = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    # warm the imports the tour's kernel makes (bytecode caches in a fresh virtualenv), so
    # the first run in the browser is not slowed by compiling pandas and matplotlib
    subprocess.run([sys.executable, "-c", "import pandas, matplotlib.figure, vmlife.widgets, "
                    "vmlife.render, vmlife.billing.meter"], env=env, check=True)
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            cwd=root, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "JupyterLab did not start:\n"
                        + (root / "server.log").read_text(errors="replace")[-3000:]
                    ) from None
                time.sleep(0.5)
        yield url, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=5)
        log.close()


HIGHLIGHTED_JS = """
() => {
  const svg = document.querySelector('.vmlife-explorer .vmlife-diagram svg');
  if (!svg) return null;
  for (const g of svg.querySelectorAll('g.node')) {
    if (g.querySelector('[stroke="HIGHLIGHT" i]')) {
      return g.querySelector('title').textContent;
    }
  }
  return '';
}
""".replace("HIGHLIGHT", INK["highlight"])  # the current state's border colour


def _run_all(page: Any) -> None:
    """Restart the kernel and run every cell, retrying until the run really starts.

    A run issued while JupyterLab is still connecting to the kernel can be dropped; restarting
    first makes JupyterLab wait for a connected kernel, and the first code cell getting an
    execution count shows the run started.
    """
    first_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").first
    for _attempt in range(4):
        page.locator(".jp-NotebookPanel-toolbar [data-command='notebook:restart-run-all']"
                     ).click()
        page.locator(".jp-Dialog .jp-mod-accept").click()
        try:
            page.wait_for_function(
                "el => /\\[[0-9*]+\\]/.test(el.textContent)",
                arg=first_prompt.element_handle(), timeout=30_000,
            )
            return
        except sync_api.TimeoutError:
            continue
    raise AssertionError("JupyterLab never started running the notebook")


def test_explorer_button_moves_the_highlight(lab: tuple[str, str]) -> None:
    url, token = lab
    SHOTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            try:
                _drive_explorer(page, url, token, console_errors)
            except Exception:
                page.screenshot(path=str(SHOTS / "explorer-failure.png"))
                raise
        finally:
            browser.close()
    assert (SHOTS / "explorer-after.png").stat().st_size > 10_000
    widget_errors = [e for e in console_errors if "widget" in e.lower() or "vmlife" in e.lower()]
    assert not widget_errors, widget_errors


def _drive_explorer(page: Any, url: str, token: str, console_errors: list[str]) -> None:
    """Open the tour, run it, click deallocate in the explorer; check state and highlight."""
    page.on("console", lambda m: console_errors.append(m.text)
            if m.type == "error" else None)
    page.goto(f"{url}/lab/tree/01-tour.ipynb?token={token}", timeout=90_000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                           timeout=90_000)
    explorer = page.locator(".vmlife-explorer").first
    for attempt in range(2):
        _run_all(page)
        try:
            # rendered as a live widget: its buttons exist (the text fallback has none)
            explorer.locator(".vmlife-op-deallocate").wait_for(timeout=90_000)
            break
        except sync_api.TimeoutError:
            page.screenshot(path=str(SHOTS / f"explorer-retry-{attempt}.png"))
            if attempt:
                raise
    state = explorer.locator(".vmlife-state")
    state.filter(has_text="running").wait_for(timeout=60_000)
    # the widget's views update one after another: wait for the diagram to catch up
    page.wait_for_function(
        f"() => ({HIGHLIGHTED_JS})() === 's_power__running'", timeout=30_000
    )
    assert explorer.locator(".vmlife-op-start").is_disabled()
    explorer.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "explorer-before.png"))

    explorer.locator(".vmlife-op-deallocate").click()
    state.filter(has_text="deallocated").wait_for(timeout=60_000)
    page.wait_for_function(
        f"() => ({HIGHLIGHTED_JS})() === 's_power__deallocated'", timeout=30_000
    )
    assert explorer.locator(".vmlife-op-start").is_enabled()
    page.screenshot(path=str(SHOTS / "explorer-after.png"))
