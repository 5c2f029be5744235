"""Activity Logs in both shapes become timelines; anomalies, counts and the CLI."""

from __future__ import annotations

import copy
import io
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import InputError, Operation, Phase, UnknownNameError
from vmlife.cli import main
from vmlife.io import history
from vmlife.io.activity_log import (
    GUEST_SHUTDOWN_NOTE,
    operation_map,
    read_activity_log,
)
from vmlife.io.history import Progress, iter_records, read_history
from vmlife.timeutil import iso, to_epoch

DATA = Path(vmlife.__file__).parent / "data"
SUB = "0b3f6c1e-52a4-4d7e-8f90-1a2b3c4d5e6f"
AL = "Microsoft.Compute/virtualMachines"


def rid(vm: str, rg: str = "rg-app") -> str:
    return f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/{AL}/{vm}"


def rest_event(
    vm_rid: str, action: str, status: str, when: str, corr: str, eid: str, **extra: Any
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "caller": "ops@contoso.com",
        "correlationId": corr,
        "eventDataId": eid,
        "eventName": {"value": "EndRequest", "localizedValue": "End request"},
        "category": {"value": "Administrative", "localizedValue": "Administrative"},
        "eventTimestamp": when,
        "level": "Informational",
        "operationName": {"value": f"{AL}/{action}", "localizedValue": action},
        "resourceId": vm_rid,
        "status": {"value": status, "localizedValue": status},
        "subStatus": {"value": "", "localizedValue": ""},
        "submissionTimestamp": when,
        "properties": {"eventCategory": "Administrative"},
    }
    ev.update(extra)
    return ev


def rest_op(
    vm_rid: str,
    action: str,
    start: str,
    end: str | None,
    *,
    outcome: str = "Succeeded",
    accepted: bool = True,
    **kw: Any,
) -> list[dict[str, Any]]:
    corr = f"corr-{vm_rid[-6:]}-{action}-{start}"
    events = [rest_event(vm_rid, action, "Started", start, corr, f"{corr}-1")]
    if accepted:
        events.append(rest_event(vm_rid, action, "Accepted", start, corr, f"{corr}-2"))
    if end is not None:
        events.append(rest_event(vm_rid, action, outcome, end, corr, f"{corr}-3", **kw))
    return events


_RESULT = {
    "Started": ("Start", "Started."),
    "Accepted": ("Accept", "Accepted.Accepted"),
    "Succeeded": ("Success", "Succeeded.OK"),
    "Failed": ("Failure", "Failed.Conflict"),
}


def to_export(ev: dict[str, Any]) -> dict[str, Any]:
    """The storage / Event Hubs export form of a REST event (the docs' mapping)."""
    status = ev["status"]["value"]
    rtype, sig = _RESULT[status]
    return {
        "time": ev["eventTimestamp"],
        "resourceId": ev["resourceId"].upper(),
        "operationName": ev["operationName"]["value"].upper(),
        "category": "Administrative",
        "resultType": rtype,
        "resultSignature": sig,
        "durationMs": 0,
        "callerIpAddress": "198.51.100.7",
        "correlationId": ev["correlationId"],
        "level": "Information",
        "location": "global",
        "properties": {"statusCode": sig.split(".")[1], "eventCategory": "Administrative"},
    }


VM1 = rid("web-1")

#: The acceptance history: create, start, deallocate, start, powerOff, delete over two days.
#: Spans are chosen so the default phase durations scale to whole seconds.
TWO_DAYS = [
    *rest_op(VM1, "write", "2024-03-04T08:00:00Z", "2024-03-04T08:02:20Z"),
    *rest_op(VM1, "start/action", "2024-03-04T08:30:00Z", "2024-03-04T08:30:40Z"),
    *rest_op(VM1, "deallocate/action", "2024-03-04T18:00:00Z", "2024-03-04T18:01:30Z"),
    *rest_op(VM1, "start/action", "2024-03-05T08:00:00Z", "2024-03-05T08:01:30Z"),
    *rest_op(VM1, "powerOff/action", "2024-03-05T17:00:00Z", "2024-03-05T17:00:40Z"),
    *rest_op(VM1, "delete", "2024-03-05T18:00:00Z", "2024-03-05T18:02:00Z"),
]

#: By hand. create: creating 30 s + starting 40 s by default, scaled to the 140 s span ->
#: 60 + 80. The start at 08:30 finds the VM running: an anomaly (Azure treats it as a no-op).
#: start from deallocated: stopped 5 + starting 40, scaled to 90 s -> 10 + 80.
EXPECTED = [
    ("2024-03-04T08:00:00Z", 60, "creating", "creating", "create"),
    ("2024-03-04T08:01:00Z", 80, "creating", "starting", "create"),
    ("2024-03-04T08:02:20Z", 35860, "succeeded", "running", None),
    ("2024-03-04T18:00:00Z", 90, "updating", "deallocating", "deallocate"),
    ("2024-03-04T18:01:30Z", 50310, "succeeded", "deallocated", None),
    ("2024-03-05T08:00:00Z", 10, "updating", "stopped", "start"),
    ("2024-03-05T08:00:10Z", 80, "updating", "starting", "start"),
    ("2024-03-05T08:01:30Z", 32310, "succeeded", "running", None),
    ("2024-03-05T17:00:00Z", 40, "updating", "stopping", "power_off"),
    ("2024-03-05T17:00:40Z", 3560, "succeeded", "stopped", None),
    ("2024-03-05T18:00:00Z", 120, "deleting", "stopped", "delete"),
    ("2024-03-05T18:02:00Z", None, None, None, None),
]


def steps(tl: vmlife.Timeline) -> list[tuple[Any, ...]]:
    return [
        (
            iso(s.start),
            None if s.duration is None else round(s.duration, 6),
            s.state.provisioning,
            s.state.power,
            s.operation,
        )
        for s in tl
    ]


def check_two_days(result: history.Reconstruction) -> None:
    (tl,) = result.timelines
    assert tl.vm.lower() == "web-1"
    assert steps(tl) == EXPECTED
    assert result.initial[tl.vm]["state"] is None  # first op is a create: no VM before
    (anomaly,) = result.anomalies
    assert anomaly.records == 3 and anomaly.vm == tl.vm and anomaly.field == "operationName"
    assert "start" in anomaly.reason and "refused" in anomaly.reason
    c = result.counts
    assert (c.read, c.used, c.duplicates, c.anomalies, c.ignored) == (18, 15, 0, 3, 0)
    assert c.reconciles


# ---------------------------------------------------------------------- acceptance
def test_two_days_in_the_rest_shape_match_the_hand_computed_steps() -> None:
    result = read_activity_log(TWO_DAYS)
    check_two_days(result)
    assert result.format == "rest"
    assert GUEST_SHUTDOWN_NOTE in result.notes


def test_two_days_in_the_export_shape_match_the_hand_computed_steps() -> None:
    result = read_activity_log([to_export(e) for e in TWO_DAYS])
    check_two_days(result)
    assert result.format == "export"
    assert result.timelines[0].vm == "WEB-1"  # the export upper-cases ids


def test_two_days_billed_compute_seconds_match_a_hand_computation() -> None:
    from vmlife.billing.meter import bill

    tl = read_activity_log(TWO_DAYS).timelines[0]
    # 2023-10: starting, running, stopping and stopped bill compute; creating, deallocating,
    # deallocated do not. Day 1: 08:01:00-18:00:00 = 35940 s. Day 2: 08:00:00 (stopped
    # briefly while starting) to 18:02:00 (deleted; stopped while deleting) = 36120 s.
    b = bill([tl], edition="2023-10", granularity="second")
    assert b.vms[0].billed_seconds["compute"] == 35940 + 36120
    # 2018-08: only running and stopping bill. 35860 + (32310 + 40), each run floored to the
    # minute: 597 min + 539 min.
    b = bill([tl], edition="2018-08", granularity="second")
    assert b.vms[0].billed_seconds["compute"] == 35860 + 32350
    b = bill([tl], edition="2018-08", granularity="minute")
    assert b.vms[0].billed_seconds["compute"] == (597 + 539) * 60


def test_the_same_events_in_every_container_give_the_same_timeline(tmp_path: Path) -> None:
    shuffled = TWO_DAYS[::-1]
    files = {
        "array.json": json.dumps(shuffled, indent=2),
        "value.json": json.dumps({"value": shuffled, "nextLink": None}),
        "records.json": json.dumps({"records": [to_export(e) for e in shuffled]}, indent=1),
        "lines.jsonl": "\n".join(json.dumps(e) for e in shuffled) + "\n",
        "hub.jsonl": "\n".join(
            json.dumps({"records": [to_export(e) for e in shuffled[i : i + 4]]})
            for i in range(0, len(shuffled), 4)
        ),
    }
    for fname, text in files.items():
        path = tmp_path / fname
        path.write_text(text, encoding="utf-8")
        result = read_activity_log(path)
        assert steps(result.timelines[0]) == EXPECTED, fname
        assert result.counts.read == 18 and result.counts.reconciles
    # open files and bytes streams too
    with open(tmp_path / "lines.jsonl", "rb") as fh:
        assert steps(read_activity_log(fh).timelines[0]) == EXPECTED
    assert steps(read_activity_log(io.StringIO(files["array.json"])).timelines[0]) == EXPECTED


def test_a_large_array_is_streamed_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    text = json.dumps({"value": TWO_DAYS, "nextLink": "https://example.invalid/next"})
    monkeypatch.setattr(history, "_CHUNK", 7)
    result = read_activity_log(io.StringIO(text))
    assert steps(result.timelines[0]) == EXPECTED


def test_input_objects_are_not_modified() -> None:
    events = copy.deepcopy(TWO_DAYS)
    read_activity_log(events, initial={"web-1": "none"})
    assert events == TWO_DAYS


# ---------------------------------------------------------------------- reconstruction
def test_duplicates_by_event_id_and_out_of_order_events() -> None:
    events = TWO_DAYS + copy.deepcopy(TWO_DAYS[3:6])
    random.Random(3).shuffle(events)
    result = read_activity_log(events)
    assert steps(result.timelines[0]) == EXPECTED
    assert result.counts.duplicates == 3 and result.counts.reconciles


def test_export_duplicates_are_found_without_an_event_id() -> None:
    events = [to_export(e) for e in TWO_DAYS]
    result = read_activity_log(events + events[:2])
    assert result.counts.duplicates == 2
    assert steps(result.timelines[0]) == EXPECTED


def test_many_vms_resource_ids_compared_ignoring_case() -> None:
    upper = VM1.upper()
    events = [
        *rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:01:10Z"),
        *rest_op(upper, "deallocate/action", "2024-01-01T10:00:00Z", "2024-01-01T10:01:00Z"),
        *rest_op(rid("db-1"), "deallocate/action", "2024-01-01T11:00:00Z", "2024-01-01T11:01Z"),
        *rest_op(
            rid("web-1", "rg-other"), "start/action", "2024-01-01T00:00Z", "2024-01-01T00:01Z"
        ),
    ]
    result = read_activity_log(events)
    names = [t.vm for t in result.timelines]
    assert names == ["db-1", "rg-app/web-1", "rg-other/web-1"]  # same name, two groups
    web = result.timeline("rg-app/web-1")
    assert web[-1].state.power == "deallocated"
    assert web.attributes["resource_id"] == VM1  # the well-cased spelling is kept
    assert not result.anomalies


def test_failure_codes_come_from_status_message_then_sub_status() -> None:
    message = {
        "status": "Failed",
        "error": {
            "code": "ResourceOperationFailure",
            "message": "The resource operation completed with terminal provisioning state.",
            "details": [{"code": "AllocationFailed", "message": "Allocation failed."}],
        },
    }
    events = [
        *rest_op(
            VM1,
            "start/action",
            "2024-01-01T08:00:00Z",
            "2024-01-01T08:00:30Z",
            outcome="Failed",
            properties={"statusCode": "Conflict", "statusMessage": json.dumps(message)},
        ),
        *rest_op(
            VM1,
            "start/action",
            "2024-01-01T09:00:00Z",
            "2024-01-01T09:00:30Z",
            outcome="Failed",
            subStatus={"value": "Conflict"},
        ),
        *rest_op(
            VM1, "start/action", "2024-01-01T10:00:00Z", "2024-01-01T10:00:30Z", outcome="Failed"
        ),
    ]
    result = read_activity_log(events)
    tl = result.timelines[0]
    assert result.initial["web-1"]["state"] == "deallocated"
    # each Started-to-Failed span shows the transitional provisioning state (updating)
    assert [(s.state.error_code, s.state.provisioning, s.state.power, iso(s.start))
            for s in tl] == [
        (None, "updating", "deallocated", "2024-01-01T08:00:00Z"),
        ("AllocationFailed", "failed", "deallocated", "2024-01-01T08:00:30Z"),
        (None, "updating", "deallocated", "2024-01-01T09:00:00Z"),
        ("Conflict", "failed", "deallocated", "2024-01-01T09:00:30Z"),
        (None, "updating", "deallocated", "2024-01-01T10:00:00Z"),
        ("Failed", "failed", "deallocated", "2024-01-01T10:00:30Z"),
    ]
    assert tl.statuses_at("2024-01-01T08:10:00Z")[0]["code"] == (
        "ProvisioningState/failed/AllocationFailed"
    )
    # export: resultSignature "Failed.Conflict" gives Conflict
    exported = read_activity_log([to_export(e) for e in events[6:]])
    assert exported.timelines[0][-1].state.error_code == "Conflict"


def test_an_operation_that_never_completes_is_an_anomaly_and_strict_raises() -> None:
    events = [
        *rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:01:10Z"),
        *rest_op(VM1, "deallocate/action", "2024-01-01T18:00:00Z", None),
    ]
    result = read_activity_log(events)
    (a,) = result.anomalies
    assert "never completed" in a.reason and a.records == 2 and a.field == "status"
    assert result.timelines[0][-1].state.power == "running"
    assert result.counts.reconciles and result.counts.anomalies == 2
    with pytest.raises(InputError) as exc:
        read_activity_log(events, strict=True, name="log.json")
    assert exc.value.source == "log.json" and exc.value.field == "status"
    assert exc.value.record == a.record


def test_a_canceled_operation_reaches_the_canceled_state() -> None:
    events = rest_op(
        VM1, "deallocate/action", "2024-01-01T00:00:00Z", "2024-01-01T00:00:09Z", outcome="Canceled"
    )
    result = read_activity_log(events)
    assert not result.anomalies
    tl = result.timelines[0]
    # Started to Canceled is the transitional state, then ProvisioningState/canceled with the
    # power state where the cancel found it
    assert [(iso(s.start), s.state.provisioning, s.state.power, s.operation) for s in tl] == [
        ("2024-01-01T00:00:00Z", "updating", "running", "deallocate"),
        ("2024-01-01T00:00:09Z", "canceled", "running", None),
    ]
    assert tl.statuses_at("2024-01-01T01:00:00Z")[0]["code"] == "ProvisioningState/canceled"
    assert result.counts.reconciles and result.counts.used == 3


def test_a_refused_operation_is_an_anomaly_or_an_error_in_strict_mode() -> None:
    events = rest_op(VM1, "restart/action", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z")
    result = read_activity_log(events, initial="deallocated")
    (a,) = result.anomalies
    assert "Can't restart when in deallocated" in a.reason
    assert result.initial["web-1"] == {"state": "deallocated", "how": "given", "resource_id": VM1}
    with pytest.raises(InputError, match="Can't restart"):
        read_activity_log(events, initial="deallocated", strict=True)


def test_initial_state_is_inferred_from_the_first_operation() -> None:
    def first(action: str, **kw: Any) -> Any:
        ev = rest_op(VM1, action, "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z", **kw)
        return read_activity_log(ev).initial["web-1"]["state"]

    assert first("start/action") == "deallocated"
    assert first("deallocate/action") == "running"
    assert first("powerOff/action") == "running"
    assert first("delete") == "running"
    assert first("write") is None  # create
    # write answered at once with 200 OK on first sight was an update of an existing VM;
    # 201 Created, or an OK that only ends an asynchronous operation, is a create
    assert first("write", subStatus={"value": "OK"}, accepted=False) == "running"
    assert first("write", subStatus={"value": "Created"}, accepted=False) is None
    assert first("write", subStatus={"value": "OK"}) is None


def test_initial_state_given_for_all_or_per_vm() -> None:
    events = [
        *rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:00:30Z"),
        *rest_op(rid("db-1"), "start/action", "2024-01-01T00:00:00Z", "2024-01-01T00:00:45Z"),
    ]
    r = read_activity_log(events, initial={"db-1": "stopped"})
    assert r.initial["db-1"]["state"] == "stopped" and r.initial["web-1"]["how"] == "inferred"
    assert r.timeline("db-1")[0].state.power == "starting"  # no "stopped briefly" from stopped
    # the given state says the VM exists: write is then an update
    r = read_activity_log(events, initial={VM1.upper(): "running"})
    assert r.timeline("web-1")[0].operation == "update"
    with pytest.raises(UnknownNameError, match="valid choices"):
        read_activity_log(events, initial="parked")


def test_write_after_delete_creates_the_vm_again() -> None:
    events = [
        *rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:01:10Z"),
        *rest_op(VM1, "write", "2024-01-01T05:00:00Z", "2024-01-01T05:00:15Z"),
        *rest_op(VM1, "delete", "2024-01-01T06:00:00Z", "2024-01-01T06:00:30Z"),
        *rest_op(VM1, "write", "2024-01-02T00:00:00Z", "2024-01-02T00:01:10Z"),
    ]
    tl = read_activity_log(events).timelines[0]
    assert [s.operation for s in tl if s.operation] == [
        "create",
        "create",
        "update",
        "delete",
        "create",
        "create",
    ]
    assert tl[-1].state.power == "running"


def test_overlapping_operations_start_when_the_previous_one_ended() -> None:
    events = [
        *rest_op(VM1, "start/action", "2024-01-01T00:00:00Z", "2024-01-01T00:02:00Z"),
        *rest_op(VM1, "deallocate/action", "2024-01-01T00:01:00Z", "2024-01-01T00:03:00Z"),
    ]
    tl = read_activity_log(events).timelines[0]
    assert [(iso(s.start), s.state.power) for s in tl][-2:] == [
        ("2024-01-01T00:02:00Z", "deallocating"),
        ("2024-01-01T00:03:00Z", "deallocated"),
    ]


def test_other_resources_and_operations_are_ignored() -> None:
    nic = rest_event(
        f"/subscriptions/{SUB}/resourceGroups/rg-app/providers/Microsoft.Network/"
        "networkInterfaces/nic-1",
        "write",
        "Succeeded",
        "2024-01-01T00:00:00Z",
        "c",
        "e1",
    )
    nic["operationName"] = {"value": "Microsoft.Network/networkInterfaces/write"}
    ext = rest_event(
        VM1 + "/extensions/agent", "write", "Succeeded", "2024-01-01T00:00Z", "c", "e2"
    )
    ext["operationName"] = {"value": f"{AL}/extensions/write"}
    health = {
        "eventTimestamp": "2024-01-01T00:00:00Z",
        "status": {"value": "Active"},
        "operationName": {"value": "Microsoft.ServiceHealth/incident/action"},
    }
    result = read_activity_log([nic, ext, health])
    assert result.timelines == [] and result.counts.ignored == 3 and result.counts.reconciles


def test_mapping_is_driven_by_the_lifecycle_so_a_plugin_op_is_read() -> None:
    class Spot:
        @vmlife.hookimpl
        def register_operations(self, register: Any) -> None:
            register(
                Operation(
                    "evict_test",
                    (Phase({"power": "deallocating"}),),
                    sources=frozenset({"running"}),
                    final={"provisioning": "succeeded", "power": "deallocated"},
                    kind="platform",
                    activity_log=(f"{AL}/simulateEviction/action",),
                )
            )

    events = [
        *rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:01:10Z"),
        *rest_op(VM1, "simulateEviction/action", "2024-01-01T03:00Z", "2024-01-01T03:00:30Z"),
    ]
    before = read_activity_log(events)
    assert before.counts.ignored == 3
    with vmlife.registered(Spot()):
        assert operation_map()[f"{AL}/simulateeviction/action".lower()][0].id == "evict_test"
        after = read_activity_log(events)
    assert after.timelines[0][-2].operation == "evict_test"
    assert after.timelines[0][-1].state.power == "deallocated"
    assert after.counts.used == 6


def test_field_problems_name_the_record_and_the_field() -> None:
    good = rest_op(VM1, "write", "2024-01-01T00:00:00Z", "2024-01-01T00:01:10Z")
    bad = [
        {k: v for k, v in good[0].items() if k != "eventTimestamp"},
        dict(good[0], eventDataId="x1", correlationId=17),
        dict(good[0], eventDataId="x2", status={"value": "Exploded"}),
        dict(good[0], eventDataId="x3", resourceId=None),
        dict(good[0], eventDataId="x4", operationName=["nope"]),
        dict(good[0], eventDataId="x5", eventTimestamp="yesterday"),
        dict(good[0], eventDataId=5),
        "not an event",
    ]
    result = read_activity_log(bad + good)
    got = [(a.record, a.field) for a in result.anomalies]
    assert got == [
        ("$[0]", "eventTimestamp"),
        ("$[1]", "correlationId"),
        ("$[2]", "status"),
        ("$[3]", "resourceId"),
        ("$[4]", "operationName"),
        ("$[5]", "eventTimestamp"),
        ("$[6]", "eventDataId"),
        ("$[7]", None),
    ]
    assert result.counts.used == 3 and result.counts.reconciles
    with pytest.raises(InputError) as exc:
        read_activity_log(bad, strict=True)
    assert (exc.value.record, exc.value.field) == ("$[0]", "eventTimestamp")


def test_bad_json_lines_are_anomalies_but_a_broken_document_is_an_error(tmp_path: Path) -> None:
    lines = [json.dumps(e) for e in TWO_DAYS]
    lines.insert(4, '{"operationName": ')
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = read_activity_log(path)
    assert result.anomalies[0].record == "line 5"  # found while reading, before the replay
    assert "not valid JSON" in result.anomalies[0].reason
    assert result.counts.reconciles and result.counts.read == 19
    doc = tmp_path / "log.json"
    doc.write_text(json.dumps(TWO_DAYS)[:-40], encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_activity_log(doc)
    assert exc.value.source == str(doc) and str(exc.value.record).startswith("$[")


def test_unreadable_and_non_json_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_activity_log(tmp_path / "missing.json")
    (tmp_path / "x.txt").write_text("time,operation\n", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        read_activity_log(tmp_path / "x.txt")
    (tmp_path / "empty.json").write_text("\n\n", encoding="utf-8")
    assert read_activity_log(tmp_path / "empty.json").counts.read == 0
    with pytest.raises(UnknownNameError):
        read_activity_log([], format="csv")  # type: ignore[arg-type]


# ---------------------------------------------------------------------- sample data
def test_the_shipped_rest_sample_reads_cleanly() -> None:
    result = read_activity_log(DATA / "sample_activity_log.json")
    assert [t.vm for t in result.timelines] == ["batch-7", "build-2", "web-1"]
    assert not result.anomalies
    c = result.counts
    assert c.duplicates == 2 and c.ignored == 2 and c.reconciles
    batch = result.timeline("batch-7")
    assert result.initial["batch-7"]["state"] == "deallocated"
    assert "AllocationFailed" in {s.state.error_code for s in batch}
    web = result.timeline("web-1")
    assert "restart" in {s.operation for s in web}
    assert not result.timeline("build-2")[-1].state.exists  # deleted
    # resource ids that differ in case were read as one VM
    raw = json.loads((DATA / "sample_activity_log.json").read_text())["value"]
    spellings = {e["resourceId"] for e in raw if e["resourceId"].lower().endswith("/web-1")}
    assert len(spellings) > 1


def test_the_shipped_export_sample_reads_cleanly() -> None:
    result = read_activity_log(DATA / "sample_activity_log_export.jsonl")
    assert result.format == "export"
    (tl,) = result.timelines
    assert tl.vm == "api-3"  # properties.entity keeps the real case
    assert result.counts.duplicates == 1 and not result.anomalies
    assert [s.operation for s in tl if s.operation][::2][:3] == ["create", "deallocate", "start"]


# ---------------------------------------------------------------------- CLI
def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_cli_timeline_table_lists_steps_anomalies_counts_and_the_note(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    path.write_text(json.dumps(TWO_DAYS), encoding="utf-8")
    code, text = run("timeline", str(path), "--quiet")
    assert code == 0
    assert "web-1" in text and "deallocating" in text and "9:57:40" in text
    assert "Anomalies (1):" in text and "refused" in text
    assert "Records: 18 read = 15 used + 0 duplicates + 3 in anomalies + 0 ignored" in text
    assert "Guest-OS shutdowns are not in the Activity Log" in text


def test_cli_timeline_json_is_a_timeline_file_with_anomalies(tmp_path: Path) -> None:
    code, text = run("timeline", str(DATA / "sample_activity_log.json"), "--json")
    assert code == 0
    data = json.loads(text)
    assert data["anomalies"] == [] and data["counts"]["read"] == 49
    assert data["notes"][0] == GUEST_SHUTDOWN_NOTE
    (tmp_path / "t.json").write_text(text, encoding="utf-8")
    loaded = vmlife.load_timelines(tmp_path / "t.json")
    assert [t.vm for t in loaded] == ["batch-7", "build-2", "web-1"]
    again = read_activity_log(DATA / "sample_activity_log.json").timelines
    assert [t.to_dict() for t in loaded] == [t.to_dict() for t in again]  # to the microsecond


def test_cli_timeline_format_initial_and_strict(tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "log.json"
    path.write_text(json.dumps(TWO_DAYS), encoding="utf-8")
    code, _ = run("timeline", str(path), "--strict")
    assert code == 2
    err = capsys.readouterr().err
    assert str(path) in err and "record $[" in err and "field 'operationName'" in err
    code, text = run("timeline", str(path), "--format", "export", "--json")
    # nothing usable: the anomalies are printed, and the exit status says so (#14)
    assert code == 2 and json.loads(text)["counts"]["anomalies"] == 18
    code, _ = run("timeline", str(path), "--initial", "parked")
    assert code == 2 and "valid choices" in capsys.readouterr().err
    code, text = run("timeline", str(path), "--initial", "none", "--json")
    assert code == 0 and json.loads(text)["initial"]["web-1"]["how"] == "given"


def test_cli_timeline_reads_standard_input() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vmlife", "timeline", "-", "--json"],
        input="\n".join(json.dumps(to_export(e)) for e in TWO_DAYS),
        capture_output=True,
        text=True,
        env={"VMLIFE_LOAD_PLUGINS": "", "PATH": ""},
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["source"] == "<stdin>"
    assert proc.stderr == ""  # no progress bar when standard error is not a terminal


# ---------------------------------------------------------------------- progress
def test_progress_bar_only_on_a_terminal_with_tqdm(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tqdm")
    assert not Progress(10, "x", unit="B", enabled=True).active  # stderr is not a TTY here
    monkeypatch.setattr(history, "_stderr_is_tty", lambda: True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with Progress(10, "x", unit="B", enabled=True) as bar:
        assert bar.active
        bar.update(10)
    assert not Progress(10, "x", unit="B", enabled=False).active  # quiet
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert not Progress(10, "x", unit="B", enabled=True).active  # tqdm missing: no bar


# ---------------------------------------------------------------------- fuzzing
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10**12),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["", "Started", "Failed", "2024-13-45T99:00Z"]),
)
JSON_ANY = st.recursive(
    JSON_LEAF,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
REST_FIELDS = [
    "operationName",
    "status",
    "eventTimestamp",
    "correlationId",
    "resourceId",
    "eventDataId",
    "subStatus",
    "properties",
    "caller",
]
EXPORT_FIELDS = [
    "operationName",
    "resultType",
    "resultSignature",
    "time",
    "correlationId",
    "resourceId",
    "properties",
]


@st.composite
def mutated_logs(draw: st.DrawFn) -> tuple[list[Any], bool]:
    export = draw(st.booleans())
    events: list[Any] = [to_export(e) for e in TWO_DAYS] if export else copy.deepcopy(TWO_DAYS)
    fields = EXPORT_FIELDS if export else REST_FIELDS
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(events) - 1))
        action = draw(st.sampled_from(["drop", "retype", "replace", "dup", "swap"]))
        ev = events[i]
        if action == "replace":
            events[i] = draw(JSON_ANY)
        elif action == "dup":
            events.append(copy.deepcopy(ev))
        elif action == "swap":
            j = draw(st.integers(0, len(events) - 1))
            events[i], events[j] = events[j], events[i]
        elif isinstance(ev, dict):
            key = draw(st.sampled_from(fields))
            target = ev
            inner = ev.get(key)
            if isinstance(inner, dict) and draw(st.booleans()):
                # a nested field: status.value, operationName.value, properties.statusMessage
                target, key = inner, draw(st.sampled_from(["value", "statusMessage", "entity"]))
            if action == "drop":
                target.pop(key, None)
            else:
                target[key] = draw(JSON_ANY)
    return events, export


def _lines(events: list[Any]) -> Iterator[str]:
    for e in events:
        yield json.dumps(e)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutated_logs(), st.sampled_from(["data", "jsonl", "array"]), st.integers(0, 4000), st.booleans()
)
def test_fuzzed_logs_give_input_errors_or_anomalies_never_other_errors(
    log: tuple[list[Any], bool], container: str, cut: int, truncate: bool
) -> None:
    events, _export = log
    if container == "data":
        source: Any = events
    else:
        text = "\n".join(_lines(events)) if container == "jsonl" else json.dumps(events)
        if truncate:
            text = text[: max(0, len(text) - cut)]
        source = io.StringIO(text)
    try:
        result = read_activity_log(source)
    except InputError:
        return
    assert result.counts.reconciles, result.counts
    assert result.counts.anomalies == sum(a.records for a in result.anomalies)
    for tl in result.timelines:
        list(tl)  # well-formed timelines


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode()))
def test_fuzzed_bytes_give_input_errors_or_anomalies(data: bytes) -> None:
    try:
        result = read_history(io.BytesIO(data))
    except InputError:
        return
    assert result.counts.reconciles


def test_records_are_counted_once_in_iter_records() -> None:
    text = "\n".join(json.dumps(e) for e in TWO_DAYS[:4]) + "\n\n[1, 2]\n"
    assert [r.index for r in iter_records(io.StringIO(text))] == list(range(6))


def test_times_keep_their_fraction_and_seven_digit_azure_times_parse() -> None:
    events = rest_op(
        VM1, "deallocate/action", "2024-01-01T00:00:00.1234567Z", "2024-01-01T00:01:00.5Z"
    )
    tl = read_activity_log(events).timelines[0]
    assert tl.start == pytest.approx(to_epoch("2024-01-01T00:00:00.123456Z"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1}\n' + "1" * 5000 + "\n", "not valid JSON: Exceeds the limit"),
        ('{"a": 1}\n' + "[" * 100_000 + "\n", "not valid JSON: nested too deeply"),
        ('{"a": ' + "1" * 5000 + "}\n{}", "not valid JSON: Exceeds the limit"),
    ],
)
def test_json_lines_with_huge_numbers_or_deep_nesting_are_anomalies(
    text: str, problem: str
) -> None:
    result = read_activity_log(io.StringIO(text))
    assert any(a.reason.startswith(problem) for a in result.anomalies)
    assert result.counts.read == 2 and result.counts.reconciles


@pytest.mark.parametrize("text", ["[" + "1" * 5000 + "]", "[" * 100_000])
def test_a_document_with_huge_numbers_or_deep_nesting_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        read_activity_log(io.StringIO(text))


def test_a_binary_stream_is_left_open_and_rewound_for_detection() -> None:
    data = "\n".join(json.dumps(e) for e in TWO_DAYS).encode()
    stream = io.BytesIO(data)
    result = read_history(stream)
    assert result.kind == "activity_log" and steps(result.timelines[0]) == EXPECTED
    assert not stream.closed


def test_read_input_takes_timeline_files_and_histories_alike(tmp_path: Path) -> None:
    from importlib import resources

    import vmlife
    from vmlife.io.history import read_input

    vm = vmlife.VM("t1").create().deallocate()
    path = tmp_path / "t.json"
    vmlife.dump_timelines([vm.timeline], path)
    got = read_input(str(path))
    assert (got.kind, got.timelines, got.anomalies) == ("timelines", [vm.timeline], [])
    sample = str(resources.files("vmlife") / "data" / "sample_activity_log.json")
    assert read_input(sample, quiet=True).kind == "activity_log"
    with pytest.raises(vmlife.InputError, match="cannot read"):
        read_input(str(tmp_path / "missing.json"))
