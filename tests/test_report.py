"""The HTML report: content, escaping, and a real browser opening it with no network."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import pytest

import vmlife
from vmlife.cli import main

SAMPLE = str(resources.files("vmlife") / "data" / "sample_activity_log.json")
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[1] / "out" / "screenshots"


def make_report(tmp_path: Path, source: str = SAMPLE) -> tuple[str, str]:
    out = io.StringIO()
    assert main(["report", source, "-o", str(tmp_path / "r"), "--quiet"], out=out) == 0
    return out.getvalue(), (tmp_path / "r" / "index.html").read_text(encoding="utf-8")


def test_report_has_every_section_and_the_bill(tmp_path: Path) -> None:
    printed, html = make_report(tmp_path)
    assert "Report: " in printed and "index.html" in printed
    for heading in ("Bill per VM and component", "Timeline", "The same history under every "
                    "edition", "Anomalies in the input", "Power states under edition 2023-10"):
        assert heading in html
    for vm in ("web-1", "batch-7", "build-2"):
        assert f"<td>{vm}</td>" in html
    assert "data:image/png;base64," in html
    assert "<svg" in html
    assert "Guest-OS shutdowns are not in the Activity Log" in html
    for ed in ("draft", "2018-08", "lifecycle", "2021-03", "2023-10"):
        assert f"<td>{ed}</td>" in html


def test_report_needs_no_network(tmp_path: Path) -> None:
    _, html = make_report(tmp_path)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "<script" not in html and "<link" not in html


def test_report_escapes_hostile_vm_names(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script>&"\n'
    vm = vmlife.VM(evil, start="2024-01-01T00:00:00Z").create().deallocate(
        at="2024-01-01T05:00:00Z")
    path = tmp_path / "evil.json"
    vmlife.dump_timelines([vm.timeline], path)
    _, html = make_report(tmp_path, str(path))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in html


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
def test_report_opens_in_chromium_without_errors(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    make_report(tmp_path)
    errors: list[str] = []
    requests: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto((tmp_path / "r" / "index.html").as_uri())
            assert page.locator("h1").inner_text() == "VM billing report"
            assert page.locator("tr.total").count() == 1
            img = page.locator("img[alt='billing timeline']")
            assert img.evaluate("el => el.naturalWidth") > 500
            page.screenshot(path=str(SHOTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_report_with_costs_has_a_what_azure_charged_section(tmp_path: Path) -> None:
    data = Path(__file__).parent / "data" / "reconcile"
    out = io.StringIO()
    assert main(["report", str(data / "activity_log.json"), "-o", str(tmp_path / "r"),
                 "--costs", str(data / "costs_focus.csv"), "--quiet"], out=out) == 0
    assert "modelled 24.0 h, charged 49.0 h of compute; 2 of 4 VM-days differ" in out.getvalue()
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    section = html[html.index("<h2>What Azure charged</h2>"):html.index("<h2>Timeline</h2>")]
    assert 'alt="modelled vs charged compute hours"' in section
    assert "<td>win-ahb</td><td>2024-03-04</td><td>8</td><td>9</td><td>1</td>" in section
    assert "In the export only: db-1, 24.0 h charged" in section
    assert "Set aside (not VM compute): Bandwidth 1, Purchase 1, Storage 1." in section
    # without --costs there is no such section
    _, plain = make_report(tmp_path)
    assert "What Azure charged" not in plain


@pytest.mark.parametrize("start", [None, "2024-03-01T00:00:00Z"])
def test_report_and_bill_bill_the_same_period(start: str | None) -> None:
    """`vmlife report` and `vmlife bill` on one input give one bill: both start at --start (the
    state before each VM's first event holding from there) and both end at the input's last
    change, so a VM running at its last event is billed until then in both."""
    import json

    from vmlife.render.report import build_report

    report = build_report(SAMPLE, start=start)
    out = io.StringIO()
    assert main(["bill", SAMPLE, "--json", *(["--start", start] if start else [])], out=out) == 0
    cli = json.loads(out.getvalue())
    assert cli["total_cost"] == report.bill.total_cost
    hours = {v["vm"]: v["billed_hours"] for v in cli["vms"]}
    for vm in report.bill.vms:
        assert hours[vm.vm] == {c: s / 3600 for c, s in vm.billed_seconds.items()}
    row = next(r for r in report.by_edition if r["edition"] == report.bill.edition.id)
    assert row["other h"] == round(sum(v.billed_seconds["other"] for v in report.bill.vms) / 3600,
                                   2)


def test_report_start_bills_the_disks_from_the_period_start() -> None:
    from vmlife.render.report import build_report

    late = build_report(SAMPLE)
    early = build_report(SAMPLE, start="2024-03-01T00:00:00Z")
    other = [sum(v.billed_seconds["other"] for v in r.bill.vms) for r in (late, early)]
    assert other[1] > other[0]  # a VM deallocated before its first event keeps its disks
    assert early.bill.start == vmlife.timeutil.to_epoch("2024-03-01T00:00:00Z")
