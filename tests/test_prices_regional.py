"""Prices by region, Retail Prices API pages and folders, offers ignored, disks, missing rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import vmlife
from vmlife.billing.meter import bill
from vmlife.billing.prices import (
    SAMPLE_PRICES,
    MissingPriceError,
    disk_tier,
    load_prices,
    month_fraction,
)
from vmlife.timeutil import to_epoch


def item(region: str, product: str, meter: str, price: float, *, sku: str = "Standard_D2s_v5",
         kind: str = "Consumption", unit: str = "1 Hour") -> dict[str, Any]:
    """One Retail Prices API item, with the fields of the API's documented sample response."""
    return {"currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price,
            "unitPrice": price, "armRegionName": region, "location": region,
            "effectiveStartDate": "2024-06-01T00:00:00Z", "meterName": meter,
            "productName": product, "skuName": meter, "serviceName": "Virtual Machines",
            "serviceFamily": "Compute", "unitOfMeasure": unit, "type": kind,
            "isPrimaryMeterRegion": True, "armSkuName": sku}


def disk_item(region: str, tier: str, price: float) -> dict[str, Any]:
    return {"currencyCode": "USD", "retailPrice": price, "unitPrice": price,
            "armRegionName": region, "meterName": f"{tier} LRS Disk",
            "productName": "Premium SSD Managed Disks", "skuName": f"{tier} LRS",
            "serviceName": "Storage", "unitOfMeasure": "1/Month", "type": "Consumption",
            "armSkuName": f"Premium_SSD_Managed_Disk_{tier}"}


DSV5 = "Virtual Machines Dsv5 Series"
ITEMS = [
    item("eastus", DSV5, "D2s v5", 0.096),
    item("eastus", DSV5 + " Windows", "D2s v5", 0.188),
    item("brazilsouth", DSV5, "D2s v5", 0.152),
    item("brazilsouth", DSV5 + " Windows", "D2s v5", 0.244),
    item("eastus", DSV5, "D2s v5 Spot", 0.0115),
    item("eastus", DSV5, "D2s v5 Low Priority", 0.0192),
    item("eastus", DSV5, "D2s v5", 500.0, kind="Reservation"),
    item("eastus", DSV5, "D2s v5", 0.07, kind="DevTestConsumption"),
    item("eastus", "Dsv5 Series Cloud Services", "D2s v5", 0.148),
    disk_item("eastus", "P10", 19.71),
    disk_item("brazilsouth", "P10", 30.0),
]


def test_price_keys_include_the_region(tmp_path: Path) -> None:
    """East US and Brazil South rows of one size: each region keeps its own (no last wins)."""
    path = tmp_path / "retail.json"
    path.write_text(json.dumps({"Items": ITEMS, "NextPageLink": None}))
    t = load_prices(path)
    assert t.lookup("Standard_D2s_v5", "linux", region="eastus").compute == 0.096
    assert t.lookup("Standard_D2s_v5", "linux", region="brazilsouth").compute == 0.152
    # licence = Windows meter - Linux meter of the same region and size
    assert t.lookup("Standard_D2s_v5", "windows", region="eastus").license == pytest.approx(0.092)
    assert t.lookup("Standard_D2s_v5", "windows", region="brazilsouth").license == \
        pytest.approx(0.092)
    assert t.lookup("Standard_D2s_v5", "linux", "spot", "eastus").compute == 0.0115
    assert t.lookup("Standard_D2s_v5", "linux", "low_priority", "eastus").compute == 0.0192
    # Reservation and DevTest offers, and a Cloud Services meter, are ignored and counted
    assert t.ignored == {"type Reservation": 1, "type DevTestConsumption": 1,
                         "not an hourly VM meter or a monthly managed disk meter": 1}
    assert t.disk_price("P10 LRS", "brazilsouth").monthly == 30.0  # type: ignore[union-attr]
    assert t.default_region == "eastus"


def test_one_page_pages_concatenated_array_of_pages_and_a_folder(tmp_path: Path) -> None:
    pages = [{"BillingCurrency": "USD", "Items": ITEMS[:4],
              "NextPageLink": "https://prices.azure.com/api/retail/prices?$skip=100",
              "Count": 4},
             {"BillingCurrency": "USD", "Items": ITEMS[4:], "NextPageLink": None,
              "Count": len(ITEMS) - 4}]
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"Items": ITEMS}))
    concat = tmp_path / "concat.json"
    concat.write_text(json.dumps(pages[0], indent=2) + "\n" + json.dumps(pages[1], indent=2))
    array = tmp_path / "array.json"
    array.write_text(json.dumps(pages))
    folder = tmp_path / "prices"
    folder.mkdir()
    for i, page in enumerate(pages):
        (folder / f"page-{i:03d}.json").write_text(json.dumps(page))
    tables = [load_prices(p) for p in (one, concat, array, folder)]
    for t in tables:
        assert t.rows == tables[0].rows and t.disks == tables[0].disks
        assert t.ignored == tables[0].ignored


def test_bad_item_in_a_later_page_is_named(tmp_path: Path) -> None:
    bad = dict(ITEMS[1], retailPrice="lots")
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"Items": ITEMS[:1]}) + json.dumps({"Items": [ITEMS[0], bad]}))
    with pytest.raises(vmlife.InputError) as err:
        load_prices(path)
    assert (err.value.record, err.value.field) == ("page 2, item 2", "retailPrice")


def test_missing_price_names_vm_size_region_os_priority_and_close_rows() -> None:
    tl = vmlife.VM("web-1", start="2024-03-04T00:00:00Z", size="Standard_D4s_v5",
                   os="windows", priority="spot", region="brazilsouth").create().timeline
    with pytest.raises(MissingPriceError) as err:
        bill(tl, end="2024-03-05T00:00:00Z")
    text = str(err.value)
    for word in ("'web-1'", "Standard_D4s_v5", "brazilsouth", "windows", "spot",
                 "Standard_D4s_v5/windows/spot/eastus"):
        assert word in text
    assert isinstance(err.value, vmlife.UnknownNameError)


@pytest.mark.parametrize(("kind", "size", "tier"), [
    ("Premium_LRS", 128, "P10 LRS"), ("Premium_LRS", 129, "P15 LRS"),
    ("Premium_LRS", 4, "P1 LRS"), ("StandardSSD_LRS", 64, "E6 LRS"),
    ("StandardSSD_ZRS", 30, "E4 ZRS"), ("Standard_LRS", 8, "S4 LRS"),
    ("Standard_LRS", 1024, "S30 LRS"), ("UltraSSD_LRS", 128, None),
    ("PremiumV2_LRS", 128, None), (None, 127, None), ("Premium_LRS", None, None),
])
def test_disk_tiers(kind: str | None, size: float | None, tier: str | None) -> None:
    assert disk_tier(kind, size) == tier


def test_month_fraction_uses_each_months_hours() -> None:
    feb = to_epoch("2024-02-01T00:00:00Z")
    mar = to_epoch("2024-03-01T00:00:00Z")
    apr = to_epoch("2024-04-01T00:00:00Z")
    assert month_fraction(feb, mar) == pytest.approx(1.0)
    assert month_fraction(mar, apr) == pytest.approx(1.0)
    assert month_fraction(mar, mar + 3600) == pytest.approx(1 / 744)
    assert month_fraction(mar - 3600, mar + 3600) == pytest.approx(1 / 696 + 1 / 744)


def test_disks_bill_to_other_spread_over_the_month() -> None:
    """A P10 (19.71/month in the sample's eastus) deallocated all of March bills 19.71."""
    disks = [{"name": "os", "role": "os", "type": "Premium_LRS", "size_gb": 128.0}]
    vm = vmlife.VM("db", start="2024-03-01T00:00:00Z", state="deallocated",
                   size="Standard_D2s_v5", os="linux", region="eastus", disks=disks)
    b = bill(vm.timeline, end="2024-04-01T00:00:00Z")
    assert b.vm("db").cost == {"compute": 0.0, "license": 0.0, "other": 19.71}
    one_day = bill(vm.timeline, start="2024-03-10T00:00:00Z", end="2024-03-11T00:00:00Z")
    assert one_day.vm("db").cost["other"] == pytest.approx(19.71 / 31, abs=1e-6)


def test_the_sample_table_is_labelled_dated_and_covers_spot_windows_disks() -> None:
    s = SAMPLE_PRICES
    assert s.sample and s.date == "2024-06" and "not current" in s.source
    assert "Retail Prices API" in s.source
    assert set(s.regions) == {"eastus", "westeurope"}
    sizes = {p.sku for p in s.rows.values()}
    assert {"Standard_B2s", "Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5"} <= sizes
    for region in s.regions:
        for prio in ("regular", "spot"):
            win = s.lookup("Standard_D4s_v5", "windows", prio, region)
            assert win.license > 0 and win.compute > 0
        for tier in ("P10 LRS", "E10 LRS", "S10 LRS"):
            assert s.disk_price(tier, region) is not None
    assert s.lookup("Standard_D2s_v5", "linux", "regular", "westeurope").compute > \
        s.lookup("Standard_D2s_v5", "linux", "regular", "eastus").compute
    assert s.ignored == {"type Reservation": 1, "type DevTestConsumption": 1}


@given(
    st.dictionaries(
        st.tuples(st.sampled_from(["Standard_D2s_v5", "Standard_D4s_v5", "Standard_E2s_v5"]),
                  st.sampled_from(["eastus", "westeurope", "brazilsouth", "japaneast"]),
                  st.sampled_from(["", " Spot", " Low Priority"])),
        st.tuples(st.integers(1, 10_000), st.integers(0, 10_000)),
        min_size=1, max_size=20),
    st.lists(st.sampled_from(["Reservation", "DevTestConsumption"]), max_size=5),
    st.randoms(use_true_random=False),
)
def test_every_regional_meter_is_kept_whatever_the_order(
        meters: dict[tuple[str, str, str], tuple[int, int]], offers: list[str],
        rnd: Any) -> None:
    """Each (size, region, priority) keeps its own Linux price and Windows licence, whatever
    the order of the items and whatever other offers are mixed in."""
    from vmlife.billing.prices import prices_from_retail_items

    items = []
    for (sku, region, suffix), (linux, lic) in meters.items():
        meter = sku.split("_", 1)[1].replace("_", " ") + suffix
        items.append(item(region, DSV5, meter, linux / 1000, sku=sku))
        items.append(item(region, DSV5 + " Windows", meter, (linux + lic) / 1000, sku=sku))
    for kind in offers:
        items.append(item("eastus", DSV5, "D2s v5", 99.0, kind=kind))
    rnd.shuffle(items)
    t = prices_from_retail_items(items)
    prio = {"": "regular", " Spot": "spot", " Low Priority": "low_priority"}
    for (sku, region, suffix), (linux, lic) in meters.items():
        assert t.lookup(sku, "linux", prio[suffix], region).compute == linux / 1000
        win = t.lookup(sku, "windows", prio[suffix], region)
        assert win.compute == linux / 1000
        assert win.license == pytest.approx(lic / 1000, abs=1e-12)
    assert sum(t.ignored.values()) == len(offers)
