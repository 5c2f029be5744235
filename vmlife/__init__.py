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
from .io.inventory import Inventory, VMInfo, read_inventory
from .lifecycle import Lifecycle, lifecycle
from .model import Axis, Operation, Phase, State, VMState
from .plugins import hookimpl, list_plugins, reads, registered
from .status import format_code, parse_code, read_statuses, statuses_for
from .timeline import Step, Timeline, dump_timelines, load_timelines

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
