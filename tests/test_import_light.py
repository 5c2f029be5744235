"""``import vmlife`` stays light: no plotting, table or widget library is imported."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["matplotlib", "pandas", "ipywidgets", "graphviz", "numpy", "IPython"]


def test_import_vmlife_imports_no_heavy_package() -> None:
    code = (
        "import sys, vmlife\n"
        "vm = vmlife.VM('a').create().deallocate()\n"
        "vmlife.parse_code('PowerState/running')\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_core_works_with_heavy_packages_blocked() -> None:
    code = (
        "import sys\n"
        f"for m in {HEAVY!r}: sys.modules[m] = None\n"
        "import vmlife\n"
        "from vmlife.cli import main\n"
        "vmlife.VM('a').create().restart()\n"
        "raise SystemExit(main(['states']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
