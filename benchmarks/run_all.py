"""Run every benchmark and write ``benchmarks/RESULTS.md``.

Each benchmark runs in its own process (``engine_speed.py``, ``activity_log_1m.py``,
``fleet_billing.py``, ``import_and_first_picture.py``) and hands its numbers back as JSON; this
script adds the machine (cores, memory, CPU model, load), Python and package versions and the
git commit, and writes the tables and the targets met or missed. The full run takes about five
minutes on the 2-core machine (python-statemachine, sismic and the 1,000,000-event Activity Log
take most of it).

The "Targets" table of ``RESULTS.md`` sits between ``<!-- bench:summary -->`` markers, and the
README's Performance section holds a copy between the same markers: a full run writes both
(one source; ``tests/test_benchmarks.py`` checks they agree). ``--readme`` copies the table of
the existing ``RESULTS.md`` into the README without running anything.

Run: ``.venv/bin/python benchmarks/run_all.py [--quick | --tiny] [--out PATH] [--readme]``;
``--quick`` uses small sizes and ``--tiny`` the smallest that still run every script (a smoke
test, printed rather than written unless ``--out`` is given; never the README).
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
README = HERE.parent / "README.md"
START, END = "<!-- bench:summary -->", "<!-- /bench:summary -->"
PACKAGES = [
    "vmlife", "pluggy", "numpy", "pandas", "pyarrow", "dask", "distributed", "transitions",
    "python-statemachine", "sismic", "graphviz-pure", "msgspec",
]

#: Arguments per mode: engine, Activity Log, fleet billing, start-up.
SIZES: dict[str, tuple[list[str], list[str], list[str], list[str]]] = {
    "full": ([], [], [], []),
    "quick": (["--cycles", "5000", "--slow-cycles", "500", "--repeat", "1"],
              ["--events", "100000", "--vms", "100"],
              ["--sizes", "100000,200000", "--sample", "20"], ["--runs", "3"]),
    "tiny": (["--cycles", "200", "--slow-cycles", "20", "--repeat", "1"],
             ["--events", "600", "--vms", "10"],
             ["--sizes", "2000,4000", "--sample", "3"], ["--runs", "1"]),
}


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


def summary(engine: dict[str, Any], log: dict[str, Any], fleet: dict[str, Any],
            start: dict[str, Any], meta: dict[str, Any]) -> str:
    """The targets table: in RESULTS.md, and copied into the README."""
    et, ft, st = engine["targets"], fleet["targets"], start["targets"]
    r = engine["results"]
    big = fleet["rows"][-1]
    us = "\u00b5s"

    def cycle(key: str) -> str:
        return f"{r[key]['us_per_cycle']:,.1f} {us}"

    peers = (f"`transitions` {cycle('transitions')}, python-statemachine "
             f"{cycle('python_statemachine')}, sismic {cycle('sismic')}, dict floor "
             f"{cycle('dict')}")
    rows = [
        ("engine, core lifecycle: one power cycle (6 state changes, history kept)",
         f"{cycle('vmlife')}: **{et['vmlife_vs_transitions']:.1f}x** faster than `transitions`"
         f" ({peers}); {et['vmlife_over_dict']:.1f}x the dict floor",
         ">= 7x `transitions`", yes(et["vmlife_vs_transitions_ok"])),
        (f"engine with the plugins ({', '.join(engine['plugins']) or 'none installed'})",
         f"{cycle('vmlife_plugins')}: **{et['plugins_vs_transitions']:.1f}x** faster than "
         f"`transitions`; the same plugins uncached {cycle('vmlife_plugins_uncached')} "
         f"({et['memo_speedup']:.1f}x slower)",
         ">= 5x `transitions`", yes(et["plugins_vs_transitions_ok"])),
        (f"Activity Log read + rebuild, {log['events']:,} events, with the plugins",
         f"{log['read_seconds']:.1f} s: **{log['ratio_to_floor']:.2f}x** the `json.loads` "
         f"floor ({log['floor_seconds']:.1f} s) "
         + (f"with the {log['fast_path']} fast path (stdlib json only: "
            f"{log['stdlib_ratio_to_floor']:.2f}x)" if log.get("fast_path") else
            "(stdlib json only: msgspec not installed)")
         + f"; peak memory {log['peak_rss_mib']:,.0f} MiB",
         "<= 2x the floor, < 1 GB",
         yes(log["targets"]["ratio_ok"] and log["targets"]["memory_ok"])),
        (f"fleet billing, {ft['steps']:,} steps",
         f"{ft['bill_seconds']:.2f} s, peak memory {ft['peak_rss_mib'] / 1024:.2f} GiB; "
         + (f"{big['check']['mismatches']} mismatches against the per-VM meter in "
            f"{big['check']['values_compared']} values" if "check" in big else "not checked"),
         "< 10 s, < 4 GB, identical",
         yes(ft["under_10_s"] and ft["under_4_gb"] and ft["sample_identical"])),
        ("`import vmlife`", f"{st['import_ms']:.0f} ms", "< 100 ms", yes(st["import_ok"])),
        ("first lifecycle SVG in a fresh process (slowest case)",
         f"{st['first_svg_ms']:.0f} ms" if st["first_svg_ms"] is not None else "no engine",
         "< 1 s", yes(st["first_svg_ok"])),
    ]
    m = meta["machine"]
    head = (f"Measured by `make bench` on {meta['date']} at commit `{meta['commit']}` "
            f"({m['cores']} cores, {m['cpu']}, {m['python']}; load average {meta['load']} "
            f"when the run started"
            + ("; the machine was shared with other jobs, so times are slower than on an idle "
               "one" if meta.get("busy") else "") + ").")
    return head + "\n\n" + _util.table(["what", "measured", "target", "met"], rows)


def render(engine: dict[str, Any], log: dict[str, Any], fleet: dict[str, Any],
           start: dict[str, Any], meta: dict[str, Any]) -> str:
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
    lines += [START, summary(engine, log, fleet, start, meta), END, ""]
    et = engine["targets"]
    big = fleet["rows"][-1]

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
             "x vmlife + plugins", "x dict floor"],
            [(v["label"], f"{v['cycles']:,}", f"{v['us_per_transition']:.2f}",
              f"{v['us_per_cycle']:.1f}", f"{v['x_vs_vmlife']:.2f}",
              f"{v['x_vs_vmlife_plugins']:.2f}", f"{v['x_vs_dict']:.1f}")
             for v in r.values()],
        ),
        "",
        f"vmlife's core lifecycle is **{et['vmlife_vs_transitions']:.1f}x** faster than "
        f"`transitions` and **{et['vmlife_over_dict']:.1f}x** the dict floor. With the "
        f"installed plugins, whose guards and adjusters declare what they read "
        f"(`vmlife.reads`), so the engine asks them once per distinct question, vmlife is "
        f"**{et['plugins_vs_transitions']:.1f}x** faster than `transitions`; on the uncached "
        f"reference path (`Lifecycle.uncached()`: every guard and adjuster asked through pluggy "
        f"on every operation, every plan compiled again) the same plugins cost "
        f"{et['memo_speedup']:.1f}x more.",
        "",
    ]

    # -- Activity Log
    lines += [
        "## 2. Activity Log: read + rebuild against the JSON floor",
        "",
        f"`benchmarks/activity_log_1m.py`: {log['events']:,} events (JSON Lines, export shape, "
        f"{log['file_mb']:.0f} MB, {log['vms']} VMs, duplicates and out-of-order lines), with "
        f"the plugins {', '.join(log['plugins']) or '(none installed)'} loaded. The floor reads "
        "the same file line by line and calls the stdlib `json.loads` on each line, keeping "
        "nothing; `read_activity_log` reads, checks, groups and replays every operation "
        f"through the engine. Both are timed {len(log.get('read_runs', [1]))} times in turn and "
        "the best of each is kept (all runs: floor "
        + ", ".join(f"{f:.2f}" for f in log.get("floor_runs", [log["floor_seconds"]]))
        + " s; read + rebuild "
        + ", ".join(f"{r:.2f}" for r in log.get("read_runs", [log["read_seconds"]]))
        + " s). Peak memory is the process's peak resident set right after the "
        "read (interpreter, plugins and finished timelines included).",
        "",
        _util.table(
            ["", "seconds", "x floor", "events / s"],
            [("`json.loads` per line (floor)", f"{log['floor_seconds']:.2f}", "1.00",
              f"{log['events'] / log['floor_seconds']:,.0f}"),
             ]
            + [(f"`{k}` per line (no vmlife)", f"{v:.2f}", f"{v / log['floor_seconds']:.2f}",
                f"{log['events'] / v:,.0f}") for k, v in log.get("parsers", {}).items()]
            + [("vmlife's records only (`iter_records`: read, decode)",
                f"{log['records_seconds']:.2f}",
                f"{log['records_seconds'] / log['floor_seconds']:.2f}",
                f"{log['events'] / log['records_seconds']:,.0f}"),
               ("`read_activity_log` (read + rebuild"
                + (f", {log['fast_path']} fast path)" if log.get("fast_path") else ")"),
                f"{log['read_seconds']:.2f}",
                f"{log['ratio_to_floor']:.2f}", f"{log['events_per_second']:,.0f}")]
            + ([("`read_activity_log`, stdlib `json` only (no msgspec)",
                 f"{log['stdlib_read_seconds']:.2f}", f"{log['stdlib_ratio_to_floor']:.2f}",
                 f"{log['events'] / log['stdlib_read_seconds']:,.0f}")]
               if log.get("stdlib_read_seconds") else []),
        ),
        "",
        "With msgspec installed (`pip install vmlife[fast]`), export-shape JSON Lines are "
        "decoded straight into typed records of only the fields vmlife reads; any line it "
        "cannot type exactly goes the stdlib way, and both paths give the same result (checked "
        "here on the whole file"
        + (f": {'identical' if log.get('paths_agree') else 'DIFFERENT'}" if log.get(
            "paths_agree") is not None else "")
        + ", and by a property test in `tests/test_activity_log_fast.py`).",
        "",
        f"Peak memory {log['peak_rss_mib']:,.0f} MiB ({log['rss_before_mib']:,.0f} MiB before "
        f"reading); {log['steps']:,} steps rebuilt; billing them with the per-VM meter took "
        f"{log['bill_seconds']:.2f} s.",
        "",
    ]

    # -- fleet
    lines += [
        "## 3. Fleet billing",
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
        "## 4. Import and first picture",
        "",
        f"Fresh processes, {start['runs']} runs each: median (min - max). vmlife and the "
        "plugins are byte-compiled first, as a pip install leaves them (compiling every module "
        "from source, as the first import after an edit does, roughly doubles the import).",
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


def readme_block(text: str) -> str:
    """The text between the summary markers (markers excluded), stripped."""
    if START not in text or END not in text:
        raise SystemExit(f"no {START} ... {END} block")
    return text.split(START, 1)[1].split(END, 1)[0].strip()


def update_readme(results: str, readme: Path = README) -> None:
    """Copy the summary block of RESULTS.md text into the README's Performance section."""
    text = readme.read_text(encoding="utf-8")
    block = readme_block(results)
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{START}\n{block}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    size.add_argument("--tiny", action="store_true",
                      help="the smallest sizes that run every script (the test suite's)")
    ap.add_argument("--out", help="where to write (default benchmarks/RESULTS.md)")
    ap.add_argument("--readme", action="store_true",
                    help="only copy the summary of the existing RESULTS.md into README.md")
    args = ap.parse_args(argv)
    if args.readme:
        update_readme((HERE / "RESULTS.md").read_text(encoding="utf-8"))
        print(f"updated {README}")
        return
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    out = Path(args.out) if args.out else None if mode != "full" else HERE / "RESULTS.md"
    try:
        loadavg = os.getloadavg()
        load = ", ".join(f"{x:.2f}" for x in loadavg)
        busy = loadavg[0] > (os.cpu_count() or 1) * 0.5
    except OSError:
        load, busy = "unknown", False
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "machine": _util.machine(),
        "versions": _util.versions(PACKAGES),
        "load": load,
        "busy": busy,
    }
    e_args, l_args, f_args, s_args = SIZES[mode]
    with tempfile.TemporaryDirectory(prefix="vmlife-bench-") as tmp_name:
        tmp = Path(tmp_name)
        engine = run("engine_speed.py", e_args, tmp)
        log = run("activity_log_1m.py", l_args, tmp)
        fleet = run("fleet_billing.py", f_args, tmp)
        start = run("import_and_first_picture.py", s_args, tmp)
    text = render(engine, log, fleet, start, meta) + "\n"
    if out is None:
        print("\n" + text)
        return
    out.write_text(text, encoding="utf-8")
    print(f"\nwrote {out}")
    if mode == "full" and args.out is None:
        update_readme(text)
        print(f"updated {README}")


if __name__ == "__main__":
    main()
