"""Classic (Azure Service Manager) to Azure Resource Manager migration as a vmlife plugin.

Register it with ``vmlife.registered(vmlife_classic_migration)``, or install the distribution
(entry point ``classic_migration`` in group ``vmlife``). A classic VM is a VM with the attribute
``deployment_model="classic"``; ``virtual_network=False`` says it is not in a virtual network.
The plugin adds the provisioning state ``migrating``, the operations ``migrate_validate``,
``migrate_prepare``, ``migrate_commit`` and ``migrate_abort``, and the management-plane lock.

Azure facts, and where they come from (Microsoft Learn, "Technical deep dive on
platform-supported migration from classic to Azure Resource Manager",
``migration-classic-resource-manager-deep-dive.md`` in ``MicrosoftDocs/azure-docs``, unless
said otherwise):

* The workflow is validate, then prepare, then a check (manual or scripted), then commit, or
  abort after prepare. Validate "evaluates whether the resources are capable of migration" and
  lists the reasons when they are not; prepare stops with the reason if they cannot migrate.
* Prepare "locks down the management-plane operations for the resources under migration";
  "Only GET operations are supported when the resources are in the prepared state"; there is
  "no set window of time" before commit, and "the management plane is locked for these
  resources until you either abort or commit".
* "If you have VMs that are not in a virtual network, they are stopped and deallocated as part
  of the prepare operation ... If the VMs are in a virtual network, they are not stopped and
  deallocated"; "In some migration scenarios, the Azure platform stops, deallocates, and
  restarts your virtual machines. This causes a brief data-plane downtime."
* Abort "deletes the Resource Manager metadata" and returns the resources to the classic
  deployment model; it can't be done after commit. After commit, resources "are available only
  in the Resource Manager deployment model".
* Spec 003 lists the provisioning state Migrating: "Seen when migrating from Azure Service
  Manager to Azure Resource Manager."
* The Azure resource provider operations list names ``validateMigration``,
  ``prepareMigration``, ``commitMigration`` and ``abortMigration`` actions on
  ``Microsoft.ClassicCompute/domainNames/slots`` (a cloud service's deployment) and on
  ``Microsoft.ClassicNetwork/virtualNetworks``: they are logged on the cloud service or the
  virtual network, not on the VM.

Modelling choices (Azure's documents are silent):

* The status code ``ProvisioningState/migrating`` and the text "Migrating" are modelled (003
  gives neither), and shown from the start of prepare until commit or abort completes: the
  exact phase in which Azure shows Migrating is not documented.
* Migration is modelled per VM, with VM attributes: ``deployment_model`` (``"classic"`` or
  ``"arm"``; a VM without it is in Resource Manager), ``virtual_network`` (true unless given as
  false), ``migration`` (set by the operations: ``"prepared"``, ``"committed"``,
  ``"aborted"``) and, optionally, ``migration_blockers`` (reasons validate and prepare report).
  The lock follows ``migration == "prepared"``, so it holds while a failed commit is retried.
* The lock refuses every user (control-plane) operation but commit and abort; operations
  inside the guest OS and platform operations are not management-plane calls and pass.
* A running VM outside a virtual network walks stopping, deallocating, deallocated (timing key
  ``migration_deallocated``), starting and back to running during prepare, so its bill shows
  the gap; a Stopped one ends deallocated, a deallocated one stays so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from typing import Any

import vmlife
from vmlife import Operation, Phase, State, VMState

__all__ = [
    "ABORT",
    "COMMIT",
    "LOCKED",
    "MIGRATING",
    "PREPARE",
    "VALIDATE",
    "adjust_operation",
    "deployment_model",
    "guard_operation",
    "is_locked",
    "register_operations",
    "register_states",
]

try:
    __version__ = metadata.version("vmlife-classic-migration")
except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

#: VM attributes this plugin reads and sets.
DEPLOYMENT_MODEL = "deployment_model"
VIRTUAL_NETWORK = "virtual_network"
MIGRATION = "migration"
BLOCKERS = "migration_blockers"

STABLE = frozenset({"running", "stopped", "deallocated"})
DEEP_DIVE = "Microsoft Learn, technical deep dive on classic to Resource Manager migration"


def _logged(action: str) -> tuple[str, ...]:
    return (
        f"Microsoft.ClassicCompute/domainNames/slots/{action}/action",
        f"Microsoft.ClassicNetwork/virtualNetworks/{action}/action",
    )


_LOG_NOTE = "Logged on the cloud service's deployment slot or on the virtual network, not the VM."

MIGRATING = State(
    "migrating",
    "provisioning",
    "ProvisioningState/migrating",
    "Migrating",
    revisions=("003",),
    description="Seen when migrating from Azure Service Manager to Azure Resource Manager.",
    note="003 lists Migrating without a status code or JSON: the code and text are modelled, and "
    "vmlife shows it from the start of prepare until commit or abort completes (the exact phase "
    "is not documented).",
)

VALIDATE = Operation(
    "migrate_validate",
    (Phase({}, key="migration_validate"),),
    sources=STABLE,
    provisioning=None,
    final={},
    activity_log=_logged("validateMigration"),
    description="Check whether a classic VM can migrate to Azure Resource Manager; changes "
    "nothing.",
    note=f"Refused with the reasons in the VM's migration_blockers, if any. {_LOG_NOTE}",
)

PREPARE = Operation(
    "migrate_prepare",
    (Phase({}, key="migration_prepare"),),
    sources=STABLE,
    provisioning="migrating",
    final={"provisioning": "migrating"},
    attributes={MIGRATION: "prepared"},
    activity_log=_logged("prepareMigration"),
    description="Translate the classic VM's metadata to Resource Manager and lock its "
    "management plane until commit or abort. A VM outside a virtual network is stopped, "
    "deallocated and restarted by the platform.",
    note=f"Provisioning shows Migrating from here until commit or abort (modelled). {_LOG_NOTE}",
)

COMMIT = Operation(
    "migrate_commit",
    (Phase({}, key="migration_commit"),),
    sources=None,
    provisioning="migrating",
    final={"provisioning": "succeeded"},
    attributes={MIGRATION: "committed", DEPLOYMENT_MODEL: "arm"},
    activity_log=_logged("commitMigration"),
    description="Finish the migration: the VM is in Azure Resource Manager only; the lock ends.",
    note=_LOG_NOTE,
)

ABORT = Operation(
    "migrate_abort",
    (Phase({}, key="migration_abort"),),
    sources=None,
    provisioning="migrating",
    final={"provisioning": "succeeded"},
    attributes={MIGRATION: "aborted", DEPLOYMENT_MODEL: "classic"},
    activity_log=_logged("abortMigration"),
    description="Undo a prepared migration: the Resource Manager metadata is deleted, the VM "
    "stays classic and the lock ends.",
    note=_LOG_NOTE,
)

OPERATIONS = (VALIDATE, PREPARE, COMMIT, ABORT)

LOCKED = (
    "the management plane is locked while a classic-to-Azure-Resource-Manager migration is "
    "prepared: only reads (GET) are allowed until migrate_commit or migrate_abort"
)


@vmlife.hookimpl
def register_states(register: Any) -> None:
    """Add the provisioning state ``migrating``."""
    register(MIGRATING)


@vmlife.hookimpl
def register_operations(register: Any) -> None:
    """Add validate, prepare, commit and abort."""
    for op in OPERATIONS:
        register(op)


def deployment_model(attributes: Mapping[str, Any]) -> str:
    """``"classic"`` or ``"arm"`` (the default) from VM attributes."""
    raw = str(attributes.get(DEPLOYMENT_MODEL) or "arm").strip().lower()
    return "classic" if raw in ("classic", "asm") else "arm"


def is_locked(attributes: Mapping[str, Any]) -> bool:
    """True while a migration is prepared (committed or aborted ends it)."""
    return attributes.get(MIGRATION) == "prepared"


def _in_virtual_network(attributes: Mapping[str, Any]) -> bool:
    value = attributes.get(VIRTUAL_NETWORK, True)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "no", "0", "none")
    return bool(value)


@vmlife.hookimpl
@vmlife.reads(attributes=(MIGRATION, DEPLOYMENT_MODEL, BLOCKERS))
def guard_operation(vm: vmlife.VM, operation: Operation) -> str | None:
    """The management-plane lock, and who may validate, prepare, commit or abort."""
    attributes = vm.attributes
    if is_locked(attributes):
        if operation.id in (COMMIT.id, ABORT.id) or operation.kind != "user":
            return None
        return LOCKED
    if operation.id in (COMMIT.id, ABORT.id):
        return f"{operation.id} needs a prepared migration: run migrate_prepare first"
    if operation.id in (VALIDATE.id, PREPARE.id):
        if deployment_model(attributes) != "classic":
            return (
                "the VM is in Azure Resource Manager already: only classic VMs "
                "(deployment_model='classic') migrate"
            )
        blockers = attributes.get(BLOCKERS)
        if blockers:
            reasons = [blockers] if isinstance(blockers, str) else list(blockers)
            return "the VM can't be migrated: " + "; ".join(str(r) for r in reasons)
    return None


def _platform_restart(state: VMState, params: Mapping[str, Any]) -> tuple[Phase, ...]:
    """Prepare for a VM outside a virtual network: the platform stops and deallocates it."""
    if state.power == "running":
        return (
            Phase({"power": "stopping"}),
            Phase({"power": "deallocating"}),
            Phase({"power": "deallocated"}, key="migration_deallocated"),
            Phase({"power": "starting"}),
            Phase({"power": "running"}, key="migration_prepare"),
        )
    if state.power == "stopped":
        return (
            Phase({"power": "deallocating"}),
            Phase({"power": "deallocated"}, key="migration_prepare"),
        )
    return PREPARE.plan(state, params)


@vmlife.hookimpl
@vmlife.reads(attributes=(VIRTUAL_NETWORK,))
def adjust_operation(vm: vmlife.VM, operation: Operation) -> Operation | None:
    """A VM outside a virtual network is stopped, deallocated and restarted during prepare."""
    if operation.id == PREPARE.id and not _in_virtual_network(vm.attributes):
        return replace(operation, path=_platform_restart)
    return None
