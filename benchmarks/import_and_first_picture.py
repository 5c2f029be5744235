"""Start-up: ``import vmlife`` and the first lifecycle SVG, each in a fresh process.

Every measurement starts a new Python process (nothing cached in memory; the operating
system's file cache is warm after the first run, as it is for a user) and is repeated
``--runs`` times; the median is reported, with the minimum and maximum.

vmlife and the plugins in this checkout are byte-compiled first (``compileall``), as a pip
install leaves a package: without ``.pyc`` files (``PYTHONDONTWRITEBYTECODE`` set, or the
first import after an edit) every module is compiled from source on each import, which costs
about as much again as the import itself.

* ``import vmlife``: timed inside the process around the import statement, and cross-checked
  with ``python -X importtime`` (the cumulative time it reports for the ``vmlife`` package).
  The interpreter's own start-up is shown apart.
* ``import vmlife`` then ``vmlife.lifecycle()``: the first use, which loads the plugins
  (entry points of installed distributions) and assembles the lifecycle.
* first SVG: from before ``import vmlife`` to the SVG text of
  ``vmlife.render.diagram(vmlife.lifecycle(), scope).svg()``, for the power axis and for the
  whole lifecycle, with each Graphviz engine found (the system ``dot`` and ``graphviz-pure``).

Run: ``.venv/bin/python benchmarks/import_and_first_picture.py [--runs 15] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _util

IMPORT = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import vmlife\n"
    "print(time.perf_counter() - t)\n"
)
FIRST_USE = (
    "import time\n"
    "t = time.perf_counter()\n"
    "import vmlife\n"
    "vmlife.lifecycle()\n"
    "print(time.perf_counter() - t)\n"
)
FIRST_SVG = (
    "import sys, time\n"
    "t = time.perf_counter()\n"
    "import vmlife\n"
    "from vmlife.render import diagram\n"
    "svg = diagram(vmlife.lifecycle(), sys.argv[1]).svg()\n"
    "took = time.perf_counter() - t\n"
    "assert svg.lstrip().startswith(('<?xml', '<svg')), svg[:80]\n"
    "print(took)\n"
)


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run ``code`` in a fresh interpreter: (wall seconds, its standard output)."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, check=True)
    return time.perf_counter() - t, proc.stdout


def importtime_vmlife() -> float:
    """Cumulative seconds ``python -X importtime`` reports for the ``vmlife`` package."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import vmlife"],
                          capture_output=True, text=True, check=True)
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s*vmlife$", line)
        if m:
            return int(m.group(1)) / 1e6
    raise RuntimeError("vmlife not found in -X importtime output")


def stats(values: list[float]) -> dict[str, float]:
    return {"median": _util.median(values), "min": min(values), "max": max(values)}


def has_svg_function() -> bool:
    """True if this vmlife has the public SVG function the measurement calls."""
    code = "import vmlife.render as r; print(callable(getattr(r, 'diagram', None)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return proc.returncode == 0 and proc.stdout.strip() == "True"


def engines() -> dict[str, str]:
    """Graphviz engines to try, by name -> VMLIFE_DOT value."""
    found = {}
    system = shutil.which("dot")
    if system:
        found["system dot"] = system
    pure = Path(sys.executable).with_name("graphviz-pure")
    pure_path = str(pure) if pure.exists() else shutil.which("graphviz-pure")
    if pure_path:
        found["graphviz-pure"] = pure_path
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)
    n = args.runs
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(root / d) for d in ("vmlife", "plugins") if (root / d).is_dir())],
                   check=True, capture_output=True)

    rows: dict[str, dict[str, Any]] = {}

    def record(key: str, label: str, values: list[float], target: float | None = None) -> None:
        rows[key] = {"label": label, **stats(values), "target": target}
        extra = f" (target < {target * 1000:.0f} ms)" if target else ""
        print(f"{label:<58} median {rows[key]['median'] * 1000:8.1f} ms{extra}", flush=True)

    record("python", "python -c pass (interpreter start-up, wall)",
           [run_python("pass")[0] for _ in range(n)])
    record("import", "import vmlife (in process)",
           [float(run_python(IMPORT)[1]) for _ in range(n)], 0.100)
    record("importtime", "import vmlife (-X importtime, cumulative)",
           [importtime_vmlife() for _ in range(n)], 0.100)
    record("import_wall", "python -c 'import vmlife' (wall, incl. start-up)",
           [run_python("import vmlife")[0] for _ in range(n)])
    env_all = {k: v for k, v in os.environ.items() if k != "VMLIFE_LOAD_PLUGINS"}
    env_core = {**env_all, "VMLIFE_LOAD_PLUGINS": ""}
    record("first_use_core", "import vmlife + lifecycle() (default plugins only)",
           [float(run_python(FIRST_USE, env=env_core)[1]) for _ in range(n)])
    record("first_use_all", "import vmlife + lifecycle() (all installed plugins)",
           [float(run_python(FIRST_USE, env=env_all)[1]) for _ in range(n)])
    found = engines() if has_svg_function() else {}
    for name, path in found.items():
        env = {**env_all, "VMLIFE_DOT": path}
        for scope in ("power", "lifecycle"):
            record(f"svg_{scope}_{name}", f"first SVG, {scope} diagram, {name}",
                   [float(run_python(FIRST_SVG, scope, env=env)[1]) for _ in range(n)], 1.0)
    if not found:
        print("no Graphviz engine, or no vmlife.render.diagram: SVG not measured")
    out = {
        "benchmark": "import_and_first_picture",
        "runs": n,
        "rows": rows,
        "engines": found,
        "targets": {
            "import_ms": rows["import"]["median"] * 1000,
            "import_ok": rows["import"]["median"] < 0.100,
            "first_svg_ms": max((r["median"] for k, r in rows.items() if k.startswith("svg_")),
                                default=None),
        },
        "versions": _util.versions(["vmlife", "pluggy", "graphviz-pure"]),
    }
    svg_max = out["targets"]["first_svg_ms"]
    out["targets"]["first_svg_ok"] = svg_max is not None and svg_max < 1.0
    if svg_max is not None:
        out["targets"]["first_svg_ms"] = svg_max * 1000
    _util.write_json(args.json, out)
    return out


if __name__ == "__main__":
    main()
