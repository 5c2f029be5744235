"""The Cost Management export reader: EA/MCA cost details CSV and FOCUS CSV/Parquet.

The sample files in ``tests/data/reconcile`` use the published column sets: the EA file has
the 57 columns of the "Enterprise Agreement cost and usage details file schema" (version
2024-08-01), the FOCUS file the 96 columns of the "FOCUS cost and usage details file schema"
(version 1.0), both on Microsoft Learn.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vmlife.errors import InputError
from vmlife.io.costs import hours_block, read_costs, resource_key

DATA = Path(__file__).parent / "data" / "reconcile"
EA = DATA / "costs_ea.csv"
FOCUS = DATA / "costs_focus.csv"
RID = ("/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/"
       "web-1")


def _hours(export: object) -> dict[str, float]:
    return {r.key.rsplit("/", 1)[-1]: round(r.hours, 9) for r in export.rows}  # type: ignore[attr-defined]


def test_ea_file_compute_rows_hours_and_what_is_set_aside() -> None:
    export = read_costs(EA)
    assert export.format == "ea"
    # 1 x "10 Hours", 9 x "1 Hour", 0.06 x "100 Hours", 2.4 x "10 Hours"
    assert _hours(export) == {"win-payg": 10.0, "win-ahb": 9.0, "spot-1": 6.0, "db-1": 24.0}
    assert export.set_aside == {"Storage": 1, "Bandwidth": 1, "Purchase": 1}
    assert export.read == 7 == len(export.rows) + sum(export.set_aside.values())
    assert export.currency == "USD"
    assert export.days == ["2024-03-04"]
    spot = next(r for r in export.rows if r.key.endswith("spot-1"))
    assert (spot.meter, spot.pricing, spot.cost, spot.date) == (
        "D2s v5 Spot", "spot", 0.1152, "2024-03-04")
    # the export upper-cased the resource group; keys compare case-insensitively
    payg = next(r for r in export.rows if r.key.endswith("win-payg"))
    assert payg.resource_id.isupper()
    assert payg.key == resource_key(payg.resource_id.lower())


def test_focus_file_reads_the_same_hours() -> None:
    export = read_costs(FOCUS)
    assert export.format == "focus"
    assert _hours(export) == _hours(read_costs(EA))
    assert export.set_aside == {"Storage": 1, "Bandwidth": 1, "Purchase": 1}
    spot = next(r for r in export.rows if r.key.endswith("spot-1"))
    assert (spot.pricing, spot.meter, spot.effective_cost) == ("spot", "D2s v5 Spot", 0.1152)


def test_focus_parquet_reads_like_the_csv(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    df = pd.read_csv(FOCUS, dtype=str, keep_default_na=False)
    df["ChargePeriodStart"] = pd.to_datetime(df["ChargePeriodStart"], utc=True)
    df["ConsumedQuantity"] = pd.to_numeric(df["ConsumedQuantity"])
    path = tmp_path / "focus.parquet"
    df.to_parquet(path)
    parquet = read_costs(path)
    assert parquet.format == "focus"
    assert _hours(parquet) == _hours(read_costs(FOCUS))
    assert read_costs(path.read_bytes()).read == 7


def test_mca_column_names_and_iso_dates() -> None:
    text = ("date,ResourceId,meterCategory,meterName,quantity,unitOfMeasure,"
            "costInBillingCurrency,pricingModel,chargeType\n"
            f"2024-03-04,{RID},Virtual Machines,D2s v5,1.5,10 Hours,1.44,Reservation,Usage\n"
            f"2024-03-05T00:00:00+02:00,{RID},Virtual Machines,D2s v5,3,1 Hour,0.288,,Usage\n")
    export = read_costs(text.encode(), name="mca.csv")
    assert export.format == "mca"
    assert [(r.date, r.hours, r.pricing) for r in export.rows] == [
        ("2024-03-04", 15.0, "reservation"),
        ("2024-03-04", 3.0, "on_demand"),  # midnight at UTC+2 is 22:00 UTC the day before
    ]


def test_utf16_export_with_bom_is_read() -> None:
    data = EA.read_text(encoding="utf-8").encode("utf-16")
    assert _hours(read_costs(io.BytesIO(data))) == _hours(read_costs(EA))


@pytest.mark.parametrize(("unit", "block"), [
    ("1 Hour", 1.0), ("10 Hours", 10.0), ("100 Hours", 100.0), ("Hours", 1.0), ("hours", 1.0),
    ("1/Month", None), ("1 GB", None), ("", None),
])
def test_hours_block(unit: str, block: float | None) -> None:
    assert hours_block(unit) == block


HEAD = "Date,ResourceId,MeterCategory,MeterName,Quantity,UnitOfMeasure,Cost\n"


def test_bad_rows_are_reported_with_file_record_and_field_not_fatal() -> None:
    text = (HEAD
            + f"03/04/2024,{RID},Virtual Machines,D2s v5,2,1 Hour,0.19\n"
            + f"13/45/2024,{RID},Virtual Machines,D2s v5,2,1 Hour,0.19\n"
            + f"03/04/2024,{RID},Virtual Machines,D2s v5,lots,1 Hour,0.19\n"
            + f"03/04/2024,{RID},Virtual Machines,D2s v5,2,1 Fortnight,0.19\n"
            + f"03/04/2024,{RID},Virtual Machines,D2s v5,2,1 Hour,NaN\n")
    export = read_costs(text.encode(), name="bad.csv")
    assert [r.record for r in export.rows] == [1]
    got = [(p.source, p.record, p.field) for p in export.problems]
    assert got == [("bad.csv", 2, "Date"), ("bad.csv", 3, "Quantity"),
                   ("bad.csv", 4, "UnitOfMeasure"), ("bad.csv", 5, "Cost")]
    assert "13/45/2024" in str(export.problems[0])
    with pytest.raises(InputError) as err:
        read_costs(text.encode(), name="bad.csv", strict=True)
    assert (err.value.record, err.value.field) == (2, "Date")


def test_a_file_that_is_no_export_is_refused_naming_the_missing_column() -> None:
    with pytest.raises(InputError) as err:
        read_costs(b"Date,ResourceId,Quantity\n03/04/2024,x,1\n", name="x.csv")
    assert err.value.field == "metercategory"
    assert "x.csv" in str(err.value) and "ChargePeriodStart" in str(err.value)
    with pytest.raises(InputError, match="no data rows"):
        read_costs(HEAD.encode(), name="empty.csv")
    with pytest.raises(InputError, match="not readable Parquet"):
        read_costs(b"PAR1 not really", name="x.parquet")


def test_scale_set_and_non_vm_resources_under_the_vm_category_are_set_aside() -> None:
    vmss = RID.replace("virtualMachines/web-1", "virtualMachineScaleSets/pool")
    text = HEAD + f"03/04/2024,{vmss},Virtual Machines,D2s v5,2,1 Hour,0.19\n"
    export = read_costs(text.encode())
    assert export.rows == []
    assert export.set_aside == {"Virtual Machines (not a virtualMachines resource)": 1}
