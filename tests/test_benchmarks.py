"""`make bench` keeps running: every benchmark script at a tiny size, and one source of numbers.

These tests time nothing and assert no speed: they check that each script in ``benchmarks/``
completes and writes its numbers (to a temporary folder, never the committed RESULTS.md), and
that the README's performance table is the one in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
START, END = "<!-- bench:summary -->", "<!-- /bench:summary -->"

pytest.importorskip("transitions")
pytest.importorskip("statemachine")
pytest.importorskip("sismic")
pytest.importorskip("pandas")


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def _block(text: str) -> str:
    assert START in text and END in text
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def test_every_benchmark_runs_at_a_tiny_size_and_writes_its_numbers(tmp_path: Path) -> None:
    before = (BENCH / "RESULTS.md").read_bytes()
    readme_before = (ROOT / "README.md").read_bytes()
    out = tmp_path / "RESULTS.md"
    _run(str(BENCH / "run_all.py"), "--tiny", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    for section in ("## Targets", "## 1. Engine speed", "## 2. Activity Log",
                    "## 3. Fleet billing", "## 4. Import and first picture"):
        assert section in text
    summary = _block(text)
    rows = [line for line in summary.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 7  # the header and six targets, each with a measured number
    for row in rows[1:]:
        assert re.search(r"\d", row.split("|")[2]), row
    for contender in ("transitions", "python-statemachine", "sismic", "dict lookup",
                      "uncached reference path", "json.loads"):
        assert contender in text
    # the committed results and the README are left alone
    assert (BENCH / "RESULTS.md").read_bytes() == before
    assert (ROOT / "README.md").read_bytes() == readme_before


def test_each_script_writes_json_numbers(tmp_path: Path) -> None:
    runs = {
        "engine_speed.py": ["--cycles", "50", "--slow-cycles", "5", "--repeat", "1"],
        "activity_log_1m.py": ["--events", "300", "--vms", "5"],
    }
    for script, args in runs.items():
        target = tmp_path / f"{script}.json"
        _run(str(BENCH / script), *args, "--json", str(target))
        data = json.loads(target.read_text(encoding="utf-8"))
        assert data["targets"], script
    engine = json.loads((tmp_path / "engine_speed.py.json").read_text())
    assert engine["results"]["vmlife"]["us_per_transition"] > 0
    log = json.loads((tmp_path / "activity_log_1m.py.json").read_text())
    assert log["read_seconds"] > 0 and log["floor_seconds"] > 0 and log["peak_rss_mib"] > 0


def test_the_profiler_script_runs(tmp_path: Path) -> None:
    proc = _run(str(BENCH / "profile_hot_paths.py"), "engine-core", "engine-plugins", "fleet",
                "--cycles", "50", "--vms", "20", "--top", "3")
    assert proc.stdout.count("==== ") == 3


def test_readme_performance_table_is_the_one_in_results() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    results = (BENCH / "RESULTS.md").read_text(encoding="utf-8")
    assert _block(readme) == _block(results), (
        "README's performance table differs from benchmarks/RESULTS.md: run "
        "`.venv/bin/python benchmarks/run_all.py --readme` (or `make bench`)"
    )
    assert "| engine, core lifecycle" in _block(readme)
