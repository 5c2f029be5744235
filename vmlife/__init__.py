"""vmlife: the lifecycle and the billing of Azure virtual machines.

The core is small and imports no plotting, table or widget library::

    import vmlife

    vm = vmlife.VM("web-1", start="2024-01-01T08:00:00Z")
    vm.create().deallocate(at="2024-01-01T18:00:00Z")
    vm.state.power        # 'deallocated'
    vm.allowed()          # operations allowed now
    vm.timeline           # every state with its start and end

Plugins add states, operations and guards through pluggy hooks; write one with
``@vmlife.hookimpl`` and try it with ``with vmlife.registered(plugin): ...``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .engine import VM, Timing
from .errors import (
    AzureAccessError,
    AzureError,
    ConflictError,
    DefinitionError,
    InputError,
    OperationNotAllowed,
    PluginError,
    RunError,
    ScheduleError,
    UnknownNameError,
    VmlifeError,
)
from .lifecycle import Lifecycle, lifecycle
from .model import Axis, Operation, Phase, State, VMState
from .plugins import hookimpl, list_plugins, reads, registered
from .timeline import Step, Timeline, dump_timelines, load_timelines

if TYPE_CHECKING:  # pragma: no cover
    from . import io as io
    from . import status as status
    from .io.inventory import Inventory, VMInfo, read_inventory
    from .status import format_code, parse_code, read_statuses, statuses_for

__version__ = "0.1.0"

__all__ = [
    "VM",
    "Axis",
    "AzureAccessError",
    "AzureError",
    "ConflictError",
    "DefinitionError",
    "InputError",
    "Inventory",
    "Lifecycle",
    "Operation",
    "OperationNotAllowed",
    "Phase",
    "PluginError",
    "RunError",
    "ScheduleError",
    "State",
    "Step",
    "Timeline",
    "Timing",
    "UnknownNameError",
    "VMInfo",
    "VMState",
    "VmlifeError",
    "__version__",
    "dump_timelines",
    "format_code",
    "hookimpl",
    "lifecycle",
    "list_plugins",
    "load_timelines",
    "parse_code",
    "read_inventory",
    "read_statuses",
    "reads",
    "registered",
    "statuses_for",
]

# Imported on first use (PEP 562) so that ``import vmlife`` stays fast: each name -> the module
# that defines it. The submodules ``vmlife.io`` and ``vmlife.status`` are attributes on first
# use too, as they were when this module imported them.
_LAZY = {
    "Inventory": "vmlife.io.inventory",
    "VMInfo": "vmlife.io.inventory",
    "read_inventory": "vmlife.io.inventory",
    "format_code": "vmlife.status",
    "parse_code": "vmlife.status",
    "read_statuses": "vmlife.status",
    "statuses_for": "vmlife.status",
}
_LAZY_MODULES = ("io", "status")


def __getattr__(name: str) -> Any:
    if name in _LAZY_MODULES:
        return importlib.import_module(f"vmlife.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module 'vmlife' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The lazy names as if imported; this module's own helpers are left out.
    names = {*globals(), *_LAZY, *_LAZY_MODULES}
    return sorted(names - {"Any", "TYPE_CHECKING", "importlib", "_LAZY", "_LAZY_MODULES"})
