"""Activity Logs: read + rebuild against the ``json.loads`` floor, time and peak memory.

It writes a JSON Lines file in the storage / Event Hubs export shape (the shape a file this big
comes in) to a temporary directory: ``--vms`` VMs (500), each created and then deallocated,
started, restarted, powered off and started again in turn, three events per operation (Start,
Accept, Success), with one event in 1,000 delivered twice and neighbouring lines swapped now
and then so the file is not in order. Then, in this order, in one process:

1. **the floor**: read the file line by line and ``json.loads`` each line (the stdlib parser),
   keeping nothing: the least any Python reader of this file does;
2. **read + rebuild**: :func:`vmlife.io.activity_log.read_activity_log` on the same file with
   every installed vmlife plugin loaded (the three first-party ones in ``make bench``): reading,
   checking each record, grouping, replaying every operation through the engine. With msgspec
   installed (``pip install vmlife[fast]``; ``make bench`` installs it) export lines are
   decoded by its typed fast path;
3. **bill**: :func:`vmlife.billing.meter.bill` on the timelines (2023-10 edition, per minute);
4. **read + rebuild, stdlib only**: (2) again with the fast path turned off
   (``vmlife.io.activity_log.FAST_DECODE = False``), what a user without msgspec gets.

The ratio is (2) / (1), each the best of ``--repeat`` runs (3) timed in turn, so that a
moment of load on a shared machine does not decide it (the engine benchmark keeps the best of
three too). Peak memory is the process's maximum resident set size (``resource.getrusage``)
right after the first read (2), which includes the interpreter, the plugins and the
finished timelines; the floor keeps nothing, so it does not raise it.

Run it with ``.venv/bin/python benchmarks/activity_log_1m.py [--events N] [--json out.json]``
(1,000,000 events by default; ``--core`` loads no installed plugin).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import _util

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


def json_floor(path: Path, loads: Any = json.loads) -> float:
    """Seconds to read ``path`` line by line and parse each line, keeping nothing."""
    gc.collect()
    t0 = time.perf_counter()
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            loads(line)
    return time.perf_counter() - t0


def _fast_path_name(decode: Any) -> str | None:
    if decode is None:
        return None
    from importlib.metadata import version

    return f"msgspec {version('msgspec')}"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--vms", type=int, default=500)
    ap.add_argument("--core", action="store_true", help="load no installed vmlife plugin")
    ap.add_argument("--repeat", type=int, default=3,
                    help="times the floor and the read are each timed, in turn (best kept)")
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)
    if args.core:
        os.environ["VMLIFE_LOAD_PLUGINS"] = ""
    else:
        os.environ.pop("VMLIFE_LOAD_PLUGINS", None)
    import vmlife
    from vmlife.billing.meter import bill
    from vmlife.io.activity_log import read_activity_log

    vmlife.lifecycle()  # load the plugins before anything is timed
    plugins = [p.name for p in vmlife.list_plugins() if not p.default]
    with tempfile.TemporaryDirectory(prefix="vmlife-bench-") as tmp:
        path = Path(tmp) / "activity_log.jsonl"
        t0 = time.perf_counter()
        n = generate(path, args.events, vms=args.vms)
        size = path.stat().st_size
        print(f"generated {n:,} events ({size / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s",
              flush=True)
        floor = json_floor(path)
        print(f"json.loads floor: {floor:.2f} s", flush=True)
        parsers = {}  # other parsers over the same lines: what a faster one could save
        for module, function in (("msgspec.json", "decode"), ("orjson", "loads")):
            try:
                mod = __import__(module, fromlist=[function])
            except ImportError:
                continue
            parsers[f"{module}.{function}"] = json_floor(path, getattr(mod, function))
            print(f"{module}.{function}: {parsers[f'{module}.{function}']:.2f} s", flush=True)
        from vmlife.io import activity_log
        from vmlife.io.history import iter_records

        decode = activity_log._fast_decoder("auto")  # None without msgspec
        gc.collect()
        t0 = time.perf_counter()
        for _ in iter_records(path, quiet=True, decode=decode):
            pass
        records = time.perf_counter() - t0
        print(f"vmlife's records alone (read, decode): {records:.2f} s", flush=True)
        before = _util.peak_rss_mib()
        gc.collect()
        t0 = time.perf_counter()
        result = read_activity_log(path, quiet=True)
        took = time.perf_counter() - t0
        peak = _util.peak_rss_mib()
        floors, reads = [floor], [took]
        for _ in range(args.repeat - 1):  # floor and read in turn, so both meet the same load
            floors.append(json_floor(path))
            gc.collect()
            t0 = time.perf_counter()
            read_activity_log(path, quiet=True)
            reads.append(time.perf_counter() - t0)
        if args.repeat > 1:
            print(f"  repeated: floor {', '.join(f'{f:.2f}' for f in floors)} s; read + rebuild "
                  f"{', '.join(f'{r:.2f}' for r in reads)} s; best of each kept", flush=True)
        floor, took = min(floors), min(reads)
        c = result.counts
        steps = sum(len(t) for t in result.timelines)
        vms = len(result.timelines)
        print(f"read + rebuild ({', '.join(plugins) or 'core only'}): {took:.2f} s = "
              f"{took / floor:.2f}x the floor; peak RSS {peak:.0f} MiB (before: {before:.0f} MiB)")
        print(f"  {len(result.timelines)} VMs, {steps:,} steps; records: {c.read:,} read = "
              f"{c.used:,} used + {c.duplicates:,} duplicates + {c.anomalies:,} in anomalies + "
              f"{c.ignored:,} ignored; reconciles: {c.reconciles}", flush=True)
        if not c.reconciles or c.used == 0:
            raise AssertionError("the Activity Log was not read as expected")
        t0 = time.perf_counter()
        b = bill(result.timelines, edition="2023-10", granularity="minute")
        billed = time.perf_counter() - t0
        print(f"bill (2023-10, minute): {billed:.2f} s; {len(b.vms)} VMs")
        same = None
        stdlib = None
        if decode is not None:
            expected = result.to_dict()
            del result, b
            gc.collect()
            activity_log.FAST_DECODE = False
            t0 = time.perf_counter()
            slow = read_activity_log(path, quiet=True)
            stdlib = time.perf_counter() - t0
            activity_log.FAST_DECODE = True
            same = slow.to_dict() == expected
            print(f"read + rebuild, stdlib json only: {stdlib:.2f} s = {stdlib / floor:.2f}x the "
                  f"floor; same result as the fast path: {same}", flush=True)
            if not same:
                raise AssertionError("the fast and the stdlib paths disagree")
    out = {
        "benchmark": "activity_log",
        "events": n,
        "vms": vms,
        "steps": steps,
        "file_mb": size / 1e6,
        "plugins": plugins,
        "floor_seconds": floor,
        "floor_runs": floors,
        "read_runs": reads,
        "parsers": parsers,
        "records_seconds": records,
        "fast_path": _fast_path_name(decode),
        "read_seconds": took,
        "stdlib_read_seconds": stdlib,
        "stdlib_ratio_to_floor": None if stdlib is None else stdlib / floor,
        "paths_agree": same,
        "ratio_to_floor": took / floor,
        "events_per_second": c.read / took,
        "peak_rss_mib": peak,
        "rss_before_mib": before,
        "bill_seconds": billed,
        "targets": {
            "ratio_ok": took / floor <= 2,
            "memory_ok": peak < 1024,
        },
    }
    _util.write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
