"""The Azure VM lifecycle, as a default plugin registered like any other.

Facts and where they come from (files under ``shared/spec/``; see :data:`vmlife.model.REVISIONS`):

* States and their status codes and ``displayStatus`` texts: the JSON examples in all three
  revisions (000 earliest draft, 001 lifecycle page, 003 "States and billing status",
  ms.date 10/31/2023).
* The Creating power state exists only in 003's table; 003 gives no JSON for it, so its
  ``PowerState/creating`` code and "VM creating" text follow the pattern of the others
  (a modelling choice).
* Canceled is listed by 000 ("User-initiated cancel will result in this state") with no JSON;
  the code ``ProvisioningState/canceled`` and text "Provisioning canceled" are modelled.
  000 also names "InProgress" ("Creating or updating or deletion status") without a code; it is
  not modelled as a state, and such a code is reported as unknown.
* ``PowerState/unknown`` is what Azure reports when the power state is not available (003's note
  on List All ``statusOnly=true``; the value exists in the Azure SDKs' enums).
* OS provisioning substates are shown as ``ProvisioningState/creating/<substate>`` (003: "a
  substate of the Provisioning State"; 001 the same; 000 writes ``ProvisioningState/
  OSProvisioningInprogress`` without ``creating``). They occur only for VMs created from a
  generalized image.
* Operations, their allowed source states and the provisioning state they show: 000/001
  ("Deallocating a VM is considered an update"; "non-model changes to VM such as Start/Restart
  also fall under update"). The power paths are vmlife's model; see each operation's ``note``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vmlife.model import Axis, Operation, Phase, State, VMState
from vmlife.plugins import hookimpl

SEEDS = ("000", "001", "003")
ALL_POWER = ("000", "001", "2018-08", "2021-03", "003")

#: Status-code prefix of the provisioning axis (and, nested, OS provisioning).
PROVISIONING_PREFIX = "ProvisioningState"
POWER_PREFIX = "PowerState"

AXES = (
    Axis(
        "provisioning",
        PROVISIONING_PREFIX,
        "Provisioning",
        order=0,
        description="Status of the last user-initiated, control-plane operation (spec 003).",
    ),
    Axis(
        "power",
        POWER_PREFIX,
        "Power",
        order=1,
        description="The last known running state of the VM as seen by the hypervisor.",
    ),
    Axis(
        "os_provisioning",
        PROVISIONING_PREFIX,
        "OS provisioning",
        parent=("provisioning", "creating"),
        order=2,
        description="Guest OS set-up after create from a generalized image (spec 003).",
    ),
)


def _p(
    sid: str, display: str, *, transitional: bool, revisions: tuple[str, ...] = SEEDS, **kw: Any
) -> State:
    return State(
        sid,
        "provisioning",
        f"{PROVISIONING_PREFIX}/{sid}",
        display,
        transitional=transitional,
        revisions=revisions,
        **kw,
    )


def _w(
    sid: str, display: str, *, transitional: bool, revisions: tuple[str, ...], **kw: Any
) -> State:
    return State(
        sid,
        "power",
        f"{POWER_PREFIX}/{sid}",
        display,
        transitional=transitional,
        revisions=revisions,
        **kw,
    )


STATES = (
    # provisioning
    _p("creating", "Creating", transitional=True, description="The VM is being created."),
    _p(
        "updating",
        "Updating",
        transitional=True,
        description="The VM is updating to the latest model; start, restart, stop and "
        "deallocate also show as updating.",
    ),
    _p("deleting", "Deleting", transitional=True, description="The VM is being deleted."),
    _p(
        "succeeded",
        "Provisioning succeeded",
        transitional=False,
        description="The last operation on the VM resource was successful.",
    ),
    _p(
        "failed",
        "Provisioning failed",
        transitional=False,
        level="Error",
        detail=True,
        description="The last operation on the VM resource was unsuccessful; the error code "
        "follows: ProvisioningState/failed/<ErrorCode>.",
        note="000 shows level Info for failed; 001 shows level Error with a message. vmlife emits "
        "Error and accepts either.",
    ),
    _p(
        "canceled",
        "Provisioning canceled",
        transitional=False,
        revisions=("000",),
        description="A user-initiated cancel ended the operation.",
        note="000 lists Canceled without JSON; the code and display text are modelled.",
    ),
    # power
    _w(
        "creating",
        "VM creating",
        transitional=True,
        revisions=("003",),
        description="The VM is allocating resources.",
        note="Only 003 lists it, without JSON; the code and display text are modelled.",
    ),
    _w(
        "starting",
        "VM starting",
        transitional=True,
        revisions=ALL_POWER,
        description="The VM is powering up.",
    ),
    _w(
        "running",
        "VM running",
        transitional=False,
        revisions=ALL_POWER,
        description="The VM is fully up: the standard working state.",
    ),
    _w(
        "stopping",
        "VM stopping",
        transitional=True,
        revisions=ALL_POWER,
        description="Transitional between running and stopped.",
    ),
    _w(
        "stopped",
        "VM stopped",
        transitional=False,
        revisions=ALL_POWER,
        description="Allocated on a host but not running (PowerOff API or shutdown from inside "
        "the guest OS). Also called Stopped (Allocated).",
    ),
    _w(
        "deallocating",
        "VM deallocating",
        transitional=True,
        revisions=ALL_POWER,
        description="Transitional between running and deallocated.",
    ),
    _w(
        "deallocated",
        "VM deallocated",
        transitional=False,
        revisions=ALL_POWER,
        description="The VM has released the lease on the underlying hardware: Stopped "
        "(Deallocated).",
    ),
    _w(
        "unknown",
        "VM status unknown",
        transitional=False,
        revisions=(),
        description="The power state is not available (003: 'in some rare situations, the power "
        "state may not be available').",
        note="The code is in the Azure SDKs' PowerState values; the display text is modelled.",
    ),
    # OS provisioning (a substate of ProvisioningState/creating)
    State(
        "in_progress",
        "os_provisioning",
        f"{PROVISIONING_PREFIX}/creating/OSProvisioningInProgress",
        "OS Provisioning In progress",
        transitional=True,
        revisions=SEEDS,
        description="The VM is running and the guest OS set-up is in progress.",
    ),
    State(
        "complete",
        "os_provisioning",
        f"{PROVISIONING_PREFIX}/creating/OSProvisioningComplete",
        "OS Provisioning Complete",
        transitional=True,
        revisions=SEEDS,
        description="Short-lived: the VM moves on to Succeeded, or stays here while extensions "
        "install.",
    ),
)


@hookimpl
def register_states(register: Any) -> None:
    for axis in AXES:
        register(axis)
    for state in STATES:
        register(state)


def _ph(**axes: str | None) -> Phase:
    return Phase(axes)


def _create_path(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
    phases = [_ph(power="creating"), _ph(power="starting")]
    if params.get("generalized"):
        phases += [
            Phase({"power": "running", "os_provisioning": "in_progress"}, key="in_progress"),
            Phase({"os_provisioning": "complete"}, key="complete"),
        ]
    return tuple(phases)


def _start_path(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
    if state.power == "deallocated":
        return (Phase({"power": "stopped"}, key="stopped_briefly"), _ph(power="starting"))
    return (_ph(power="starting"),)


#: Update parameters that resize the VM (the hibernation plugin reads the same names).
RESIZE_PARAMS = ("size", "vm_size")


def _update_path(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
    """An update; a resize of a running VM restarts it.

    Azure's "Resize a virtual machine" page (learn.microsoft.com/azure/virtual-machines/sizes/
    resize-vm, ms.date 01/31/2024): "If the virtual machine is currently running, changing its
    size will cause it to restart." The restart's power path is the restart operation's
    (stopping -> starting), then running while the update completes: vmlife's model. A size
    given to a stopped or deallocated VM changes no power state.
    """
    if state.power == "running" and any(params.get(k) for k in RESIZE_PARAMS):
        return (
            _ph(power="stopping"),
            _ph(power="starting"),
            Phase({"power": "running"}, key="updating"),
        )
    return (Phase({}, key="updating"),)


RUNNING_DONE = {"provisioning": "succeeded", "power": "running"}
AL = "Microsoft.Compute/virtualMachines"

OPERATIONS = (
    Operation(
        "create",
        _create_path,
        provisioning="creating",
        final={**RUNNING_DONE, "os_provisioning": None},
        creates=True,
        stores_params=True,
        activity_log=(f"{AL}/write",),
        description="Create the VM. With generalized=True (a generalized image) the OS "
        "provisioning substates follow while it runs.",
        note="Power path creating -> starting -> running: 003 adds the Creating power state and "
        "says Stopped 'might also be observed briefly during VM creation' (not modelled).",
    ),
    Operation(
        "start",
        _start_path,
        sources=frozenset({"stopped", "deallocated"}),
        final=RUNNING_DONE,
        activity_log=(f"{AL}/start/action",),
        description="Start a stopped or deallocated VM.",
        note="From deallocated the VM shows Stopped briefly before Starting (003: Stopped 'might "
        "also be observed ... while starting a VM from Stopped (Deallocated)').",
    ),
    Operation(
        "power_off",
        (_ph(power="stopping"),),
        sources=frozenset({"running", "starting"}),
        final={"provisioning": "succeeded", "power": "stopped"},
        activity_log=(f"{AL}/powerOff/action",),
        description="Stop the VM (PowerOff API); hardware stays allocated.",
    ),
    Operation(
        "deallocate",
        (_ph(power="deallocating"),),
        sources=frozenset({"running", "stopped", "starting"}),
        final={"provisioning": "succeeded", "power": "deallocated"},
        activity_log=(f"{AL}/deallocate/action",),
        description="Stop the VM and release its hardware.",
    ),
    Operation(
        "restart",
        (_ph(power="stopping"), _ph(power="starting")),
        sources=frozenset({"running"}),
        final=RUNNING_DONE,
        activity_log=(f"{AL}/restart/action",),
        keeps_host=True,
        description="Restart a running VM; it stays on its host, so compute bills throughout.",
        note="The power path stopping -> starting -> running is vmlife's model; Azure's documents "
        "do not show the power states during a restart. The VM is not deallocated and keeps its "
        "host (Microsoft's answer in MicrosoftDocs/azure-docs issue 51232: 'During restart, "
        "underlying host for the VM wont change'; by contrast the REST API's Redeploy 'moves it "
        "to a new node'), so its phases bill as running under every edition: one compute run, "
        "even where Starting is not billed (draft, 2018-08, lifecycle).",
    ),
    Operation(
        "redeploy",
        (
            _ph(power="deallocating"),
            Phase({"power": "deallocated"}, key="redeploy_moving"),
            _ph(power="starting"),
        ),
        sources=frozenset({"running", "stopped", "deallocated"}),
        final=RUNNING_DONE,
        activity_log=(f"{AL}/redeploy/action",),
        description="Move the VM to a new host and start it there.",
        note="Modelled as deallocating -> deallocated -> starting -> running.",
    ),
    Operation(
        "update",
        _update_path,
        sources=frozenset({"running", "stopped", "deallocated"}),
        final={"provisioning": "succeeded"},
        stores_params=True,
        activity_log=(f"{AL}/write",),
        keeps_host=True,
        description="Update the VM's model (size, capabilities, tags); the power state is "
        "unchanged, except that resizing a running VM (size=...) restarts it. Keyword "
        "parameters become VM attributes.",
        note="Resize: 'If the virtual machine is currently running, changing its size will "
        "cause it to restart' (Azure's 'Resize a virtual machine' page, 01/31/2024). The "
        "restart bills as running, like a restart (vmlife's choice: the resize is not a "
        "deallocation; one that needs a new hardware cluster must be deallocated first, which "
        "the log shows as its own operation). The Activity Log's write event says nothing vmlife "
        "reads about the new size, so a replayed write is an update without a restart.",
    ),
    Operation(
        "reapply",
        (Phase({}, key="updating"),),
        sources=frozenset({"running", "stopped", "deallocated"}),
        final={"provisioning": "succeeded"},
        activity_log=(f"{AL}/reapply/action",),
        description="Reapply the VM's state; the power state is unchanged.",
    ),
    Operation(
        "delete",
        (Phase({}, key="deleting"),),
        provisioning="deleting",
        final={"provisioning": None, "power": None, "os_provisioning": None},
        deletes=True,
        activity_log=(f"{AL}/delete",),
        description="Delete the VM; it is gone afterwards.",
    ),
    Operation(
        "guest_shutdown",
        (_ph(power="stopping"),),
        sources=frozenset({"running"}),
        provisioning=None,
        final={"power": "stopped"},
        kind="guest",
        description="Shut down from inside the guest OS: the VM ends Stopped and keeps billing "
        "(001: 'shut down from within the guest OS').",
        note="Not a control-plane operation: provisioning is unchanged and the Activity Log does "
        "not record it.",
    ),
)


@hookimpl
def register_operations(register: Any) -> None:
    for op in OPERATIONS:
        register(op)
