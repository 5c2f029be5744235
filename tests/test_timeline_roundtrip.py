"""A timeline file is exact: bill(log) == bill(load(dump(log))) for random logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vmlife.billing.meter import bill
from vmlife.io.activity_log import read_activity_log
from vmlife.io.history import read_input
from vmlife.timeline import dump_timelines, load_timelines
from vmlife.timeutil import from_iso_exact, iso_exact

RID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
OPS = ["start/action", "deallocate/action", "powerOff/action", "restart/action"]
GRANULARITIES = ("second", "minute", "hour")
EDITIONS = ("draft", "2018-08", "2023-10")


def stamp(day: int, seconds: int, ticks: int) -> str:
    """An Activity Log time: day offset, seconds in the day, 100 ns ticks (7 digits)."""
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"2024-03-{day:02d}T{h:02d}:{m:02d}:{s:02d}.{ticks:07d}Z"


@st.composite
def logs(draw: Any) -> list[dict[str, Any]]:
    events = []
    for v in range(draw(st.integers(1, 2))):
        t = draw(st.integers(0, 3600))
        for k in range(draw(st.integers(1, 6))):
            op = draw(st.sampled_from(OPS))
            begin = t + draw(st.integers(0, 7200))
            span = draw(st.integers(0, 600))
            t = begin + span
            corr = f"c{v}-{k}"
            for status, when, ticks in (
                ("Started", begin, draw(st.integers(0, 9_999_999))),
                (draw(st.sampled_from(["Succeeded", "Succeeded", "Failed"])), t,
                 draw(st.integers(0, 9_999_999))),
            ):
                events.append({
                    "operationName": {"value": f"Microsoft.Compute/virtualMachines/{op}"},
                    "status": {"value": status},
                    "eventTimestamp": stamp(4 + when // 86400, when % 86400, ticks),
                    "correlationId": corr,
                    "resourceId": RID + f"vm-{v}",
                    "eventDataId": f"{corr}-{status}",
                })
    return events


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_bill_of_a_log_equals_bill_of_its_timeline_file(events: list[dict[str, Any]]) -> None:
    result = read_activity_log(events, quiet=True)
    again = load_timelines(json.loads(result.to_json()))
    assert again == result.timelines
    for edition in EDITIONS:
        for granularity in GRANULARITIES:
            a = bill(result.timelines, edition=edition, granularity=granularity)
            b = bill(again, edition=edition, granularity=granularity)
            assert a.total_cost == b.total_cost
            assert [v.billed_seconds for v in a.vms] == [v.billed_seconds for v in b.vms]


def test_the_file_on_disk_round_trips(tmp_path: Path) -> None:
    result = read_activity_log(
        [
            {"operationName": {"value": "Microsoft.Compute/virtualMachines/start/action"},
             "status": {"value": s}, "eventTimestamp": t, "correlationId": "c",
             "resourceId": RID + "a", "eventDataId": s}
            for s, t in (("Started", "0001-01-01T00:00:00Z"),
                         ("Succeeded", "0001-01-01T00:08:59.9999980Z"))
        ],
        quiet=True,
    )
    path = tmp_path / "t.json"
    dump_timelines(result.timelines, path)
    assert read_input(str(path)).timelines == result.timelines
    assert '"0001-01-01T00:00:00Z"' in path.read_text()


@given(st.floats(min_value=-62135596800.0, max_value=253402300799.0, allow_nan=False))
def test_iso_exact_is_exact(t: float) -> None:
    assert from_iso_exact(iso_exact(t)) == t
