"""vmlife-classic-migration: validate, prepare, the lock, commit, abort, and the restart gap."""

from __future__ import annotations

from types import ModuleType

import pytest

import vmlife
from vmlife import VM, VMState
from vmlife.billing.meter import bill

T0 = "2024-05-06T09:00:00Z"


def classic_vm(name: str = "c", **attributes: object) -> VM:
    return VM(name, start=T0).create(deployment_model="classic", **attributes)


def test_migrating_is_a_provisioning_state_from_spec_003(
    classic_migration: ModuleType,
) -> None:
    state = vmlife.lifecycle().state("provisioning", "migrating")
    assert (state.code, state.display, state.revisions) == (
        "ProvisioningState/migrating",
        "Migrating",
        ("003",),
    )
    reading = vmlife.read_statuses(
        [{"code": "ProvisioningState/Migrating"}, {"code": "PowerState/running"}]
    )
    assert reading.state == VMState(provisioning="migrating", power="running")


def test_validate_prepare_commit_ends_in_resource_manager(classic_migration: ModuleType) -> None:
    vm = classic_vm(virtual_network=True).migrate_validate()
    assert vm.state == VMState(provisioning="succeeded", power="running")
    vm.migrate_prepare(at="2024-05-06T10:00:00Z")
    assert vm.state == VMState(provisioning="migrating", power="running")
    assert vm.statuses()[0] == {
        "code": "ProvisioningState/migrating",
        "level": "Info",
        "displayStatus": "Migrating",
    }
    # a VM in a virtual network keeps running through prepare
    prepare = [s.state.power for s in vm.timeline if s.operation == "migrate_prepare"]
    assert set(prepare) == {"running"}
    vm.migrate_commit(at="2024-05-07T10:00:00Z")
    assert vm.state == VMState(provisioning="succeeded", power="running")
    assert vm.attributes["deployment_model"] == "arm"
    assert classic_migration.deployment_model(vm.attributes) == "arm"
    assert vm.why_not("migrate_prepare") == [
        "the VM is in Azure Resource Manager already: only classic VMs "
        "(deployment_model='classic') migrate"
    ]
    assert "migrate_abort" not in vm.allowed()
    vm.deallocate()  # the management plane is open again


def test_abort_returns_to_classic_and_unlocks(classic_migration: ModuleType) -> None:
    vm = classic_vm().migrate_prepare().migrate_abort()
    assert vm.state == VMState(provisioning="succeeded", power="running")
    assert vm.attributes["deployment_model"] == "classic"
    assert not classic_migration.is_locked(vm.attributes)
    assert "migrate_commit" not in vm.allowed()
    vm.restart().migrate_prepare().migrate_commit()  # and it can try again
    assert vm.attributes["deployment_model"] == "arm"


def test_every_operation_but_reads_is_refused_while_prepared(
    classic_migration: ModuleType,
) -> None:
    twin = classic_vm("twin")
    vm = classic_vm().migrate_prepare()
    lc = vmlife.lifecycle()
    user_ops = [o.id for o in lc.operations.values() if o.kind == "user"]
    # the lock, not the power state, is why: a twin that is not prepared may do these
    open_ops = [o for o in twin.allowed() if o in user_ops]
    assert {"power_off", "deallocate", "restart", "update", "delete"} <= set(open_ops)
    for op in open_ops:
        assert vm.why_not(op) == [classic_migration.LOCKED], op
    before = vm.timeline
    with pytest.raises(vmlife.OperationNotAllowed, match="management plane is locked"):
        vm.deallocate()
    assert vm.timeline == before
    # commit and abort are the way out; the guest OS is not the management plane
    assert vm.allowed() == ["guest_shutdown", "migrate_commit", "migrate_abort"]


def test_commit_and_abort_need_a_prepared_migration(classic_migration: ModuleType) -> None:
    vm = classic_vm()
    assert vm.why_not("migrate_commit") == [
        "migrate_commit needs a prepared migration: run migrate_prepare first"
    ]
    with pytest.raises(vmlife.OperationNotAllowed, match="run migrate_prepare first"):
        vm.migrate_abort()


def test_resource_manager_vms_and_blocked_vms_do_not_migrate(
    classic_migration: ModuleType,
) -> None:
    arm = VM("arm", start=T0).create()
    assert "migrate_validate" not in arm.allowed()
    blocked = classic_vm(migration_blockers=["an unsupported XML extension"])
    assert blocked.why_not("migrate_validate") == [
        "the VM can't be migrated: an unsupported XML extension"
    ]
    assert blocked.why_not("migrate_prepare") == blocked.why_not("migrate_validate")


def test_a_failed_prepare_does_not_lock_and_a_failed_commit_keeps_the_lock(
    classic_migration: ModuleType,
) -> None:
    vm = classic_vm().migrate_prepare(fail="MigrationFailed")
    assert vm.state.provisioning == "failed"
    assert not classic_migration.is_locked(vm.attributes)
    vm.migrate_prepare().migrate_commit(fail="InternalOperationError")
    assert classic_migration.is_locked(vm.attributes)
    assert vm.why_not("restart") == [classic_migration.LOCKED]
    vm.migrate_commit()  # commit is idempotent: retry it
    assert vm.attributes["deployment_model"] == "arm"


def test_a_vm_outside_a_virtual_network_is_restarted_during_prepare(
    classic_migration: ModuleType,
) -> None:
    vm = classic_vm(virtual_network=False).migrate_prepare(at="2024-05-06T10:00:00Z")
    path = [s.state.power for s in vm.timeline if s.operation == "migrate_prepare"]
    assert path == ["stopping", "deallocating", "deallocated", "starting", "running"]
    assert vm.state == VMState(provisioning="migrating", power="running")
    stopped = classic_vm("stopped", virtual_network=False).power_off().migrate_prepare()
    assert stopped.state.power == "deallocated"


def test_the_bill_of_a_vm_outside_a_virtual_network_shows_the_deallocate_gap(
    classic_migration: ModuleType,
) -> None:
    timing = vmlife.Timing({"migration_deallocated": 600})
    vm = VM("c", start=T0, timing=timing)
    vm.create(deployment_model="classic", virtual_network=False)
    vm.migrate_prepare(at="2024-05-06T10:00:00Z").migrate_commit(at="2024-05-06T12:00:00Z")
    prepare = [s for s in vm.timeline if s.operation == "migrate_prepare"]
    deallocating, starting = prepare[1], prepare[3]
    assert (deallocating.state.power, starting.state.power) == ("deallocating", "starting")
    b = bill(vm.timeline, edition="2023-10", end="2024-05-06T13:00:00Z", granularity="second")
    compute = [r for r in b.runs if r.component == "compute"]
    assert len(compute) == 2
    assert compute[0].end == deallocating.start  # billing stops when the platform deallocates
    assert compute[1].start == starting.start  # and starts again with Starting (2023 rules)
    assert starting.start - deallocating.start == 45 + 600
    other = [r for r in b.runs if r.component == "other"]
    assert len(other) == 1  # disks and networking bill through the gap

    in_vnet = classic_vm("v", virtual_network=True).migrate_prepare().migrate_commit()
    b2 = bill(in_vnet.timeline, edition="2023-10", end="2024-05-06T13:00:00Z")
    assert len([r for r in b2.runs if r.component == "compute"]) == 1
