"""Profile the engine and the fleet billing path (what drove the performance work).

Prints the functions that take the most time, with cProfile (or pyinstrument's call tree with
``--pyinstrument``), for:

* ``engine-core``: 20,000 power cycles on the core lifecycle (the engine_speed.py loop);
* ``engine-plugins``: the same with every installed vmlife plugin loaded;
* ``fleet``: ``bill_frame`` on 1,000,000 steps (10,000 VMs).

Run: ``.venv/bin/python benchmarks/profile_hot_paths.py [engine-core|engine-plugins|fleet]``.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Callable

import engine_speed
import fleet_billing


def targets() -> dict[str, Callable[[], Callable[[], object]]]:
    lcs = engine_speed.vmlife_lifecycles()
    core = engine_speed.make_vmlife(lcs["core"])
    full = engine_speed.make_vmlife(lcs["plugins"])

    def fleet() -> Callable[[], object]:
        from vmlife.billing.fleet import bill_frame

        df = fleet_billing.make_steps(10_000)
        end = float(df["start"].max()) + 86400

        def run() -> object:
            return bill_frame(df, end=end)

        return run

    return {
        "engine-core": lambda: (lambda: core(20_000)),
        "engine-plugins": lambda: (lambda: full(20_000)),
        "fleet": fleet,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("what", nargs="*", default=["engine-core", "engine-plugins", "fleet"])
    ap.add_argument("--pyinstrument", action="store_true", help="a call tree instead")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args(argv)
    make = targets()
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
