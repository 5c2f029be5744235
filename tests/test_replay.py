"""Replay records facts: a plugin's guard cannot refuse an operation a history shows happening."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import vmlife
from vmlife import VM, Axis, Operation, OperationNotAllowed, Phase, State
from vmlife.cli import main
from vmlife.engine import REPLAY_NOTE
from vmlife.io.activity_log import read_activity_log

AL = "Microsoft.Compute/virtualMachines"
RID = f"/subscriptions/s/resourceGroups/rg/providers/{AL}/web-1"
WHY = "maintenance needs the VM attribute maintenance_window, which this VM does not have"


class Maintenance:
    """The plugin of issue 16: an axis with two states, an operation, a guard on an attribute."""

    @vmlife.hookimpl
    def register_states(self, register: Any) -> None:
        register(Axis("maintenance", "MaintenanceState", "Maintenance"))
        register(State("scheduled", "maintenance", "MaintenanceState/scheduled", "Scheduled"))
        register(State("done", "maintenance", "MaintenanceState/done", "Maintenance done"))

    @vmlife.hookimpl
    def register_operations(self, register: Any) -> None:
        register(
            Operation(
                "perform_maintenance",
                (Phase({"maintenance": "scheduled"}, key="maintenance"),),
                sources=frozenset({"running"}),
                final={"provisioning": "succeeded", "maintenance": "done"},
                activity_log=(f"{AL}/performMaintenance/action",),
            )
        )

    @vmlife.hookimpl
    def guard_operation(
        self, vm: VM, operation: Operation, params: Mapping[str, Any]
    ) -> str | None:
        if operation.id == "perform_maintenance" and "maintenance_window" not in vm.attributes:
            return WHY
        return None


def event(action: str, status: str, when: str, corr: str) -> dict[str, Any]:
    return {
        "correlationId": corr,
        "eventDataId": f"{corr}-{status}",
        "eventTimestamp": when,
        "operationName": {"value": f"{AL}/{action}"},
        "status": {"value": status},
        "resourceId": RID,
    }


def op(action: str, start: str, end: str, corr: str) -> list[dict[str, Any]]:
    return [
        event(action, "Started", start, corr),
        event(action, "Accepted", start, corr),
        event(action, "Succeeded", end, corr),
    ]


LOG = [
    *op("start/action", "2024-05-01T08:00:00Z", "2024-05-01T08:01:00Z", "c1"),
    *op("performMaintenance/action", "2024-05-01T12:00:00Z", "2024-05-01T12:30:00Z", "c2"),
    *op("deallocate/action", "2024-05-01T18:00:00Z", "2024-05-01T18:01:30Z", "c3"),
]


def test_replaying_a_log_through_a_refusing_guard_records_the_step_with_a_note() -> None:
    with vmlife.registered(Maintenance()):
        result = read_activity_log(LOG)
    assert result.anomalies == []
    c = result.counts
    assert c.reconciles
    assert (c.read, c.used, c.anomalies) == (9, 9, 0)
    assert c.guard_noted == 3  # the three records of the maintenance operation
    tl = result.timeline("web-1")
    noted = [s for s in tl if s.notes]
    assert len(noted) == 1
    step = noted[0]
    assert step.operation == "perform_maintenance"
    assert step.state["maintenance"] == "scheduled"
    assert step.start == vmlife.timeutil.to_epoch("2024-05-01T12:00:00Z")
    assert step.notes == (f"{REPLAY_NOTE}: {WHY}",)
    assert tl[-1].state.power == "deallocated"
    assert any("guard would have refused" in n for n in result.notes)
    assert result.to_dict()["counts"]["guard_noted"] == 3


def test_without_the_guard_nothing_is_noted() -> None:
    with vmlife.registered(Maintenance()):
        result = read_activity_log(LOG, initial="running")
        vm = VM("v", state="running", maintenance_window="sun")
        vm.do("perform_maintenance", replay=True)
    assert result.counts.guard_noted == 3
    assert vm.timeline.notes == {}
    assert vm.noted_operations == 0


def test_simulated_operations_are_still_refused_by_the_guard() -> None:
    with vmlife.registered(Maintenance()):
        vm = VM("v", state="running")
        before = vm.timeline
        with pytest.raises(OperationNotAllowed, match="maintenance_window"):
            vm.perform_maintenance()
        assert vm.timeline == before
        assert "perform_maintenance" not in vm.allowed()
        vm.do("perform_maintenance", replay=True)
    assert vm.state["maintenance"] == "done"
    assert [s.notes for s in vm.timeline if s.notes] == [(f"{REPLAY_NOTE}: {WHY}",)]


def test_the_lifecycle_rules_still_refuse_a_replayed_operation() -> None:
    vm = VM("v", state="deallocated")
    with pytest.raises(OperationNotAllowed, match="only from power state"):
        vm.do("power_off", replay=True)


def test_a_failed_replayed_operation_keeps_the_note() -> None:
    with vmlife.registered(Maintenance()):
        vm = VM("v", state="running")
        vm.do("perform_maintenance", fail="Conflict", replay=True)
    assert vm.state.error_code == "Conflict"
    assert vm.noted_operations == 1
    assert list(vm.timeline.notes.values()) == [(f"{REPLAY_NOTE}: {WHY}",)]


def test_notes_survive_the_timeline_file(tmp_path: Path) -> None:
    with vmlife.registered(Maintenance()):
        result = read_activity_log(LOG)
    path = tmp_path / "t.json"
    vmlife.dump_timelines(result.timelines, path)
    back = vmlife.load_timelines(path)
    assert back == result.timelines
    assert [s.notes for s in back[0] if s.notes] == [(f"{REPLAY_NOTE}: {WHY}",)]


def test_timeline_file_notes_are_validated(tmp_path: Path) -> None:
    doc = {"format": "vmlife.timeline", "version": 1, "timelines": [{"vm": "a", "steps": [
        {"start": "2024-01-01T00:00:00Z", "end": None, "state": {"power": "running"},
         "notes": "not a list"}]}]}
    with pytest.raises(vmlife.InputError, match=r"timelines\[0\]\.steps\[0\].*'notes'"):
        vmlife.load_timelines(doc)


def test_the_timeline_command_prints_the_note(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    path.write_text(json.dumps(LOG), encoding="utf-8")
    out = io.StringIO()
    with vmlife.registered(Maintenance()):
        assert main(["timeline", str(path), "--quiet"], out=out) == 0
    text = out.getvalue()
    assert f"note on perform_maintenance at 2024-05-01 12:00:00: {REPLAY_NOTE}: {WHY}" in text
    assert "No anomalies." in text
    assert "3 are of operations a plugin's guard would have refused" in text
