"""Cost Management exports: what Azure charged per VM and UTC day, compute hours only.

Two families of files are read, detected from their header:

**Cost details CSV** (actual or amortized cost; Enterprise Agreement and Microsoft Customer
Agreement column names). Columns read, by name, case-insensitively (an EA file spells them
``Date``, ``ResourceId``, ``MeterCategory``; an MCA file ``date``, ``ResourceId``,
``meterCategory``; both per Microsoft Learn, "Enterprise Agreement cost and usage details file
schema", version 2024-08-01, and "Microsoft Customer Agreement cost and usage details file
schema", version 2023-12-01-preview, in ``MicrosoftDocs/azure-docs``,
``articles/cost-management-billing/dataset-schema/``):

========================  ==================================================================
``Date``                  the usage day: ``MM/DD/YYYY`` (what EA files write) or ISO 8601
``ResourceId``            the resource (older files: ``InstanceId``)
``MeterCategory``         ``Virtual Machines`` for compute; anything else is set aside
``MeterName``             the meter, e.g. ``D2s v5``: two meters for one VM and day suggest a
                          size change
``Quantity``              in units of ``UnitOfMeasure``
``UnitOfMeasure``         ``1 Hour``, ``10 Hours``, ``100 Hours``: block pricing, so hours =
                          Quantity x block size (the FinOps toolkit's
                          ``Get-FinOpsPricingUnit`` documents the block size of "100 Hours"
                          as 100)
``CostInBillingCurrency`` the cost (older EA files: ``Cost``; pay-as-you-go: ``PreTaxCost``)
``PricingModel``          ``On Demand``, ``Reservation``, ``Spot``, ``SavingsPlan`` (optional)
``ChargeType``            only ``Usage`` rows are compute (``Purchase``/``Refund`` set aside)
========================  ==================================================================

**FOCUS** (FinOps Open Cost and Usage Specification 1.0 and later; Microsoft Learn, "FOCUS
cost and usage details file schema", versions 1.0, 1.0r2 and 1.2-preview), as CSV or Parquet:
``ChargePeriodStart`` (inclusive; ``2024-01-01T00:00Z`` in 1.0, with seconds in 1.0r2),
``ResourceId``, ``ServiceName`` (``Virtual Machines`` for compute), ``ConsumedQuantity`` in
``ConsumedUnit`` (``Hours``), ``BilledCost``, ``EffectiveCost``, ``PricingCategory``
(``Standard``, ``Dynamic``, ``Committed``), and when present ``ChargeCategory`` (only
``Usage``), ``ResourceName``, ``SkuMeter``/``x_SkuMeterName``, ``CommitmentDiscountType``.

**Compute rows** are usage rows of the ``Virtual Machines`` category (service) in an hours unit
on a ``Microsoft.Compute/virtualMachines`` resource. Every other row (disks, network,
licences, purchases, scale sets) is counted by category and set aside. Resource ids are
compared case-insensitively (the exports upper-case resource groups).

**Bad rows.** A compute row with an unreadable date, quantity or unit becomes an
:class:`~vmlife.errors.InputError` naming the file, the record (the N-th data row, from 1)
and the field, kept in :attr:`CostExport.problems`; with ``strict=True`` the first one is
raised. A file without the columns its shape needs is refused whole.

Example:
    >>> from vmlife.io.costs import read_costs
    >>> csv = (b"Date,ResourceId,MeterCategory,MeterName,Quantity,UnitOfMeasure,Cost\\n"
    ...        b"01/15/2024,/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/"
    ...        b"MICROSOFT.COMPUTE/VIRTUALMACHINES/WEB-1,Virtual Machines,D2s v5,0.8,"
    ...        b"10 Hours,0.77\\n")
    >>> export = read_costs(csv, name="costs.csv")
    >>> row = export.rows[0]
    >>> row.date, row.hours
    ('2024-01-15', 8.0)
"""

from __future__ import annotations

import importlib
import io
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..errors import InputError
from .inventory import resource_key
from .source import ByteSource, csv_records, decode, read_bytes

__all__ = [
    "COMPUTE_CATEGORY",
    "CostExport",
    "CostRow",
    "hours_block",
    "read_costs",
    "resource_key",
]

#: The meter category (EA/MCA) and service name (FOCUS) of VM compute meters.
COMPUTE_CATEGORY = "virtual machines"

_VM_TYPE = "/providers/microsoft.compute/virtualmachines/"
_PARQUET = b"PAR1"

# Column aliases, first match wins; compared lower-case.
_CD_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "usagedatetime", "usagedate"),
    "resource_id": ("resourceid", "instanceid"),
    "category": ("metercategory",),
    "meter": ("metername",),
    "quantity": ("quantity", "usagequantity"),
    "unit": ("unitofmeasure",),
    "cost": ("costinbillingcurrency", "cost", "pretaxcost"),
    "pricing": ("pricingmodel",),
    "charge_type": ("chargetype",),
    "name": ("resourcename",),
    "currency": ("billingcurrencycode", "billingcurrency", "currency"),
}
_CD_REQUIRED = ("date", "resource_id", "category", "quantity", "unit")

_FOCUS_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("chargeperiodstart",),
    "resource_id": ("resourceid",),
    "category": ("servicename",),
    "meter": ("skumeter", "x_skumetername"),
    "quantity": ("consumedquantity",),
    "unit": ("consumedunit",),
    "cost": ("billedcost",),
    "effective_cost": ("effectivecost",),
    "pricing": ("pricingcategory",),
    "commitment": ("commitmentdiscounttype",),
    "charge_type": ("chargecategory",),
    "name": ("resourcename",),
    "currency": ("billingcurrency",),
}
_FOCUS_REQUIRED = ("date", "resource_id", "category", "quantity", "unit")

_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*(?:hour|hours|hrs?|h)\s*$", re.IGNORECASE)
_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T].*)?$")
_ISO_DAY = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


@dataclass(frozen=True)
class CostRow:
    """One compute row of an export.

    Attributes:
        record: the row's number among the file's data rows, from 1.
        resource_id: the resource id as the export spells it.
        key: :func:`resource_key` of it (lower-case, one leading slash).
        date: the UTC day, ``YYYY-MM-DD``.
        hours: compute hours (quantity x the unit's block size).
        meter: the meter name (``D2s v5``, ``D2s v5 Spot``), or ``""``.
        cost: the billed cost in the billing currency, when the export has it.
        effective_cost: FOCUS ``EffectiveCost`` (amortized), when present.
        pricing: ``on_demand``, ``spot``, ``reservation``, ``savings_plan``, ``commitment``
            (FOCUS ``Committed`` without a discount type) or the export's own word.
        name: the export's resource name, when it has one.
    """

    record: int
    resource_id: str
    key: str
    date: str
    hours: float
    meter: str = ""
    cost: float | None = None
    effective_cost: float | None = None
    pricing: str = "on_demand"
    name: str | None = None


@dataclass
class CostExport:
    """The compute rows of a Cost Management export and what was set aside.

    Attributes:
        source: the file name.
        format: ``"ea"`` or ``"mca"`` (cost details CSV) or ``"focus"``.
        rows: the compute rows, in file order.
        set_aside: rows that are not VM compute, counted by category (service) name, e.g.
            ``{"Storage": 1}``; purchases and refunds are counted as ``"Purchase"`` etc.
        problems: rows that could not be read (see the module docstring).
        currency: the billing currency, when the export names one.
        read: data rows read (``read == len(rows) + sum(set_aside) + len(problems)``).
    """

    source: str
    format: str
    rows: list[CostRow] = field(default_factory=list)
    set_aside: dict[str, int] = field(default_factory=dict)
    problems: list[InputError] = field(default_factory=list)
    currency: str | None = None
    read: int = 0

    @property
    def days(self) -> list[str]:
        """The days with compute rows, sorted."""
        return sorted({r.date for r in self.rows})

    def hours_by_day(self) -> dict[tuple[str, str], float]:
        """Compute hours per ``(resource key, day)``."""
        out: dict[tuple[str, str], float] = {}
        for r in self.rows:
            out[(r.key, r.date)] = out.get((r.key, r.date), 0.0) + r.hours
        return out

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of what was read."""
        return {
            "source": self.source,
            "format": self.format,
            "read": self.read,
            "compute_rows": len(self.rows),
            "set_aside": dict(sorted(self.set_aside.items())),
            "problems": [str(p) for p in self.problems],
            "currency": self.currency,
        }

    def __repr__(self) -> str:
        aside = sum(self.set_aside.values())
        return (f"<CostExport {self.format} {self.source!r}: {self.read} rows read, "
                f"{len(self.rows)} compute, {aside} set aside, {len(self.problems)} problems>")


def hours_block(unit: str) -> float | None:
    """The number of hours one unit of ``unit`` is (``"10 Hours"`` -> 10); None when it is
    not an hours unit."""
    m = _UNIT.match(unit or "")
    if m is None:
        return None
    return float(m.group(1)) if m.group(1) else 1.0


def read_costs(
    source: ByteSource | str, *, strict: bool = False, name: str | None = None
) -> CostExport:
    """Read a Cost Management export (cost details CSV or FOCUS CSV/Parquet).

    Args:
        source: a path (``"-"`` for standard input), an open file, or bytes.
        strict: raise the first bad row's :class:`~vmlife.errors.InputError` instead of
            keeping it in :attr:`CostExport.problems`.
        name: the name messages use (default: the path).

    Raises:
        InputError: unreadable, not CSV or Parquet, no header, or missing a required column
            (names it and the columns found); with ``strict``, any bad compute row.
    """
    data, src = read_bytes(source, name=name)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if raw[:4] == _PARQUET:
        header, records = _parquet_records(raw, src)
        return _read(records, src, strict, header)
    return _read(csv_records(decode(raw, name=src)), src, strict, None)


def _parquet_records(
    raw: bytes, src: str
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """The column names and rows of a Parquet export (pyarrow reads it; rows keep only their
    non-null cells, so the header comes from the file's schema)."""
    from .parquet import iter_parquet

    try:
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise InputError("this is a Parquet file; reading it needs pyarrow "
                         "(pip install pyarrow)", source=src) from None
    try:
        header = [str(n) for n in pq.ParquetFile(io.BytesIO(raw)).schema_arrow.names]
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others on bad files
        raise InputError(f"not readable Parquet: {str(exc)[:200]}", source=src) from None
    rows = iter_parquet(io.BytesIO(raw), src)  # type: ignore[arg-type]
    return header, ((n, row) for n, (_, row) in enumerate(rows, 1))


def _columns(header: Iterable[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    lower = {h.strip().lower(): h for h in header if isinstance(h, str)}
    found = {}
    for key, names in aliases.items():
        for n in names:
            if n in lower:
                found[key] = lower[n]
                break
    return found


def _read(
    records: Iterable[tuple[int, Mapping[str, Any]]],
    src: str,
    strict: bool,
    header: list[str] | None,
) -> CostExport:
    it = iter(records)
    first = next(it, None)
    if first is None:
        raise InputError("no data rows: expected a Cost Management export", source=src)
    if header is None:
        header = list(first[1])
    focus = _columns(header, _FOCUS_COLUMNS)
    if all(k in focus for k in _FOCUS_REQUIRED):
        cols, fmt = focus, "focus"
    else:
        cols = _columns(header, _CD_COLUMNS)
        missing = [k for k in _CD_REQUIRED if k not in cols]
        if missing:
            want = ", ".join(_CD_COLUMNS[k][0] for k in missing)
            raise InputError(
                f"not a Cost Management export: no column {want} (a cost details file has "
                f"Date, ResourceId, MeterCategory, Quantity and UnitOfMeasure; a FOCUS file "
                f"ChargePeriodStart, ResourceId, ServiceName, ConsumedQuantity and "
                f"ConsumedUnit); columns found: {', '.join(map(str, header[:12]))}",
                source=src, record="header", field=_CD_COLUMNS[missing[0]][0],
            )
        fmt = "mca" if cols["date"] == "date" else "ea"
    export = CostExport(src, fmt)
    for number, rec in _chain(first, it):
        export.read += 1
        try:
            _row(export, number, rec, cols)
        except InputError as exc:
            if strict:
                raise
            export.problems.append(exc)
    return export


def _chain(
    first: tuple[int, Mapping[str, Any]], rest: Iterator[tuple[int, Mapping[str, Any]]]
) -> Iterator[tuple[int, Mapping[str, Any]]]:
    yield first
    yield from rest


def _text(rec: Mapping[str, Any], cols: Mapping[str, str], key: str) -> str:
    col = cols.get(key)
    value = rec.get(col) if col is not None else None
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _aside(export: CostExport, label: str) -> None:
    label = label or "(no category)"
    export.set_aside[label] = export.set_aside.get(label, 0) + 1


def _row(export: CostExport, n: int, rec: Mapping[str, Any], cols: Mapping[str, str]) -> None:
    src = export.source
    category = _text(rec, cols, "category")
    charge = _text(rec, cols, "charge_type")
    if charge and charge.lower() != "usage":
        _aside(export, charge)
        return
    if category.lower() != COMPUTE_CATEGORY:
        _aside(export, category)
        return
    rid = _text(rec, cols, "resource_id")
    unit = _text(rec, cols, "unit")
    block = hours_block(unit)
    if _VM_TYPE not in resource_key(rid) + "/":
        _aside(export, f"{category} (not a virtualMachines resource)")
        return
    if block is None:
        raise InputError(f"unit {unit[:40]!r} is not an hours unit (expected '1 Hour', "
                         f"'10 Hours', 'Hours')", source=src, record=n, field=cols["unit"])
    day = _day(rec.get(cols["date"]), src, n, cols["date"])
    quantity = _number(rec.get(cols["quantity"]), src, n, cols["quantity"])
    cost = _optional_number(rec, cols, "cost", src, n)
    if export.currency is None:
        export.currency = _text(rec, cols, "currency") or None
    export.rows.append(CostRow(
        record=n,
        resource_id=rid,
        key=resource_key(rid),
        date=day,
        hours=quantity * block,
        meter=_text(rec, cols, "meter"),
        cost=cost,
        effective_cost=_optional_number(rec, cols, "effective_cost", src, n),
        pricing=_pricing(_text(rec, cols, "pricing"), _text(rec, cols, "commitment")),
        name=_text(rec, cols, "name") or None,
    ))


def _number(value: Any, src: str, n: int, col: str) -> float:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int | float):
        x = float(value)
    else:
        text = (value or "").strip() if isinstance(value, str) else ""
        try:
            x = float(text.replace(",", "")) if text else math.nan
        except ValueError:
            x = math.nan
        if not text:
            raise InputError("no value: expected a number", source=src, record=n, field=col)
    if not math.isfinite(x):
        raise InputError(f"not a finite number: {str(value)[:40]!r}", source=src, record=n,
                         field=col)
    return x


def _optional_number(
    rec: Mapping[str, Any], cols: Mapping[str, str], key: str, src: str, n: int
) -> float | None:
    col = cols.get(key)
    if col is None:
        return None
    value = rec.get(col)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _number(value, src, n, col)


def _day(value: Any, src: str, n: int, col: str) -> str:
    """The UTC day of a date cell: ``MM/DD/YYYY`` (optionally with a time), ISO 8601 date or
    time (a time with an offset is converted to UTC)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InputError("no date", source=src, record=n, field=col)
    try:
        m = _US_DATE.match(text)
        if m:
            return datetime(int(m.group(3)), int(m.group(1)), int(m.group(2))).date().isoformat()
        m = _ISO_DAY.match(text)
        if m:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3))).date().isoformat()
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        dt = datetime.fromisoformat(iso)
    except (ValueError, OverflowError):
        raise InputError(f"not a date: {text[:40]!r} (expected MM/DD/YYYY or ISO 8601)",
                         source=src, record=n, field=col) from None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.date().isoformat()


def _pricing(model: str, commitment: str) -> str:
    """One word for how the hours were priced (EA/MCA ``PricingModel``, FOCUS
    ``PricingCategory`` with ``CommitmentDiscountType``)."""
    word = model.strip().lower().replace("-", " ").replace("_", " ")
    kind = commitment.strip().lower()
    if word in ("", "on demand", "ondemand", "standard"):
        return "on_demand"
    if word in ("spot", "dynamic"):
        return "spot"
    if word == "reservation" or "reserv" in kind:
        return "reservation"
    if word in ("savingsplan", "savings plan") or "saving" in kind:
        return "savings_plan"
    if word in ("committed", "commitment based"):
        return "commitment"
    return word
