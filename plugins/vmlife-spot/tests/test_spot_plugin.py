"""vmlife-spot: eviction under each policy, its bill, and the spot settings Azure refuses."""

from __future__ import annotations

from types import ModuleType

import pytest

import vmlife
from vmlife import VM, VMState
from vmlife.billing.meter import bill
from vmlife.billing.prices import Price, PriceTable

T0 = "2024-06-03T00:00:00Z"


def spot_vm(name: str = "s", **attributes: object) -> VM:
    return VM(name, start=T0).create(priority="spot", **attributes)


def test_evict_is_a_platform_operation_logged_as_simulate_eviction(spot: ModuleType) -> None:
    op = vmlife.lifecycle().operation("evict")
    assert op.kind == "platform"
    assert op.activity_log == ("Microsoft.Compute/virtualMachines/simulateEviction/action",
                               "Microsoft.Compute/virtualMachines/evictSpotVM/action")
    assert op.sources == frozenset({"running"})


def test_deallocate_policy_ends_deallocated_after_the_notice(spot: ModuleType) -> None:
    vm = spot_vm().evict(at="2024-06-03T12:00:00Z")
    evicting = [s for s in vm.timeline if s.operation == "evict"]
    assert [s.state.power for s in evicting] == ["running", "deallocating"]
    assert evicting[0].duration == 30  # Azure's 30 seconds' notice
    # a platform operation: provisioning is not "updating", and the VM is not restarted
    assert all(s.state.provisioning == "succeeded" for s in evicting)
    assert vm.state == VMState(provisioning="succeeded", power="deallocated")
    assert spot.eviction_policy(vm.attributes) == "Deallocate"
    assert vm.start().state.power == "running"  # you may start it again yourself


def test_delete_policy_deletes_the_vm_and_its_disks(spot: ModuleType) -> None:
    vm = spot_vm(eviction_policy="Delete").evict(at="2024-06-03T12:00:00Z")
    assert vm.deleted and vm.state == VMState()
    evicting = [s.state for s in vm.timeline if s.operation == "evict"]
    assert [(s.provisioning, s.power) for s in evicting] == [
        ("succeeded", "running"),
        ("succeeded", "deallocating"),
        ("deleting", "deallocating"),
    ]
    assert vm.allowed() == ["create"]


def test_the_bill_after_eviction_under_each_policy(spot: ModuleType) -> None:
    prices = PriceTable([Price("Standard_D2s_v5", "linux", 0.02, 0.0, 0.01, "USD", "spot")])
    end = "2024-06-04T00:00:00Z"

    def billed(vm: VM) -> dict[str, float]:
        timeline = vm.evict(at="2024-06-03T12:00:00Z").timeline
        return bill(timeline, prices=prices, end=end, granularity="second").vms[0].billed_seconds

    kept = billed(spot_vm())
    gone = billed(spot_vm(eviction_policy="delete"))
    # 2023 rules: Starting (from 00:00:30) bills, and the VM runs through the 30 s notice
    assert kept["compute"] == gone["compute"] == 12 * 3600
    assert kept["other"] == 24 * 3600  # Deallocate: disks and networking still bill
    assert gone["other"] == 12 * 3600 + 30 + 45 + 30  # Delete: nothing once deleting ends


def test_only_spot_vms_are_evicted(spot: ModuleType) -> None:
    regular = VM("r", start=T0).create()
    assert "evict" not in regular.allowed()
    with pytest.raises(vmlife.OperationNotAllowed, match="only Azure Spot VMs"):
        regular.evict()
    assert "evict" in spot_vm().allowed()
    assert "evict" not in spot_vm().deallocate().allowed()


def test_spot_settings_azure_refuses_at_create(spot: ModuleType) -> None:
    vm = VM("x")
    assert vm.why_not("create", eviction_policy="Delete") == [
        "EvictionPolicyCanBeSetOnlyOnAzureSpotVirtualMachines: eviction policy can be set only "
        "on Azure Spot Virtual Machines (priority='spot')"
    ]
    [bad] = vm.why_not("create", priority="spot", eviction_policy="Hibernate")
    assert bad == "eviction_policy must be one of Deallocate, Delete, got 'Hibernate'"
    [price] = vm.why_not("create", priority="spot", max_price=0)
    assert price.startswith("MaxPriceValueInvalid")
    assert vm.why_not("create", priority="spot", max_price=-1) == []
    assert vm.why_not("create", max_price=0.5)[0].startswith(
        "VariablePricingIsSupportedOnlyForLowPriorityVirtualMachines"
    )


def test_spot_settings_azure_refuses_on_update(spot: ModuleType) -> None:
    vm = spot_vm(max_price=0.05)
    [reason] = vm.why_not("update", max_price=0.08)
    assert reason.startswith("MaxPriceUpdateRequiresVMToBeDeallocated")
    vm.deallocate().update(max_price=0.08)
    assert vm.attributes["max_price"] == 0.08
    assert vm.why_not("update", eviction_policy="Delete") == [
        "the eviction policy is set when the VM is created, not by an update"
    ]
    [priority] = VM("r", start=T0).create().why_not("update", priority="spot")
    assert priority.startswith("VMPriorityCannotBeApplied")
