"""Polled instance views become timelines, each state held until the next poll."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import InputError
from vmlife.cli import main
from vmlife.io.history import read_history
from vmlife.io.snapshots import looks_like_snapshot, read_snapshots
from vmlife.timeutil import iso

DATA = Path(__file__).parent / "data"

OK = {
    "code": "ProvisioningState/succeeded",
    "level": "Info",
    "displayStatus": "Provisioning succeeded",
}


def power(state: str) -> dict[str, str]:
    return {"code": f"PowerState/{state}", "level": "Info", "displayStatus": f"VM {state}"}


def poll(time: str, state: str, vm: str = "web-1", prov: dict[str, str] = OK) -> dict[str, Any]:
    return {"time": time, "vm": vm, "statuses": [prov, power(state)]}


UPDATING = {"code": "ProvisioningState/updating", "level": "Info", "displayStatus": "Updating"}

#: A poller every 30 minutes over two days; the VM is stopped from inside the guest OS in the
#: evening of day 1 (no provisioning change: the Activity Log would not show it).
POLLS = [
    poll("2024-03-04T08:00:00Z", "running"),
    poll("2024-03-04T08:30:00Z", "running"),
    poll("2024-03-04T18:00:00Z", "running"),
    poll("2024-03-04T18:30:00Z", "stopped"),  # guest shutdown
    poll("2024-03-04T19:00:00Z", "deallocating", prov=UPDATING),
    poll("2024-03-04T19:30:00Z", "deallocated"),
    poll("2024-03-05T08:00:00Z", "deallocated"),
    poll("2024-03-05T08:30:00Z", "running"),
    {"time": "2024-03-05T18:00:00Z", "vm": "web-1", "statuses": []},  # deleted: 404
]

EXPECTED = [
    ("2024-03-04T08:00:00Z", 37800.0, "succeeded", "running"),
    ("2024-03-04T18:30:00Z", 1800.0, "succeeded", "stopped"),
    ("2024-03-04T19:00:00Z", 1800.0, "updating", "deallocating"),
    ("2024-03-04T19:30:00Z", 46800.0, "succeeded", "deallocated"),
    ("2024-03-05T08:30:00Z", 34200.0, "succeeded", "running"),
    ("2024-03-05T18:00:00Z", None, None, None),
]


def steps(tl: vmlife.Timeline) -> list[tuple[Any, ...]]:
    return [(iso(s.start), s.duration, s.state.provisioning, s.state.power) for s in tl]


def test_each_state_is_held_until_the_next_poll(tmp_path: Path) -> None:
    path = tmp_path / "polls.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POLLS[::-1]) + "\n", encoding="utf-8")
    result = read_snapshots(path)
    (tl,) = result.timelines
    assert tl.vm == "web-1" and steps(tl) == EXPECTED
    assert all(s.operation is None for s in tl)
    c = result.counts
    assert (c.read, c.used, c.duplicates, c.anomalies, c.ignored) == (9, 9, 0, 0, 0)
    assert result.kind == "snapshots" and not result.anomalies


def test_snapshots_show_what_the_activity_log_cannot_and_bill() -> None:
    from vmlife.billing.meter import bill

    tl = read_snapshots(POLLS).timelines[0]
    # 2023-10 bills running and stopped: 37800 + 1800 on day 1, 34200 on day 2
    b = bill([tl], edition="2023-10", granularity="second")
    assert b.vms[0].billed_seconds["compute"] == 37800 + 1800 + 34200


def test_instance_view_shapes_with_a_time() -> None:
    rest = json.loads((DATA / "rest_instance_view.json").read_text())
    vm_get = json.loads((DATA / "vm_get_expand.json").read_text())
    page = json.loads((DATA / "list_all_status_only.json").read_text())
    az_rows = json.loads((DATA / "az_vm_list_d.json").read_text())
    records = [
        dict(rest, time="2024-01-01T00:00:00Z", vm="svc-1"),
        dict(vm_get, time="2024-01-01T00:00:00Z"),
        dict(page, time="2024-01-01T00:00:00Z"),
        *(dict(row, time="2024-01-01T01:00:00Z") for row in az_rows),
    ]
    originals = copy.deepcopy(records)
    result = read_snapshots(records)
    assert records == originals  # input objects are not modified
    vms = {t.vm for t in result.timelines}
    assert {"svc-1", "web-1", "batch-7", "build-2", "legacy-3"} <= vms
    assert result.timeline("svc-1")[0].state.power == "running"
    assert result.counts.reconciles and not result.anomalies


def test_duplicates_same_instant_and_unknown_codes() -> None:
    records = [
        poll("2024-01-01T00:00:00Z", "running"),
        poll("2024-01-01T00:00:00Z", "running"),  # duplicate
        poll("2024-01-01T00:10:00Z", "running"),
        poll("2024-01-01T00:10:00Z", "stopped"),  # same instant: the later record wins
        {
            "time": "2024-01-01T00:20:00Z",
            "vm": "web-1",
            "statuses": [OK, power("deallocated"), {"code": "HibernationState/Hibernated"}],
        },
        {
            "time": "2024-01-01T00:30:00Z",
            "vm": "web-1",
            "statuses": [{"code": "HibernationState/Hibernated"}],
        },  # nothing known: ignored
    ]
    result = read_snapshots(records)
    assert [(iso(s.start), s.state.power) for s in result.timelines[0]] == [
        ("2024-01-01T00:00:00Z", "running"),
        ("2024-01-01T00:10:00Z", "stopped"),
        ("2024-01-01T00:20:00Z", "deallocated"),
    ]
    c = result.counts
    assert (c.read, c.used, c.duplicates, c.ignored) == (6, 4, 1, 1) and c.reconciles
    assert result.unknown_codes == {"HibernationState/Hibernated": 2}


def test_bad_records_are_anomalies_naming_record_and_field() -> None:
    records = [
        {"vm": "a", "statuses": []},
        {"time": 5, "vm": "a", "statuses": []},
        {"time": "2024-01-01T00:00:00Z", "vm": 7, "statuses": []},
        {"time": "2024-01-01T00:00:00Z", "statuses": [power("running")]},
        {"time": "2024-01-01T00:00:00Z", "vm": "a", "statuses": "running"},
        {"time": "2024-01-01T00:00:00Z", "vm": "a", "other": 1},
        [1, 2],
    ]
    result = read_snapshots(records)
    assert [(a.record, a.field) for a in result.anomalies] == [
        ("$[0]", "time"),
        ("$[1]", "time"),
        ("$[2]", "vm"),
        ("$[3]", "vm"),
        ("$[4]", "statuses"),
        ("$[5]", None),
        ("$[6]", None),
    ]
    assert result.counts.anomalies == 7 and result.counts.reconciles
    with pytest.raises(InputError) as exc:
        read_snapshots(records, strict=True, name="polls.jsonl")
    assert (exc.value.source, exc.value.record, exc.value.field) == ("polls.jsonl", "$[0]", "time")


def test_detection_and_the_cli(tmp_path: Path, capsys: Any) -> None:
    assert looks_like_snapshot(POLLS[0]) and not looks_like_snapshot({"operationName": "x"})
    path = tmp_path / "polls.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POLLS), encoding="utf-8")
    assert read_history(path).kind == "snapshots"
    out = io.StringIO()
    assert main(["timeline", str(path), "--quiet"], out=out) == 0
    text = out.getvalue()
    assert "snapshots" in text and "10:30:00" in text and "No anomalies." in text
    out = io.StringIO()
    assert main(["timeline", str(path), "--json"], out=out) == 0
    assert json.loads(out.getvalue())["kind"] == "snapshots"
    assert main(["timeline", str(path), "--initial", "running"], out=io.StringIO()) == 2
    assert "Activity Logs only" in capsys.readouterr().err
    # a stream that can be read only once is buffered for the detection
    assert read_history(io.StringIO(path.read_text())).kind == "snapshots"


# ---------------------------------------------------------------------- fuzzing
JSON_ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=10)
    | st.sampled_from(["PowerState/running", "2024-01-01T00:00:00Z", "ProvisioningState/failed/X"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["code", "time", "vm", "statuses", "x"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@st.composite
def mutated_polls(draw: st.DrawFn) -> list[Any]:
    records: list[Any] = copy.deepcopy(POLLS)
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(records) - 1))
        rec = records[i]
        action = draw(st.sampled_from(["drop", "retype", "replace", "dup", "status"]))
        if action == "replace":
            records[i] = draw(JSON_ANY)
        elif action == "dup":
            records.append(copy.deepcopy(rec))
        elif isinstance(rec, dict):
            key = draw(st.sampled_from(["time", "vm", "statuses", "instanceView", "powerState"]))
            if action == "drop":
                rec.pop(key, None)
            elif action == "status" and isinstance(rec.get("statuses"), list):
                rec["statuses"].append(draw(JSON_ANY))
            else:
                rec[key] = draw(JSON_ANY)
    return records


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_polls(), st.booleans(), st.integers(0, 400))
def test_fuzzed_polls_give_input_errors_or_anomalies_never_other_errors(
    records: list[Any], as_text: bool, cut: int
) -> None:
    source: Any = records
    if as_text:
        text = "\n".join(json.dumps(r) for r in records)
        source = io.StringIO(text[: max(0, len(text) - cut)])
    try:
        result = read_snapshots(source)
    except InputError:
        return
    assert result.counts.reconciles, result.counts
    for tl in result.timelines:
        assert [s.start for s in tl] == sorted(s.start for s in tl)
