"""Profile the engine and the fleet billing path (what drove the performance work).

Prints the functions that take the most time, with cProfile (or pyinstrument's call tree with
``--pyinstrument``), for:

* ``engine-core``: 20,000 power cycles (``--cycles``) on the core lifecycle (the
  engine_speed.py loop);
* ``engine-plugins``: the same with every installed vmlife plugin loaded;
* ``fleet``: ``bill_frame`` on 1,000,000 steps (10,000 VMs, ``--vms``).

Run: ``.venv/bin/python benchmarks/profile_hot_paths.py [engine-core|engine-plugins|fleet]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Callable

import engine_speed
import fleet_billing


def targets(
    cycles: int = 20_000, vms: int = 10_000
) -> dict[str, Callable[[], Callable[[], object]]]:
    lcs = engine_speed.vmlife_lifecycles()
    core = engine_speed.make_vmlife(lcs["core"])
    full = engine_speed.make_vmlife(lcs["plugins"])

    def fleet() -> Callable[[], object]:
        from vmlife.billing.fleet import bill_frame

        df = fleet_billing.make_steps(vms)
        end = float(df["start"].max()) + 86400

        def run() -> object:
            return bill_frame(df, end=end)

        return run

    return {
        "engine-core": lambda: (lambda: core(cycles)),
        "engine-plugins": lambda: (lambda: full(cycles)),
        "fleet": fleet,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("what", nargs="*", default=["engine-core", "engine-plugins", "fleet"])
    ap.add_argument("--pyinstrument", action="store_true", help="a call tree instead")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--cycles", type=int, default=20_000, help="power cycles for the engine")
    ap.add_argument("--vms", type=int, default=10_000, help="VMs (100 steps each) for fleet")
    args = ap.parse_args(argv)
    make = targets(args.cycles, args.vms)
    for name in args.what:
        run = make[name]()
        run()  # warm up: caches, imports
        print(f"\n==== {name}")
        if args.pyinstrument:
            from pyinstrument import Profiler

            with Profiler() as profiler:
                run()
            print(profiler.output_text(unicode=False, color=False))
        else:
            prof = cProfile.Profile()
            prof.runcall(run)
            pstats.Stats(prof).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
