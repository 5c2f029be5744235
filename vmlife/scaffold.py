"""``vmlife new-plugin NAME``: a complete, installable, tested plugin package to start from.

The package it writes (``vmlife-NAME/`` in the folder given) holds:

* ``pyproject.toml``: setuptools build, a dependency on vmlife, the entry point in group
  ``vmlife`` and a ``test`` extra (``vmlife[testing]``, which brings pytest);
* ``vmlife_NAME/__init__.py``: one commented example per hook, working together: an axis with
  one state, an operation that sets it and one that clears it, a guard on a VM attribute, an
  adjuster that clears the state when the VM starts, a ``register_editions`` that shows the two
  ways a plugin's states compose with the power state's billing, and an observer;
* ``tests/conftest.py`` with the ``bare_core`` fixture and ``tests/test_plugin.py``, one test per
  hook, which pass as written;
* ``README.md`` saying how to install, test and change it.

``pip install -e vmlife-NAME`` installs it; ``vmlife plugins`` then lists it and ``vmlife diagram
lifecycle`` draws its axis. Nothing is overwritten: an existing folder is refused.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import InputError

__all__ = ["PluginNames", "names_for", "new_plugin"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class PluginNames:
    """The names one plugin goes by.

    Attributes:
        distribution: the pip name, ``vmlife-demo``.
        module: the import name, ``vmlife_demo``.
        entry_point: the entry-point name ``VMLIFE_LOAD_PLUGINS`` and ``vmlife plugins`` use,
            ``demo``.
        axis: the id of the example axis, ``demo``.
        prefix: the example axis's status-code prefix, ``DemoState``.
    """

    distribution: str
    module: str
    entry_point: str
    axis: str
    prefix: str


def names_for(name: str) -> PluginNames:
    """The names of a plugin called ``name`` (``demo``, ``vmlife-demo`` or ``my_checks``).

    Raises:
        InputError: the name is not lower-case letters and digits, words joined by ``-`` or
            ``_``, starting with a letter (it becomes a Python identifier).
    """
    raw = name.strip()
    base = re.sub(r"^vmlife[-_]", "", raw)
    if not _NAME.match(base) or base == "vmlife":
        raise InputError(
            "a plugin name is lower-case letters and digits, words joined by '-' or '_', "
            "starting with a letter (e.g. demo, night-shift)",
            source="NAME",
            field="name",
            record=repr(raw),
        )
    ident = base.replace("-", "_")
    if keyword.iskeyword(ident):
        raise InputError(f"{ident!r} is a Python keyword", source="NAME", field="name")
    prefix = "".join(part.capitalize() for part in ident.split("_")) + "State"
    return PluginNames(f"vmlife-{base.replace('_', '-')}", f"vmlife_{ident}", ident, ident,
                       prefix)


def new_plugin(name: str, directory: str | Path = ".") -> Path:
    """Write a new plugin package into ``directory``; returns the package's folder.

    Raises:
        InputError: a bad name, or the folder exists already (nothing is overwritten).
    """
    n = names_for(name)
    root = Path(directory) / n.distribution
    if root.exists():
        raise InputError("exists already; vmlife new-plugin never overwrites a folder",
                         source=str(root))
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{n.module}/__init__.py": _MODULE,
        f"{n.module}/py.typed": "",
        "tests/conftest.py": _CONFTEST,
        "tests/test_plugin.py": _TESTS,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(template, n), encoding="utf-8")
    return root


def _fill(template: str, n: PluginNames) -> str:
    major_minor = ".".join(__version__.split(".")[:2])
    return (
        template.replace("{{distribution}}", n.distribution)
        .replace("{{module}}", n.module)
        .replace("{{entry_point}}", n.entry_point)
        .replace("{{axis}}", n.axis)
        .replace("{{prefix}}", n.prefix)
        .replace("{{vmlife_version}}", major_minor)
    )


_PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{{distribution}}"
version = "0.1.0"
description = "A vmlife plugin: the {{axis}} axis and its operations."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["vmlife>={{vmlife_version}}"]

[project.optional-dependencies]
# vmlife[testing] brings pytest and makes vmlife.testing (the bare_core fixture) importable
test = ["vmlife[testing]>={{vmlife_version}}"]

# vmlife finds the plugin through this entry point: `vmlife plugins` lists it by the name on
# the left, which is also the name VMLIFE_LOAD_PLUGINS takes.
[project.entry-points.vmlife]
{{entry_point}} = "{{module}}"

[tool.setuptools.packages.find]
include = ["{{module}}*"]

[tool.setuptools.package-data]
{{module}} = ["py.typed"]

[tool.pytest.ini_options]
testpaths = ["tests"]
'''

_MODULE = '''\
"""{{distribution}}: a vmlife plugin (written by `vmlife new-plugin`; make it yours).

Every function below implements one vmlife hook; vmlife calls it with keyword arguments, so
each takes only the arguments it needs. The plugin adds:

* an axis ``{{axis}}`` (status-code prefix ``{{prefix}}``) with one state, ``marked``;
* the operations ``{{axis}}_mark`` (from a running, stopped or deallocated VM) and
  ``{{axis}}_clear``;
* a guard: ``{{axis}}_mark`` is refused on a VM whose attribute ``{{axis}}_locked`` is true;
* an adjuster: the core's ``start`` clears the mark;
* billing: the ``{{axis}}`` axis inherits the power state's billing (a running, marked VM
  bills as running), so no billing rule is registered;
* an observer that logs every step at debug level.

The hooks' reference: the plugin author's guide in vmlife's README and ``vmlife.hookspecs``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

import vmlife
from vmlife import Axis, Operation, Phase, State

__all__ = ["AXIS", "CLEAR", "LOCKED", "MARK", "MARKED"]

log = logging.getLogger(__name__)

AXIS = "{{axis}}"
MARKED = "marked"
MARK = "{{axis}}_mark"
CLEAR = "{{axis}}_clear"
#: the VM attribute the guard reads: vmlife.VM(..., {{axis}}_locked=True), or create(...)
LOCKED = "{{axis}}_locked"


@vmlife.hookimpl
def register_states(register: Callable[[Axis | State], None]) -> None:
    """The axis and its states.

    Axis(id, prefix, title): the prefix is the status-code prefix Azure (or your tool) shows,
    so "{{prefix}}/Marked" in an instance view's statuses parses to this state.
    State(id, axis, code, display, ...): ``transitional=True`` for a state that only exists
    while an operation runs; ``description`` and ``note`` appear in diagrams and docs.
    """
    register(Axis(AXIS, "{{prefix}}", "{{axis}}", description="An example axis."))
    register(
        State(
            MARKED,
            AXIS,
            "{{prefix}}/Marked",
            "VM marked",
            description="The VM carries the {{axis}} mark.",
        )
    )


@vmlife.hookimpl
def register_operations(register: Callable[[Operation], None]) -> None:
    """The operations: ``vm.{{axis}}_mark()`` and ``vm.{{axis}}_clear()`` once registered.

    Operation(id, path, sources=..., provisioning=..., final=...): ``path`` is the phases (each
    a Phase of axis changes, lasting what the timing model says for its key), ``sources`` the
    power states it runs from (None: any), ``provisioning`` what the provisioning axis shows
    while it runs (None: unchanged), ``final`` the changes when it completes (None clears an
    axis). ``activity_log=("Microsoft.Compute/virtualMachines/<name>/action",)`` would map
    Activity Log events to it; ``kind`` is "user", "platform" or "guest".
    """
    register(
        Operation(
            MARK,
            (Phase({AXIS: MARKED}, key=MARK),),
            sources=frozenset({"running", "stopped", "deallocated"}),
            provisioning="updating",
            final={"provisioning": "succeeded", AXIS: MARKED},
            description="Put the {{axis}} mark on the VM.",
        )
    )
    register(
        Operation(
            CLEAR,
            (Phase({AXIS: None}, key=CLEAR),),
            provisioning="updating",
            final={"provisioning": "succeeded", AXIS: None},
            description="Take the {{axis}} mark off.",
        )
    )


@vmlife.hookimpl
def register_editions(register: Callable[[Any], None]) -> None:
    """Billing: how this plugin's states compose with the power state's rule.

    The ``{{axis}}`` axis *inherits*: a marked VM bills as its power state says, so no rule is
    registered, and vmlife's billing is unchanged by this plugin. To make a state *replace* the
    power state's rule while it holds (as hibernation does), register instead::

        from vmlife.billing import BillingRules, Rule
        register(BillingRules({"{{axis}}.marked": Rule(frozenset(), "Not billed")},
                              mode="override"))

    ``vmlife plugins --check`` then lists the override. ``register(Edition(...))`` would add a
    whole edition (a revision of the billing rules).
    """
    del register  # the inheriting axis registers nothing


@vmlife.hookimpl
@vmlife.reads(attributes=(LOCKED,))
def guard_operation(vm: vmlife.VM, operation: Operation) -> str | None:
    """Refuse ``{{axis}}_mark`` on a locked VM: return a reason (a sentence), or None.

    Guards refuse *simulated* operations. A replayed history (an Activity Log) already
    happened: there the reason becomes a note on the step instead. ``@vmlife.reads`` declares
    what the answer depends on, so vmlife can remember it.
    """
    if operation.id == MARK and vm.attributes.get(LOCKED):
        return f"the VM is locked ({LOCKED} is set)"
    return None


@vmlife.hookimpl
@vmlife.reads(axes=(AXIS,))
def adjust_operation(vm: vmlife.VM, operation: Operation) -> Operation | None:
    """Starting the VM clears the mark: return a changed operation (same id), or None.

    A plugin axis is read like the core's: ``vm.state.get("{{axis}}")`` (or
    ``vm.state["{{axis}}"]`` when it is set); only the core axes have attributes
    (``vm.state.power``).
    """
    if operation.id == "start" and vm.state.get(AXIS) == MARKED:
        return dataclasses.replace(operation, final={**operation.final, AXIS: None})
    return None


@vmlife.hookimpl
def step_recorded(vm: vmlife.VM, step: vmlife.Step) -> None:
    """Observe every step the engine records (must not change the VM)."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s: %s", vm.name, step.state.describe())

'''

_CONFTEST = '''\
"""Test isolation: tests see vmlife's default plugins only, plus what a test registers.

VMLIFE_LOAD_PLUGINS="" must be set before anything loads plugins; bare_core (autouse) then
resets the plugins before and after every test. A test registers this plugin with the
``plugin`` fixture (vmlife.registered), so other installed plugins never interfere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

os.environ["VMLIFE_LOAD_PLUGINS"] = ""

import vmlife
from vmlife.testing import bare_core  # noqa: F401  (autouse fixture)

import {{module}}


@pytest.fixture
def plugin() -> Iterator[ModuleType]:
    with vmlife.registered({{module}}, name="{{entry_point}}"):
        yield {{module}}
'''

_TESTS = '''\
"""One test per hook of {{module}}; they pass as written: change them with the plugin."""

from __future__ import annotations

import logging
from importlib import metadata
from types import ModuleType

import pytest
import vmlife
from vmlife.billing.meter import bill


def test_register_states_parses_the_status_code(plugin: ModuleType) -> None:
    reading = vmlife.read_statuses(
        [{"code": "PowerState/running"}, {"code": "{{prefix}}/Marked"}]
    )
    assert reading.state == vmlife.VMState(power="running", {{axis}}="marked")


def test_register_operations_mark_and_clear(plugin: ModuleType) -> None:
    vm = vmlife.VM("v", state="deallocated")
    vm.{{axis}}_mark()
    assert vm.state["{{axis}}"] == "marked"
    assert vm.state.power == "deallocated"
    vm.{{axis}}_clear()
    assert "{{axis}}" not in vm.state


def test_guard_operation_refuses_on_a_locked_vm(plugin: ModuleType) -> None:
    vm = vmlife.VM("v", state="running", {{axis}}_locked=True)
    assert "{{axis}}_mark" not in vm.allowed()
    with pytest.raises(vmlife.OperationNotAllowed, match="locked"):
        vm.{{axis}}_mark()
    # a replayed history is a fact: the guard leaves a note instead of refusing
    vm.do("{{axis}}_mark", replay=True)
    assert vm.state["{{axis}}"] == "marked"
    assert any("locked" in note for s in vm.timeline for note in s.notes)


def test_adjust_operation_start_clears_the_mark(plugin: ModuleType) -> None:
    vm = vmlife.VM("v", state="deallocated").{{axis}}_mark().start()
    assert vm.state == vmlife.VMState(provisioning="succeeded", power="running")


def test_register_editions_the_axis_inherits_the_power_states_billing(
    plugin: ModuleType,
) -> None:
    def compute(mark: bool) -> float:
        vm = vmlife.VM("v", start="2024-01-01T00:00:00Z", state="running")
        if mark:
            vm.{{axis}}_mark()
        return bill(vm.timeline, end="2024-01-01T10:00:00Z").vms[0].billed_seconds["compute"]

    assert compute(True) == compute(False) == 36000
    assert not vmlife.lifecycle().edition().overrides


def test_step_recorded_logs_every_step(
    plugin: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="{{module}}"):
        vmlife.VM("v", state="running").{{axis}}_mark()
    assert "v: running (provisioning succeeded, {{axis}} marked)" in caplog.messages


def test_the_entry_point_is_declared() -> None:
    found = [e for e in metadata.entry_points(group="vmlife") if e.name == "{{entry_point}}"]
    if not found:
        pytest.skip("not installed: pip install -e .")
    assert found[0].value == "{{module}}"
'''

_README = '''\
# {{distribution}}

A [vmlife](https://pypi.org/project/vmlife/) plugin, started with `vmlife new-plugin`. It adds
the `{{axis}}` axis (status code `{{prefix}}/Marked`, "VM marked"), the operations
`{{axis}}_mark` and `{{axis}}_clear`, a guard on the VM attribute `{{axis}}_locked`, and has the
core's `start` clear the mark. Its states bill as the power state (it registers no billing
rule).

## Install and test

```
pip install -e '.[test]'        # the entry point "{{entry_point}}" in group "vmlife"
python -m pytest                # one test per hook
vmlife plugins --check          # loads, no conflicts, no misspelled hooks
vmlife diagram lifecycle --format dot
```

`tests/conftest.py` sets `VMLIFE_LOAD_PLUGINS=""` before vmlife loads plugins and imports the
`bare_core` fixture, so other installed plugins stay out of the tests; the `plugin` fixture
registers this one for a test.

## Use it

```python
import vmlife

vm = vmlife.VM("web-1", state="deallocated")
vm.{{axis}}_mark()
vm.state["{{axis}}"]        # 'marked': plugin axes are read by key
vm.start()                  # the core's start clears the mark (adjust_operation)
"{{axis}}" in vm.state      # False
```

## Make it yours

Everything is in `{{module}}/__init__.py`, one commented function per hook. Rename the axis,
the states and the operations; map Activity Log operation names with
`Operation(..., activity_log=(...,))`; if a state of yours must replace the power state's
billing while it holds, register `BillingRules({...}, mode="override")` in
`register_editions` (see its docstring). vmlife's README has the plugin author's guide.
'''
