"""vmlife-hibernation: reading hibernated VMs, hibernate and resume, guards, billing, what-if."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import ModuleType

import pytest

import vmlife
from vmlife import VM, VMState
from vmlife.billing.meter import bill
from vmlife.billing.whatif import Schedule
from vmlife.cli import main
from vmlife.io import read_instance_views_file
from vmlife.timeutil import to_epoch

REPO = Path(__file__).resolve().parents[3]
HIBERNATED_JSON = REPO / "tests" / "data" / "hibernated.json"
T0 = "2024-03-04T08:00:00Z"


def enabled_vm(name: str = "h", **attributes: object) -> VM:
    return VM(name, start=T0).create(hibernation_enabled=True, **attributes)


# ------------------------------------------------------------------ reading Azure output
def test_the_hibernated_instance_view_reads_deallocated_and_hibernated(
    hibernation: ModuleType,
) -> None:
    [reading] = read_instance_views_file(HIBERNATED_JSON)
    assert reading.state == VMState(
        provisioning="succeeded", power="deallocated", hibernation="hibernated"
    )
    assert reading.unknown_codes == []
    assert hibernation.portal_status(reading.state) == "Hibernated (deallocated)"
    out = io.StringIO()
    assert main(["status", str(HIBERNATED_JSON), "--json"], out=out) == 0
    [row] = json.loads(out.getvalue())
    assert (row["power"], row["hibernation"]) == ("deallocated", "hibernated")


def test_without_the_plugin_the_hibernation_code_is_reported_unknown() -> None:
    [reading] = read_instance_views_file(HIBERNATED_JSON)
    assert reading.state.power == "deallocated"
    assert reading.unknown_codes == ["HibernationState/Hibernated"]


def test_states_list_the_hibernation_axis(hibernation: ModuleType) -> None:
    state = vmlife.lifecycle().state("hibernation", "hibernated")
    assert (state.code, state.display) == ("HibernationState/Hibernated", "VM hibernated")
    assert state.plugin == "vmlife_hibernation"
    assert vmlife.parse_code("hibernationstate/hibernated").canonical == state.code


# ------------------------------------------------------------------ hibernate and resume
def test_hibernate_saves_memory_then_shows_the_three_statuses(hibernation: ModuleType) -> None:
    vm = enabled_vm().hibernate(at="2024-03-04T18:00:00Z")
    hibernating = [s for s in vm.timeline if s.operation == "hibernate"]
    assert [s.state.power for s in hibernating] == ["deallocating"]
    assert vm.state == VMState(
        provisioning="succeeded", power="deallocated", hibernation="hibernated"
    )
    assert [(s["code"], s["displayStatus"]) for s in vm.statuses()] == [
        ("ProvisioningState/succeeded", "Provisioning succeeded"),
        ("PowerState/deallocated", "VM deallocated"),
        ("HibernationState/Hibernated", "VM hibernated"),
    ]
    assert vm.allowed() == ["start", "redeploy", "update", "reapply", "delete"]


def test_deallocate_with_hibernate_true_is_the_same_operation(hibernation: ModuleType) -> None:
    by_flag = enabled_vm().deallocate(hibernate=True)
    by_op = enabled_vm().hibernate()
    assert by_flag.state == by_op.state
    assert [s.state for s in by_flag.timeline] == [s.state for s in by_op.timeline]
    # the Activity Log name stays with deallocate: hibernate adds none of its own
    assert vmlife.lifecycle().operation("hibernate").activity_log == ()
    plain = enabled_vm().deallocate(hibernate=False)
    assert plain.state == VMState(provisioning="succeeded", power="deallocated")


def test_start_resumes_and_the_hibernation_status_goes(hibernation: ModuleType) -> None:
    vm = enabled_vm().hibernate(at="2024-03-04T18:00:00Z").start(at="2024-03-05T08:00:00Z")
    resuming = [s.state for s in vm.timeline if s.operation == "start"]
    assert [s.power for s in resuming] == ["stopped", "starting"]
    assert all("hibernation" not in s for s in resuming)
    assert vm.state == VMState(provisioning="succeeded", power="running")
    assert [s["code"] for s in vm.statuses()] == [
        "ProvisioningState/succeeded",
        "PowerState/running",
    ]
    # the same VM can hibernate again
    assert vm.hibernate().state.get("hibernation") == "hibernated"


def test_a_start_that_fails_at_once_leaves_the_vm_hibernated(hibernation: ModuleType) -> None:
    vm = enabled_vm().hibernate().start(fail="AllocationFailed")
    assert vm.state.get("hibernation") == "hibernated"
    assert vm.state.provisioning == "failed"


def test_delete_and_redeploy_end_hibernation(hibernation: ModuleType) -> None:
    gone = enabled_vm().hibernate().delete()
    assert gone.state == VMState() and not gone.state.exists
    moved = enabled_vm().hibernate().redeploy()
    assert moved.state == VMState(provisioning="succeeded", power="running")


# ------------------------------------------------------------------ refusals
def test_hibernate_without_the_capability_is_refused_with_the_reason(
    hibernation: ModuleType,
) -> None:
    vm = VM("plain", start=T0).create()
    assert "hibernate" not in vm.allowed()
    assert vm.why_not("hibernate") == [
        "OperationNotAllowed: the Hibernate-Deallocate operation can only be triggered on a VM "
        "that is enabled for hibernation (set hibernation_enabled=True at create, or update it "
        "while the VM is deallocated)"
    ]
    before = vm.timeline
    with pytest.raises(vmlife.OperationNotAllowed, match="enabled for hibernation"):
        vm.hibernate()
    with pytest.raises(vmlife.OperationNotAllowed, match="enabled for hibernation"):
        vm.deallocate(hibernate=True)
    assert vm.timeline == before


def test_hibernate_only_from_running_and_successfully_provisioned(
    hibernation: ModuleType,
) -> None:
    stopped = enabled_vm().power_off()
    assert stopped.why_not("hibernate") == ["hibernate is allowed only from power state running"]
    with pytest.raises(vmlife.OperationNotAllowed, match="successfully provisioned and is running"):
        stopped.deallocate(hibernate="true")
    failed = enabled_vm().update(fail="InternalOperationError")
    assert failed.state.power == "running"
    assert "successfully provisioned and is running" in failed.why_not("hibernate")[0]


def test_the_capability_can_be_enabled_only_when_deallocated(hibernation: ModuleType) -> None:
    vm = VM("late", start=T0).create()
    [reason] = vm.why_not("update", hibernation_enabled=True)
    assert "after it is stopped and deallocated" in reason
    vm.deallocate().update(hibernation_enabled=True).start().hibernate()
    assert vm.state.get("hibernation") == "hibernated"


def test_resize_and_disk_or_nic_changes_are_refused_while_hibernated(
    hibernation: ModuleType,
) -> None:
    vm = enabled_vm().hibernate()
    for change in ({"size": "Standard_D4s_v5"}, {"data_disks": ["d2"]}, {"nics": ["nic2"]}):
        [reason] = vm.why_not("update", **change)
        assert reason.startswith("OperationNotAllowed: a hibernated VM can't be resized")
    vm.update(tags={"team": "a"})  # other updates are fine, and it stays hibernated
    assert vm.state.get("hibernation") == "hibernated"
    vm.start().update(size="Standard_D4s_v5")  # running: resizing is allowed again
    assert vm.attributes["size"] == "Standard_D4s_v5"


def test_hibernation_is_refused_on_spot_vms(hibernation: ModuleType) -> None:
    refusal = "OperationNotAllowed: Hibernation capability isn't supported for Spot VMs."
    assert VM("s").why_not("create", priority="spot", hibernation_enabled=True) == [refusal]
    spot = VM("s", state="running", priority="Spot", hibernation_enabled=True)
    assert spot.why_not("hibernate") == [refusal]


# ------------------------------------------------------------------ billing
def test_every_edition_bills_no_compute_while_hibernated(hibernation: ModuleType) -> None:
    lc = vmlife.lifecycle()
    for edition in lc.editions.values():
        assert edition.rule_for("hibernation.hibernated").bills == frozenset()


def test_a_hibernated_night_bills_disks_but_no_compute(hibernation: ModuleType) -> None:
    vm = enabled_vm(size="Standard_D2s_v5")
    vm.hibernate(at="2024-03-04T18:00:00Z").start(at="2024-03-05T08:00:00Z")
    night = bill(vm.timeline, start="2024-03-04T19:00:00Z", end="2024-03-05T07:00:00Z",
                 granularity="second").vms[0]
    assert night.billed_seconds["compute"] == 0
    assert night.billed_seconds["other"] == 12 * 3600


def test_hibernating_inside_the_guest_keeps_billing_compute(hibernation: ModuleType) -> None:
    vm = enabled_vm().guest_hibernate(at="2024-03-04T18:00:00Z").start(at="2024-03-05T08:00:00Z")
    assert "hibernation" not in vm.timeline.state_at("2024-03-05T00:00:00Z")
    night = bill(vm.timeline, edition="2023-10", start="2024-03-04T19:00:00Z",
                 end="2024-03-05T07:00:00Z", granularity="second").vms[0]
    assert night.billed_seconds["compute"] == 12 * 3600


def test_a_month_of_hibernating_overnight_bills_no_compute_overnight(
    hibernation: ModuleType,
) -> None:
    schedule = Schedule("hibernate", "hibernate", attributes={"hibernation_enabled": True})
    timeline = schedule.simulate("2024-03-01T00:00:00Z", 31)
    # March 2024 starts on a Friday at 00:00 (off hours), then has 21 working days
    assert sum(s.state.get("hibernation") == "hibernated" for s in timeline) == 1 + 21
    start, end = to_epoch("2024-03-01T00:00:00Z"), to_epoch("2024-04-01T00:00:00Z")
    month = bill(timeline, start=start, end=end, granularity="second")
    compute = [r for r in month.runs if r.component == "compute"]
    # working days only: 08:00 start to the 18:00 hibernate, never across a night or a weekend
    assert len(compute) == 21
    for run in compute:
        assert run.end - run.start < 11 * 3600
    assert month.vms[0].billed_seconds["other"] == end - start
