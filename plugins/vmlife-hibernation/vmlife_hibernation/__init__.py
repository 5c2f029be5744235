"""Azure VM hibernation as a vmlife plugin.

Register it with ``vmlife.registered(vmlife_hibernation)``, or install the distribution
(entry point ``hibernation`` in group ``vmlife``). It adds:

* the ``hibernation`` axis (status-code prefix ``HibernationState``) with one state,
  ``hibernated``: ``HibernationState/Hibernated``, "VM hibernated";
* the ``hibernate`` operation (and ``deallocate`` with ``hibernate=True``, which is what Azure
  actually runs), and ``guest_hibernate`` for hibernation started inside the guest OS;
* guards that refuse what Azure refuses, with Azure's ``OperationNotAllowed`` wording;
* billing rules: no compute or licence while hibernated, in every edition.

Azure facts, and where they come from (Microsoft Learn; the file names are those of the
``MicrosoftDocs/azure-docs`` repository):

* Hibernating is a deallocate with ``hibernate=true``: ``az vm deallocate --hibernate true``,
  ``Stop-AzVM -Hibernate``, REST ``POST .../deallocate?hibernate=true``
  (``includes/hibernate-resume-platform-instructions.md``). The Activity Log therefore records
  ``Microsoft.Compute/virtualMachines/deallocate/action``: the core's ``deallocate`` operation
  owns that name, and a hibernation is not told apart from a deallocation in the log.
* While hibernated the instance view shows ``ProvisioningState/succeeded``,
  ``PowerState/deallocated`` "VM deallocated" and ``HibernationState/Hibernated``
  "VM hibernated"; the portal shows "Hibernated (deallocated)" (same include; spec 003's
  Deallocated row says the same: "If it has entered hibernation it is shown as Hibernated
  (Deallocated)"). A hibernated VM is started like a stopped one (``az vm start``); once it
  runs the instance view shows ``ProvisioningState/succeeded`` and ``PowerState/running`` only
  (``hibernate-resume-troubleshooting.md``, "Windows guest resume status").
* The hibernate operation "can only be triggered on a VM that is successfully provisioned and is
  running", and "on a VM that is enabled for hibernation" (``additionalCapabilities.
  hibernationEnabled``), which can be set "during VM creation, or after stopping and
  deallocating the VM" (``hibernate-resume-troubleshooting.md``, result code
  ``OperationNotAllowed``). "Hibernation capability isn't supported for Spot VMs" (same page;
  ``hibernate-resume.md`` lists Spot VMs among the unsupported features).
* A hibernated VM can't be resized, and its disks and NICs can't be attached, detached or
  modified (``hibernate-resume.md``, "General limitations" and FAQ).
* Billing: "Once a VM is in a hibernated state, you aren't billed for the VM usage. Your account
  is only billed for the storage (OS disk, data disks) and networking resources"; hibernating
  "using guest OS operations" does not hibernate the VM "and the VM continues to be billed"
  (``hibernate-resume.md``).

Modelling choices (Azure's documents are silent):

* Hibernating shows ``PowerState/deallocating`` while the memory is saved; its timing key is
  ``hibernating`` (vmlife's default duration for an unknown key unless you set one in
  :class:`vmlife.Timing`). The hibernation status appears when the VM reaches deallocated.
* The hibernation axis ends as soon as the VM leaves deallocated: on resume (``start``) the
  hibernation status is gone from the first step, ``Stopped`` included; ``delete`` and
  ``redeploy`` end it too. A start that fails before any step keeps the VM hibernated.
* ``guest_hibernate`` ends in ``PowerState/stopped``, like a shutdown from inside the guest:
  compute keeps billing.
* Azure also lets you deallocate a hibernated VM (dropping the saved memory); the core's
  ``deallocate`` is not allowed from deallocated, so this is not modelled.
* VM attributes read: ``hibernation_enabled`` (the capability) and ``priority`` (``"spot"``,
  as the vmlife-spot plugin and vmlife's price tables spell it; compared case-insensitively).
  Resizing and disk or NIC changes are ``update`` parameters named in :data:`HARDWARE_PARAMS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from typing import Any

import vmlife
from vmlife import Axis, Operation, Phase, State, VMState
from vmlife.billing.editions import BillingRules, Rule

__all__ = [
    "AXIS",
    "CAPABILITY",
    "GUEST_HIBERNATE",
    "HARDWARE_PARAMS",
    "HIBERNATE",
    "HIBERNATED",
    "PORTAL_STATUS",
    "adjust_operation",
    "guard_operation",
    "is_hibernated",
    "portal_status",
    "register_editions",
    "register_operations",
    "register_states",
]

try:
    __version__ = metadata.version("vmlife-hibernation")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: The VM attribute holding the capability (Azure: ``additionalCapabilities.hibernationEnabled``).
CAPABILITY = "hibernation_enabled"
#: The VM attribute holding the priority; ``"spot"`` marks an Azure Spot VM.
PRIORITY = "priority"
#: ``update`` parameters that resize the VM or change its disks or NICs.
HARDWARE_PARAMS = frozenset(
    {"size", "vm_size", "os_disk", "data_disks", "disks", "nics", "network_interfaces"}
)
#: What the Azure portal shows for a hibernated VM.
PORTAL_STATUS = "Hibernated (deallocated)"

DOCS = "Microsoft Learn, Hibernation for Azure virtual machines (hibernate-resume)"

AXIS = Axis(
    "hibernation",
    "HibernationState",
    "Hibernation",
    order=3,
    description="Whether a deallocated VM is hibernated: its memory saved on the OS disk.",
)

HIBERNATED = State(
    "hibernated",
    "hibernation",
    "HibernationState/Hibernated",
    "VM hibernated",
    description="The VM was hibernated: deallocated with its memory saved on the OS disk; the "
    "portal shows Hibernated (deallocated).",
    note=f"Code and text from {DOCS}; spec 003 names the state in its Deallocated row only.",
)

_SAVED = {"provisioning": "succeeded", "power": "deallocated", "hibernation": "hibernated"}

HIBERNATE = Operation(
    "hibernate",
    (Phase({"power": "deallocating"}, key="hibernating"),),
    sources=frozenset({"running"}),
    final=_SAVED,
    description="Hibernate the VM (az vm deallocate --hibernate true): save its memory to the OS "
    "disk and deallocate it. Needs hibernation_enabled; not for Spot VMs.",
    note="Azure logs it as Microsoft.Compute/virtualMachines/deallocate/action, which vmlife "
    "reads as deallocate. Shows PowerState/deallocating while the memory is saved (timing key "
    "'hibernating').",
)

GUEST_HIBERNATE = Operation(
    "guest_hibernate",
    (Phase({"power": "stopping"}),),
    sources=frozenset({"running"}),
    provisioning=None,
    final={"power": "stopped"},
    kind="guest",
    description="Hibernate from inside the guest OS: not Azure hibernation; the VM is not "
    "hibernated and compute keeps billing.",
    note="Modelled like a shutdown from inside the guest: the VM ends Stopped (allocated). Not a "
    "control-plane operation; the Activity Log does not record it.",
)


@vmlife.hookimpl
def register_states(register: Any) -> None:
    """Add the hibernation axis and its state."""
    register(AXIS)
    register(HIBERNATED)


@vmlife.hookimpl
def register_operations(register: Any) -> None:
    """Add ``hibernate`` and ``guest_hibernate``."""
    register(HIBERNATE)
    register(GUEST_HIBERNATE)


@vmlife.hookimpl
def register_editions(register: Any) -> None:
    """No compute and no licence while hibernated, in every edition; disks and networking bill."""
    register(
        BillingRules(
            {
                "hibernation.hibernated": Rule(
                    frozenset(),
                    "Not billed*",
                    "You aren't billed for the VM usage; the storage (OS disk, data disks) and "
                    f"networking resources still bill ({DOCS}).",
                )
            },
            # deallocated and hibernated: the hibernation rule replaces the power state's
            mode="override",
        )
    )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _is_spot(attributes: Mapping[str, Any]) -> bool:
    return str(attributes.get(PRIORITY) or "").strip().lower() == "spot"


def _wants_hibernation(operation: Operation, params: Mapping[str, Any]) -> bool:
    return operation.id == HIBERNATE.id or (
        operation.id == "deallocate" and _truthy(params.get("hibernate"))
    )


def is_hibernated(state: VMState) -> bool:
    """True if the composite state is hibernated."""
    return state.get(AXIS.id) == HIBERNATED.id


def portal_status(state: VMState) -> str | None:
    """The portal's status for a hibernated VM ("Hibernated (deallocated)"), else None."""
    return PORTAL_STATUS if is_hibernated(state) else None


SPOT_REFUSAL = "OperationNotAllowed: Hibernation capability isn't supported for Spot VMs."


@vmlife.hookimpl
@vmlife.reads(axes=("power", "provisioning", "hibernation"), attributes=(CAPABILITY, PRIORITY))
def guard_operation(vm: vmlife.VM, operation: Operation, params: Mapping[str, Any]) -> str | None:
    """Refuse what Azure refuses around hibernation (the reason quotes Azure's error)."""
    state = vm.state
    if _wants_hibernation(operation, params):
        if state.power != "running" or state.provisioning != "succeeded":
            return (
                "OperationNotAllowed: the Hibernate-Deallocate operation can only be triggered "
                "on a VM that is successfully provisioned and is running"
            )
        if not _truthy(vm.attributes.get(CAPABILITY)):
            return (
                "OperationNotAllowed: the Hibernate-Deallocate operation can only be triggered "
                "on a VM that is enabled for hibernation (set hibernation_enabled=True at create, "
                "or update it while the VM is deallocated)"
            )
        if _is_spot(vm.attributes):
            return SPOT_REFUSAL
        return None
    if operation.id in ("create", "update"):
        merged = {**vm.attributes, **params}
        if _truthy(merged.get(CAPABILITY)) and _is_spot(merged):
            return SPOT_REFUSAL
    if operation.id == "update":
        if is_hibernated(state) and HARDWARE_PARAMS & set(params):
            changed = ", ".join(sorted(HARDWARE_PARAMS & set(params)))
            return (
                f"OperationNotAllowed: a hibernated VM can't be resized and its disks and NICs "
                f"can't be changed ({changed}); start it first"
            )
        enabling = _truthy(params.get(CAPABILITY)) and not _truthy(vm.attributes.get(CAPABILITY))
        if enabling and state.power != "deallocated":
            return (
                "OperationNotAllowed: hibernation can be enabled when the VM is created, or "
                "after it is stopped and deallocated"
            )
    return None


def _ends_hibernation(operation: Operation) -> Operation:
    """``operation`` changed so that the hibernation axis ends when the VM leaves deallocated."""

    def leaves(assignment: Mapping[str, str | None]) -> bool:
        return "power" in assignment and assignment["power"] != "deallocated"

    def path(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
        phases = list(operation.plan(state, params))
        for i, phase in enumerate(phases):
            if leaves(phase.set):
                phases[i] = replace(phase, set={**phase.set, AXIS.id: None})
                break
        return tuple(phases)

    final = dict(operation.final)
    if leaves(final):
        final[AXIS.id] = None
    return replace(operation, path=path, final=final)


@vmlife.hookimpl
@vmlife.reads(axes=("hibernation",))
def adjust_operation(
    vm: vmlife.VM, operation: Operation, params: Mapping[str, Any]
) -> Operation | None:
    """Make ``deallocate(hibernate=True)`` hibernate, and end hibernation when the VM leaves it."""
    if operation.id == "deallocate" and _truthy(params.get("hibernate")):
        return replace(
            operation,
            path=HIBERNATE.path,
            final={**operation.final, **_SAVED},
        )
    if is_hibernated(vm.state):
        return _ends_hibernation(operation)
    return None
