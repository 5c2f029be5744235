"""Run every benchmark and write ``benchmarks/RESULTS.md``.

Each benchmark runs in its own process (``engine_speed.py``, ``fleet_billing.py``,
``import_and_first_picture.py``) and hands its numbers back as JSON; this script adds the
machine (cores, memory, CPU model), Python and package versions and the git commit, and writes
the tables and the targets met or missed. The full run takes a few minutes on the 2-core
machine (python-statemachine and sismic take most of it).

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--out PATH]``; ``--quick`` uses
small sizes (a smoke test, printed rather than written unless ``--out`` is given).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _util

HERE = Path(__file__).resolve().parent
PACKAGES = [
    "vmlife", "pluggy", "numpy", "pandas", "pyarrow", "dask", "distributed", "transitions",
    "python-statemachine", "sismic", "graphviz-pure",
]


def run(script: str, args: list[str], tmp: Path) -> dict[str, Any]:
    """Run one benchmark script in a fresh process; its JSON results."""
    out = tmp / f"{Path(script).stem}.json"
    cmd = [sys.executable, str(HERE / script), *args, "--json", str(out)]
    print(f"$ {' '.join(cmd[1:])}", flush=True)
    subprocess.run(cmd, check=True, cwd=HERE.parent)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def git_commit() -> str:
    try:
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=HERE, check=True)
        return proc.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(engine: dict[str, Any], fleet: dict[str, Any], start: dict[str, Any],
           meta: dict[str, Any]) -> str:
    m = meta["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run_all.py` on {meta['date']} at commit `{meta['commit']}`; "
        "regenerate with `make bench` rather than editing by hand. Each benchmark ran in a "
        "fresh process; the scripts' docstrings say exactly what they measure.",
        "",
        "## Machine",
        "",
        _util.table(["", ""], [
            ("CPU", m["cpu"]),
            ("cores", m["cores"]),
            ("memory", f"{m['memory_gib']} GiB"),
            ("OS", m["os"]),
            ("Python", m["python"]),
            ("load average when the run started", meta["load"]),
        ]),
        "",
        "## Versions",
        "",
        _util.table(["package", "version"],
                    [(k, v or "not installed") for k, v in meta["versions"].items()]),
        "",
        "## Targets",
        "",
    ]
    et, ft, st = engine["targets"], fleet["targets"], start["targets"]
    big = fleet["rows"][-1]
    target_rows = [
        ("engine: vmlife vs transitions, per transition", ">= 5x faster",
         f"{et['vmlife_vs_transitions']:.1f}x", yes(et["vmlife_vs_transitions_ok"])),
        ("engine: vmlife vs the dict floor", "within 20x", f"{et['vmlife_over_dict']:.1f}x",
         yes(et["vmlife_over_dict_ok"])),
        (f"fleet billing: {ft['steps']:,} steps", "< 10 s", f"{ft['bill_seconds']:.2f} s",
         yes(ft["under_10_s"])),
        (f"fleet billing: peak memory at {ft['steps']:,} steps", "< 4 GB",
         f"{ft['peak_rss_mib'] / 1024:.2f} GiB", yes(ft["under_4_gb"])),
        ("fleet billing: identical to the per-VM meter on a sample", "identical",
         f"{big['check']['mismatches']} mismatches in {big['check']['values_compared']} values"
         if "check" in big else "not checked", yes(ft["sample_identical"])),
        ("`import vmlife`", "< 100 ms", f"{st['import_ms']:.0f} ms", yes(st["import_ok"])),
        ("first lifecycle SVG in a fresh process (slowest case)", "< 1 s",
         f"{st['first_svg_ms']:.0f} ms" if st["first_svg_ms"] is not None else "no engine",
         yes(st["first_svg_ok"])),
    ]
    lines += [_util.table(["what", "target", "measured", "met"], target_rows), ""]

    # -- engine
    r = engine["results"]
    lines += [
        "## 1. Engine speed",
        "",
        f"The cycle running -> stopping -> stopped -> deallocating -> deallocated -> starting "
        f"-> running ({engine['transitions_per_cycle']} state changes), repeated "
        f"{r['vmlife']['cycles']:,} times with the history kept, every contender in one "
        "process. vmlife makes three calls per cycle (`power_off`, `deallocate`, `start`, an "
        "hour apart) and records 7 composite steps (provisioning axis and the brief Stopped "
        "of a start from deallocated included); the peers make one event per state change "
        "and append the clock and the state to two lists (the floor too). Time per transition = "
        "run time / "
        "(6 x cycles), so the rows compare like with like; the `transitions` row with only "
        "the three stable states makes 3 state changes per cycle. Ratios are per cycle. "
        f"Fast contenders: best of {r['vmlife']['repeat']} runs; python-statemachine and "
        "sismic: one run.",
        "",
        _util.table(
            ["contender", "cycles", "us / transition", "us / cycle", "x vmlife (core)",
             "x dict floor"],
            [(v["label"], f"{v['cycles']:,}", f"{v['us_per_transition']:.2f}",
              f"{v['us_per_cycle']:.1f}", f"{v['x_vs_vmlife']:.2f}", f"{v['x_vs_dict']:.1f}")
             for v in r.values()],
        ),
        "",
        f"vmlife's core lifecycle is **{et['vmlife_vs_transitions']:.1f}x** faster than "
        f"`transitions` and **{et['vmlife_over_dict']:.1f}x** the dict floor. With the three "
        f"first-party plugins installed, their guards and adjusters run on every operation "
        f"through pluggy, and vmlife is {et['plugins_vs_transitions']:.1f}x faster than "
        f"`transitions`.",
        "",
    ]

    # -- fleet
    lines += [
        "## 2. Fleet billing",
        "",
        "`vmlife.billing.fleet.bill_frame` on a synthetic fleet (100 steps per VM, categorical "
        "columns, 2023-10 edition, per minute), each size in a fresh process; peak memory is "
        "the process's peak resident set, input frame included.",
        "",
        _util.table(
            ["steps", "VMs", "bill (s)", "M steps / s", "time vs 1st", "size vs 1st",
             "peak RSS (MiB)"],
            [(f"{x['steps']:,}", f"{x['vms']:,}", f"{x['bill_seconds']:.2f}",
              f"{x['steps_per_second'] / 1e6:.2f}", f"{x['time_vs_smallest']:.2f}",
              f"{x['size_vs_smallest']:.0f}", f"{x['peak_rss_mib']:,.0f}")
             for x in fleet["rows"]],
        ),
        "",
    ]
    if "check" in big:
        c = big["check"]
        lines.append(
            f"Checked against the per-VM meter (`vmlife.billing.meter.bill`) on {c['vms']} "
            f"sampled VMs: {c['mismatches']} mismatches in {c['values_compared']} billed-seconds "
            "and cost values (exact float equality)."
        )
    if "parquet_read_and_bill_seconds" in big:
        lines.append(
            f"From a Parquet file ({big['parquet_mib']:.0f} MiB, read with pyarrow): "
            f"{big['parquet_read_and_bill_seconds']:.2f} s to read and bill {big['steps']:,} "
            "steps, same result."
        )
    lines.append("")

    # -- start-up
    lines += [
        "## 3. Import and first picture",
        "",
        f"Fresh processes, {start['runs']} runs each: median (min - max).",
        "",
        _util.table(
            ["what", "median (ms)", "min (ms)", "max (ms)", "target"],
            [(v["label"], f"{v['median'] * 1000:.1f}", f"{v['min'] * 1000:.1f}",
              f"{v['max'] * 1000:.1f}", f"< {v['target'] * 1000:.0f} ms" if v["target"] else "")
             for v in start["rows"].values()],
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    ap.add_argument("--out", help="where to write (default benchmarks/RESULTS.md)")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else None if args.quick else HERE / "RESULTS.md"
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": _util.machine(),
        "versions": _util.versions(PACKAGES),
        "load": load,
    }
    with tempfile.TemporaryDirectory(prefix="vmlife-bench-") as tmp_name:
        tmp = Path(tmp_name)
        if args.quick:
            engine = run("engine_speed.py", ["--cycles", "5000", "--slow-cycles", "500",
                                              "--repeat", "1"], tmp)
            fleet = run("fleet_billing.py", ["--sizes", "100000,200000", "--sample", "20"], tmp)
            start = run("import_and_first_picture.py", ["--runs", "3"], tmp)
        else:
            engine = run("engine_speed.py", [], tmp)
            fleet = run("fleet_billing.py", [], tmp)
            start = run("import_and_first_picture.py", [], tmp)
    text = render(engine, fleet, start, meta) + "\n"
    if out is None:
        print("\n" + text)
    else:
        out.write_text(text, encoding="utf-8")
        print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
