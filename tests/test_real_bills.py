"""Real bills: an inventory and regional Retail Prices API pages price real Activity Logs.

The first acceptance line of issue 11: three VMs for one day, checked by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import vmlife_spot

import vmlife
from vmlife.billing.fleet import bill_events
from vmlife.billing.meter import FALLBACK, bill
from vmlife.billing.prices import SAMPLE_PRICES, load_prices
from vmlife.cli import main
from vmlife.io.activity_log import read_activity_log
from vmlife.io.inventory import read_inventory

DATA = Path(__file__).parent / "data" / "inventory"
INVENTORY = DATA / "az_vm_list_d.json"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
PAYG = f"{SUB}/resourceGroups/RG-APP/providers/Microsoft.Compute/virtualMachines/win-payg"
AHB = f"{SUB}/resourceGroups/RG-APP/providers/Microsoft.Compute/virtualMachines/win-ahb"
SPOT = f"{SUB}/resourceGroups/rg-batch/providers/Microsoft.Compute/virtualMachines/spot-1"
DAY, NEXT = "2024-03-04T00:00:00Z", "2024-03-05T00:00:00Z"


@pytest.fixture
def spot_plugin() -> Iterator[Any]:
    with vmlife.registered(vmlife_spot):
        yield vmlife_spot


def events(rid: str, ops: list[tuple[str, str, str]], tag: str) -> list[dict[str, Any]]:
    """REST-shape Activity Log records: (operation, Started time, Succeeded time) each."""
    out = []
    for i, (op, began, ended) in enumerate(ops):
        for j, (status, t) in enumerate((("Started", began), ("Succeeded", ended))):
            out.append({
                "operationName": {"value": f"Microsoft.Compute/virtualMachines/{op}",
                                  "localizedValue": op},
                "status": {"value": status, "localizedValue": status},
                "subStatus": {"value": "OK" if j else "", "localizedValue": ""},
                "eventTimestamp": t, "correlationId": f"{tag}-{i}",
                "eventDataId": f"{tag}-{i}-{j}", "resourceId": rid,
                "caller": "ops@example.com", "category": {"value": "Administrative"},
            })
    return out


WORKDAY = [("start/action", "2024-03-04T08:00:00Z", "2024-03-04T08:01:00Z"),
           ("deallocate/action", "2024-03-04T18:00:00Z", "2024-03-04T18:01:30Z")]


def day_log() -> dict[str, Any]:
    # the Spot VM's id upper-cased, as exports write it: the join ignores case
    return {"value": [*events(PAYG, WORKDAY, "p"), *events(AHB, WORKDAY, "a"),
                      *events(SPOT.upper(), WORKDAY, "s")]}


def retail_page() -> dict[str, Any]:
    """A Retail Prices API page: three regions, Spot and Windows meters, and the offers a real
    query returns beside pay-as-you-go (Reservation, DevTestConsumption), which must not be
    used. Field names and values' shape from the API's documented sample response."""

    def it(region: str, sku: str, meter: str, product: str, price: float,
           kind: str = "Consumption", **extra: Any) -> dict[str, Any]:
        return {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price,
                "unitPrice": price, "armRegionName": region, "location": region,
                "effectiveStartDate": "2024-01-01T00:00:00Z", "meterName": meter,
                "productName": product, "skuName": meter, "serviceName": "Virtual Machines",
                "serviceFamily": "Compute", "unitOfMeasure": "1 Hour", "type": kind,
                "isPrimaryMeterRegion": True, "armSkuName": sku, **extra}

    d4, d2 = "Standard_D4s_v5", "Standard_D2s_v5"
    series, win = "Virtual Machines Dsv5 Series", "Virtual Machines Dsv5 Series Windows"
    items = [
        it("westeurope", d4, "D4s v5", series, 0.23),
        it("westeurope", d4, "D4s v5", win, 0.414),
        it("eastus", d4, "D4s v5", series, 0.192),
        it("eastus", d4, "D4s v5", win, 0.376),
        it("brazilsouth", d4, "D4s v5", series, 0.304),
        it("brazilsouth", d4, "D4s v5", win, 0.488),
        it("eastus", d2, "D2s v5", series, 0.096),
        it("eastus", d2, "D2s v5 Spot", series, 0.0115),
        it("westeurope", d2, "D2s v5 Spot", series, 0.0138),
        it("brazilsouth", d2, "D2s v5 Spot", series, 0.0183),
        it("westeurope", d4, "D4s v5", series, 1234.0, "Reservation", reservationTerm="1 Year"),
        it("westeurope", d4, "D4s v5", win, 0.23, "DevTestConsumption"),
        it("eastus", d2, "D2s v5 Spot", series, 0.001, "DevTestConsumption"),
    ]
    return {"BillingCurrency": "USD", "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail", "Items": items, "NextPageLink": None,
            "Count": len(items)}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    log = tmp_path / "log.json"
    log.write_text(json.dumps(day_log(), indent=1))
    prices = tmp_path / "retail.json"
    prices.write_text(json.dumps(retail_page(), indent=1))
    return {"log": log, "prices": prices}


def test_three_vms_for_one_day_checked_by_hand(files: dict[str, Path]) -> None:
    """Edition 2023-10 bills Starting and Running (compute and licence), not Deallocating.

    Each VM: start Started 08:00:00, Succeeded 08:01:00; deallocate Started 18:00:00,
    Succeeded 18:01:30. Billed run: 08:00:00 to 18:00:00 = 10 h (per-minute flooring keeps
    it: 600 whole minutes).

    win-payg, Windows Standard_D4s_v5 in westeurope, no licenseType:
        compute = 10 h x 0.23 (westeurope Linux meter)          = 2.30
        licence = 10 h x (0.414 - 0.23) (Windows - Linux meter)  = 1.84
    win-ahb, the same with licenseType Windows_Server (Azure Hybrid Benefit):
        compute = 10 h x 0.23                                    = 2.30
        licence = 0 (priced at the Linux meter)
    spot-1, Linux Spot Standard_D2s_v5 in eastus:
        compute = 10 h x 0.0115 (eastus "D2s v5 Spot")            = 0.115
        licence = 0
    Not the eastus or brazilsouth D4s_v5 rows, not the Reservation (1234/h) or DevTest rows.
    Total compute + licence = 2.30 + 1.84 + 2.30 + 0.115 = 6.555.
    """
    inv = read_inventory(INVENTORY)
    prices = load_prices(files["prices"])
    assert prices.ignored == {"type Reservation": 1, "type DevTestConsumption": 2}
    history = read_activity_log(files["log"], inventory=inv)
    assert not history.anomalies
    b = bill(history.timelines, prices=prices, edition="2023-10", end=NEXT, inventory=inv)
    got = {v.vm: (round(v.cost["compute"], 6), round(v.cost["license"], 6)) for v in b.vms}
    assert got == {"win-payg": (2.30, 1.84), "win-ahb": (2.30, 0.0), "spot-1": (0.115, 0.0)}
    hours = {v.vm: v.billed_seconds["compute"] / 3600 for v in b.vms}
    assert hours == {"win-payg": 10.0, "win-ahb": 10.0, "spot-1": 10.0}
    assert round(b.cost["compute"] + b.cost["license"], 6) == 6.555
    assert {v.vm: (v.price.region, v.price.priority) for v in b.vms} == {
        "win-payg": ("westeurope", "regular"), "win-ahb": ("westeurope", "regular"),
        "spot-1": ("eastus", "spot")}
    assert b.not_in_inventory == []
    # the table has no disk prices: each disk is named, not silently free
    assert any("win-payg: disk win-payg_OsDisk_1 (P10 LRS, westeurope) has no price" in n
               for n in b.notes)


def test_the_same_day_through_the_cli(files: dict[str, Path]) -> None:
    out = io.StringIO()
    code = main(["bill", str(files["log"]), "--inventory", str(INVENTORY), "--prices",
                 str(files["prices"]), "--edition", "2023-10", "--end", NEXT, "--json"],
                out=out)
    assert code == 0
    data = json.loads(out.getvalue())
    assert {v["vm"]: (v["cost"]["compute"], v["cost"]["license"]) for v in data["vms"]} == {
        "win-payg": (2.3, 1.84), "win-ahb": (2.3, 0.0), "spot-1": (0.115, 0.0)}
    assert {v["vm"]: v["region"] for v in data["vms"]} == {
        "win-payg": "westeurope", "win-ahb": "westeurope", "spot-1": "eastus"}
    assert data["inventory"] == str(INVENTORY) and data["not_in_inventory"] == []
    assert data["inventory_problems"] == []


def test_the_same_day_in_bill_events(files: dict[str, Path]) -> None:
    pytest.importorskip("pandas")
    df = bill_events(day_log(), inventory=read_inventory(INVENTORY),
                     prices=load_prices(files["prices"]), edition="2023-10", end=NEXT)
    costs = {(r.vm, r.component): round(r.cost, 6) for r in df.itertuples()}
    assert costs[("win-payg", "compute")] == 2.30 and costs[("win-payg", "license")] == 1.84
    assert costs[("win-ahb", "license")] == 0.0 and costs[("spot-1", "compute")] == 0.115
    assert df.attrs["not_in_inventory"] == []


def test_vms_missing_from_the_inventory_are_priced_by_the_fallback_and_listed(
        files: dict[str, Path], tmp_path: Path) -> None:
    rows = json.loads(INVENTORY.read_text())
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(rows[:2]))  # spot-1 missing
    out = io.StringIO()
    with contextlib.redirect_stderr(io.StringIO()):
        assert main(["bill", str(files["log"]), "--inventory", str(partial), "--end", NEXT,
                     "--json"], out=out) == 0
    data = json.loads(out.getvalue())
    # named as the log writes it (upper case): no inventory row gives its real spelling
    assert data["not_in_inventory"] == ["SPOT-1"] and data["fallback"] == FALLBACK
    spot = next(v for v in data["vms"] if v["vm"] == "SPOT-1")
    assert (spot["sku"], spot["os"], spot["priority"], spot["region"]) == (
        "Standard_D2s_v5", "linux", "regular", "eastus")
    out = io.StringIO()
    assert main(["bill", str(files["log"]), "--inventory", str(partial), "--end", NEXT],
                out=out) == 0
    text = out.getvalue()
    assert "Not in the inventory" in text and "SPOT-1" in text and "in inventory" in text
    # the sample prices have the disks: win-ahb's P10 (westeurope 21.68/month) and E6 bill
    assert "disks/month" in text


def test_timeline_and_report_take_the_inventory(files: dict[str, Path], tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["timeline", str(files["log"]), "--inventory", str(INVENTORY)], out=out) == 0
    text = out.getvalue()
    assert "Standard_D4s_v5 Windows in westeurope, priority regular, Azure Hybrid Benefit" \
        in text
    assert "Standard_D2s_v5 Linux in eastus, priority spot" in text
    out = io.StringIO()
    assert main(["report", str(files["log"]), "--inventory", str(INVENTORY), "--prices",
                 str(files["prices"]), "-o", str(tmp_path / "r"), "--end", NEXT,
                 "--edition", "2023-10"], out=out) == 0
    assert "total 6.555 USD" in out.getvalue()  # no disk prices in this page: compute+licence


def test_bad_inventory_exits_2_naming_the_file(files: dict[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "inv.json"
    bad.write_text('{"nothing": []}')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["bill", str(files["log"]), "--inventory", str(bad)], out=io.StringIO())
    assert code == 2 and "inv.json" in err.getvalue()


# ---------------------------------------------------------------------- Spot
def eviction_log() -> list[dict[str, Any]]:
    """A Spot VM started at 08:00 and evicted by the platform at 13:00 (the operation name
    Azure's Activity Log records for a real eviction; see the vmlife-spot plugin)."""
    return events(SPOT, [
        ("start/action", "2024-03-04T08:00:00Z", "2024-03-04T08:01:00Z"),
        ("evictSpotVM/action", "2024-03-04T13:00:00Z", "2024-03-04T13:01:00Z"),
    ], "e")


def test_a_real_spot_eviction_replays_as_an_eviction(spot_plugin: Any) -> None:
    inv = read_inventory(INVENTORY)
    with_inv = read_activity_log(eviction_log(), inventory=inv)
    assert not with_inv.anomalies
    tl = with_inv.timeline("spot-1")
    assert [s.operation for s in tl if s.operation][-1] == "evict"
    assert tl.attributes["priority"] == "spot" and tl.state_at("2024-03-04T14:00:00Z").power == \
        "deallocated"
    assert with_inv.counts.guard_noted == 0
    assert not [n for step in tl for n in step.notes]
    # without the inventory nothing says the VM is Spot: the eviction is still replayed (it
    # happened), but the plugin's guard would have refused it, and the step says so
    without = read_activity_log(eviction_log())
    assert without.counts.guard_noted == 2
    noted = [n for step in without.timeline("spot-1") for n in step.notes]
    assert noted and all("only Azure Spot VMs" in n for n in noted)


def test_spot_vms_bill_and_report_with_the_sample_prices(
        spot_plugin: Any, tmp_path: Path) -> None:
    log = tmp_path / "spot.json"
    log.write_text(json.dumps(eviction_log()))
    inv = read_inventory(INVENTORY)
    b = bill(read_activity_log(log, inventory=inv).timelines, end=NEXT)
    spot = b.vm("spot-1")
    assert (spot.price.priority, spot.price.region) == ("spot", "eastus")
    # 08:00 to 13:00:30 (the 30 s notice runs), per minute = 300 min x 0.0115 (sample eastus)
    assert spot.billed_seconds["compute"] == 300 * 60
    assert spot.cost["compute"] == pytest.approx(5 * 0.0115)
    # its S4 (30 GiB Standard_LRS) disk bills from 08:00 to midnight: 16 h of March's 744
    assert spot.cost["other"] == pytest.approx(1.54 * 16 / 744, abs=1e-6)
    assert SAMPLE_PRICES.lookup("Standard_D2s_v5", "linux", "spot").compute == 0.0115
    out = io.StringIO()
    assert main(["report", str(log), "--inventory", str(INVENTORY), "-o", str(tmp_path / "r"),
                 "--end", NEXT], out=out) == 0
    html = (tmp_path / "r" / "index.html").read_text()
    row = html.split("<td>spot-1</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Standard_D2s_v5</td><td>linux</td><td>spot</td><td>eastus</td>" in row


def test_spot_vms_in_both_widgets_with_the_sample_prices(spot_plugin: Any) -> None:
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    from vmlife.widgets import BillingTimeline, LifecycleExplorer

    tl = read_activity_log(eviction_log(), inventory=read_inventory(INVENTORY)).timelines
    bt = BillingTimeline(tl)
    assert bt.bill.vm("spot-1").price.priority == "spot"
    assert "spot-1" in bt.totals.value and bytes(bt.plot.value).startswith(b"\x89PNG")
    bt.price_picker.value = "Standard_D2s_v5 / windows / spot / westeurope"
    assert bt.bill.vm("spot-1").price.license > 0
    simulated = vmlife.VM("sim", start=DAY).create(priority="spot").timeline
    assert BillingTimeline(simulated).bill.vm("sim").price.priority == "spot"
    ex = LifecycleExplorer(priority="spot")
    ex.run("create")  # then an hour passes, billed at the sample's Spot price
    assert ex.message.value == "" and "vmlife-bill" in ex.bill_view.value
    assert bill(ex.vm.timeline, end=ex.vm.clock).vm("explorer").price.priority == "spot"
    ex.run("evict")
    assert ex.message.value == "" and ex.vm.state.power == "deallocated"


def test_timeline_files_and_snapshots_take_the_inventory_too(
        files: dict[str, Path], tmp_path: Path) -> None:
    """A vmlife timeline file (no resource ids: matched by name) and polled snapshots."""
    from vmlife.io.history import read_history, read_input

    inv = read_inventory(INVENTORY)
    plain = read_activity_log(files["log"])
    for tl in plain.timelines:
        tl.attributes.clear()
    saved = tmp_path / "timelines.json"
    vmlife.dump_timelines(plain.timelines, saved)
    got = read_input(str(saved), inventory=inv)
    assert {t.vm: t.attributes["region"] for t in got.timelines} == {
        "SPOT-1": "eastus", "win-ahb": "westeurope", "win-payg": "westeurope"}
    polls = [{"time": f"2024-03-04T{h:02d}:00:00Z", "vm": name,
              "statuses": [{"code": "PowerState/running"}]}
             for h in (8, 9) for name in ("win-ahb", "ghost")]
    snap = read_history(polls, inventory=inv)
    assert snap.timeline("win-ahb").attributes["ahb"] is True
    assert any("Not in the inventory" in n and "ghost" in n for n in snap.notes)


def test_inventory_problems_are_printed_and_in_the_json(
        files: dict[str, Path], tmp_path: Path) -> None:
    rows = json.loads(INVENTORY.read_text())
    rows[2]["hardwareProfile"] = "big"
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps(rows))
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        assert main(["bill", str(files["log"]), "--inventory", str(inv), "--json"],
                    out=out) == 0
    assert "Inventory problem: " in err.getvalue() and "record item 3" in err.getvalue()
    data = json.loads(out.getvalue())
    assert data["inventory_problems"] == [{"record": "item 3", "field": "hardwareProfile",
                                           "reason": "expected an object, got str"}]
    assert data["not_in_inventory"] == ["SPOT-1"]


def test_the_inventory_eviction_policy_decides_what_an_eviction_does(spot_plugin: Any) -> None:
    """evictionPolicy Delete (from the inventory): the evicted VM and its disks are gone, so
    nothing bills after the eviction; Deallocate keeps the disks billing."""
    rows = json.loads(INVENTORY.read_text())
    rows[2]["evictionPolicy"] = "Delete"
    deleting = read_activity_log(eviction_log(), inventory=read_inventory(rows))
    kept = read_activity_log(eviction_log(), inventory=read_inventory(INVENTORY))
    gone = bill(deleting.timelines, end=NEXT).vm("spot-1")
    stays = bill(kept.timelines, end=NEXT).vm("spot-1")
    assert not deleting.anomalies and deleting.timeline("spot-1").attributes[
        "eviction_policy"] == "Delete"
    assert gone.billed_seconds["compute"] == stays.billed_seconds["compute"]
    assert gone.billed_seconds["other"] < 6 * 3600 < stays.billed_seconds["other"]
