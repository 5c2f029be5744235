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
