"""Azure Spot VMs as a vmlife plugin.

Register it with ``vmlife.registered(vmlife_spot)``, or install the distribution (entry point
``spot`` in group ``vmlife``). A spot VM is an ordinary VM created with ``priority="spot"``
and, optionally, ``eviction_policy="Deallocate"`` (the default) or ``"Delete"``; the plugin
adds the platform operation ``evict`` and guards on the spot attributes.

Azure facts, and where they come from (Microsoft Learn; file names in the
``MicrosoftDocs/azure-docs`` repository):

* "When creating an Azure Spot Virtual Machine, you can set the eviction policy to Deallocate
  (default) or Delete." Deallocate "moves your VM to the stopped-deallocated state"; the VM
  counts against quota and "you will be charged storage costs for the underlying disks".
  With Delete, "the evicted VMs are deleted together with their underlying disks, so you will
  not continue to be charged for the storage". Azure gives "30 seconds notice" (Scheduled
  Events) before evicting, and an evicted VM "will not be automatically re-started"
  (``spot-vms.md``).
* Error codes (``error-codes-spot.md``): an eviction policy "can be set only on" spot VMs
  (``EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines``); the priority must be given when
  the VM is created (``VMPriorityCannotBeApplied``); max price is "-1 or a decimal greater than
  zero" (``MaxPriceValueInvalid``), can be changed "only when VM is in deallocated state"
  (``MaxPriceUpdateRequiresVMToBeDeallocated``), and applies to spot VMs only
  (``VariablePricingIsSupportedOnlyForLowPriorityVirtualMachines``).
* Eviction can be simulated: REST ``POST .../virtualMachines/{vmName}/simulateEviction``
  (operation ``VirtualMachines_SimulateEviction``), logged as
  ``Microsoft.Compute/virtualMachines/simulateEviction/action``, "Simulates the eviction of spot
  Virtual Machine" (Azure resource provider operations list).
* A real eviction is recorded by the platform in the Activity Log as operation
  ``Microsoft.Compute/virtualMachines/evictSpotVM/action`` (status Succeeded), with no
  caller of yours. Sources: Azure publishes no page that lists it; it is what Activity Logs
  show. The scale-set form ``Microsoft.Compute/virtualMachineScaleSets/evictSpotVM/action`` is
  quoted from real ``AzureActivity`` rows in public write-ups of actual evictions (as opposed
  to ``simulateEviction``), and the YugabyteDB platform detects evictions of single Azure VMs
  by reading each VM's Activity Log for a Succeeded operation whose name contains
  ``evictspotvm`` (github.com/yugabyte/yugabyte-db,
  ``managed/src/main/java/com/yugabyte/yw/cloud/azu/AZUCloudImpl.java``, commit d74211a8).
  vmlife accepts the single-VM name (any case) as ``evict``; a scale set's event names the
  scale set, not the instance, so it is not mapped.

Modelling choices (Azure's documents are silent):

* ``evict`` is a platform operation: the provisioning state is left as it was (no "Updating"),
  and it cannot be failed with an error code. It runs from ``running`` only.
* Its first phase is the 30-second notice, with the VM still running (timing key
  ``eviction_notice``), then ``deallocating``; with the Delete policy, then ``deleting`` on the
  provisioning axis, and the VM is gone: every axis is cleared, so nothing bills any more.
* The eviction policy cannot be changed by ``update`` (Azure documents setting it at creation).
* Attribute spelling: ``priority`` is compared case-insensitively, but vmlife's price tables
  key spot prices as ``"spot"``, so write ``priority="spot"``. ``eviction_policy`` accepts
  ``Deallocate``/``Delete`` in any case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from typing import Any

import vmlife
from vmlife import Operation, Phase, VMState

__all__ = [
    "EVICT",
    "EVICTION_POLICIES",
    "EVICT_SPOT_VM",
    "adjust_operation",
    "eviction_policy",
    "guard_operation",
    "is_spot",
    "register_operations",
]

try:
    __version__ = metadata.version("vmlife-spot")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: VM attributes this plugin reads (set at create, as Azure's ``priority``,
#: ``evictionPolicy`` and ``billingProfile.maxPrice``).
PRIORITY = "priority"
POLICY = "eviction_policy"
MAX_PRICE = "max_price"
#: Eviction policies, lower-cased, to Azure's spelling; the first is the default.
EVICTION_POLICIES: dict[str, str] = {"deallocate": "Deallocate", "delete": "Delete"}

SIMULATE_EVICTION = "Microsoft.Compute/virtualMachines/simulateEviction/action"
#: What the platform logs when it evicts a Spot VM (see the module docstring).
EVICT_SPOT_VM = "Microsoft.Compute/virtualMachines/evictSpotVM/action"

_NOTICE = Phase({}, key="eviction_notice")

EVICT = Operation(
    "evict",
    (_NOTICE, Phase({"power": "deallocating"})),
    sources=frozenset({"running"}),
    provisioning=None,
    final={"power": "deallocated"},
    kind="platform",
    activity_log=(SIMULATE_EVICTION, EVICT_SPOT_VM),
    description="Azure evicts a spot VM (or you simulate it): after 30 seconds' notice the VM is "
    "deallocated (policy Deallocate: disks still bill) or deleted with its disks (policy "
    "Delete: nothing bills).",
    note="A platform operation: provisioning is unchanged. The 30-second notice is a phase with "
    "the VM still running (timing key 'eviction_notice').",
)


@vmlife.hookimpl
def register_operations(register: Any) -> None:
    """Add the platform operation ``evict``."""
    register(EVICT)


def is_spot(attributes: Mapping[str, Any]) -> bool:
    """True if VM attributes say it is a spot VM (``priority="spot"``)."""
    return str(attributes.get(PRIORITY) or "").strip().lower() == "spot"


def eviction_policy(attributes: Mapping[str, Any]) -> str:
    """The VM's eviction policy in Azure's spelling (``"Deallocate"`` when not set)."""
    raw = str(attributes.get(POLICY) or "deallocate").strip().lower()
    return EVICTION_POLICIES.get(raw, raw)


def _max_price_ok(value: Any) -> bool:
    try:
        price = float(value)
    except (TypeError, ValueError):
        return False
    return price == -1 or price > 0


def _settings_refusal(merged: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """Why the spot settings in ``given`` (checked against ``merged``) are refused, or None."""
    spot = is_spot(merged)
    if POLICY in given:
        if not spot:
            return (
                "EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines: eviction policy can be "
                "set only on Azure Spot Virtual Machines (priority='spot')"
            )
        if str(given[POLICY]).strip().lower() not in EVICTION_POLICIES:
            return (
                f"eviction_policy must be one of {', '.join(EVICTION_POLICIES.values())}, "
                f"got {given[POLICY]!r}"
            )
    if MAX_PRICE in given:
        if not spot:
            return (
                "VariablePricingIsSupportedOnlyForLowPriorityVirtualMachines: a max price is "
                "supported only for spot Virtual Machines"
            )
        if not _max_price_ok(given[MAX_PRICE]):
            return (
                "MaxPriceValueInvalid: the only supported values for max price are -1 or a "
                f"decimal greater than zero, got {given[MAX_PRICE]!r}"
            )
    return None


@vmlife.hookimpl
@vmlife.reads(axes=("power",), attributes=(PRIORITY,))
def guard_operation(vm: vmlife.VM, operation: Operation, params: Mapping[str, Any]) -> str | None:
    """Refuse evicting a regular VM, and spot settings Azure would refuse."""
    if operation.id == EVICT.id:
        if not is_spot(vm.attributes):
            return "only Azure Spot VMs (priority='spot') are evicted"
        return None
    if operation.id == "create":
        return _settings_refusal({**vm.attributes, **params}, params)
    if operation.id == "update":
        if PRIORITY in params and str(params[PRIORITY]).lower() != str(
            vm.attributes.get(PRIORITY) or ""
        ).lower():
            return (
                "VMPriorityCannotBeApplied: the priority is set when the VM is created, "
                f"not by an update (asked {params[PRIORITY]!r})"
            )
        if POLICY in params and is_spot(vm.attributes):
            return "the eviction policy is set when the VM is created, not by an update"
        if MAX_PRICE in params and is_spot(vm.attributes) and vm.state.power != "deallocated":
            return (
                "MaxPriceUpdateRequiresVMToBeDeallocated: max price can be updated only when "
                "the VM is in deallocated state"
            )
        return _settings_refusal({**vm.attributes, **params}, params)
    return None


@vmlife.hookimpl
@vmlife.reads(attributes=(POLICY,))
def adjust_operation(vm: vmlife.VM, operation: Operation) -> Operation | None:
    """Follow the VM's eviction policy: with Delete, eviction deletes the VM and its disks."""
    if operation.id != EVICT.id or eviction_policy(vm.attributes) != "Delete":
        return None
    deleting = Phase({"provisioning": "deleting"}, key="deleting")

    def path(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
        return (*operation.plan(state, params), deleting)

    gone: dict[str, str | None] = dict.fromkeys(vm.lifecycle.axes)
    return replace(operation, path=path, final=gone, deletes=True)
