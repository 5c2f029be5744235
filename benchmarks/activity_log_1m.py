"""Read and rebuild a 1,000,000-event Activity Log: wall time and peak memory.

Run it with ``.venv/bin/python benchmarks/activity_log_1m.py [EVENTS]``. It writes a JSON Lines
file in the storage / Event Hubs export shape (the shape a file this big comes in) to a
temporary directory: 500 VMs, each created and then deallocated, started, restarted, powered
off and started again in turn, three events per operation (Start, Accept, Success), with one
event in 1,000 delivered twice and neighbouring lines swapped now and then so the file is not in
order. It then times :func:`vmlife.io.activity_log.read_activity_log` on it (reading, grouping,
replaying through the engine), and, separately, billing the timelines with
:func:`vmlife.billing.meter.bill` when it is there. Peak memory is the process's maximum resident
set size (``resource.getrusage``), which includes the interpreter itself.

Target (issue 4): under a minute and under 1 GB. Measured on the project machine (2 cores,
24 GB, Python 3.11.7), 1,000,006 events in a 747 MB file, 500 VMs, 799,500 steps:

    read + rebuild: 27.7 s (36,074 events/s); peak RSS 300 MB (18 MB before reading)
    bill (2023-10, minute): 2.1 s

The same events as one JSON document (``{"records": [...]}``, streamed element by element)
read in the same time and memory: 300,304 events, 225 MB, took 7.8 s and 110 MB as a document
against 8.0 s and 102 MB as JSON Lines. Before the cyclic collector was paused during the load
and duplicates were looked for per operation, the 1M run took 47 s and 964 MB.

The numbers printed by a run are the ones to trust; these are written down for comparison.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VMLIFE_LOAD_PLUGINS", "")

SUB = "5f0c2b7e-1a3d-4c8e-9b6f-0e2d4a6c8b1f"
ACTIONS = ("deallocate/action", "start/action", "restart/action", "powerOff/action", "start/action")
LINE = (
    '{{"time":"{time}","resourceId":"{rid}","operationName":"{op}","category":"Administrative",'
    '"resultType":"{rtype}","resultSignature":"{sig}","durationMs":0,'
    '"callerIpAddress":"203.0.113.9","correlationId":"{corr}","level":"Information",'
    '"location":"global","properties":{{"statusCode":"{code}","serviceRequestId":"{srv}",'
    '"eventCategory":"Administrative","entity":"{entity}"}}}}\n'
)
PHASES = (
    ("Start", "Started.", ""),
    ("Accept", "Accepted.Accepted", "Accepted"),
    ("Success", "Succeeded.OK", "OK"),
)


def _iso(t: float) -> str:
    whole = int(t)
    frac = int((t - whole) * 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{frac:07d}Z"


def generate(path: Path, events: int, vms: int = 500, seed: int = 1) -> int:
    """Write ``events`` export-shape events (rounded down to whole operations); their count."""
    rnd = random.Random(seed)
    ops_per_vm = max(1, events // (3 * vms))
    written = 0
    pending: list[str] = []
    with path.open("w", encoding="utf-8") as fh:
        for v in range(vms):
            entity = (
                f"/subscriptions/{SUB}/resourceGroups/rg-fleet-{v % 20}/providers/"
                f"Microsoft.Compute/virtualMachines/vm-{v:04d}"
            )
            rid = entity.upper()
            t = 1_704_067_200.0 + v * 7.0  # 2024-01-01
            for i in range(ops_per_vm):
                action = "write" if i == 0 else ACTIONS[(i - 1) % len(ACTIONS)]
                op = f"MICROSOFT.COMPUTE/VIRTUALMACHINES/{action.upper()}"
                corr = f"{v:08x}-{i:04x}-4{rnd.getrandbits(12):03x}-8000-{rnd.getrandbits(48):012x}"
                span = rnd.uniform(30, 180)
                for k, (rtype, sig, code) in enumerate(PHASES):
                    when = t + (0.0, 1.2, span)[k]
                    line = LINE.format(
                        time=_iso(when),
                        rid=rid,
                        op=op,
                        rtype=rtype,
                        sig=sig,
                        corr=corr,
                        code=code,
                        srv=f"{corr[:-4]}{k:04d}",
                        entity=entity,
                    )
                    pending.append(line)
                    if rnd.random() < 0.001:
                        pending.append(line)  # delivered twice
                t += span + rnd.uniform(1800, 6 * 3600)
                if rnd.random() < 0.05 and len(pending) > 1:
                    pending[-1], pending[-2] = pending[-2], pending[-1]  # out of order
                written += len(pending)
                fh.writelines(pending)
                pending.clear()
    return written


def peak_rss_mb() -> float:
    """The process's peak resident set size in MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    from vmlife.io.activity_log import read_activity_log

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "activity_log.jsonl"
        t0 = time.perf_counter()
        n = generate(path, events)
        size = path.stat().st_size
        print(f"generated {n:,} events ({size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        base = peak_rss_mb()
        t0 = time.perf_counter()
        result = read_activity_log(path, quiet=True)
        took = time.perf_counter() - t0
        c = result.counts
        print(
            f"read + rebuild: {took:.1f} s ({c.read / took:,.0f} events/s); "
            f"peak RSS {peak_rss_mb():.0f} MB (before reading: {base:.0f} MB)"
        )
        print(
            f"  {len(result.timelines)} VMs, {sum(len(t) for t in result.timelines):,} steps; "
            f"records: {c.read:,} read = {c.used:,} used + {c.duplicates:,} duplicates + "
            f"{c.anomalies:,} in anomalies + {c.ignored:,} ignored; reconciles: {c.reconciles}"
        )
        try:
            from vmlife.billing.meter import bill
        except ImportError:
            return
        t0 = time.perf_counter()
        b = bill(result.timelines, edition="2023-10", granularity="minute")
        print(
            f"bill (2023-10, minute): {time.perf_counter() - t0:.1f} s; "
            f"{len(b.vms)} VMs, peak RSS {peak_rss_mb():.0f} MB"
        )
        ok = took < 60 and peak_rss_mb() < 1024
        print("target (under 60 s and 1 GB):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
