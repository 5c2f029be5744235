"""The meter: turn timelines into billed runs, seconds and costs per VM and component.

How a bill is computed (the rounding rule):

1. Each step of a VM's timeline is clipped to the billing period ``[start, end)``.
2. Under the chosen :class:`~vmlife.billing.editions.Edition`, each step's composite state
   bills a set of components (see :func:`billed_components`); ``other`` (disks, networking)
   bills whenever the VM exists.
3. For each component, adjacent billed steps merge into **continuous runs**.
4. Each run's length is **floored to the granularity**: ``minute`` (the default, as Azure's
   per-full-minute FAQ says: 6 min 45 s bills 6 min), ``second``, or ``hour``. Flooring per run
   means a run shorter than the unit bills nothing.
5. Cost = billed hours x the hourly price of that component for the VM's size, OS, priority
   and region; for ``other``, plus the VM's managed disks' monthly prices times the share of
   each calendar month the run covers (:func:`~vmlife.billing.prices.month_fraction`).

What a VM is (size, OS, licence, region, priority, disks) comes from its timeline's attributes,
which an inventory (:mod:`vmlife.io.inventory`, ``inventory=``) fills in by resource id. A VM
the inventory does not list is priced by :data:`FALLBACK` and listed in
:attr:`Bill.not_in_inventory`.

Two kinds of step bill what an earlier step billed (vmlife's choices; Azure's documents are
silent on both):

* **An unknown reading.** A step of an existing VM with no power state, or ``PowerState/unknown``
  (a poll that could not read it), bills like the last step whose power state was known: the VM
  is taken to be as it last was, not billed as free. Such spans are listed per VM
  (:attr:`VMBill.unknown`) and noted in the bill. With no known state before, the step bills
  only ``other``, and the note says so.
* **A step of an operation that keeps the host** (:attr:`~vmlife.model.Operation.keeps_host`:
  a restart). The VM never leaves its host, so its phases (stopping, starting) bill what the
  state before the operation billed: a reboot is one continuous compute run under every
  edition, floored once, even where Starting is not billed.

A timeline whose last step is still open (the VM exists and nothing happened after) is billed
up to ``end`` when given, otherwise only up to its last change; the bill notes it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import UnknownNameError
from ..lifecycle import Lifecycle
from ..lifecycle import lifecycle as current_lifecycle
from ..model import VMState
from ..timeline import Step, Timeline
from ..timeutil import TimeLike, iso, to_epoch
from .editions import COMPONENTS, Edition
from .prices import SAMPLE_PRICES, Price, PriceTable, month_fraction

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..io.inventory import Inventory

__all__ = [
    "FALLBACK",
    "GRANULARITIES",
    "Bill",
    "BilledRun",
    "VMBill",
    "bill",
    "billed_components",
    "rule_states",
]

#: How a VM the inventory does not list is priced (vmlife's choice, stated in every such bill).
FALLBACK = (
    "priced from its own timeline attributes where it has them, else as a Linux "
    "Standard_D2s_v5, regular priority, in the price table's default region, without disks"
)

#: Seconds per billing unit.
GRANULARITIES: dict[str, int] = {"second": 1, "minute": 60, "hour": 3600}

FOCUS_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ResourceId",
    "ResourceName",
    "ServiceName",
    "ConsumedQuantity",
    "ConsumedUnit",
    "PricingQuantity",
    "PricingUnit",
    "x_CostComponent",
    "x_BillingEdition",
)


def billed_components(state: VMState, edition: Edition) -> frozenset[str]:
    """The components a composite state bills under an edition.

    The power state's rule decides ``compute`` and ``license``. States on other axes inherit
    it, except those in :attr:`~vmlife.billing.editions.Edition.overrides` (registered with
    ``BillingRules(mode="override")``, e.g. ``hibernation.hibernated``), whose rule replaces it
    while they hold. ``other`` bills whenever the VM exists. No VM, no bill.
    """
    if not state.exists:
        return frozenset()
    power = state.power
    comps = set(edition.rule_for(f"power.{power}").bills) if power is not None else set()
    if edition.overrides:
        for axis, sid in state.items():
            if axis != "power":
                key = f"{axis}.{sid}"
                if key in edition.overrides:
                    comps = set(edition.rule_for(key).bills)
    comps.add("other")
    return frozenset(comps)


@dataclass(frozen=True)
class BilledRun:
    """One continuous run of a billed component.

    Attributes:
        vm: the VM.
        component: ``compute``, ``license`` or ``other``.
        start, end: epoch seconds (end exclusive).
        seconds: the run's real length.
        billed_seconds: after flooring to the granularity.
        cost: billed hours x hourly price.
    """

    vm: str
    component: str
    start: float
    end: float
    seconds: float
    billed_seconds: float
    cost: float

    def as_record(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "component": self.component,
            "start": iso(self.start),
            "end": iso(self.end),
            "seconds": self.seconds,
            "billed_seconds": self.billed_seconds,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class UnknownSpan:
    """A span with no known power state, and what it was billed as.

    Attributes:
        start, end: epoch seconds, clipped to the billing period.
        billed_as: the last known power state, whose billing applied; None when none was
            known before (only ``other`` billed).
    """

    start: float
    end: float
    billed_as: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "seconds": self.end - self.start,
            "billed_as": self.billed_as,
        }


@dataclass
class VMBill:
    """The bill of one VM.

    Attributes:
        unknown: the spans whose power state was unknown (see the module doc).
    """

    vm: str
    price: Price
    runs: list[BilledRun] = field(default_factory=list)
    unknown: list[UnknownSpan] = field(default_factory=list)

    @property
    def billed_seconds(self) -> dict[str, float]:
        out: dict[str, float] = dict.fromkeys(COMPONENTS, 0.0)
        for r in self.runs:
            out[r.component] += r.billed_seconds
        return out

    @property
    def cost(self) -> dict[str, float]:
        out: dict[str, float] = dict.fromkeys(COMPONENTS, 0.0)
        for r in self.runs:
            out[r.component] += r.cost
        return {k: round(v, 6) for k, v in out.items()}

    @property
    def total_cost(self) -> float:
        return round(sum(self.cost.values()), 6)

    @property
    def unknown_hours(self) -> float:
        """Hours with no known power state (billed as the last known one)."""
        return sum(u.end - u.start for u in self.unknown) / 3600

    def as_dict(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "sku": self.price.sku,
            "os": self.price.os,
            "priority": self.price.priority,
            "region": self.price.region or None,
            "disks_monthly": self.price.other_monthly,
            "billed_seconds": self.billed_seconds,
            "billed_hours": {k: v / 3600 for k, v in self.billed_seconds.items()},
            "cost": self.cost,
            "total_cost": self.total_cost,
            "unknown_readings": [u.as_dict() for u in self.unknown],
            "unknown_hours": self.unknown_hours,
        }


@dataclass
class Bill:
    """A billing report: per VM and component, under one edition, in one currency."""

    edition: Edition
    currency: str
    granularity: str
    start: float | None
    end: float | None
    vms: list[VMBill]
    prices: PriceTable
    notes: list[str] = field(default_factory=list)
    #: the inventory's source when one was given
    inventory: str | None = None
    #: VMs the inventory does not list (priced by :data:`FALLBACK`)
    not_in_inventory: list[str] = field(default_factory=list)

    @property
    def runs(self) -> list[BilledRun]:
        return [r for v in self.vms for r in v.runs]

    @property
    def cost(self) -> dict[str, float]:
        out: dict[str, float] = dict.fromkeys(COMPONENTS, 0.0)
        for v in self.vms:
            for k, c in v.cost.items():
                out[k] += c
        return {k: round(c, 6) for k, c in out.items()}

    @property
    def total_cost(self) -> float:
        return round(sum(v.total_cost for v in self.vms), 6)

    def vm(self, name: str) -> VMBill:
        """The bill of one VM by name."""
        for v in self.vms:
            if v.vm == name:
                return v
        raise UnknownNameError("VM", name, (v.vm for v in self.vms))

    # ------------------------------------------------------------------ exports
    def to_dict(self) -> dict[str, Any]:
        """The ``vmlife bill --json`` object."""
        return {
            "edition": self.edition.id,
            "edition_title": self.edition.title,
            "edition_source": self.edition.source,
            "currency": self.currency,
            "granularity": self.granularity,
            "start": iso(self.start),
            "end": iso(self.end),
            "prices": self.prices.source,
            "sample_prices": self.prices.sample,
            "vms": [v.as_dict() for v in self.vms],
            "cost": self.cost,
            "total_cost": self.total_cost,
            "unknown_spans": sum(len(v.unknown) for v in self.vms),
            "unknown_hours": sum(v.unknown_hours for v in self.vms),
            "notes": list(self.notes),
            "inventory": self.inventory,
            "not_in_inventory": list(self.not_in_inventory),
            "fallback": FALLBACK if self.not_in_inventory else None,
        }

    def to_json(self, **kw: Any) -> str:
        kw.setdefault("indent", 2)
        return json.dumps(self.to_dict(), **kw)

    def to_records(self) -> list[dict[str, Any]]:
        """One row per billed run."""
        return [r.as_record() for r in self.runs]

    def to_csv(self) -> str:
        """CSV text, one row per billed run."""
        buf = io.StringIO()
        w = csv.DictWriter(
            buf,
            ["vm", "component", "start", "end", "seconds", "billed_seconds", "cost"],
            lineterminator="\n",
        )
        w.writeheader()
        w.writerows(self.to_records())
        return buf.getvalue()

    def focus_rows(self) -> list[dict[str, Any]]:
        """FinOps FOCUS rows, one per billed run (columns in :data:`FOCUS_COLUMNS`).

        ChargePeriodStart is inclusive and ChargePeriodEnd exclusive, as FOCUS defines them.
        ListCost equals BilledCost: the prices are list (pay-as-you-go) prices.
        """
        rows = []
        for r in self.runs:
            hours = r.billed_seconds / 3600
            rows.append(
                {
                    "BilledCost": r.cost,
                    "EffectiveCost": r.cost,
                    "ListCost": r.cost,
                    "BillingCurrency": self.currency,
                    "ChargePeriodStart": iso(r.start),
                    "ChargePeriodEnd": iso(r.end),
                    "ChargeCategory": "Usage",
                    "ResourceId": r.vm if r.vm.startswith("/") else None,
                    "ResourceName": r.vm.rstrip("/").rsplit("/", 1)[-1],
                    "ServiceName": "Virtual Machines",
                    "ConsumedQuantity": hours,
                    "ConsumedUnit": "Hours",
                    "PricingQuantity": hours,
                    "PricingUnit": "Hours",
                    "x_CostComponent": r.component,
                    "x_BillingEdition": self.edition.id,
                }
            )
        return rows

    def to_focus_csv(self) -> str:
        buf = io.StringIO()
        w = csv.DictWriter(buf, list(FOCUS_COLUMNS), lineterminator="\n")
        w.writeheader()
        w.writerows(self.focus_rows())
        return buf.getvalue()

    def to_pandas(self) -> pd.DataFrame:
        """Billed runs as a DataFrame (imports pandas)."""
        import pandas as pd

        df = pd.DataFrame(
            self.to_records(),
            columns=["vm", "component", "start", "end", "seconds", "billed_seconds", "cost"],
        )
        for col in ("start", "end"):
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        return df

    def summary(self) -> list[dict[str, Any]]:
        """One row per VM: billed hours and cost per component, and total."""
        rows = []
        for v in self.vms:
            secs, cost = v.billed_seconds, v.cost
            row: dict[str, Any] = {"vm": v.vm}
            for c in COMPONENTS:
                row[f"{c}_hours"] = round(secs[c] / 3600, 4)
            for c in COMPONENTS:
                row[f"{c}_cost"] = cost[c]
            row["total_cost"] = v.total_cost
            rows.append(row)
        return rows

    def _repr_html_(self) -> str:
        """Jupyter: hours and cost per VM and component, under a caption naming the edition."""
        from ..render.html import bill_table_html

        return bill_table_html(self)

    def __repr__(self) -> str:
        return (
            f"<Bill edition={self.edition.id} {len(self.vms)} VMs total={self.total_cost} "
            f"{self.currency}>"
        )


def _resolve_edition(edition: str | Edition | None, lc: Lifecycle) -> Edition:
    if isinstance(edition, Edition):
        return edition
    return lc.edition(edition)


def bill(
    timelines: Timeline | Iterable[Timeline],
    *,
    edition: str | Edition | None = None,
    prices: PriceTable | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    sku: str | None = None,
    os: str | None = None,
    priority: str | None = None,
    region: str | None = None,
    inventory: Inventory | None = None,
    lifecycle: Lifecycle | None = None,
) -> Bill:
    """Bill one timeline or many.

    Args:
        timelines: a :class:`~vmlife.timeline.Timeline` or an iterable of them.
        edition: an edition id or object; default the newest.
        prices: a :class:`PriceTable`; default vmlife's labelled sample table.
        granularity: ``minute`` (default), ``second`` or ``hour``: each continuous run of a
            component is floored to whole units.
        start, end: clip the billing period (any time value).
        sku, os, priority, region: the VM size, OS (``linux``/``windows``), priority and
            region for pricing; default each timeline's ``size``/``sku``, ``os``,
            ``priority`` and ``region`` attributes, else ``Standard_D2s_v5``, ``linux``,
            ``regular`` and the price table's default region.
        inventory: a :class:`~vmlife.io.inventory.Inventory`; each VM's attributes are
            updated from it (by resource id, else by name), and VMs it does not list are
            priced by :data:`FALLBACK` and listed in :attr:`Bill.not_in_inventory`.

    Raises:
        UnknownNameError: an unknown edition or granularity.
        MissingPriceError: no price row for a VM (names the VM, size, region, OS and priority
            and lists the closest rows).
    """
    lc = lifecycle or current_lifecycle()
    ed = _resolve_edition(edition, lc)
    if granularity not in GRANULARITIES:
        raise UnknownNameError("granularity", granularity, GRANULARITIES)
    unit = GRANULARITIES[granularity]
    table = prices or SAMPLE_PRICES
    lo = None if start is None else to_epoch(start)
    hi = None if end is None else to_epoch(end)
    items = [timelines] if isinstance(timelines, Timeline) else list(timelines)
    notes: list[str] = []
    if table.sample:
        notes.append(f"Prices: {table.source}. Pass your own for real costs.")
    holding = _holding(lc)
    vms = []
    missing: list[str] = []
    for tl in items:
        attrs = dict(tl.attributes)
        if inventory is not None:
            rid = attrs.get("resource_id")
            info = inventory.find(tl.vm, rid if isinstance(rid, str) else None)
            if info is None:
                missing.append(tl.vm)
            else:
                attrs.update(info.attributes())
        price, disk_notes = table.price_for(attrs, vm=tl.vm, sku=sku, os=os,
                                            priority=priority, region=region)
        notes.extend(disk_notes)
        vm_bill = VMBill(tl.vm, price)
        vm_bill.runs = _runs(tl, ed, price, unit, lo, hi, notes, holding, vm_bill.unknown)
        if vm_bill.unknown:
            notes.append(_unknown_note(tl.vm, vm_bill.unknown))
        vms.append(vm_bill)
    if missing:
        notes.append(f"Not in the inventory ({inventory.source if inventory else ''}): "
                     f"{', '.join(missing)}; {FALLBACK}.")
    return Bill(ed, table.currency, granularity, lo, hi, vms, table, notes,
                inventory=inventory.source if inventory is not None else None,
                not_in_inventory=missing)


_UNKNOWN_POWER = (None, "unknown")
_OTHER = frozenset({"other"})


def _unknown_note(vm: str, spans: list[UnknownSpan]) -> str:
    hours = sum(u.end - u.start for u in spans) / 3600
    known = sorted({u.billed_as for u in spans if u.billed_as is not None})
    unknown = sum(1 for u in spans if u.billed_as is None)
    how = f"billed as the last known power state ({', '.join(known)})" if known else ""
    if unknown:
        how += ("; " if how else "") + (
            f"{unknown} with no known state before: only disks and networking billed")
    return (f"{vm}: {len(spans)} span(s) with no known power state ({hours:.2f} h), {how}")


_KNOWN = object()


def _step_components(
    tl: Timeline, ed: Edition, holding: frozenset[str]
) -> Iterator[tuple[Step, frozenset[str], Any, VMState]]:
    """Each step, the components it bills, for a step with no known power state the last known
    one (None if none) else ``_KNOWN``, and the state whose rule it bills by (the holds of the
    module doc; an unknown reading keeps its own state there: its rule is unknown)."""
    cache: dict[VMState, frozenset[str]] = {}
    # the last step with a known power state outside an operation that keeps the host: what it
    # billed and its state (unknown readings and restarts bill the same)
    held: tuple[frozenset[str], VMState] | None = None
    for step in tl:
        state = step.state
        comps = cache.get(state)
        if comps is None:
            comps = cache[state] = billed_components(state, ed)
        blind = state.exists and state.power in _UNKNOWN_POWER
        if blind:
            if held is None:
                yield step, comps, None, state
            else:
                yield step, held[0] | _OTHER, held[1].power, state
        elif step.operation in holding and state.exists:
            if held is None:
                yield step, comps, _KNOWN, state
            else:
                yield step, held[0] | _OTHER, _KNOWN, held[1]
        else:
            held = (comps, state)
            yield step, comps, _KNOWN, state


def rule_states(
    timeline: Timeline, edition: str | Edition | None = None, *,
    lifecycle: Lifecycle | None = None,
) -> list[VMState]:
    """The state each step of a timeline bills by, as :func:`bill` counts it: its own, except
    a step of an operation that keeps the host (a restart's Stopping and Starting), which bills
    by the state before the operation. (An unknown reading keeps its own state here, whose
    rule is unknown; :func:`bill` bills it as the last known one and lists it.)"""
    lc = lifecycle or current_lifecycle()
    ed = _resolve_edition(edition, lc)
    return [r for _s, _c, _b, r in _step_components(timeline, ed, _holding(lc))]


def _holding(lc: Lifecycle) -> frozenset[str]:
    """Ids of the operations that keep the VM on its host (a restart)."""
    return frozenset(op.id for op in lc.operations.values() if op.keeps_host)


def _runs(
    tl: Timeline,
    ed: Edition,
    price: Price,
    unit: int,
    lo: float | None,
    hi: float | None,
    notes: list[str],
    holding: frozenset[str] = frozenset(),
    unknown: list[UnknownSpan] | None = None,
) -> list[BilledRun]:
    open_run: dict[str, float] = {}
    spans: list[tuple[str, float, float]] = []
    cursor = None
    for step, comps, blind, _rule in _step_components(tl, ed, holding):
        s = step.start
        e = step.end
        if e is None:
            if step.state.exists:
                if hi is None:
                    notes.append(
                        f"{tl.vm}: the last state ({step.state.describe()}) is still open and "
                        f"is billed only up to its start; give an end time to bill it"
                    )
                    e = s
                else:
                    e = max(hi, s)
            else:
                e = s
        if lo is not None:
            s = max(s, lo)
        if hi is not None:
            e = min(e, hi)
        if blind is not _KNOWN and e > s and unknown is not None:
            unknown.append(UnknownSpan(s, e, blind))
        if e <= s:
            continue
        # close runs of components that stop billing here, or that have a gap before s
        for comp in list(open_run):
            if comp not in comps or cursor != s:
                spans.append((comp, open_run.pop(comp), cursor if cursor is not None else s))
        for comp in comps:
            open_run.setdefault(comp, s)
        cursor = e
    for comp, begin in open_run.items():
        spans.append((comp, begin, cursor if cursor is not None else begin))
    runs = []
    for comp, a, b in sorted(spans, key=lambda x: (COMPONENTS.index(x[0]), x[1])):
        secs = b - a
        billed = math.floor(secs / unit + 1e-9) * unit
        cost = billed / 3600 * price.per_hour(comp)
        if comp == "other" and price.other_monthly:
            cost += price.other_monthly * month_fraction(a, a + billed)
        cost = round(cost, 10)
        runs.append(BilledRun(tl.vm, comp, a, b, secs, float(billed), cost))
    return runs

