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


def test_import_vmlife_imports_no_azure_sdk() -> None:
    """``import vmlife`` never imports vmlife.azure; building the CLI (which lists ``pull``)
    imports no Azure SDK module."""
    code = (
        "import sys, vmlife\n"
        "vmlife.VM('a').create().deallocate()\n"
        "first = sorted(m for m in sys.modules if m == 'azure' or m.startswith(('azure.', "
        "'vmlife.azure', 'msal')))\n"
        "from vmlife.cli import build_parser\n"
        "build_parser()\n"
        "second = sorted(m for m in sys.modules if m == 'azure' or m.startswith(('azure.', "
        "'msal', 'vmlife.azure._sdk')))\n"
        "print(first, second)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[] []"


def test_pull_without_the_azure_extra_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['azure'] = None\n"
        "from vmlife.cli import main\n"
        "raise SystemExit(main(['pull', '--subscription', 's', '-o', sys.argv[1]]))\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-c", code, tmp], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert 'pip install "vmlife[azure]"' in proc.stderr


#: Modules ``import vmlife`` leaves to first use (vmlife's own and the standard library's);
#: an eager import of any of them slows every ``import vmlife`` down (issue 13: < 100 ms).
LAZY = [
    "vmlife.billing.reconcile",
    "vmlife.io",
    "vmlife.io.inventory",
    "vmlife.io.instance_view",
    "vmlife.io.source",
    "vmlife.status",
    "argparse",
    "csv",
    "decimal",
    "json",
    "random",
]


def test_import_vmlife_leaves_readers_and_their_modules_to_first_use() -> None:
    code = (
        "import sys\n"
        f"for m in {LAZY!r}: assert m not in sys.modules, m\n"
        "import vmlife\n"
        f"print([m for m in {LAZY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"


def test_lazy_names_are_the_same_objects_as_before() -> None:
    """The names imported on first use are still attributes (and in ``dir``); the function
    ``vmlife.billing.reconcile`` stays the function after its submodule is imported."""
    code = (
        "import vmlife, vmlife.billing\n"
        "names = set(dir(vmlife))\n"
        "assert set(vmlife.__all__) <= names, set(vmlife.__all__) - names\n"
        "assert {'io', 'status', 'billing'} <= names\n"
        "assert callable(vmlife.billing.reconcile)\n"
        "assert 'reconcile' in dir(vmlife.billing)\n"
        "import sys, vmlife.billing.reconcile\n"
        "mod = sys.modules['vmlife.billing.reconcile']\n"
        "from vmlife.billing import reconcile\n"
        "assert reconcile is mod.reconcile is vmlife.billing.reconcile\n"
        "from vmlife.io.inventory import Inventory, VMInfo, read_inventory\n"
        "assert (vmlife.Inventory, vmlife.VMInfo, vmlife.read_inventory) == "
        "(Inventory, VMInfo, read_inventory)\n"
        "from vmlife.status import format_code, parse_code, read_statuses, statuses_for\n"
        "assert (vmlife.format_code, vmlife.parse_code, vmlife.read_statuses, "
        "vmlife.statuses_for) == (format_code, parse_code, read_statuses, statuses_for)\n"
        "from vmlife.io import read_instance_views\n"
        "import vmlife.io.instance_view as iv\n"
        "assert read_instance_views is iv.read_instance_views\n"
        "try:\n"
        "    vmlife.no_such_name\n"
        "except AttributeError as e:\n"
        "    assert 'no_such_name' in str(e)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
