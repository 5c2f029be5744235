"""Billing timelines with matplotlib: one lane per VM, coloured by power state.

Reading the picture:

* each lane is a VM; bands are its power states, coloured by state;
* a solid band bills compute under the chosen edition, a hatched pale band does not;
* small triangles mark the start of an operation, red crosses a failed one;
* the line (right axis) is the cumulative cost of all VMs, each billed run's cost spread
  evenly over the run.

Follows matplotlib conventions: pass ``ax=`` to draw into your own Axes, and the Axes is
returned. Without ``ax`` a new figure is made with ``pyplot.subplots``. No backend is chosen
here, so it works headless and inline in Jupyter alike.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ..billing.editions import Edition
from ..billing.meter import Bill, bill, billed_components
from ..billing.prices import PriceTable
from ..lifecycle import lifecycle
from ..timeline import Timeline
from ..timeutil import TimeLike, to_datetime, to_epoch
from .escape import mpl_text

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = ["POWER_COLOURS", "plot_timeline"]

#: Colours of the built-in power states (colour-blind-safe-ish, light for transitions).
POWER_COLOURS: dict[str, str] = {
    "creating": "#c7b8e8",
    "starting": "#9fd8a4",
    "running": "#2e9e44",
    "stopping": "#f6c98b",
    "stopped": "#e8871e",
    "deallocating": "#a9c4dd",
    "deallocated": "#5b7b99",
    "unknown": "#333333",
}
_FALLBACK = ["#8e6bbf", "#c0504d", "#4bacc6", "#9bbb59", "#f79646", "#7f7f7f"]


def _colour(state_id: str | None) -> str:
    if state_id is None:
        return "#dddddd"
    if state_id in POWER_COLOURS:
        return POWER_COLOURS[state_id]
    return _FALLBACK[zlib.crc32(state_id.encode()) % len(_FALLBACK)]


def _label(vm: str) -> str:
    return mpl_text(vm.rstrip("/").rsplit("/", 1)[-1])


def plot_timeline(
    timelines: Timeline | Iterable[Timeline],
    *,
    edition: str | Edition | None = None,
    prices: PriceTable | None = None,
    granularity: str = "minute",
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    ax: Axes | None = None,
    cost: bool = True,
    title: str | None = None,
    sku: str | None = None,
    os: str | None = None,
    priority: str | None = None,
    region: str | None = None,
) -> Axes:
    """Draw the billing timeline of one VM or many.

    Args:
        timelines: a timeline or several (one lane each).
        edition: billing edition id or object (default: the newest).
        prices, granularity, start, end: as for :func:`vmlife.billing.meter.bill`.
        ax: the Axes to draw into; default a new figure sized for the number of VMs.
        cost: draw the cumulative cost line on a second y axis.
        title: default names the edition and the total.
        sku, os, priority, region: pricing overrides, as for
            :func:`vmlife.billing.meter.bill`.

    Returns:
        The Axes drawn into.
    """
    import matplotlib.dates as mdates
    from matplotlib.patches import Patch

    items = [timelines] if isinstance(timelines, Timeline) else list(timelines)
    lc = lifecycle()
    ed = edition if isinstance(edition, Edition) else lc.edition(edition)
    lo = None if start is None else to_epoch(start)
    hi = None if end is None else to_epoch(end)
    if hi is None:
        last = [t.last_change for t in items if t.last_change is not None]
        hi = max(last) if last else None
    result: Bill = bill(items, edition=ed, prices=prices, granularity=granularity, start=lo,
                        end=hi, sku=sku, os=os, priority=priority, region=region)
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(11, 1.2 + 0.55 * max(len(items), 1)),
                                layout="constrained")

    seen_states: dict[str, str] = {}
    for lane, tl in enumerate(items):
        y = len(items) - 1 - lane
        prev_err = None
        prev_op = None
        for step in tl:
            s = step.start if lo is None else max(step.start, lo)
            e = step.end if step.end is not None else hi
            if e is None:
                continue
            if hi is not None:
                e = min(e, hi)
            if e <= s or not step.state.exists:
                prev_op = step.operation
                continue
            power = step.state.power
            colour = _colour(power)
            billed = "compute" in billed_components(step.state, ed)
            x0 = mdates.date2num(to_datetime(s))
            width = mdates.date2num(to_datetime(e)) - x0
            ax.broken_barh(
                [(x0, width)],
                (y - 0.35, 0.7),
                facecolors=colour,
                alpha=1.0 if billed else 0.35,
                hatch=None if billed else "////",
                edgecolor=colour if billed else "#555555",
                linewidth=0.0 if billed else 0.3,
            )
            seen_states.setdefault(power or "(none)", colour)
            if step.operation is not None and step.operation != prev_op:
                ax.plot([x0], [y + 0.42], marker="v", color="#222222", markersize=4,
                        linestyle="none")
            err = step.state.error_code
            if err and err != prev_err:
                ax.plot([x0], [y], marker="x", color="#d62728", markersize=9, mew=2,
                        linestyle="none")
            prev_err, prev_op = err, step.operation

    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([_label(t.vm) for t in reversed(items)])
    ax.set_ylim(-0.6, len(items) - 0.4)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color="#e0e0e0", linewidth=0.6)
    ax.set_axisbelow(True)

    handles: list[Artist] = [Patch(facecolor=c, label=mpl_text(s)) for s, c in seen_states.items()]
    handles.append(Patch(facecolor="#ffffff", edgecolor="#555555", hatch="////",
                         label="compute not billed"))
    if cost and result.runs:
        twin = ax.twinx()
        xs, ys = _cumulative(result)
        twin.plot([float(mdates.date2num(x)) for x in xs], ys, color="#1f3b73", linewidth=1.4)
        twin.set_ylabel(f"cumulative cost ({result.currency})")
        twin.set_ylim(bottom=0)
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color="#1f3b73", label="cumulative cost"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08 if cost else 1.0, 1.0),
              fontsize="small", frameon=False)
    sample = " (sample prices)" if result.prices.sample else ""
    ax.set_title(
        mpl_text(
            title
            or f"Billing under edition {ed.id} ({ed.date}): total {result.total_cost:.2f} "
            f"{result.currency}{sample}"
        ),
        fontsize="medium",
    )
    return ax


def _cumulative(result: Bill) -> tuple[list[datetime], list[float]]:
    """Cumulative cost over time, each run's cost spread evenly over the run."""
    changes: dict[float, float] = {}
    for r in result.runs:
        if r.cost <= 0 or r.end <= r.start:
            continue
        rate = r.cost / (r.end - r.start)
        changes[r.start] = changes.get(r.start, 0.0) + rate
        changes[r.end] = changes.get(r.end, 0.0) - rate
    xs: list[datetime] = []
    ys: list[float] = []
    total = rate_now = 0.0
    last_t: float | None = None
    for t in sorted(changes):
        if last_t is not None:
            total += rate_now * (t - last_t)
        xs.append(to_datetime(t))
        ys.append(total)
        rate_now += changes[t]
        last_t = t
    return xs, ys

