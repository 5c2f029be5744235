"""Fleet billing throughput: millions of steps billed per VM and component.

A synthetic fleet of VMs, 100 steps each, walking Azure's power cycle (stopping, stopped,
deallocating, deallocated, stopped briefly, starting, running, with the provisioning axis
alongside) with random durations from seconds to hours; 5% of the VMs end deleted. Columns are
categorical, as a Parquet file's dictionary-encoded columns read back. The frame is built in
memory (not timed), then :func:`vmlife.billing.fleet.bill_frame` bills it under the 2023-10
edition, per minute, up to a day after the last step.

Each size runs in a fresh process, so its peak memory (``ru_maxrss``, which includes the input
frame) is its own. At the largest size the script also bills the same steps from a Parquet
file (read with pyarrow, then billed) written to a temporary folder, and checks the result
against the per-VM reference path, :func:`vmlife.billing.meter.bill`, on a sample of VMs: billed
seconds and costs must be identical.

Run: ``.venv/bin/python benchmarks/fleet_billing.py [--sizes 1000000,2000000,5000000,10000000]
[--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _util

STEPS_PER_VM = 100
T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z
#: The cycle a VM walks: (provisioning, power, transitional?) per step.
CYCLE = [
    ("updating", "stopping", True),
    ("succeeded", "stopped", False),
    ("updating", "deallocating", True),
    ("succeeded", "deallocated", False),
    ("updating", "stopped", True),  # start from deallocated shows Stopped for a moment
    ("updating", "starting", True),
    ("succeeded", "running", False),
]
SKUS = ["Standard_D2s_v5", "Standard_D4s_v5"]
OSES = ["linux", "windows"]


def make_steps(n_vms: int, steps_per_vm: int = STEPS_PER_VM, seed: int = 8) -> Any:
    """A synthetic fleet's steps as a pandas DataFrame (vectorized; a few seconds at 10M)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = n_vms * steps_per_vm
    vm = np.repeat(np.arange(n_vms, dtype=np.int32), steps_per_vm)
    j = np.tile(np.arange(steps_per_vm, dtype=np.int32), n_vms)
    phase = rng.integers(0, len(CYCLE), n_vms, dtype=np.int32)
    idx = (phase[vm] + j) % len(CYCLE)
    transitional = np.array([c[2] for c in CYCLE])[idx]
    dur = np.where(
        transitional,
        rng.integers(5, 180, n),  # seconds to a few minutes
        rng.integers(30, 16 * 3600, n),  # half a minute to most of a day
    ).astype(np.float64)
    ends = np.cumsum(dur)
    starts_in_vm = ends - dur
    base = starts_in_vm[::steps_per_vm]  # cumulative time before each VM's first step
    start = T0 + rng.integers(0, 86400, n_vms)[vm] + (starts_in_vm - base[vm])
    prov_cats = ["updating", "succeeded"]
    power_cats = sorted({c[1] for c in CYCLE})
    prov_codes = np.array([prov_cats.index(c[0]) for c in CYCLE], dtype=np.int8)[idx]
    power_codes = np.array([power_cats.index(c[1]) for c in CYCLE], dtype=np.int8)[idx]
    deleted = rng.random(n_vms) < 0.05  # these VMs' last step is "no VM"
    last = np.flatnonzero(deleted) * steps_per_vm + steps_per_vm - 1
    prov_codes[last] = -1
    power_codes[last] = -1
    names = pd.Index([f"vm-{i:06d}" for i in range(n_vms)])
    return pd.DataFrame(
        {
            "vm": pd.Categorical.from_codes(vm, categories=names),
            "start": start,
            "provisioning": pd.Categorical.from_codes(prov_codes, categories=prov_cats),
            "power": pd.Categorical.from_codes(power_codes, categories=power_cats),
            "sku": pd.Categorical.from_codes(
                rng.integers(0, len(SKUS), n_vms, dtype=np.int8)[vm], categories=SKUS
            ),
            "os": pd.Categorical.from_codes(
                rng.integers(0, len(OSES), n_vms, dtype=np.int8)[vm], categories=OSES
            ),
        }
    )


def check_sample(df: Any, out: Any, end: float, n_sample: int, seed: int = 1) -> dict[str, Any]:
    """Bill a sample of VMs with the per-VM meter and compare with the fleet result."""
    import numpy as np
    import pandas as pd

    from vmlife import Timeline, VMState
    from vmlife.billing.meter import bill

    rng = np.random.default_rng(seed)
    names = list(df["vm"].cat.categories)
    chosen = sorted(rng.choice(len(names), size=min(n_sample, len(names)), replace=False))
    timelines = []
    for code in chosen:
        lo = int(code) * STEPS_PER_VM  # the frame holds each VM's steps together, in order
        rows = df.iloc[lo : lo + STEPS_PER_VM]
        states = [
            VMState({"provisioning": p, "power": w} if not pd.isna(w) else {})
            for p, w in zip(rows["provisioning"], rows["power"], strict=True)
        ]
        timelines.append(
            Timeline(
                names[code],
                rows["start"].tolist(),
                states,
                [None] * len(states),
                attributes={"size": rows["sku"].iloc[0], "os": rows["os"].iloc[0]},
            )
        )
    ref = bill(timelines, end=end)
    fleet = out.set_index(["vm", "component"])
    mismatches = 0
    compared = 0
    for v in ref.vms:
        for comp in ("compute", "license", "other"):
            row = fleet.loc[(v.vm, comp)]
            compared += 1
            if row["billed_seconds"] != v.billed_seconds[comp] or row["cost"] != v.cost[comp]:
                mismatches += 1
    return {"vms": len(ref.vms), "values_compared": compared * 2, "mismatches": mismatches}


def one_size(n_steps: int, sample: int, parquet: bool) -> dict[str, Any]:
    """Build, bill and measure one size in this process."""
    import gc

    from vmlife.billing.fleet import bill_frame

    n_vms = n_steps // STEPS_PER_VM
    t = time.perf_counter()
    df = make_steps(n_vms)
    build_s = time.perf_counter() - t
    end = float(df["start"].max()) + 86400
    gc.collect()
    rss_before = _util.peak_rss_mib()
    t = time.perf_counter()
    out = bill_frame(df, end=end)
    bill_s = time.perf_counter() - t
    result: dict[str, Any] = {
        "steps": len(df),
        "vms": n_vms,
        "build_seconds": build_s,
        "bill_seconds": bill_s,
        "steps_per_second": len(df) / bill_s,
        "peak_rss_mib_before_billing": rss_before,
        "peak_rss_mib": _util.peak_rss_mib(),
        "result_rows": len(out),
        "billed_hours": float(out["billed_seconds"].sum() / 3600),
        "cost": float(out["cost"].sum()),
    }
    if sample:
        result["check"] = check_sample(df, out, end, sample)
    if parquet:
        import pandas as pd

        with tempfile.TemporaryDirectory(prefix="vmlife-bench-") as tmp:
            path = Path(tmp) / "steps.parquet"
            df.to_parquet(path, row_group_size=1_000_000)
            result["parquet_mib"] = path.stat().st_size / 2**20
            del df
            gc.collect()
            t = time.perf_counter()
            from_file = bill_frame(path, end=end)
            result["parquet_read_and_bill_seconds"] = time.perf_counter() - t
            pd.testing.assert_frame_equal(from_file, out, check_dtype=False)
            result["parquet_same_result"] = True
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sizes", default="1000000,2000000,5000000,10000000",
                    help="comma-separated step counts")
    ap.add_argument("--sample", type=int, default=200,
                    help="VMs checked against the per-VM meter at the largest size")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one size
    ap.add_argument("--parquet", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)

    if args.one:
        res = one_size(args.one, args.sample, args.parquet)
        _util.write_json(args.json, res)
        return res

    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        largest = n == max(sizes)
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            cmd = [sys.executable, __file__, "--one", str(n), "--json", tmp.name,
                   "--sample", str(args.sample if largest else 0)]
            if largest:
                cmd.append("--parquet")
            subprocess.run(cmd, check=True)
            res = json.loads(Path(tmp.name).read_text())
        rows.append(res)
        print(f"{res['steps']:>12,} steps  {res['bill_seconds']:7.2f} s  "
              f"{res['steps_per_second'] / 1e6:6.2f} M steps/s  "
              f"peak {res['peak_rss_mib']:,.0f} MiB", flush=True)
    first = rows[0]
    for r in rows:
        r["time_vs_smallest"] = r["bill_seconds"] / first["bill_seconds"]
        r["size_vs_smallest"] = r["steps"] / first["steps"]
    big = rows[-1]
    targets = {
        "steps": big["steps"],
        "bill_seconds": big["bill_seconds"],
        "under_10_s": big["bill_seconds"] < 10,
        "peak_rss_mib": big["peak_rss_mib"],
        "under_4_gb": big["peak_rss_mib"] < 4096,
        "sample_identical": big.get("check", {}).get("mismatches") == 0,
    }
    print()
    print(_util.table(
        ["steps", "VMs", "bill (s)", "M steps/s", "x time", "x size", "peak RSS (MiB)"],
        [(f"{r['steps']:,}", f"{r['vms']:,}", r["bill_seconds"], r["steps_per_second"] / 1e6,
          r["time_vs_smallest"], r["size_vs_smallest"], r["peak_rss_mib"]) for r in rows],
    ))
    if "check" in big:
        c = big["check"]
        print(f"\nper-VM meter on {c['vms']} sampled VMs: {c['mismatches']} mismatches in "
              f"{c['values_compared']} values")
    if "parquet_read_and_bill_seconds" in big:
        print(f"from Parquet ({big['parquet_mib']:.0f} MiB): "
              f"{big['parquet_read_and_bill_seconds']:.2f} s read + bill")
    out = {"benchmark": "fleet_billing", "rows": rows, "targets": targets,
           "versions": _util.versions(["vmlife", "numpy", "pandas", "pyarrow"])}
    _util.write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
