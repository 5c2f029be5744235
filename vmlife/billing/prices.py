"""Hourly prices per cost component, per VM size, OS and priority.

Azure prices VMs per hour (``unitOfMeasure`` "1 Hour" in the Retail Prices API). A Windows
meter includes the licence: vmlife splits it as ``license = windows - linux`` for the same size,
region and priority. Disks, IPs and networking (``other``) have meters of their own; put their
hourly total in the ``other`` column of your price file.

Accepted inputs (:func:`load_prices` detects which):

* CSV with a header ``sku,os,compute,license,other,currency`` (``priority`` optional:
  ``regular``, ``spot``, ``low_priority``);
* JSON ``{"currency": "USD", "prices": [{"sku": ..., "os": ..., "compute": ..., ...}]}``;
* Azure Retail Prices API responses (``{"Items": [...]}`` or a list of items) with
  ``armSkuName``, ``retailPrice``, ``unitOfMeasure``, ``productName`` (ending in "Windows" for
  the licence-inclusive meter), ``meterName`` / ``skuName`` (containing "Spot" or
  "Low Priority" for those meters) and ``currencyCode``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, UnknownNameError

__all__ = ["SAMPLE_PRICES", "Price", "PriceTable", "load_prices"]

OSES = ("linux", "windows")
PRIORITIES = ("regular", "spot", "low_priority")


@dataclass(frozen=True)
class Price:
    """Hourly prices of one VM size, OS and priority, per component."""

    sku: str
    os: str
    compute: float
    license: float
    other: float
    currency: str
    priority: str = "regular"

    def per_hour(self, component: str) -> float:
        """The hourly price of ``compute``, ``license`` or ``other``."""
        return float(getattr(self, component))


class PriceTable:
    """A set of :class:`Price` rows in one currency.

    Args:
        prices: the rows.
        source: where they come from (a file name, or a citation).
        date: when they were valid, if known.
        sample: True for vmlife's own illustrative table.

    Raises:
        InputError: rows in more than one currency, or a negative or missing price.
    """

    def __init__(
        self,
        prices: Iterable[Price],
        *,
        source: str = "<data>",
        date: str | None = None,
        sample: bool = False,
    ) -> None:
        self.rows: dict[tuple[str, str, str], Price] = {}
        self.source = source
        self.date = date
        self.sample = sample
        for i, p in enumerate(prices, start=1):
            for comp in ("compute", "license", "other"):
                value = p.per_hour(comp)
                if not math.isfinite(value) or value < 0:
                    raise InputError(
                        f"price must be a non-negative number, got {value!r}",
                        source=source,
                        record=i,
                        field=comp,
                    )
            if p.os not in OSES:
                raise InputError(f"os must be one of {', '.join(OSES)}, got {p.os!r}",
                                 source=source, record=i, field="os")
            if p.priority not in PRIORITIES:
                raise InputError(
                    f"priority must be one of {', '.join(PRIORITIES)}, got {p.priority!r}",
                    source=source, record=i, field="priority",
                )
            self.rows[(p.sku.lower(), p.os, p.priority)] = p
        currencies = sorted({p.currency for p in self.rows.values()})
        if len(currencies) > 1:
            raise InputError(
                f"prices mix currencies ({', '.join(currencies)}); give one currency per table",
                source=source,
                field="currency",
            )
        self.currency = currencies[0] if currencies else "USD"

    def lookup(self, sku: str, os: str = "linux", priority: str = "regular") -> Price:
        """The price row for a size, OS and priority.

        Raises:
            UnknownNameError: listing the ``sku/os/priority`` combinations the table has.
        """
        key = (sku.lower(), os.lower(), priority.lower().replace(" ", "_"))
        try:
            return self.rows[key]
        except KeyError:
            raise UnknownNameError(
                "price for",
                f"{sku}/{os}/{priority}",
                (f"{p.sku}/{p.os}/{p.priority}" for p in self.rows.values()),
            ) from None

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        kind = "sample " if self.sample else ""
        return f"<{kind}PriceTable {len(self)} rows in {self.currency} from {self.source}>"


#: vmlife's illustrative sample, **not current prices**: pay-as-you-go, East US, the order of
#: magnitude the Azure Retail Prices API listed for these sizes in 2024 (Standard_D2s_v5:
#: Linux 0.096/h, Windows 0.188/h, so the licence is 0.092/h). ``other`` is 0: disks and
#: networking have their own meters; add yours in a price file.
SAMPLE_PRICES = PriceTable(
    [
        Price("Standard_D2s_v5", "linux", 0.096, 0.0, 0.0, "USD"),
        Price("Standard_D2s_v5", "windows", 0.096, 0.092, 0.0, "USD"),
        Price("Standard_D4s_v5", "linux", 0.192, 0.0, 0.0, "USD"),
        Price("Standard_D4s_v5", "windows", 0.192, 0.184, 0.0, "USD"),
    ],
    source="vmlife sample prices (illustrative, East US pay-as-you-go, 2024; not current)",
    date="2024",
    sample=True,
)


def _num(value: Any, source: str, record: Any, field: str) -> float:
    if value is None or value == "":
        raise InputError("missing price", source=source, record=record, field=field)
    if isinstance(value, bool):
        raise InputError(f"not a number: {value!r}", source=source, record=record, field=field)
    if isinstance(value, str) and len(value.strip()) > 100:
        raise InputError(f"not a price: a number of {len(value.strip())} characters",
                         source=source, record=record, field=field)
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"not a number: {str(value)[:40]!r}", source=source, record=record,
                         field=field) from None
    if not math.isfinite(number):
        raise InputError(f"not a finite number: {str(value)[:40]!r}", source=source,
                         record=record, field=field)
    return number


def _text(value: Any, source: str, record: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("missing or not text", source=source, record=record, field=field)
    return value.strip()


def _rows_from_mappings(
    rows: Iterable[Mapping[str, Any]],
    source: str,
    default_currency: str | None,
    numbers: Iterable[int] | None = None,
) -> list[Price]:
    out = []
    for i, row in zip(numbers or itertools.count(1), rows, strict=False):
        if not isinstance(row, Mapping):
            raise InputError("expected an object", source=source, record=i)
        os_name = _text(row.get("os"), source, i, "os").lower()
        lic = row.get("license")
        if lic in (None, "") and os_name == "linux":
            lic = 0.0  # Linux carries no licence; Windows must say its licence price
        other = row.get("other")
        out.append(
            Price(
                _text(row.get("sku"), source, i, "sku"),
                os_name,
                _num(row.get("compute"), source, i, "compute"),
                _num(lic, source, i, "license"),
                _num(0.0 if other in (None, "") else other, source, i, "other"),
                _text(row.get("currency") or default_currency, source, i, "currency"),
                str(row.get("priority") or "regular").lower(),
            )
        )
    return out


def prices_from_retail_items(
    items: Iterable[Mapping[str, Any]], source: str = "<data>"
) -> PriceTable:
    """Build a table from Azure Retail Prices API items (hourly consumption meters only).

    Items that are not hourly consumption VM meters (reservations, other units) are skipped.
    The licence is the Windows meter minus the Linux meter of the same size and priority.
    """
    linux: dict[tuple[str, str], tuple[float, str]] = {}
    windows: dict[tuple[str, str], tuple[float, str]] = {}
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise InputError("expected an object", source=source, record=i)
        if item.get("type", "Consumption") != "Consumption":
            continue
        if str(item.get("unitOfMeasure", "")).strip().lower() != "1 hour":
            continue
        sku = _text(item.get("armSkuName"), source, i, "armSkuName")
        price = _num(item.get("retailPrice"), source, i, "retailPrice")
        if price < 0:
            raise InputError("price must not be negative", source=source, record=i,
                             field="retailPrice")
        currency = _text(item.get("currencyCode", "USD"), source, i, "currencyCode")
        meter = f"{item.get('meterName', '')} {item.get('skuName', '')}".lower()
        priority = "regular"
        if "spot" in meter:
            priority = "spot"
        elif "low priority" in meter:
            priority = "low_priority"
        product = str(item.get("productName", "")).strip().lower()
        bucket = windows if product.endswith("windows") else linux
        bucket[(sku, priority)] = (price, currency)
    rows = []
    for (sku, priority), (lp, cur) in sorted(linux.items()):
        rows.append(Price(sku, "linux", lp, 0.0, 0.0, cur, priority))
        if (sku, priority) in windows:
            wp, wcur = windows[(sku, priority)]
            rows.append(Price(sku, "windows", lp, max(wp - lp, 0.0), 0.0, wcur, priority))
    if not rows:
        raise InputError("no hourly Linux VM meters (unitOfMeasure '1 Hour') found", source=source)
    return PriceTable(rows, source=source)


def load_prices(path: str | Path) -> PriceTable:
    """Read a price file: CSV, vmlife JSON, or Retail Prices API JSON (see the module doc).

    Encodings and size bounds are those of :mod:`vmlife.io.source`. Records are numbered from
    1: the N-th item of a JSON list, the N-th data row of a CSV file.

    Raises:
        InputError: naming the file, the record and the field at fault.
    """
    from ..io.source import csv_records, loads, read_text

    text = read_text(path)
    name = text.name
    stripped = text.text.lstrip()
    if not stripped:
        raise InputError("empty: expected a CSV or JSON price file", source=name)
    if stripped.startswith(("{", "[")) or Path(str(path)).suffix.lower() == ".json":
        data = loads(text.text, name=name)
        items = data.get("Items") if isinstance(data, Mapping) else data
        if isinstance(items, list) and items and isinstance(items[0], Mapping) and (
            "retailPrice" in items[0]
        ):
            return prices_from_retail_items(items, name)
        if isinstance(data, Mapping) and isinstance(data.get("prices"), list):
            rows = _rows_from_mappings(data["prices"], name, data.get("currency"))
            date = data.get("date")
            return PriceTable(rows, source=name, date=date if isinstance(date, str) else None)
        raise InputError(
            "expected {'prices': [...]} or Retail Prices API items ({'Items': [...]})", source=name
        )
    records = csv_records(text)
    first = next(records, None)
    header = set(first[1]) if first is not None else set()
    need = {"sku", "os", "compute", "currency"}
    missing = need - header
    if missing:
        raise InputError(
            f"CSV header lacks {', '.join(sorted(missing))}; expected "
            "sku,os,compute,license,other,currency[,priority]",
            source=name, record="header",
        )
    assert first is not None
    numbered = [first, *records]
    prices = _rows_from_mappings([r for _, r in numbered], name, None, [n for n, _ in numbered])
    return PriceTable(prices, source=name)
