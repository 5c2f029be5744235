"""The transition engine: operations, durations, failures, refusals, and invariants."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import VM, Timing, VMState
from vmlife.timeutil import to_epoch

T0 = "2024-01-01T00:00:00Z"


def powers(vm: VM) -> list[str | None]:
    return [s.state.power for s in vm.timeline]


def test_create_walks_creating_starting_running() -> None:
    vm = VM("a", start=T0).create()
    assert powers(vm) == ["creating", "starting", "running"]
    assert [s.state.provisioning for s in vm.timeline] == ["creating", "creating", "succeeded"]
    assert vm.timeline[-1].start - vm.timeline[0].start == 30 + 40


def test_generalized_create_shows_os_provisioning_substates_while_running() -> None:
    vm = VM("a", start=T0).create(generalized=True)
    assert [s.state.os_provisioning for s in vm.timeline] == [
        None,
        None,
        "in_progress",
        "complete",
        None,
    ]
    assert [s.state.power for s in vm.timeline][2:] == ["running"] * 3
    assert vm.state == VMState(provisioning="succeeded", power="running")


@pytest.mark.parametrize(
    ("setup", "op", "path", "end"),
    [
        ([], "power_off", ["stopping"], "stopped"),
        ([], "deallocate", ["deallocating"], "deallocated"),
        ([], "restart", ["stopping", "starting"], "running"),
        ([], "redeploy", ["deallocating", "deallocated", "starting"], "running"),
        ([], "update", ["running"], "running"),
        ([], "reapply", ["running"], "running"),
        ([], "guest_shutdown", ["stopping"], "stopped"),
        (["power_off"], "start", ["starting"], "running"),
        (["deallocate"], "start", ["stopped", "starting"], "running"),
        (["power_off"], "deallocate", ["deallocating"], "deallocated"),
    ],
)
def test_operation_paths(setup: list[str], op: str, path: list[str], end: str) -> None:
    vm = VM("a", start=T0).create()
    for s in setup:
        vm.do(s)
    n = len(vm.timeline)
    vm.do(op, at=to_epoch(T0) + 3600)
    new = vm.timeline[n:]
    assert [s.state.power for s in new[:-1]] == path
    assert all(s.operation == op for s in new[:-1])
    assert new[-1].operation is None and new[-1].state.power == end


def test_control_plane_ops_show_updating_guest_shutdown_does_not() -> None:
    vm = VM("a", start=T0).create().power_off()
    assert vm.timeline[-2].state.provisioning == "updating"
    vm2 = VM("b", start=T0).create().guest_shutdown()
    assert vm2.timeline[-2].state.provisioning == "succeeded"
    assert vm2.state.power == "stopped"


def test_delete_leaves_no_vm_and_only_create_allowed() -> None:
    vm = VM("a", start=T0).create().delete()
    assert vm.timeline[-2].state.provisioning == "deleting"
    assert not vm.state.exists and vm.deleted
    assert vm.allowed() == ["create"]  # a new VM of the same name
    with pytest.raises(vmlife.OperationNotAllowed, match="deleted"):
        vm.start()


def test_refused_operation_names_op_state_and_allowed_and_leaves_vm_unchanged() -> None:
    vm = VM("a", start=T0).create().deallocate()
    before = (vm.state, vm.timeline, vm.clock, dict(vm.attributes))
    with pytest.raises(vmlife.OperationNotAllowed) as err:
        vm.power_off()
    e = err.value
    assert e.operation == "power_off"
    assert "deallocated" in e.state
    assert e.allowed == ["start", "redeploy", "update", "reapply", "delete"]
    assert str(e).startswith("Can't power_off when in deallocated")
    assert (vm.state, vm.timeline, vm.clock, dict(vm.attributes)) == before


def test_unknown_operation_lists_choices() -> None:
    vm = VM("a")
    with pytest.raises(vmlife.UnknownNameError, match="valid choices: create, deallocate"):
        vm.do("hibernate")
    with pytest.raises(AttributeError, match="operations: create"):
        vm.hibernate  # noqa: B018


def test_failure_leaves_provisioning_failed_and_power_where_it_was() -> None:
    vm = VM("a", start=T0).create().deallocate()
    vm.start(fail="AllocationFailed")
    assert vm.state == VMState(
        provisioning="failed", power="deallocated", error_code="AllocationFailed"
    )
    assert vm.statuses()[0]["code"] == "ProvisioningState/failed/AllocationFailed"
    # a later successful operation clears the failure
    vm.start()
    assert vm.state == VMState(provisioning="succeeded", power="running")


def test_failure_at_a_chosen_step() -> None:
    vm = VM("a", start=T0).create().deallocate()
    vm.start(fail="X", fail_at=2)  # stopped briefly, then starting, then the failure
    assert vm.state.power == "starting" and vm.state.provisioning == "failed"
    with pytest.raises(vmlife.RunError, match="fail_at must be between 0 and 1 for deallocate"):
        vm.deallocate(fail="X", fail_at=5)


def test_os_provisioning_failure_matches_azure_example() -> None:
    vm = VM("a", start=T0).create(generalized=True, fail="OSProvisioningTimedOut", fail_at=3)
    assert vm.state == VMState(
        provisioning="failed", power="running", error_code="OSProvisioningTimedOut"
    )
    assert [s["code"] for s in vm.statuses()] == [
        "ProvisioningState/failed/OSProvisioningTimedOut",
        "PowerState/running",
    ]


def test_guest_operation_cannot_fail_with_azure_code() -> None:
    vm = VM("a", start=T0).create()
    with pytest.raises(vmlife.RunError, match="not a control-plane"):
        vm.guest_shutdown(fail="X")
    assert vm.state.power == "running"


def test_timing_overrides_and_jitter_are_reproducible() -> None:
    vm = VM(
        "a", start=T0, timing=Timing({"creating": 10, "starting": timedelta(minutes=2)})
    ).create()
    assert [s.duration for s in vm.timeline[:2]] == [10, 120]
    a = VM("a", timing=Timing(jitter=0.5, seed=7)).create().restart()
    b = VM("a", timing=Timing(jitter=0.5, seed=7)).create().restart()
    c = VM("a", timing=Timing(jitter=0.5, seed=8)).create().restart()
    assert a.timeline == b.timeline
    assert a.timeline != c.timeline
    for s in a.timeline[:-1]:
        assert s.duration is not None and s.duration > 0
    with pytest.raises(ValueError):
        Timing({"starting": -1})
    with pytest.raises(ValueError):
        Timing(jitter=1.5)


def test_until_scales_the_phases_to_fit() -> None:
    vm = VM("a", start=T0).create()
    vm.restart(at="2024-01-01T01:00:00Z", until="2024-01-01T01:01:00Z")
    stopping, starting, done = vm.timeline[-3:]
    assert stopping.duration == pytest.approx(20 * 60 / 60)
    assert starting.duration == pytest.approx(40 * 60 / 60)
    assert done.start == to_epoch("2024-01-01T01:01:00Z")


def test_time_cannot_run_backwards() -> None:
    vm = VM("a", start=T0).create().deallocate(at="2024-01-01T10:00:00Z")
    with pytest.raises(vmlife.ScheduleError, match="before the end of the previous step"):
        vm.start(at="2024-01-01T09:00:00Z")
    with pytest.raises(vmlife.ScheduleError):
        vm.start(at="2024-01-02T00:00:00Z", until="2024-01-01T23:00:00Z")
    assert vm.state.power == "deallocated"


def test_wait_and_advance_move_the_clock_only() -> None:
    vm = VM("a", start=T0).create()
    n = len(vm.timeline)
    vm.wait(timedelta(hours=1)).advance_to("2024-01-01T05:00:00Z")
    assert len(vm.timeline) == n and vm.clock == to_epoch("2024-01-01T05:00:00Z")
    vm.power_off()
    assert vm.timeline[-2].start == to_epoch("2024-01-01T05:00:00Z")


def test_initial_state_for_an_existing_vm() -> None:
    vm = VM("a", start=T0, state="deallocated")
    assert vm.state == VMState(provisioning="succeeded", power="deallocated")
    vm2 = VM("b", state={"provisioning": "failed", "power": "running"})
    assert "start" not in vm2.allowed() and "deallocate" in vm2.allowed()
    with pytest.raises(vmlife.UnknownNameError, match=r"power\.deallocated"):
        VM("c", state="sleeping")


def test_create_and_update_store_parameters_as_attributes() -> None:
    vm = VM("a").create(size="Standard_D2s_v5")
    vm.update(size="Standard_D4s_v5", tags={"env": "dev"})
    assert vm.attributes == {"size": "Standard_D4s_v5", "tags": {"env": "dev"}}


def test_zero_length_phases_leave_no_empty_steps() -> None:
    vm = VM("a", timing=Timing({"creating": 0})).create()
    assert all(s.duration is None or s.duration > 0 for s in vm.timeline)


OPS = [
    "create",
    "start",
    "power_off",
    "deallocate",
    "restart",
    "redeploy",
    "update",
    "reapply",
    "delete",
    "guest_shutdown",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(OPS),
            st.integers(0, 7200),
            st.one_of(st.none(), st.sampled_from(["InternalOperationError", "AllocationFailed"])),
            st.integers(0, 3),
        ),
        max_size=25,
    ),
    st.integers(0, 2**16),
)
def test_random_operation_sequences_stay_in_registered_states(
    script: list[tuple[str, int, str | None, int]], seed: int
) -> None:
    lc = vmlife.lifecycle()
    vm = VM("p", timing=Timing(jitter=0.3, seed=seed))
    for op, gap, fail, fail_at in script:
        before = (vm.state, vm.timeline, vm.clock, copy.deepcopy(vm.attributes))
        allowed = vm.allowed()
        try:
            vm.do(op, at=vm.clock + gap, fail=fail, fail_at=fail_at)
        except vmlife.OperationNotAllowed as e:
            assert op not in allowed and e.allowed == allowed
            assert (vm.state, vm.timeline, vm.clock, vm.attributes) == before
        except vmlife.RunError:
            # fail_at out of range, or a guest operation asked to fail: refused up front
            assert (vm.state, vm.timeline, vm.clock, vm.attributes) == before
        else:
            assert op in allowed
    starts = [s.start for s in vm.timeline]
    assert starts == sorted(starts)
    for step in vm.timeline:
        for axis, sid in step.state.items():
            assert (axis, sid) in lc.states
        if step.state.error_code is not None:
            assert step.state.provisioning == "failed"
    # stable state at rest, transitional only while an operation runs
    for step in vm.timeline:
        if step.operation is None and step.state.power is not None:
            assert (
                not lc.state("power", step.state.power).transitional
                or step.state.provisioning == "failed"
            )


def test_delete_clears_every_axis_including_a_plugins() -> None:
    from typing import Any

    class Tag:
        @vmlife.hookimpl
        def register_states(self, register: Any) -> None:
            register(vmlife.Axis("tag", "TagState"))
            register(vmlife.State("tagged", "tag", "TagState/Tagged", "Tagged"))

    with vmlife.registered(Tag()):
        vm = VM("a", state=VMState(provisioning="succeeded", power="running", tag="tagged"))
        vm.delete()
        assert vm.state == VMState()
        vm2 = VM("b", state=VMState(provisioning="succeeded", power="running", tag="tagged"))
        vm2.delete(until=vm2.clock + 10)  # the slow path too
        assert vm2.state == VMState()
