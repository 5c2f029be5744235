"""Docs and hooks stay together: README examples run, every hook is tested and documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import vmlife.hookspecs

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
HOOKS = [n for n in vmlife.hookspecs.__all__ if n != "hookspec"]


def hook_signature(name: str) -> str:
    sig = inspect.signature(getattr(vmlife.hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("index", range(len(python_blocks(README))))
def test_readme_python_examples_run(index: int) -> None:
    exec(compile(python_blocks(README)[index], f"README.md[block {index}]", "exec"), {})


GUIDE = (ROOT / "plugins" / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("index", range(len(python_blocks(GUIDE))))
def test_plugin_guide_python_examples_run(index: int) -> None:
    exec(compile(python_blocks(GUIDE)[index], f"plugins/README.md[block {index}]", "exec"), {})


def test_plugin_guide_lists_every_field_of_what_a_plugin_registers() -> None:
    import dataclasses

    from vmlife import Axis, Operation, Phase, State
    from vmlife.billing import BillingRules, Rule

    for cls in (Axis, State, Phase, Operation, Rule, BillingRules):
        if cls in (Rule, BillingRules):  # one section for both
            section = GUIDE.split("### `Rule(", 1)[1].split("\n## ", 1)[0]
        else:
            section = GUIDE.split(f"### `{cls.__name__}(", 1)[1].split("\n### ", 1)[0]
        for f in dataclasses.fields(cls):
            if f.name == "plugin":
                continue  # filled in by vmlife
            assert f"`{f.name}`" in section or f"`{cls.__name__}.{f.name}`" in section, (
                f"{cls.__name__}.{f.name} is not in the guide")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    assert f"### `{hook}`" in README
    assert hook_signature(hook) in README, hook_signature(hook)
    section = README.split(f"### `{hook}`", 1)[1].split("\n### ", 1)[0]
    assert f"def {hook}(" in section, f"the {hook} section needs a complete example"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_named_for_it(hook: str) -> None:
    names = []
    for path in Path(__file__).parent.glob("test_*.py"):
        names += re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), flags=re.M)
    assert any(hook in n for n in names), f"no test is named for hook {hook}"


def test_hookspecs_module_lists_every_hook() -> None:
    pm_hooks = {
        n for n, f in vars(vmlife.hookspecs).items() if callable(f) and hasattr(f, "vmlife_spec")
    }
    assert pm_hooks == set(HOOKS)
