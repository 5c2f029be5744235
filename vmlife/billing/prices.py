"""Hourly prices per cost component, per VM size, OS, priority and region; managed disk prices.

Azure prices VMs per hour (``unitOfMeasure`` "1 Hour" in the Retail Prices API,
learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices) and prices
differ by region (``armRegionName``). A Windows meter includes the licence: vmlife splits it
as ``license = windows - linux`` of the same size, region and priority. Spot and Low Priority
meters are their own rows (``meterName`` / ``skuName`` ending " Spot" / " Low Priority").

Managed disks bill a monthly price per size tier (``unitOfMeasure`` "1/Month"): Premium SSD
``P``, Standard SSD ``E`` and Standard HDD ``S`` tiers, the smallest tier at least as large
as the disk (tier sizes from Azure's "Select a disk type" page, disks-types.md, and the
managed disks pricing page). The monthly price is spread over the hours of each calendar
month (a disk that exists all of March bills the whole monthly price over 744 hours; over
February's 672), and goes to the ``other`` component. Ultra Disks and Premium SSD v2 are
priced by provisioned capacity, IOPS and throughput, which vmlife does not model: such disks
are named in the bill's notes and not priced.

Accepted inputs (:func:`load_prices` detects which):

* CSV with a header ``sku,os,compute,license,other,currency`` (``priority``: ``regular``,
  ``spot``, ``low_priority``; ``region``: e.g. ``westeurope``, optional);
* JSON ``{"currency": "USD", "prices": [{"sku": ..., "os": ..., "compute": ..., "region":
  ...}], "disks": [{"tier": "P10 LRS", "region": ..., "monthly": ...}]}``;
* Azure Retail Prices API responses: one page (``{"Items": [...], "NextPageLink": ...}``),
  several pages one after another or as a JSON array, a bare list of items, or a folder of
  such files (read in name order). Only ``type`` ``Consumption`` (pay-as-you-go) is read:
  ``Reservation``, ``DevTestConsumption`` and other offers are ignored and counted, as are
  meters that are neither hourly VM meters nor monthly managed disk meters (see
  :attr:`PriceTable.ignored`).

A row without a region applies to every region. Looking a price up without a region (a
simulated VM, ``whatif``) uses the table's default region: ``eastus`` when the table has it,
else its first region (vmlife's choice).
"""

from __future__ import annotations

import calendar
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import InputError, UnknownNameError

__all__ = [
    "DISK_TIERS",
    "SAMPLE_PRICES",
    "DiskPrice",
    "MissingPriceError",
    "Price",
    "PriceTable",
    "disk_tier",
    "load_prices",
    "month_fraction",
    "prices_from_retail_items",
]

OSES = ("linux", "windows")
PRIORITIES = ("regular", "spot", "low_priority")

#: Managed disk tiers: number -> size in GiB (Premium SSD P1-P80, Standard SSD E1-E80,
#: Standard HDD S4-S80; Azure "Select a disk type", disks-types.md).
DISK_TIERS: tuple[tuple[int, int], ...] = (
    (1, 4), (2, 8), (3, 16), (4, 32), (6, 64), (10, 128), (15, 256), (20, 512), (30, 1024),
    (40, 2048), (50, 4096), (60, 8192), (70, 16384), (80, 32767),
)
#: storageAccountType (lower case) -> (tier letter, redundancy).
DISK_FAMILIES = {
    "premium_lrs": ("P", "LRS"),
    "premium_zrs": ("P", "ZRS"),
    "standardssd_lrs": ("E", "LRS"),
    "standardssd_zrs": ("E", "ZRS"),
    "standard_lrs": ("S", "LRS"),
}
_DISK_PRODUCTS = ("premium ssd managed disks", "standard ssd managed disks",
                  "standard hdd managed disks")
_DISK_SKU = re.compile(r"([PES])(\d{1,2})\s+(LRS|ZRS)", re.IGNORECASE)
#: The region a lookup without one uses, when the table has it.
DEFAULT_REGION = "eastus"


@dataclass(frozen=True)
class Price:
    """Hourly prices of one VM size, OS, priority and region, per component.

    Attributes:
        other_monthly: a monthly amount (the VM's managed disks) added to ``other``, spread
            over the hours of each month (see :func:`month_fraction`).
    """

    sku: str
    os: str
    compute: float
    license: float
    other: float
    currency: str
    priority: str = "regular"
    region: str = ""
    other_monthly: float = 0.0

    def per_hour(self, component: str) -> float:
        """The hourly price of ``compute``, ``license`` or ``other`` (without monthly parts)."""
        return float(getattr(self, component))


@dataclass(frozen=True)
class DiskPrice:
    """The monthly price of one managed disk tier (``"P10 LRS"``) in one region."""

    tier: str
    region: str
    monthly: float
    currency: str


class MissingPriceError(UnknownNameError):
    """No price row for a VM: names the VM, size, region, OS and priority, and lists the
    table's closest rows."""

    def __init__(self, vm: str | None, sku: str, region: str, os: str, priority: str,
                 close: Sequence[str]) -> None:
        self.kind = "price for"
        self.name = f"{sku}/{os}/{priority}/{region}"
        self.choices = list(close)
        who = f"VM {vm!r}: " if vm else ""
        shown = "; ".join(close) if close else "(the table is empty)"
        Exception.__init__(
            self,
            f"no price for {who}size {sku}, region {region or '(any)'}, OS {os}, priority "
            f"{priority}; closest rows in the table (sku/os/priority/region): {shown}. "
            "Give a price file that has this row (--prices).",
        )


def disk_tier(storage_type: str | None, size_gb: float | None) -> str | None:
    """The billing tier of a managed disk, e.g. ``("Premium_LRS", 100) -> "P10 LRS"``.

    None for a type vmlife does not price by tier (Ultra, Premium SSD v2, unmanaged) or an
    unknown size. Standard HDD starts at S4 (32 GiB).
    """
    if storage_type is None or size_gb is None:
        return None
    family = DISK_FAMILIES.get(storage_type.strip().lower())
    if family is None:
        return None
    letter, red = family
    for number, cap in DISK_TIERS:
        if letter == "S" and number < 4:
            continue
        if size_gb <= cap:
            return f"{letter}{number} {red}"
    return None


def month_fraction(start: float, end: float) -> float:
    """How many months ``[start, end)`` (epoch seconds) covers, each calendar month (UTC)
    counting its own length: a whole March is 1.0, as is a whole February.

    Example:
        >>> month_fraction(1709251200, 1709251200 + 744 * 3600)   # all of March 2024
        1.0
    """
    if end <= start:
        return 0.0
    total = 0.0
    t = start
    while t < end:
        d = datetime.fromtimestamp(t, tz=timezone.utc)
        first = datetime(d.year, d.month, 1, tzinfo=timezone.utc).timestamp()
        days = calendar.monthrange(d.year, d.month)[1]
        nxt = first + days * 86400
        total += (min(end, nxt) - t) / (days * 86400)
        t = nxt
    return total


class PriceTable:
    """A set of :class:`Price` rows (and :class:`DiskPrice` rows) in one currency.

    Args:
        prices: the VM rows.
        source: where they come from (a file name, or a citation).
        date: when they were valid, if known.
        sample: True for vmlife's own illustrative table.
        disks: managed disk tier prices.
        ignored: what was read and left out, by reason (e.g. ``{"type Reservation": 3}``).
        notes: what a reader should know about the table.

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
        disks: Iterable[DiskPrice] = (),
        ignored: Mapping[str, int] | None = None,
        notes: Iterable[str] = (),
    ) -> None:
        self.rows: dict[tuple[str, str, str, str], Price] = {}
        self.disks: dict[tuple[str, str], DiskPrice] = {}
        self.source = source
        self.date = date
        self.sample = sample
        self.ignored: dict[str, int] = dict(ignored or {})
        self.notes: list[str] = list(notes)
        for i, p in enumerate(prices, start=1):
            for comp in ("compute", "license", "other", "other_monthly"):
                value = float(getattr(p, comp))
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
            self.rows[(p.sku.lower(), p.os, p.priority, p.region.lower())] = p
        for d in disks:
            if not math.isfinite(d.monthly) or d.monthly < 0:
                raise InputError(f"disk price must be a non-negative number, got {d.monthly!r}",
                                 source=source, field="monthly")
            self.disks[(d.region.lower(), d.tier.upper())] = d
        currencies = sorted({p.currency for p in self.rows.values()}
                            | {d.currency for d in self.disks.values()})
        if len(currencies) > 1:
            raise InputError(
                f"prices mix currencies ({', '.join(currencies)}); give one currency per table",
                source=source,
                field="currency",
            )
        self.currency = currencies[0] if currencies else "USD"
        regions = [r for r in dict.fromkeys(k[3] for k in self.rows) if r]
        self.regions: tuple[str, ...] = tuple(regions)
        self.default_region = DEFAULT_REGION if DEFAULT_REGION in regions or not regions \
            else regions[0]

    def lookup(self, sku: str, os: str = "linux", priority: str = "regular",
               region: str | None = None, *, vm: str | None = None) -> Price:
        """The price row for a size, OS, priority and region (default: the default region).

        A row without a region matches any region.

        Raises:
            MissingPriceError: naming the VM (when given), size, region, OS and priority, and
                listing the closest rows the table has.
        """
        reg = (region or self.default_region).replace(" ", "").lower()
        key = (sku.lower(), os.lower(), priority.lower().replace(" ", "_"), reg)
        row = self.rows.get(key) or self.rows.get((*key[:3], ""))
        if row is None:
            raise MissingPriceError(vm, sku, reg, key[1], key[2], self.closest(*key))
        return row

    def closest(self, sku: str, os: str, priority: str, region: str,
                limit: int = 6) -> list[str]:
        """The rows most like a wanted one (same size first, then region, OS, priority)."""

        def score(k: tuple[str, str, str, str]) -> tuple[int, ...]:
            return (k[0] != sku, k[3] not in (region, ""), k[1] != os, k[2] != priority)

        keys = sorted(self.rows, key=lambda k: (score(k), k))
        out = []
        for k in keys[:limit]:
            p = self.rows[k]
            out.append(f"{p.sku}/{p.os}/{p.priority}/{p.region or '(any)'}")
        return out

    def disk_price(self, tier: str, region: str | None = None) -> DiskPrice | None:
        """The monthly price of a disk tier (``"P10 LRS"``) in a region, if the table has it."""
        reg = (region or self.default_region).lower()
        return self.disks.get((reg, tier.upper())) or self.disks.get(("", tier.upper()))

    def price_for(
        self,
        attributes: Mapping[str, Any],
        *,
        vm: str | None = None,
        sku: str | None = None,
        os: str | None = None,
        priority: str | None = None,
        region: str | None = None,
    ) -> tuple[Price, list[str]]:
        """The price of a VM from its attributes (``size``, ``os``, ``priority``, ``region``,
        ``disks`` as :meth:`vmlife.io.inventory.VMInfo.attributes` gives them), arguments
        overriding them; its disks' monthly prices are in ``other_monthly``.

        Returns:
            The price and notes on disks that could not be priced.

        Raises:
            MissingPriceError: no row for the VM's size, OS, priority and region.
        """
        reg = region or _str(attributes.get("region")) or None
        price = self.lookup(
            sku or _str(attributes.get("size")) or _str(attributes.get("sku"))
            or "Standard_D2s_v5",
            (os or _str(attributes.get("os")) or "linux").lower(),
            priority or _str(attributes.get("priority")) or "regular",
            reg,
            vm=vm,
        )
        notes: list[str] = []
        monthly = 0.0
        disks = attributes.get("disks") or ()
        for d in disks if isinstance(disks, list | tuple) else ():
            if not isinstance(d, Mapping):
                continue
            dtype, size = d.get("type"), d.get("size_gb")
            label = f"{vm or 'VM'}: disk {d.get('name') or d.get('role') or '?'}"
            tier = disk_tier(dtype if isinstance(dtype, str) else None,
                             float(size) if isinstance(size, int | float) else None)
            if tier is None:
                why = ("unmanaged or of unknown type" if not dtype else
                       "of unknown size" if size is None else
                       f"{dtype}, which vmlife does not price by tier")
                notes.append(f"{label} is {why}; not priced")
                continue
            dp = self.disk_price(tier, reg)
            if dp is None:
                notes.append(f"{label} ({tier}, {reg or self.default_region}) has no price in "
                             "the table; not priced")
                continue
            monthly += dp.monthly
        if monthly:
            price = replace(price, other_monthly=price.other_monthly + monthly)
        return price, notes

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        kind = "sample " if self.sample else ""
        return (f"<{kind}PriceTable {len(self)} VM rows, {len(self.disks)} disk rows in "
                f"{self.currency} from {self.source}>")


def _str(value: Any) -> str:
    return str(value).strip() if value not in (None, "") else ""


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
        region = row.get("region")
        if region not in (None, "") and not isinstance(region, str):
            raise InputError("expected a region name as text", source=source, record=i,
                             field="region")
        out.append(
            Price(
                _text(row.get("sku"), source, i, "sku"),
                os_name,
                _num(row.get("compute"), source, i, "compute"),
                _num(lic, source, i, "license"),
                _num(0.0 if other in (None, "") else other, source, i, "other"),
                _text(row.get("currency") or default_currency, source, i, "currency"),
                str(row.get("priority") or "regular").lower(),
                (region or "").replace(" ", "").lower(),
            )
        )
    return out


def _disks_from_mappings(rows: Any, source: str, currency: str | None) -> list[DiskPrice]:
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise InputError("expected a list of disk prices", source=source, field="disks")
    out = []
    for i, row in enumerate(rows, start=1):
        where = f"disks {i}"
        if not isinstance(row, Mapping):
            raise InputError("expected an object", source=source, record=where)
        tier = _text(row.get("tier"), source, where, "tier")
        if not _DISK_SKU.fullmatch(tier):
            raise InputError(f"expected a tier such as 'P10 LRS', got {tier[:40]!r}",
                             source=source, record=where, field="tier")
        region = row.get("region") or ""
        if not isinstance(region, str):
            raise InputError("expected text", source=source, record=where, field="region")
        out.append(DiskPrice(tier.upper(), region.lower(),
                             _num(row.get("monthly"), source, where, "monthly"),
                             _text(row.get("currency") or currency, source, where, "currency")))
    return out


def prices_from_retail_items(
    items: Iterable[Any], source: str = "<data>", *,
    where: Iterable[Any] | None = None,
) -> PriceTable:
    """Build a table from Azure Retail Prices API items.

    Read: ``type`` ``Consumption`` items that are hourly VM meters (``serviceName`` "Virtual
    Machines", ``productName`` starting "Virtual Machines", ``unitOfMeasure`` "1 Hour") or
    monthly managed disk meters (``productName`` "Premium SSD Managed Disks", "Standard SSD
    Managed Disks" or "Standard HDD Managed Disks", ``skuName`` such as "P10 LRS", a
    ``meterName`` ending "Disk" or "Disks", ``unitOfMeasure`` "1/Month"). Every other item is
    ignored and counted by reason in :attr:`PriceTable.ignored`. The licence is the Windows
    meter minus the Linux meter of the same size, region and priority; a Windows meter with no
    Linux meter beside it is left out and noted.

    Args:
        items: the items.
        source: the name messages use.
        where: the record name of each item for messages (default: 1, 2, ...).

    Raises:
        InputError: a read item with a missing or mistyped field (naming the record), or no
            hourly Linux VM meter at all.
    """
    linux: dict[tuple[str, str, str], tuple[float, str, str]] = {}
    windows: dict[tuple[str, str, str], tuple[float, str, str]] = {}
    disks: list[DiskPrice] = []
    ignored: Counter[str] = Counter()
    for i, item in zip(where or itertools.count(1), items, strict=False):
        if not isinstance(item, Mapping):
            raise InputError("expected an object", source=source, record=i)
        kind = item.get("type", "Consumption")
        if kind != "Consumption":
            ignored[f"type {kind}"] += 1
            continue
        unit = str(item.get("unitOfMeasure", "")).strip().lower()
        product = str(item.get("productName", "")).strip()
        service = item.get("serviceName")
        region = item.get("armRegionName") or ""
        if not isinstance(region, str):
            raise InputError("expected text", source=source, record=i, field="armRegionName")
        region = region.strip().lower()
        if unit == "1 hour" and product.lower().startswith("virtual machines") and \
                service in (None, "Virtual Machines"):
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
            bucket = windows if product.lower().endswith("windows") else linux
            bucket[(sku, priority, region)] = (price, currency, sku)
            continue
        sku_name = str(item.get("skuName", "")).strip()
        meter_name = str(item.get("meterName", "")).strip().lower()
        tier = _DISK_SKU.fullmatch(sku_name)
        if unit == "1/month" and product.lower() in _DISK_PRODUCTS and tier is not None and \
                meter_name.endswith(("disk", "disks")):
            price = _num(item.get("retailPrice"), source, i, "retailPrice")
            if price < 0:
                raise InputError("price must not be negative", source=source, record=i,
                                 field="retailPrice")
            currency = _text(item.get("currencyCode", "USD"), source, i, "currencyCode")
            name = f"{tier.group(1).upper()}{int(tier.group(2))} {tier.group(3).upper()}"
            disks.append(DiskPrice(name, region, price, currency))
            continue
        ignored["not an hourly VM meter or a monthly managed disk meter"] += 1
    rows = []
    for (sku, priority, region), (lp, cur, _) in sorted(linux.items()):
        rows.append(Price(sku, "linux", lp, 0.0, 0.0, cur, priority, region))
        if (sku, priority, region) in windows:
            wp, wcur, _ = windows[(sku, priority, region)]
            rows.append(Price(sku, "windows", lp, max(wp - lp, 0.0), 0.0, wcur, priority,
                              region))
    notes = [
        f"{sku} {priority} in {region or '(no region)'}: a Windows meter without a Linux meter "
        "of the same size, region and priority; the licence cannot be split, so it is left out"
        for (sku, priority, region) in sorted(set(windows) - set(linux))
    ]
    if not rows:
        raise InputError("no hourly Linux VM meters (unitOfMeasure '1 Hour', type "
                         "'Consumption') found", source=source)
    return PriceTable(rows, source=source, disks=disks, ignored=dict(ignored), notes=notes)


def _retail_items(docs: list[Any], name: str) -> tuple[list[Any], list[str]] | None:
    """The items of Retail Prices API documents (pages, lists of pages, lists of items) and a
    record name for each; None when the documents are not Retail Prices API output."""
    items: list[Any] = []
    where: list[str] = []
    multi = len(docs) > 1

    def add(page: Any, prefix: str) -> bool:
        rows = page.get("Items") if isinstance(page, Mapping) else page
        if not isinstance(rows, list):
            return False
        if rows and not (isinstance(rows[0], Mapping) and "retailPrice" in rows[0]):
            return False
        items.extend(rows)
        where.extend(f"{prefix}item {i}" for i in range(1, len(rows) + 1))
        return isinstance(page, Mapping) or bool(rows)

    for d, doc in enumerate(docs, start=1):
        prefix = f"page {d}, " if multi else ""
        if isinstance(doc, list) and doc and isinstance(doc[0], Mapping) and "Items" in doc[0]:
            for p, page in enumerate(doc, start=1):
                if not add(page, f"{prefix}page {p}, "):
                    return None
        elif not add(doc, prefix):
            return None
    return items, where


def load_prices(path: str | Path) -> PriceTable:
    """Read a price file or a folder of Retail Prices API pages (see the module doc).

    Encodings and size bounds are those of :mod:`vmlife.io.source`. Records are numbered from
    1: the N-th item of a JSON list, the N-th data row of a CSV file (``page P, item N`` when
    there are several pages).

    Raises:
        InputError: naming the file, the record and the field at fault.
    """
    from ..io.source import csv_records, loads_many, read_text

    p = Path(str(path))
    if str(path) != "-" and p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() == ".json" and f.is_file())
        if not files:
            raise InputError("a price folder must hold Retail Prices API pages (*.json)",
                             source=str(path))
        items: list[Any] = []
        where: list[str] = []
        for f in files:
            text = read_text(f)
            got = _retail_items(loads_many(text.text, name=text.name), text.name)
            if got is None:
                raise InputError("expected Retail Prices API pages ({'Items': [...]}) in a "
                                 "price folder", source=text.name)
            items.extend(got[0])
            where.extend(f"{f.name}, {w}" for w in got[1])
        return prices_from_retail_items(items, str(path), where=where)
    text = read_text(path)
    name = text.name
    stripped = text.text.lstrip()
    if not stripped:
        raise InputError("empty: expected a CSV or JSON price file", source=name)
    if stripped.startswith(("{", "[")) or p.suffix.lower() == ".json":
        docs = loads_many(text.text, name=name)
        got = _retail_items(docs, name)
        if got is not None and got[0]:
            return prices_from_retail_items(got[0], name, where=got[1] if len(docs) > 1
                                            or _paged(docs) else None)
        data = docs[0]
        if len(docs) == 1 and isinstance(data, Mapping) and isinstance(data.get("prices"), list):
            cur = data.get("currency")
            rows = _rows_from_mappings(data["prices"], name, cur if isinstance(cur, str) else None)
            date = data.get("date")
            return PriceTable(rows, source=name, date=date if isinstance(date, str) else None,
                              disks=_disks_from_mappings(data.get("disks"), name,
                                                         cur if isinstance(cur, str) else None))
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
            "sku,os,compute,license,other,currency[,priority][,region]",
            source=name, record="header",
        )
    assert first is not None
    numbered = [first, *records]
    prices = _rows_from_mappings([r for _, r in numbered], name, None, [n for n, _ in numbered])
    return PriceTable(prices, source=name)


def _paged(docs: list[Any]) -> bool:
    return bool(docs) and isinstance(docs[0], list) and bool(docs[0]) and \
        isinstance(docs[0][0], Mapping) and "Items" in docs[0][0]


def _sample() -> PriceTable:
    from importlib import resources

    from ..io.source import loads

    ref = resources.files("vmlife") / "data" / "sample_prices.json"
    doc = loads(ref.read_text(encoding="utf-8"), name="sample_prices.json")
    table = prices_from_retail_items(doc["Items"], SAMPLE_SOURCE)
    table.date = doc.get("vmlifeSample", {}).get("date")
    table.sample = True
    return table


#: How the sample is labelled wherever it is used.
SAMPLE_SOURCE = (
    "vmlife sample prices: a small, hand-picked sample in the shape of Azure Retail Prices API "
    "items (prices.azure.com/api/retail/prices), pay-as-you-go USD, eastus and westeurope, "
    "mid-2024 orders of magnitude; illustrative, not current prices"
)

#: vmlife's illustrative sample, **not current prices** (``vmlife/data/sample_prices.json``):
#: Retail Prices API items for Standard_B2s, Standard_D2s_v5, Standard_D4s_v5 and
#: Standard_D8s_v5 in eastus and westeurope, Linux and Windows, regular and Spot (B-series
#: has no Spot meter), and Premium SSD (P), Standard SSD (E) and Standard HDD (S) LRS disk
#: tiers 4-30 in both regions. Reservation and DevTest items in the file are ignored, as for
#: any Retail Prices API file. Give your own for real costs.
SAMPLE_PRICES = _sample()
