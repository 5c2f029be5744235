"""What-if: simulate working-hours schedules with the engine and compare their bills.

A :class:`Schedule` keeps a VM running during working hours and applies an "off" operation
outside them (``power_off``, ``deallocate``, or any operation a plugin adds, such as
``hibernate``); ``off_operation=None`` means always on. :func:`compare` simulates every schedule
over the same period and bills each under one edition or several.

Times are UTC. The VM exists and runs at the start of the period; if the period starts outside
working hours the off operation is applied at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ..engine import VM, Timing
from ..lifecycle import lifecycle
from ..timeline import Timeline
from ..timeutil import TimeLike, to_datetime, to_epoch
from .editions import COMPONENTS
from .meter import bill
from .prices import PriceTable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["DEFAULT_SCHEDULES", "Schedule", "compare", "compare_frame"]

WEEKDAYS = frozenset(range(5))


def _hhmm(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"expected a time of day as HH:MM, got {text!r}") from None


@dataclass(frozen=True)
class Schedule:
    """Run during working hours, apply ``off_operation`` outside them.

    Attributes:
        name: the label shown in comparisons.
        off_operation: the operation applied at the end of each working day (and at the
            start of the period if it starts outside working hours); None: always on.
        on_days: working days, Monday = 0.
        on_at, off_at: the working hours, "HH:MM" UTC.
        attributes: VM attributes the simulated VM is created with (e.g.
            ``hibernation_enabled=True`` for a hibernate schedule).
    """

    name: str
    off_operation: str | None
    on_days: frozenset[int] = WEEKDAYS
    on_at: str = "08:00"
    off_at: str = "18:00"
    attributes: dict[str, Any] = field(default_factory=dict)

    def simulate(
        self,
        start: TimeLike,
        days: int,
        *,
        vm: str | None = None,
        timing: Timing | None = None,
        **attributes: Any,
    ) -> Timeline:
        """The timeline of one VM following this schedule for ``days`` days from ``start``."""
        if days <= 0:
            raise ValueError("days must be positive")
        if self.off_operation is not None:
            lifecycle().operation(self.off_operation)  # unknown ids list the choices
        t0 = to_epoch(start)
        on_t, off_t = _hhmm(self.on_at), _hhmm(self.off_at)
        if off_t <= on_t:
            raise ValueError("off_at must be later in the day than on_at")
        machine = VM(
            vm or self.name,
            start=t0,
            state="running",
            timing=timing,
            **{**self.attributes, **attributes},
        )
        if self.off_operation is None:
            return machine.timeline
        day0 = to_datetime(t0).replace(hour=0, minute=0, second=0, microsecond=0)
        days_ = (day0 + timedelta(days=d) for d in range(days + 1))
        hours = [(_at(day, on_t), _at(day, off_t)) for day in days_
                 if day.weekday() in self.on_days]
        end = t0 + days * 86400
        if not any(on <= t0 < off for on, off in hours):
            machine.do(self.off_operation, at=t0)
        for on, off in hours:
            if t0 <= on < end and machine.state.power != "running":
                machine.do("start", at=max(on, machine.clock))
            if t0 <= off < end and machine.state.power == "running":
                machine.do(self.off_operation, at=max(off, machine.clock))
        return machine.timeline


def _at(day: datetime, hm: time) -> float:
    return day.replace(hour=hm.hour, minute=hm.minute, tzinfo=timezone.utc).timestamp()


#: Always on, stop overnight, deallocate overnight.
DEFAULT_SCHEDULES: tuple[Schedule, ...] = (
    Schedule("always-on", None),
    Schedule("stop-overnight", "power_off"),
    Schedule("deallocate-overnight", "deallocate"),
)


def compare(
    schedules: Iterable[Schedule] = DEFAULT_SCHEDULES,
    *,
    start: TimeLike = "2024-01-01T00:00:00Z",
    days: int = 30,
    editions: Sequence[str] | None = None,
    prices: PriceTable | None = None,
    sku: str = "Standard_D2s_v5",
    os: str = "linux",
    granularity: str = "minute",
    timing: Timing | None = None,
) -> list[dict[str, Any]]:
    """Simulate each schedule and bill it under each edition.

    Args:
        editions: edition ids; default the newest only. ``["all"]`` means every edition.

    Returns:
        One row per (edition, schedule): billed hours and cost per component, and total cost.
    """
    lc = lifecycle()
    if editions is None:
        eds = [lc.edition()]
    elif list(editions) == ["all"]:
        eds = sorted(lc.editions.values(), key=lambda e: e.order)
    else:
        eds = [lc.edition(e) for e in editions]
    end = to_epoch(start) + days * 86400
    timelines = [(s, s.simulate(start, days, timing=timing)) for s in schedules]
    rows = []
    for ed in eds:
        for sched, tl in timelines:
            b = bill(tl, edition=ed, prices=prices, granularity=granularity, start=start,
                     end=end, sku=sku, os=os)
            v = b.vms[0]
            row: dict[str, Any] = {"edition": ed.id, "schedule": sched.name}
            for c in COMPONENTS:
                row[f"{c}_hours"] = round(v.billed_seconds[c] / 3600, 4)
            for c in COMPONENTS:
                row[f"{c}_cost"] = v.cost[c]
            row["total_cost"] = v.total_cost
            row["currency"] = b.currency
            rows.append(row)
    return rows


def compare_frame(schedules: Iterable[Schedule] = DEFAULT_SCHEDULES, **kw: Any) -> pd.DataFrame:
    """:func:`compare` as a pandas DataFrame (imports pandas)."""
    import pandas as pd

    return pd.DataFrame(compare(schedules, **kw))
