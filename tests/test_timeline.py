"""Timelines: queries, export, and reading back."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import VM, Timeline, load_timelines
from vmlife.timeutil import to_epoch


def sample() -> VM:
    vm = VM("web-1", start="2024-01-01T08:00:00Z", size="Standard_D2s_v5")
    vm.create().power_off(at="2024-01-01T18:00:00Z").start(at="2024-01-02T08:00:00Z")
    vm.restart(at="2024-01-02T09:00:00Z", fail="InternalOperationError")
    return vm


def test_steps_are_contiguous_and_last_is_open() -> None:
    tl = sample().timeline
    for a, b in itertools.pairwise(tl):
        assert a.end == b.start
    assert tl[-1].end is None
    assert len(tl.steps) == len(tl)


def test_state_and_statuses_at_a_moment() -> None:
    tl = sample().timeline
    assert tl.state_at("2024-01-01T07:00:00Z") == vmlife.VMState()
    assert tl.statuses_at("2024-01-01T07:00:00Z") == []
    assert tl.state_at("2024-01-01T12:00:00Z").power == "running"
    assert tl.statuses_at("2024-01-01T20:00:00Z") == [
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "time": "2024-01-01T18:00:20Z",
        },
        {"code": "PowerState/stopped", "level": "Info", "displayStatus": "VM stopped"},
    ]
    assert tl.statuses_at("2024-01-01T18:00:10Z")[1]["code"] == "PowerState/stopping"


def test_json_round_trip(tmp_path: Path) -> None:
    vm = sample()
    path = tmp_path / "t.json"
    vmlife.dump_timelines([vm.timeline], path)
    (back,) = load_timelines(path)
    assert back == vm.timeline
    assert back.attributes == {"size": "Standard_D2s_v5"}
    data = json.loads(path.read_text())
    assert data["format"] == "vmlife.timeline"
    assert data["timelines"][0]["steps"][-1]["error_code"] == "InternalOperationError"


def test_records_and_pandas() -> None:
    tl = sample().timeline
    recs = tl.to_records()
    assert recs[0] == {
        "vm": "web-1",
        "start": "2024-01-01T08:00:00Z",
        "end": "2024-01-01T08:00:30Z",
        "operation": "create",
        "provisioning": "creating",
        "power": "creating",
        "os_provisioning": None,
        "error_code": None,
    }
    df = tl.to_pandas()
    assert list(df["power"]) == [r["power"] for r in recs]
    assert str(df["start"].dt.tz) == "UTC"


@pytest.mark.parametrize(
    ("mutate", "record", "field"),
    [
        (lambda d: d.pop("format"), None, "format"),
        (lambda d: d.update(timelines={}), None, "timelines"),
        (lambda d: d["timelines"][0].pop("vm"), "timelines[0]", "vm"),
        (lambda d: d["timelines"][0]["steps"][2].pop("start"), "timelines[0].steps[2]", "start"),
        (
            lambda d: d["timelines"][0]["steps"][1].update(start="yesterday"),
            "timelines[0].steps[1]",
            "start",
        ),
        (
            lambda d: d["timelines"][0]["steps"][1].update(state=["x"]),
            "timelines[0].steps[1]",
            "state",
        ),
        (
            lambda d: d["timelines"][0]["steps"][1].update(error_code=3),
            "timelines[0].steps[1]",
            "error_code",
        ),
        (
            lambda d: d["timelines"][0]["steps"][3].update(start="2000-01-01T00:00:00Z"),
            "timelines[0].steps[3]",
            "start",
        ),
    ],
)
def test_bad_timeline_files_name_file_record_field(
    tmp_path: Path, mutate: object, record: str | None, field: str
) -> None:
    data = json.loads(sample().timeline.to_json())
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(vmlife.InputError) as err:
        load_timelines(path)
    assert (err.value.source, err.value.record, err.value.field) == (str(path), record, field)


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{")
    with pytest.raises(vmlife.InputError, match=r"x\.json, record line 1: not valid JSON"):
        load_timelines(path)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError):
        Timeline("a", [1.0], [], [])
    with pytest.raises(ValueError):
        Timeline("a", [2.0, 1.0], [vmlife.VMState()] * 2, [None, None])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.sampled_from(["power_off", "deallocate", "start", "restart", "update"]), max_size=12
    )
)
def test_round_trip_property(ops: list[str]) -> None:
    vm = VM("p").create()
    for op in ops:
        if op in vm.allowed():
            vm.do(op, at=vm.clock + 600)
    (back,) = load_timelines(json.loads(vm.timeline.to_json()))
    assert back == vm.timeline
    assert back.state_at(vm.clock) == vm.state
    assert back.index_at(to_epoch("2024-01-01T00:00:00Z")) == 0
