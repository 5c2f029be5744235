"""Billing that holds on real histories (issue 11, part 4).

Each test here failed on the code before its fix (except the property test, which guards the
fleet biller against drifting from the meter): a cancel that never reached the canceled state,
a Started-to-Failed span shown as the old state, a VM deallocated all night before its first
event billing no disks, an unknown power reading billed as free, a reboot dropping compute
under the editions that do not bill Starting, a resize of a running VM without its restart.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmlife import VM, RunError, Timeline, VMState
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


# ---------------------------------------------------------------------- restart
EDITIONS = ["draft", "2018-08", "lifecycle", "2021-03", "2023-10"]


@pytest.mark.parametrize("edition", EDITIONS)
def test_a_restart_keeps_compute_billed_as_one_run_in_every_edition(edition: str) -> None:
    vm = VM("a", start="2024-01-01T00:00:00Z", state="running", os="windows")
    vm.restart(at="2024-01-01T01:00:00Z")  # stopping 20 s, starting 40 s: the VM stays put
    assert [s.state.power for s in vm.timeline] == ["running", "stopping", "starting", "running"]
    b = bill(vm.timeline, edition=edition, granularity="minute", end="2024-01-01T02:00:00Z")
    for comp in ("compute", "license"):
        runs = [r for r in b.runs if r.component == comp]
        assert len(runs) == 1, (edition, comp)  # one run: the minute floor cuts once
        assert runs[0].billed_seconds == 7200
    # the billing plot shades what the bill counts: the restart's steps bill as running
    from vmlife.billing.meter import rule_states

    assert {r.power for r in rule_states(vm.timeline, edition)} == {"running"}
    # a redeploy moves the VM to another host: compute stops while it is deallocated
    vm.redeploy(at="2024-01-01T03:00:00Z")
    b = bill(vm.timeline, edition=edition, end="2024-01-01T04:00:00Z")
    assert len([r for r in b.runs if r.component == "compute"]) == 2


def test_restart_says_it_keeps_the_host() -> None:
    from vmlife.lifecycle import lifecycle

    op = lifecycle().operation("restart")
    assert op.keeps_host and "51232" in op.note
    assert not lifecycle().operation("redeploy").keeps_host


# ---------------------------------------------------------------------- resize
def test_resizing_a_running_vm_restarts_it_and_compute_stays_one_run() -> None:
    vm = VM("a", start="2024-01-01T00:00:00Z", state="running", size="Standard_D2s_v5")
    vm.update(at="2024-01-01T01:00:00Z", size="Standard_D4s_v5")
    assert [(s.state.provisioning, s.state.power, s.operation) for s in vm.timeline] == [
        ("succeeded", "running", None),
        ("updating", "stopping", "update"),
        ("updating", "starting", "update"),
        ("updating", "running", "update"),
        ("succeeded", "running", None),
    ]
    assert vm.attributes["size"] == "Standard_D4s_v5"
    for edition in EDITIONS:
        b = bill(vm.timeline, edition=edition, end="2024-01-01T02:00:00Z")
        assert [r.billed_seconds for r in b.runs if r.component == "compute"] == [7200]


def test_resizing_a_stopped_vm_or_updating_without_a_size_does_not_restart() -> None:
    from vmlife.lifecycle import lifecycle

    for state, params in (("deallocated", {"size": "Standard_D4s_v5"}),
                          ("stopped", {"vm_size": "Standard_D4s_v5"}),
                          ("running", {"tags": {"env": "prod"}})):
        vm = VM("a", start="2024-01-01T00:00:00Z", state=state)
        vm.update(at="2024-01-01T01:00:00Z", **params)
        assert {s.state.power for s in vm.timeline} == {state}
    assert "changing its size will cause it to restart" in lifecycle().operation("update").note


# ---------------------------------------------------------------------- unknown readings
def poll(when: str, *codes: str) -> dict[str, Any]:
    return {"time": when, "vm": "web-1", "statuses": [{"code": c} for c in codes]}


OK = "ProvisioningState/succeeded"
POLLS = [
    poll("2024-03-04T08:00:00Z", OK, "PowerState/running"),
    poll("2024-03-04T09:00:00Z", OK, "PowerState/unknown"),
    poll("2024-03-04T09:30:00Z", OK),  # no power state at all
    poll("2024-03-04T10:00:00Z", OK, "PowerState/running"),
    poll("2024-03-04T12:00:00Z", OK, "PowerState/deallocated"),
    poll("2024-03-04T13:00:00Z", OK, "PowerState/unknown"),
    poll("2024-03-04T14:00:00Z", OK, "PowerState/deallocated"),
]


def test_an_unknown_reading_keeps_the_last_known_power_state_and_is_flagged() -> None:
    from vmlife.io.snapshots import read_snapshots

    tl = read_snapshots(POLLS).timeline("web-1")
    assert [s.state.power for s in tl][:4] == ["running", "unknown", None, "running"]
    b = bill(tl, edition="2023-10", granularity="second", end="2024-03-04T15:00:00Z")
    vb = b.vms[0]
    # 08:00-12:00 running (the hour of unknown readings billed as running), not 3 h
    assert vb.billed_seconds["compute"] == 4 * 3600
    assert vb.billed_seconds["other"] == 7 * 3600
    assert [(iso(u.start), iso(u.end), u.billed_as) for u in vb.unknown] == [
        ("2024-03-04T09:00:00Z", "2024-03-04T09:30:00Z", "running"),
        ("2024-03-04T09:30:00Z", "2024-03-04T10:00:00Z", "running"),
        ("2024-03-04T13:00:00Z", "2024-03-04T14:00:00Z", "deallocated"),
    ]
    data = b.to_dict()
    assert data["unknown_spans"] == 3 and data["unknown_hours"] == 2
    assert data["vms"][0]["unknown_hours"] == 2
    assert data["vms"][0]["unknown_readings"][2]["billed_as"] == "deallocated"
    assert any("no known power state" in n for n in b.notes)


def test_an_unknown_first_reading_bills_disks_only_and_says_so() -> None:
    from vmlife.io.snapshots import read_snapshots

    tl = read_snapshots(POLLS[1:2] + POLLS[3:4]).timeline("web-1")
    b = bill(tl, granularity="second", end="2024-03-04T11:00:00Z")
    vb = b.vms[0]
    assert vb.billed_seconds["compute"] == 3600 and vb.billed_seconds["other"] == 2 * 3600
    assert [u.billed_as for u in vb.unknown] == [None]
    assert any("no known state before" in n for n in b.notes)


def test_bill_cli_lists_unknown_readings_in_the_table_and_json(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = tmp_path / "polls.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POLLS))
    assert main(["bill", str(path), "--end", "2024-03-04T15:00:00Z"]) == 0
    text = capsys.readouterr().out
    assert "unknown_hours" in text.splitlines()[3]
    assert "Unknown power state: web-1 2024-03-04T09:00:00Z to 2024-03-04T09:30:00Z, billed " \
           "as running" in text
    assert main(["bill", str(path), "--end", "2024-03-04T15:00:00Z", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["unknown_spans"] == 3 and data["vms"][0]["unknown_hours"] == 2


# ---------------------------------------------------------------------- fleet == meter
POWERS = [None, "unknown", "running", "stopped", "deallocated", "starting", "stopping"]


@st.composite
def histories(draw: st.DrawFn) -> list[Timeline]:
    """Timelines with unknown readings (no power state, PowerState/unknown), restarts and
    gaps in every order, as polls and replays give them."""
    out = []
    for i in range(draw(st.integers(1, 3))):
        t = float(draw(st.integers(0, 7200)))
        starts, states, ops = [], [], []
        for _ in range(draw(st.integers(1, 8))):
            power = draw(st.sampled_from(POWERS))
            gone = bool(states) and draw(st.integers(0, 9)) == 0  # (a VM exists first)
            state = VMState() if gone else VMState(provisioning="succeeded", power=power)
            starts.append(t)
            states.append(state)
            ops.append(draw(st.sampled_from([None, None, "restart", "start"])))
            t += draw(st.sampled_from([1, 59, 61, 600, 3599, 3601]))
        out.append(Timeline(f"vm-{i}", starts, states, ops))
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), st.sampled_from(EDITIONS), st.sampled_from(["second", "minute"]),
       st.one_of(st.none(), st.integers(0, 20000)), st.integers(20000, 60000))
def test_fleet_bills_unknown_readings_and_restarts_as_the_meter(
    tls: list[Timeline], edition: str, gran: str, lo: int | None, hi: int
) -> None:
    pytest.importorskip("pandas")
    from vmlife.billing.fleet import bill_frame, steps_frame

    ref = bill(tls, edition=edition, granularity=gran, start=lo, end=hi)
    fleet = bill_frame(steps_frame(tls), edition=edition, granularity=gran, start=lo, end=hi)
    got = {(r.vm, r.component): r.billed_seconds for r in fleet.itertuples(index=False)}
    for v in ref.vms:
        for comp, secs in v.billed_seconds.items():
            assert got[(v.vm, comp)] == secs, (v.vm, comp)
        # what is billed never exceeds what elapsed in the period
        for comp in ("compute", "license", "other"):
            assert v.billed_seconds[comp] <= hi - (lo or min(t.start or 0 for t in tls))
