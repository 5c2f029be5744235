"""The Activity Log's fast path (msgspec) gives exactly what the general path gives.

``read_activity_log`` decodes JSON Lines export records straight into typed records when msgspec
is installed (:func:`vmlife.io.activity_log._fast_decoder`) and reads anything else the general
way. Users see one reader: the timelines, anomalies (with their records and fields), counts,
names and notes must not depend on whether msgspec is installed. These tests generate export
logs with every kind of damage a field can take and compare the two paths on each.
"""

from __future__ import annotations

import io
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmlife.io import activity_log
from vmlife.io.activity_log import _fast_decoder, _fast_time, read_activity_log
from vmlife.io.history import iter_records
from vmlife.timeutil import to_epoch

pytest.importorskip("msgspec")

SUB = "/subscriptions/5f0c2b7e-1a3d-4c8e-9b6f-0e2d4a6c8b1f/resourceGroups/rg-{g}/providers/"
VMS = [SUB.format(g=g) + f"Microsoft.Compute/virtualMachines/vm-{v}" for g in "ab" for v in "12"]
OPS = ["write", "start/action", "deallocate/action", "powerOff/action", "restart/action",
       "delete", "extensions/write"]  # the last is not a lifecycle operation: ignored
PHASES = [("Start", "Started."), ("Accept", "Accepted.Accepted"), ("Success", "Succeeded.OK"),
          ("Success", "Succeeded.Created"), ("Failure", "Failed.Conflict"),
          ("Canceled", "Canceled."), ("Succeeded", None), (None, "Succeeded.OK"),
          ("Finished", "Done.")]

# values a field may take instead of the right one
ODD = st.sampled_from([None, 7, 1.5, True, [], {}, "", "  ", ["x"], {"value": "x"}])


def _time(seconds: int, form: int) -> Any:
    t = datetime(2024, 3, 4, tzinfo=timezone.utc) + timedelta(seconds=seconds)
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    return [
        f"{base}.{seconds % 9999999:07d}Z",  # Azure's form
        f"{base}Z",
        f"{base}.123456Z",
        f"{base}.1234567+00:00",
        f"{base.replace('T', ' ')}.1234567Z",
        "2024-02-30T10:00:00.0000000Z",  # no such day
        "9999-12-31T23:59:59.9999999Z",
        "1969-12-31T23:59:59.5000000Z",
        f"{base}.12\u06634567Z",  # an Arabic-Indic digit
        "yesterday",
    ][form]


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(OPS))
    rtype, sig = draw(st.sampled_from(PHASES))
    rid = draw(st.sampled_from(VMS))
    form = draw(st.sampled_from([0] * 8 + list(range(10))))  # mostly Azure's own form
    rec: dict[str, Any] = {
        "time": _time(draw(st.integers(0, 40_000)), form),
        "resourceId": rid.upper() if draw(st.booleans()) else rid,
        "operationName": f"MICROSOFT.COMPUTE/VIRTUALMACHINES/{op.upper()}",
        "category": "Administrative",
        "resultType": rtype,
        "resultSignature": sig,
        "durationMs": draw(st.sampled_from([0, 12, 10**30, 1e300])),
        "correlationId": f"c{draw(st.integers(0, 6))}" + draw(st.sampled_from(["", " ", "X"])),
        "properties": {
            "statusCode": draw(st.sampled_from(["OK", "Created", "Accepted", "", "Conflict"])),
            "entity": draw(st.sampled_from([rid, rid.lower(), VMS[0], None, 5])),
        },
    }
    if rtype is None:
        del rec["resultType"]
    if sig is None:
        del rec["resultSignature"]
    if draw(st.booleans()):
        rec["eventDataId"] = f"e{draw(st.integers(0, 30))}"
    if rtype == "Failure" and draw(st.booleans()):
        rec["properties"]["statusMessage"] = json.dumps(
            {"error": {"code": "ResourceOperationFailure",
                       "details": [{"code": "AllocationFailed"}]}})
    # damage: a field removed, or given a value of another type
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(["time", "resourceId", "operationName", "resultType",
                                    "resultSignature", "correlationId", "eventDataId",
                                    "properties", "statusCode", "entity", "statusMessage"]))
        where = rec.get("properties") if key in ("statusCode", "entity", "statusMessage") else rec
        if not isinstance(where, dict):
            continue
        if draw(st.booleans()):
            where.pop(key, None)
        else:
            where[key] = draw(ODD)
    # keys that make the general path read a record another way
    extra = draw(st.sampled_from([None] * 6 + ["eventTimestamp", "status", "records", "value"]))
    if extra is not None:
        rec[extra] = draw(st.sampled_from([None, "2024-03-04T00:00:00Z", [], {"value": "Started"}]))
    return rec


def _line(rec: dict[str, Any], how: int) -> str:
    if how == 1:  # NaN in a field vmlife does not read (stdlib json accepts it)
        return json.dumps({**rec, "durationMs": math.nan})
    if how == 2:  # not JSON
        return json.dumps(rec)[:-3]
    if how == 3:
        return "   "
    if how == 4:  # two records on one line
        return json.dumps(rec) + " " + json.dumps(rec)
    return json.dumps(rec, separators=(",", ":"))


def _read(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    with monkeypatch.context() as m:
        m.setattr(activity_log, "FAST_DECODE", fast)
        try:
            return read_activity_log(io.StringIO(text), name="log.jsonl", quiet=True).to_dict()
        except Exception as exc:  # both paths must fail alike too
            return {"error": f"{type(exc).__name__}: {exc}"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(
    recs=st.lists(records(), min_size=1, max_size=40),
    hows=st.lists(st.sampled_from([0] * 12 + [1, 2, 3, 4]), min_size=40, max_size=40),
)
def test_fast_and_general_paths_agree(
    recs: list[dict[str, Any]], hows: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [_line(r, h) for r, h in zip(recs, hows, strict=False)]
    text = "\n".join(lines) + "\n"
    assert _read(text, True, monkeypatch) == _read(text, False, monkeypatch)


def test_the_fast_path_is_taken_for_export_lines() -> None:
    """Guards the test above: well-formed export lines do go through msgspec (else the
    comparison would be of the general path with itself)."""
    rec = {"time": "2024-03-04T08:00:00.1234567Z", "resourceId": VMS[0].upper(),
           "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION",
           "resultType": "Start", "resultSignature": "Started.", "correlationId": "c1",
           "properties": {"entity": VMS[0], "statusCode": ""}}
    text = "\n".join(json.dumps(rec) for _ in range(3)) + "\n"
    kinds = [type(r.value).__name__ for r in iter_records(io.StringIO(text),
                                                          decode=_fast_decoder("auto"))]
    assert kinds == ["dict", "ExportEvent", "ExportEvent"]  # line 1 finds the container


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
       st.integers(0, 9_999_999), st.sampled_from([7, 0, 6, 3]))
def test_fast_time_reads_as_to_epoch(when: datetime, fraction: int, digits: int) -> None:
    text = when.strftime("%Y-%m-%dT%H:%M:%S").rjust(19, "0")
    if digits:
        text += "." + f"{fraction:07d}"[:digits]
    text += "Z"
    fast = _fast_time(text)
    if fast is not None:
        assert fast == to_epoch(text)
    if digits in (0, 7) and 1971 <= when.year <= 9998:
        assert fast is not None  # Azure's forms are read fast


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES, st.sampled_from(["", " ", "\n", " \t\r\n", "\ufeff", "x", ",", " 1", "\u00a0"]),
       st.sampled_from(["", " ", "\ufeff"]), st.booleans())
def test_the_stdlib_line_reader_is_json_loads(value: Any, tail: str, head: str,
                                              cut: bool) -> None:
    """The general path's per-line parse (json's C scanner through ``raw_decode``) accepts and
    refuses exactly what ``json.loads`` does, with the same message."""
    from vmlife.io.history import _loads_line

    line = head + json.dumps(value) + tail
    if cut:
        line = line[: len(line) // 2]

    def outcome(loads: Any) -> Any:
        try:
            return ("ok", loads(line))
        except (ValueError, RecursionError) as exc:
            return ("error", type(exc).__name__, str(exc))

    assert outcome(_loads_line) == outcome(json.loads)
