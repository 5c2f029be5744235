"""``vmlife new-plugin``: the package it writes installs, passes its own tests, and is used."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from vmlife import InputError
from vmlife.cli import main
from vmlife.scaffold import names_for


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_names() -> None:
    n = names_for("night-shift")
    assert (n.distribution, n.module, n.entry_point, n.axis, n.prefix) == (
        "vmlife-night-shift", "vmlife_night_shift", "night_shift", "night_shift",
        "NightShiftState")
    assert names_for("vmlife-demo") == names_for("demo") == names_for("vmlife_demo")
    for bad in ("", "Demo", "2fast", "a b", "x/../y", "class", "vmlife"):
        with pytest.raises(InputError):
            names_for(bad)


def test_the_package_is_complete_and_nothing_is_overwritten(tmp_path: Path) -> None:
    code, text = run("new-plugin", "demo", "--dir", str(tmp_path))
    assert code == 0
    root = tmp_path / "vmlife-demo"
    assert f"Wrote {root}" in text
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == ["README.md", "pyproject.toml", "tests/conftest.py", "tests/test_plugin.py",
                     "vmlife_demo/__init__.py", "vmlife_demo/py.typed"]
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.vmlife]\ndemo = "vmlife_demo"' in pyproject
    assert 'dependencies = ["vmlife>=' in pyproject
    module = ast.parse((root / "vmlife_demo/__init__.py").read_text(encoding="utf-8"))
    hooks = {f.name for f in module.body if isinstance(f, ast.FunctionDef)}
    import vmlife.hookspecs

    assert hooks == {h for h in vmlife.hookspecs.__all__ if h != "hookspec"}
    for f in module.body:
        if isinstance(f, ast.FunctionDef):
            assert ast.get_docstring(f), f"{f.name} needs its comment"
    before = (root / "pyproject.toml").read_bytes()
    code, _ = run("new-plugin", "demo", "--dir", str(tmp_path))
    assert code == 2 and (root / "pyproject.toml").read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout")
def test_new_plugin_installs_passes_its_tests_and_is_used(tmp_path: Path) -> None:
    """The acceptance test of issue 16: scaffold, pip install -e, its tests, plugins, diagram."""
    code, _ = run("new-plugin", "demo", "--dir", str(tmp_path))
    assert code == 0
    pkg = tmp_path / "vmlife-demo"
    # a throwaway venv that sees this environment's packages (vmlife, pytest, pip, setuptools,
    # wheel) through a .pth file, so nothing is downloaded and this environment is left alone
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    py = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]  # with its own .pth files (editable vmlife)
    Path(site, "parent_env.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    environ = {k: v for k, v in os.environ.items()
               if k not in ("VMLIFE_LOAD_PLUGINS", "PYTHONPATH")}
    environ["VMLIFE_LOAD_PLUGINS"] = "demo"  # only the new plugin, whatever else is installed

    def python(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(py), *args], capture_output=True, text=True, cwd=cwd,
                              env=environ, timeout=300)

    install = python("-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                     "--disable-pip-version-check", "--quiet", "-e", str(pkg))
    assert install.returncode == 0, install.stderr
    tests = python("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=pkg)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "7 passed" in tests.stdout  # the entry-point test ran too: it is installed

    listed = python("-m", "vmlife", "plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    [info] = [p for p in json.loads(listed.stdout) if p["name"] == "demo"]
    assert (info["distribution"], info["version"]) == ("vmlife-demo", "0.1.0")
    assert info["hooks"] == ["adjust_operation", "guard_operation", "register_editions",
                             "register_operations", "register_states", "step_recorded"]
    checked = python("-m", "vmlife", "plugins", "--check")
    assert checked.returncode == 0 and "No problems" in checked.stdout, checked.stdout

    dot = python("-m", "vmlife", "diagram", "lifecycle", "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    assert "VM marked" in dot.stdout and "demo_mark" in dot.stdout


def test_vmlife_testing_needs_pytest_only() -> None:
    """vmlife[testing] brings pytest alone: importing vmlife.testing pulls in nothing heavier."""
    code = ("import sys, vmlife.testing; "
            "print(sorted(m for m in ('hypothesis', 'pandas', 'matplotlib', 'graphviz', "
            "'ipywidgets', 'numpy') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stdout.strip() == "[]"
