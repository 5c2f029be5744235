"""Reconciliation of modelled compute hours with Cost Management exports.

The acceptance case: one day (2024-03-04) of three VMs in an Activity Log, and the same day as
an EA actual-cost CSV and as a FOCUS CSV (``tests/data/reconcile``). Checked by hand, under
the default edition (2023-10: Starting bills compute, Deallocating does not):

* win-payg: start Started 08:00, deallocate Started 18:00 -> 10 h; charged 1 x "10 Hours".
* win-ahb: start Started 09:00, deallocate Started 17:00 -> 8 h; charged 9 x "1 Hour": +1 h,
  an hour before the VM's first event (vmlife assumes deallocated before a start).
* spot-1: start Started 06:00, deallocate Started 12:00 -> 6 h; charged 0.06 x "100 Hours".
* db-1: not in the log; charged 2.4 x "10 Hours" = 24 h.
* a disk row, a bandwidth row and a reservation purchase: set aside.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vmlife.billing
from vmlife.billing.meter import bill
from vmlife.billing.reconcile import TOLERANCE_HOURS, reconciliation
from vmlife.cli import main
from vmlife.io.activity_log import read_activity_log
from vmlife.io.costs import read_costs

DATA = Path(__file__).parent / "data" / "reconcile"
LOG = str(DATA / "activity_log.json")
EA = str(DATA / "costs_ea.csv")
FOCUS = str(DATA / "costs_focus.csv")
SUB = "00000000-0000-0000-0000-000000000000"

HAND = {  # vm: (modelled, charged)
    "db-1": (0.0, 24.0),
    "spot-1": (6.0, 6.0),
    "win-ahb": (8.0, 9.0),
    "win-payg": (10.0, 10.0),
}


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with resource ids lower-cased: an id only the export has keeps the export's
    spelling, which the two exports write in different case."""
    return [{**r, "resource_id": r["resource_id"].lower()} for r in rows]


def test_ea_and_focus_exports_give_the_same_rows_checked_by_hand() -> None:
    ea = reconciliation(LOG, EA)
    focus = reconciliation(LOG, FOCUS)
    assert _comparable(ea.rows) == _comparable(focus.rows)
    got = {r["vm"]: (r["modelled_hours"], r["charged_hours"]) for r in ea.rows}
    assert got == HAND
    assert all(r["date"] == "2024-03-04" for r in ea.rows)
    by_vm = {r["vm"]: r for r in ea.rows}
    assert by_vm["win-ahb"]["difference_hours"] == 1.0
    assert "before this VM's first event" in by_vm["win-ahb"]["explanation"]
    assert "absent from the Activity Log" in by_vm["db-1"]["explanation"]
    assert by_vm["win-payg"]["explanation"] == by_vm["spot-1"]["explanation"] == ""
    assert by_vm["spot-1"]["pricing"] == ["spot"]
    assert by_vm["win-payg"]["charged_cost"] == 4.56
    # the log's spelling of the id wins over the export's upper-case one
    assert by_vm["win-payg"]["resource_id"] == _rid("win-payg")
    assert ea.totals == {"modelled_hours": 24.0, "charged_hours": 49.0,
                         "difference_hours": 25.0}
    assert [e["vm"] for e in ea.export_only] == ["db-1"]
    assert ea.log_only == []
    assert ea.costs.set_aside == focus.costs.set_aside == {
        "Storage": 1, "Bandwidth": 1, "Purchase": 1}


def test_an_edition_that_does_not_bill_starting_models_less_by_hand() -> None:
    rec = reconciliation(LOG, EA, edition="2018-08")
    got = {r["vm"]: r["modelled_hours"] for r in rec.rows}
    # start Succeeded 08:01:00 -> 18:00 = 9 h 59 min; 09:01:30 -> 17:00 = 7 h 58 min 30 s,
    # floored to 7 h 58 min; 06:00:45 -> 12:00 = 5 h 59 min 15 s, floored to 5 h 59 min
    assert got == {"db-1": 0.0, "spot-1": round(5 + 59 / 60, 6),
                   "win-ahb": round(7 + 58 / 60, 6), "win-payg": round(9 + 59 / 60, 6)}
    spot = next(r for r in rec.rows if r["vm"] == "spot-1")
    assert spot["difference_hours"] == round(1 / 60, 6)
    assert spot["explanation"] == ""  # one minute is within the tolerance
    payg = next(r for r in rec.rows if r["vm"] == "win-payg")
    assert "rounding" in payg["explanation"]


def test_reconcile_is_a_dataframe_with_totals_in_attrs() -> None:
    pytest.importorskip("pandas")
    df = vmlife.billing.reconcile(LOG, FOCUS)
    assert list(df.columns[:7]) == ["vm", "resource_id", "date", "modelled_hours",
                                    "charged_hours", "difference_hours", "explanation"]
    assert df.shape[0] == 4
    assert str(df["date"].dt.date.iloc[0]) == "2024-03-04"
    assert df.attrs["totals"]["charged_hours"] == 49.0
    assert (df["charged_hours"] - df["modelled_hours"] == df["difference_hours"]).all()


def _write_ea(rows: list[tuple[str, str, str, float, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Date", "ResourceId", "MeterCategory", "MeterName", "Quantity",
                "UnitOfMeasure", "CostInBillingCurrency", "PricingModel"])
    for day, rid, meter, qty, pricing in rows:
        w.writerow([day, rid, "Virtual Machines", meter, repr(qty), "1 Hour", "0", pricing])
    return buf.getvalue().encode()


def _rid(name: str) -> str:
    group = "rg-batch" if name.startswith("spot") else "rg-app"
    return (f"/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.Compute/"
            f"virtualMachines/{name}")


def test_size_change_and_reservation_explanations() -> None:
    data = _write_ea([
        ("03/04/2024", _rid("win-payg").upper(), "D4s v5", 6.0, "On Demand"),
        ("03/04/2024", _rid("win-payg").upper(), "D8s v5", 5.0, "On Demand"),
        ("03/04/2024", _rid("win-ahb"), "D4s v5", 7.0, "Reservation"),
    ])
    rec = reconciliation(LOG, read_costs(data, name="x.csv"))
    by_vm = {r["vm"]: r for r in rec.rows}
    assert by_vm["win-payg"]["charged_hours"] == 11.0
    assert "size change" in by_vm["win-payg"]["explanation"]
    assert "D4s v5, D8s v5" in by_vm["win-payg"]["explanation"]
    assert by_vm["win-ahb"]["difference_hours"] == -1.0
    assert "reservation or savings plan" in by_vm["win-ahb"]["explanation"]
    # spot-1 is in the log but not in this export
    assert rec.log_only == [{"vm": "spot-1", "resource_id": _rid("spot-1"),
                             "modelled_hours": 6.0}]
    assert by_vm["spot-1"]["charged_hours"] == 0.0
    assert by_vm["spot-1"]["explanation"].startswith("likely the model bills hours")


def test_a_day_before_the_log_is_outside_its_retention() -> None:
    data = _write_ea([("03/01/2024", _rid("win-payg"), "D4s v5", 10.0, "On Demand"),
                      ("03/04/2024", _rid("win-payg"), "D4s v5", 10.0, "On Demand")])
    rec = reconciliation(LOG, data)
    first = next(r for r in rec.rows if r["vm"] == "win-payg")
    assert (first["vm"], first["date"], first["modelled_hours"]) == ("win-payg", "2024-03-01",
                                                                     0.0)
    assert "outside the Activity Log's retention" in first["explanation"]


def test_start_and_end_limit_the_days_compared() -> None:
    rec = reconciliation(LOG, EA, start="2024-03-04T00:00:00Z", end="2024-03-04T10:00:00Z")
    got = {r["vm"]: r["modelled_hours"] for r in rec.rows}
    assert got["win-payg"] == 2.0 and got["win-ahb"] == 1.0 and got["spot-1"] == 4.0
    with pytest.raises(vmlife.errors.InputError, match="empty"):
        reconciliation(LOG, EA, start="2024-03-05T00:00:00Z", end="2024-03-04T00:00:00Z")


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def test_cli_json_csv_and_text() -> None:
    code, text = _run("reconcile", LOG, "--costs", EA, "--json", "--quiet")
    assert code == 0
    doc = json.loads(text)
    assert set(doc) >= {"rows", "totals", "unmatched", "edition", "costs", "notes"}
    assert {r["vm"]: (r["modelled_hours"], r["charged_hours"]) for r in doc["rows"]} == HAND
    assert doc["unmatched"]["export_only"][0]["vm"] == "db-1"
    assert doc["costs"]["set_aside"] == {"Bandwidth": 1, "Purchase": 1, "Storage": 1}
    code, text = _run("reconcile", LOG, "--costs", FOCUS, "--csv", "--quiet")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["vm"], r["difference_hours"]) for r in rows] == [
        ("db-1", "24.0"), ("spot-1", "0.0"), ("win-ahb", "1.0"), ("win-payg", "0.0")]
    code, text = _run("reconcile", LOG, "--costs", EA, "--quiet")
    assert code == 0
    assert "In the export only: db-1" in text and "set aside" in text


def test_cli_bad_export_and_bad_time_exit_2(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("hello,world\n1,2\n")
    code, _ = _run("reconcile", LOG, "--costs", str(bad), "--quiet")
    assert code == 2
    assert "bad.csv" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # checked by argparse, as it parses
        _run("reconcile", LOG, "--costs", EA, "--start", "yesterday", "--quiet")
    assert exit_info.value.code == 2
    assert "argument --start: not a time" in capsys.readouterr().err


# ---------------------------------------------------------------------- properties
DAY0 = datetime(2024, 3, 4, tzinfo=timezone.utc).timestamp()
DAYS = 3


def _events(vms: list[list[tuple[int, int]]]) -> list[dict[str, Any]]:
    """REST Activity Log events: per VM, alternating start/deallocate operations, each
    (minute it starts, minutes it takes)."""
    events = []
    for v, ops in enumerate(vms):
        for i, (minute, took) in enumerate(ops):
            op = "start" if i % 2 == 0 else "deallocate"
            for status, t in (("Started", minute), ("Succeeded", minute + took)):
                events.append({
                    "operationName": {"value": f"Microsoft.Compute/virtualMachines/{op}/action"},
                    "status": {"value": status},
                    "eventTimestamp": datetime.fromtimestamp(DAY0 + t * 60, timezone.utc)
                    .isoformat().replace("+00:00", "Z"),
                    "correlationId": f"c-{v}-{i}", "eventDataId": f"e-{v}-{i}-{status}",
                    "resourceId": _rid(f"vm-{v}"),
                })
    return events


@st.composite
def histories(draw: st.DrawFn) -> list[list[tuple[int, int]]]:
    vms = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 6))
        gaps = draw(st.lists(st.integers(1, 900), min_size=n, max_size=n))
        minute, ops = 0, []
        for gap in gaps:
            took = draw(st.integers(0, 4))
            minute += gap
            if minute + took >= DAYS * 1440:
                break
            ops.append((minute, took))
            minute += took
        if ops:
            vms.append(ops)
    return vms or [[(60, 1)]]


def _export_from_bill(timelines: list[Any], edition: str, seed: int) -> bytes:
    """An EA export written from the bill of the same history, independently of vmlife's
    reconciliation: each compute run's billed seconds from its start, cut at midnights;
    units and date formats vary, resource ids upper-cased."""
    result = bill(timelines, edition=edition, start=DAY0, end=DAY0 + DAYS * 86400)
    per: dict[tuple[str, str], float] = {}
    for run in result.runs:
        if run.component != "compute":
            continue
        t, stop = run.start, run.start + run.billed_seconds
        while t < stop:
            midnight = (t // 86400 + 1) * 86400
            edge = min(midnight, stop)
            day = datetime.fromtimestamp(t, timezone.utc).date()
            tl = next(x for x in timelines if x.vm == run.vm)
            key = (tl.attributes["resource_id"], day.isoformat())
            per[key] = per.get(key, 0.0) + (edge - t) / 3600
            t = edge
    rng = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["Date", "ResourceId", "MeterCategory", "MeterName", "Quantity",
                "UnitOfMeasure", "CostInBillingCurrency"])
    w.writerow(["03/04/2024", _rid("disk").replace("virtualMachines", "disks"), "Storage",
                "P10 LRS Disk", "0.03", "1/Month", "0.6"])
    for (rid, day), hours in sorted(per.items()):
        block = rng.choice([1, 10, 100])
        y, m, d = day.split("-")
        date = rng.choice([day, f"{m}/{d}/{y}", f"{day}T00:00:00Z"])
        w.writerow([date, rid.upper(), "Virtual Machines", "D2s v5", repr(hours / block),
                    f"{block} Hour" + ("s" if block > 1 else ""), "0"])
    return buf.getvalue().encode()


EDITIONS = st.sampled_from(["2023-10", "2018-08", "draft"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), EDITIONS, st.integers(0, 10**6))
def test_an_export_of_the_same_history_reconciles_to_zero_every_day(
    vms: list[list[tuple[int, int]]], edition: str, seed: int
) -> None:
    timelines = read_activity_log(_events(vms), quiet=True).timelines
    export = read_costs(_export_from_bill(timelines, edition, seed), name="gen.csv")
    rec = reconciliation(timelines, export, edition=edition, start=DAY0,
                         end=DAY0 + DAYS * 86400)
    assert export.set_aside == {"Storage": 1}
    for r in rec.rows:
        assert abs(r["difference_hours"]) <= 1e-6, r
        assert r["explanation"] == ""
    assert rec.export_only == [] and rec.log_only == []
    assert math.isclose(rec.totals["charged_hours"], rec.totals["modelled_hours"],
                        abs_tol=1e-5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories(), EDITIONS, st.integers(1, DAYS - 1), st.integers(0, 10**6))
def test_splitting_the_period_splits_the_rows(
    vms: list[list[tuple[int, int]]], edition: str, cut_day: int, seed: int
) -> None:
    timelines = read_activity_log(_events(vms), quiet=True).timelines
    export = read_costs(_export_from_bill(timelines, edition, seed), name="gen.csv")
    # charge an extra 1.5 h on a random day so some rows differ and carry an explanation
    rng = random.Random(seed)
    if export.rows:
        i = rng.randrange(len(export.rows))
        r = export.rows[i]
        export.rows[i] = type(r)(**{**r.__dict__, "hours": r.hours + 1.5})
    end = DAY0 + DAYS * 86400
    cut = DAY0 + cut_day * 86400
    whole = reconciliation(timelines, export, edition=edition, start=DAY0, end=end)
    first = reconciliation(timelines, export, edition=edition, start=DAY0, end=cut)
    second = reconciliation(timelines, export, edition=edition, start=cut, end=end)
    key = lambda r: (r["vm"], r["date"])  # noqa: E731
    assert sorted(first.rows + second.rows, key=key) == sorted(whole.rows, key=key)
    assert all(r["date"] < _day(cut) for r in first.rows)
    assert all(r["date"] >= _day(cut) for r in second.rows)
    assert any(abs(r["difference_hours"]) > TOLERANCE_HOURS for r in whole.rows) == bool(
        export.rows)


def _day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).date().isoformat()


INVENTORY = Path(__file__).parent / "data" / "inventory" / "az_vm_list_d.json"


def test_inventory_names_vms_and_tells_a_size_change_from_the_meter() -> None:
    # the inventory (az vm list -d) says win-ahb is a Standard_D4s_v5; the export meters D8s v5
    data = _write_ea([("03/04/2024", _rid("win-ahb").upper(), "D8s v5", 9.0, "On Demand"),
                      ("03/04/2024", _rid("win-payg").upper(), "D4s v5", 10.0, "On Demand")])
    rec = reconciliation(LOG, data, inventory=INVENTORY)
    by_vm = {r["vm"]: r for r in rec.rows}
    assert set(by_vm) == {"win-ahb", "win-payg", "spot-1"}
    assert "the meter is D8s v5 but the inventory says Standard_D4s_v5" in (
        by_vm["win-ahb"]["explanation"])
    assert by_vm["win-payg"]["explanation"] == ""
    code, text = _run("reconcile", LOG, "--costs", EA, "--inventory", str(INVENTORY),
                      "--json", "--quiet")
    assert code == 0
    assert {r["vm"] for r in json.loads(text)["rows"]} == set(HAND)


def test_readme_shows_the_commands_real_output() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    code, text = _run("reconcile", LOG, "--costs", EA, "--quiet")
    assert code == 0
    for line in text.splitlines()[2:8]:  # the table, its explanations cut as the README does
        shown = line[:101].rstrip()
        assert shown.split("likely")[0].rstrip() in readme, shown
    assert "Total: modelled 24.00 h, charged 49.00 h, difference +25.00 h; 2 of 4 rows" in text


def test_a_pull_folder_is_read_with_its_own_inventory(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "pulled"
    folder.mkdir()
    shutil.copy(LOG, folder / "activity_log.json")
    shutil.copy(INVENTORY, folder / "inventory.json")
    data = _write_ea([("03/04/2024", _rid("win-ahb").upper(), "D8s v5", 9.0, "On Demand")])
    rec = reconciliation(str(folder), data)
    ahb = next(r for r in rec.rows if r["vm"] == "win-ahb")
    assert "the inventory says Standard_D4s_v5" in ahb["explanation"]
    costs = tmp_path / "costs.csv"
    costs.write_bytes(data)
    code, text = _run("reconcile", str(folder), "--costs", str(costs), "--json", "--quiet")
    assert code == 0
    assert {r["vm"] for r in json.loads(text)["rows"]} == {"win-ahb", "win-payg", "spot-1"}
