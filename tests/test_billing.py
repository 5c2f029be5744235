"""The meter, prices, exports and what-if, checked against hand computations."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vmlife
from vmlife import VM, Timing
from vmlife.billing.editions import diff_editions
from vmlife.billing.meter import FOCUS_COLUMNS, bill, billed_components
from vmlife.billing.prices import SAMPLE_PRICES, PriceTable, load_prices
from vmlife.billing.whatif import Schedule, compare
from vmlife.cli import main
from vmlife.timeutil import to_epoch

T0 = "2024-01-01T00:00:00Z"
DAY = "2024-01-02T00:00:00Z"


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def start_run_stop_deallocate() -> VM:
    """A VM deallocated at T0 that starts at 08:00, stops at 12:00 and deallocates at 13:00."""
    vm = VM("v", start=T0, state="deallocated")
    vm.start(at="2024-01-01T08:00:00Z")  # stopped 5 s, starting 40 s, running from 08:00:45
    vm.power_off(at="2024-01-01T12:00:00Z")  # stopping 20 s, stopped from 12:00:20
    vm.deallocate(at="2024-01-01T13:00:00Z")  # deallocating 45 s, deallocated from 13:00:45
    return vm


# Seconds in each state, by hand from the default durations:
STOPPED_BRIEFLY, STARTING = 5, 40
RUNNING = 4 * 3600 - 45
STOPPING = 20
STOPPED = 3600 - 20
DEALLOCATING = 45
HAND = {
    # edition: states whose compute bills, per the documents
    "draft": STOPPED_BRIEFLY + RUNNING + STOPPING + STOPPED + DEALLOCATING,  # hardware bills
    "lifecycle": STOPPED_BRIEFLY + RUNNING + STOPPING + STOPPED,
    "2018-08": RUNNING + STOPPING,
    "2021-03": STOPPED_BRIEFLY + STARTING + RUNNING + STOPPING + STOPPED,
    "2023-10": STOPPED_BRIEFLY + STARTING + RUNNING + STOPPING + STOPPED,
}


@pytest.mark.parametrize("edition", list(HAND))
def test_billed_compute_seconds_match_a_hand_computation(edition: str) -> None:
    vm = start_run_stop_deallocate()
    b = bill(vm.timeline, edition=edition, granularity="second", end=DAY)
    assert b.vms[0].billed_seconds["compute"] == HAND[edition]
    # other bills all day: the VM exists throughout
    assert b.vms[0].billed_seconds["other"] == 86400


def test_minute_granularity_floors_each_continuous_run() -> None:
    vm = VM("v", start=T0, state="running", timing=Timing({"deallocating": 0}))
    vm.deallocate(at="2024-01-01T00:06:45Z")  # 6 min 45 s of running bills 6 min
    b = bill(vm.timeline, end=DAY)
    assert b.vms[0].billed_seconds["compute"] == 6 * 60
    assert bill(vm.timeline, end=DAY, granularity="second").vms[0].billed_seconds["compute"] == 405
    assert bill(vm.timeline, end=DAY, granularity="hour").vms[0].billed_seconds["compute"] == 0


def test_costs_per_component_with_windows_licence() -> None:
    vm = VM("w", start=T0, state="running", size="Standard_D2s_v5", os="windows",
            timing=Timing({"deallocating": 0}))
    vm.deallocate(at="2024-01-01T10:00:00Z")
    b = bill(vm.timeline, end=DAY)
    v = b.vms[0]
    assert v.cost == {"compute": pytest.approx(0.96), "license": pytest.approx(0.92), "other": 0.0}
    assert v.total_cost == pytest.approx(1.88)
    assert b.currency == "USD" and b.prices.sample
    assert any("sample prices" in n for n in b.notes)


def test_other_bills_from_create_until_delete() -> None:
    vm = VM("v", start=T0).create().deallocate(at="2024-01-01T01:00:00Z")
    vm.delete(at="2024-01-01T05:00:00Z")  # deleting 30 s
    b = bill(vm.timeline, granularity="second", end=DAY)
    assert b.vms[0].billed_seconds["other"] == 5 * 3600 + 30
    assert not b.notes[1:]  # a deleted VM has nothing open


def test_os_provisioning_substates_bill_as_running() -> None:
    vm = VM("v", start=T0).create(generalized=True)
    ed = vmlife.lifecycle().edition("2023-10")
    for step in vm.timeline:
        if step.state.os_provisioning:
            assert billed_components(step.state, ed) == {"compute", "license", "other"}


def test_failed_os_provisioning_is_still_billed() -> None:
    vm = VM("v", start=T0).create(generalized=True, fail="OSProvisioningTimedOut", fail_at=3)
    assert billed_components(vm.state, vmlife.lifecycle().edition()) >= {"compute"}


def test_open_last_state_is_noted_and_billed_to_end() -> None:
    vm = VM("v", start=T0, state="running")
    assert bill(vm.timeline).vms[0].billed_seconds["compute"] == 0
    assert "still open" in bill(vm.timeline).notes[-1]
    assert bill(vm.timeline, end=DAY).vms[0].billed_seconds["compute"] == 86400


def test_clipping_to_a_period() -> None:
    vm = VM("v", start=T0, state="running")
    b = bill(vm.timeline, start="2024-01-01T06:00:00Z", end="2024-01-01T09:30:00Z")
    assert b.vms[0].billed_seconds["compute"] == 3.5 * 3600


SCRIPT_OPS = ["power_off", "deallocate", "start", "restart", "redeploy", "guest_shutdown", "update"]


@st.composite
def timelines(draw: st.DrawFn) -> vmlife.Timeline:
    vm = VM("p", start=T0, state=draw(st.sampled_from(["running", "stopped", "deallocated"])))
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(SCRIPT_OPS))
        gap = draw(st.integers(0, 20000))
        if op in vm.allowed():
            vm.do(op, at=vm.clock + gap)
    return vm.timeline


@settings(max_examples=80, deadline=None)
@given(timelines(), st.sampled_from(["second", "minute", "hour"]),
       st.sampled_from(["draft", "lifecycle", "2018-08", "2021-03", "2023-10"]))
def test_billed_seconds_never_exceed_elapsed(tl: vmlife.Timeline, gran: str, ed: str) -> None:
    end = to_epoch(T0) + 3 * 86400
    b = bill(tl, edition=ed, granularity=gran, end=end)
    for comp, secs in b.vms[0].billed_seconds.items():
        assert 0 <= secs <= end - to_epoch(T0), comp


@settings(max_examples=80, deadline=None)
@given(timelines(), st.integers(0, 3 * 86400))
def test_splitting_the_period_adds_up(tl: vmlife.Timeline, cut: int) -> None:
    t0, end = to_epoch(T0), to_epoch(T0) + 3 * 86400
    mid = t0 + cut
    whole = bill(tl, granularity="second", start=t0, end=end).vms[0].billed_seconds
    a = bill(tl, granularity="second", start=t0, end=mid).vms[0].billed_seconds
    b = bill(tl, granularity="second", start=mid, end=end).vms[0].billed_seconds
    for comp in whole:
        assert a[comp] + b[comp] == pytest.approx(whole[comp])


@settings(max_examples=60, deadline=None)
@given(timelines(), st.sampled_from(["draft", "lifecycle", "2018-08", "2021-03"]))
def test_switching_edition_changes_only_states_whose_rules_differ(
    tl: vmlife.Timeline, other: str
) -> None:
    lc = vmlife.lifecycle()
    a, b = lc.edition("2023-10"), lc.edition(other)
    differ = set(diff_editions(a, b))
    for step in tl:
        if billed_components(step.state, a) != billed_components(step.state, b):
            assert f"power.{step.state.power}" in differ


# ------------------------------------------------------------------ what-if
def test_whatif_month_deallocate_overnight_beats_stop_overnight_by_hand() -> None:
    rows = {r["schedule"]: r for r in compare(start=T0, days=30, editions=["2023-10"])}
    # 2024-01-01 is a Monday: 30 days hold 22 weekdays. Deallocated overnight, compute bills
    # 08:00-18:00 each weekday (Stopped-briefly and Starting bill under 2023; Deallocating does
    # not): 22 x 10 h. Stopped overnight still bills under 2023: all 720 h.
    assert rows["deallocate-overnight"]["compute_hours"] == 22 * 10
    assert rows["deallocate-overnight"]["compute_cost"] == pytest.approx(22 * 10 * 0.096)
    assert rows["stop-overnight"]["compute_hours"] == 30 * 24
    assert rows["stop-overnight"]["compute_cost"] == pytest.approx(720 * 0.096)
    assert rows["deallocate-overnight"]["compute_cost"] < rows["stop-overnight"]["compute_cost"]
    assert rows["always-on"]["compute_hours"] == 720


def test_whatif_cli_prints_the_comparison() -> None:
    code, text = run_cli("whatif", "--json")
    assert code == 0
    rows = json.loads(text)
    assert [r["schedule"] for r in rows] == ["always-on", "stop-overnight", "deallocate-overnight"]
    code, text = run_cli("whatif")
    assert "deallocate-overnight" in text and "21.12" in text


def test_whatif_all_editions_and_unknown_operation() -> None:
    rows = compare(days=7, editions=["all"])
    assert {r["edition"] for r in rows} == {"draft", "2018-08", "lifecycle", "2021-03", "2023-10"}
    with pytest.raises(vmlife.UnknownNameError, match="valid choices"):
        Schedule("x", "hibernate").simulate(T0, 3)


# ------------------------------------------------------------------ CLI and exports
def test_editions_diff_cli_2023_against_draft() -> None:
    code, text = run_cli("editions", "--diff", "2023-10", "draft", "--json")
    assert code == 0
    assert [r["state"] for r in json.loads(text)["differs"]] == [
        "power.creating", "power.deallocating", "power.starting", "power.stopped",
    ]
    code, text = run_cli("editions", "--json")
    eds = json.loads(text)
    assert [e["id"] for e in eds if e["default"]] == ["2023-10"]


def test_bill_cli_json_contract(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    vmlife.dump_timelines([start_run_stop_deallocate().timeline], path)
    code, text = run_cli("bill", str(path), "--json", "--edition", "draft",
                         "--granularity", "second", "--end", DAY)
    assert code == 0
    data = json.loads(text)
    assert (data["edition"], data["currency"], data["granularity"]) == ("draft", "USD", "second")
    (v,) = data["vms"]
    assert v["vm"] == "v"
    assert set(v["billed_seconds"]) == set(v["cost"]) == {"compute", "license", "other"}
    assert v["billed_seconds"]["compute"] == HAND["draft"]
    assert v["total_cost"] == pytest.approx(sum(v["cost"].values()))


def test_bill_cli_csv_and_focus(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    vmlife.dump_timelines([start_run_stop_deallocate().timeline], path)
    _, text = run_cli("bill", str(path), "--csv", "--end", DAY)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["component"] for r in rows} == {"compute", "license", "other"}
    _, text = run_cli("bill", str(path), "--focus", "--end", DAY)
    frows = list(csv.DictReader(io.StringIO(text)))
    assert list(frows[0]) == list(FOCUS_COLUMNS)
    for r in frows:
        assert r["ChargeCategory"] == "Usage" and r["PricingUnit"] == "Hours"
        assert r["ChargePeriodStart"] < r["ChargePeriodEnd"]
        assert float(r["BilledCost"]) == pytest.approx(
            float(r["PricingQuantity"]) * SAMPLE_PRICES.lookup("Standard_D2s_v5").per_hour(
                r["x_CostComponent"]))


def test_bill_cli_unknown_edition_lists_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.json"
    vmlife.dump_timelines([start_run_stop_deallocate().timeline], path)
    code, _ = run_cli("bill", str(path), "--edition", "2099")
    assert code == 2
    assert "unknown edition '2099'; valid choices: 2018-08, 2021-03, 2023-10, draft, lifecycle" in (
        capsys.readouterr().err)


def test_bill_to_pandas() -> None:
    df = bill(start_run_stop_deallocate().timeline, end=DAY).to_pandas()
    assert set(df["component"]) == {"compute", "license", "other"}
    assert str(df["start"].dt.tz) == "UTC"


# ------------------------------------------------------------------ prices
def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_price_csv_and_json(tmp_path: Path) -> None:
    t = load_prices(write(tmp_path, "p.csv", "sku,os,compute,license,other,currency\n"
                          "Standard_B2s,linux,0.0416,,0.01,EUR\n"))
    assert t.lookup("standard_b2s", "linux").other == 0.01 and t.currency == "EUR"
    t = load_prices(write(tmp_path, "p.json", json.dumps(
        {"currency": "USD",
         "prices": [{"sku": "X", "os": "windows", "compute": 1, "license": 2}]})))
    assert t.lookup("X", "windows").license == 2


@pytest.mark.parametrize(
    ("text", "record", "field"),
    [
        # records are numbered from 1 (the first data row) for every kind of fault (#14 item 9)
        ("sku,os,compute,license,other,currency\nX,linux,-1,0,0,USD\n", 1, "compute"),
        ("sku,os,compute,license,other,currency\nX,windows,1,,0,USD\n", 1, "license"),
        ("sku,os,compute,license,other,currency\nX,linux,abc,0,0,USD\n", 1, "compute"),
        ("sku,os,license,other,currency\nX,linux,0,0,USD\n", "header", None),
        ("sku,os,compute,license,other,currency\nX,mac,1,0,0,USD\n", 1, "os"),
        ("sku,os,compute,license,other,currency\nX,linux,1,0,0,USD\nY,mac,1,0,0,USD\n",
         2, "os"),
        ("sku,os,compute,license,other,currency\nX,linux,1,0,0,USD\n\nY,linux,x,0,0,USD\n",
         3, "compute"),
    ],
)
def test_bad_prices_name_the_record_and_field(
    tmp_path: Path, text: str, record: object, field: str | None
) -> None:
    with pytest.raises(vmlife.InputError) as err:
        load_prices(write(tmp_path, "bad.csv", text))
    assert err.value.source.endswith("bad.csv")
    assert (err.value.record, err.value.field) == (record, field)


def test_price_currency_mix_is_refused(tmp_path: Path) -> None:
    text = "sku,os,compute,license,other,currency\nX,linux,1,0,0,USD\nY,linux,1,0,0,EUR\n"
    with pytest.raises(vmlife.InputError, match=r"mix currencies \(EUR, USD\)"):
        load_prices(write(tmp_path, "mix.csv", text))


def test_unknown_price_row_lists_choices() -> None:
    with pytest.raises(vmlife.UnknownNameError, match="Standard_D2s_v5/linux/regular"):
        SAMPLE_PRICES.lookup("Standard_E64s_v5", "linux")


def test_retail_prices_api_items(tmp_path: Path) -> None:
    def item(product: str, meter: str, price: float, unit: str = "1 Hour") -> dict[str, object]:
        return {"currencyCode": "USD", "retailPrice": price, "unitOfMeasure": unit,
                "armRegionName": "eastus", "armSkuName": "Standard_D2s_v5",
                "productName": product, "meterName": meter, "skuName": meter,
                "serviceName": "Virtual Machines", "type": "Consumption"}

    items = [
        item("Virtual Machines Dsv5 Series", "D2s v5", 0.096),
        item("Virtual Machines Dsv5 Series Windows", "D2s v5", 0.188),
        item("Virtual Machines Dsv5 Series", "D2s v5 Spot", 0.0096),
        item("Virtual Machines Dsv5 Series", "D2s v5 Low Priority", 0.0192),
        item("Virtual Machines Dsv5 Series", "D2s v5", 500.0, unit="1/Month"),
    ]
    t = load_prices(write(tmp_path, "retail.json", json.dumps({"Items": items})))
    assert t.lookup("Standard_D2s_v5", "linux").compute == 0.096
    win = t.lookup("Standard_D2s_v5", "windows")
    assert (win.compute, round(win.license, 6)) == (0.096, 0.092)
    assert t.lookup("Standard_D2s_v5", "linux", "spot").compute == 0.0096
    assert t.lookup("Standard_D2s_v5", "linux", "low_priority").compute == 0.0192


def test_price_table_rejects_negative_directly() -> None:
    from vmlife.billing.prices import Price

    with pytest.raises(vmlife.InputError, match="non-negative"):
        PriceTable([Price("X", "linux", 0.1, 0, -1, "USD")])


def test_price_priority_is_matched_case_insensitively() -> None:
    from vmlife.billing.prices import Price

    t = PriceTable([Price("X", "linux", 0.01, 0, 0, "USD", "spot"),
                    Price("X", "linux", 0.02, 0, 0, "USD", "low_priority")])
    assert t.lookup("x", "Linux", "Spot").compute == 0.01
    assert t.lookup("x", "linux", "Low Priority").compute == 0.02


def test_bill_cli_reads_activity_logs_and_lists_anomalies(tmp_path: Path) -> None:
    from importlib import resources

    sample = resources.files("vmlife") / "data" / "sample_activity_log.json"
    events = json.loads(sample.read_text())
    records = events["value"] if isinstance(events, dict) else events
    # an operation that never completes: a lone Started event
    broken = dict(records[0], correlationId="never-completes", eventDataId="lonely-1")
    broken["status"] = {"value": "Started", "localizedValue": "Started"}
    broken["operationName"] = {"value": "Microsoft.Compute/virtualMachines/restart/action"}
    broken["eventTimestamp"] = "2099-01-01T00:00:00Z"
    path = tmp_path / "log.json"
    path.write_text(json.dumps([*records, broken]))
    code, text = run_cli("bill", str(path), "--json", "--quiet")
    assert code == 0
    data = json.loads(text)
    assert {"edition", "currency", "granularity", "vms", "anomalies"} <= set(data)
    assert data["vms"] and all(set(v["cost"]) == {"compute", "license", "other"}
                               for v in data["vms"])
    assert any("never" in json.dumps(a).lower() or "complete" in json.dumps(a).lower()
               for a in data["anomalies"])
    assert any("Guest-OS shutdowns" in n for n in data["notes"])
    code, _ = run_cli("bill", str(path), "--json", "--quiet", "--strict")
    assert code == 2


def test_bill_html_view_names_the_edition_and_escapes_vm_names() -> None:
    vm = VM("<b>x</b>", start=T0, state="running")
    html = bill(vm.timeline, end=DAY)._repr_html_()
    assert html.startswith('<table class="vmlife-bill"><caption>Edition 2023-10 (2023-10-31)')
    assert "total 2.30 USD (sample prices)" in html
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
