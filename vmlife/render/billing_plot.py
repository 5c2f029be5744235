"""Billing timelines with matplotlib: one lane per VM, coloured by billing category.

Reading the picture:

* each lane is a VM; bands are its power states, coloured and hatched by their billing
  category under the chosen edition (the palette of :mod:`vmlife.render.palette`, the same as
  the state diagram's: solid vermillion bills compute and licence, hatched sky blue bills
  neither, and so on); a band wide enough is labelled with its power state;
* small triangles mark the start of an operation, red crosses a failed one;
* the line (right axis) is the cumulative cost of all VMs, each billed run's cost spread
  evenly over the run.

Follows matplotlib conventions: pass ``ax=`` to draw into your own Axes, and the Axes is
returned. Without ``ax`` a new figure is made with ``pyplot.subplots``. No backend is chosen
here, so it works headless and inline in Jupyter alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from ..billing.editions import UNKNOWN, Edition, billing_category
from ..billing.meter import Bill, bill, rule_states
from ..billing.prices import PriceTable
from ..lifecycle import lifecycle
from ..timeline import Timeline, last_change
from ..timeutil import TimeLike, to_datetime, to_epoch
from .escape import mpl_text
from .palette import INK, LEGEND_ORDER, mpl_patch, style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

__all__ = ["plot_timeline"]

#: A band narrower than this share of the axis gets no state label.
_LABEL_MIN_SHARE = 0.07


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
        hi = last_change(items)
    result: Bill = bill(items, edition=ed, prices=prices, granularity=granularity, start=lo,
                        end=hi, sku=sku, os=os, priority=priority, region=region)
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(11, 1.2 + 0.55 * max(len(items), 1)),
                                layout="constrained")

    seen: set[str] = set()
    span = (hi - lo) if hi is not None and lo is not None else None
    if span is None:
        firsts = [t.start for t in items if t.start is not None]
        span = (hi - min(firsts)) if hi is not None and firsts else None
    for lane, tl in enumerate(items):
        y = len(items) - 1 - lane
        prev_err = None
        prev_op = None
        for step, rule in zip(tl, rule_states(tl, ed, lifecycle=lc), strict=True):
            s = step.start if lo is None else max(step.start, lo)
            e = step.end if step.end is not None else hi
            if e is None:
                continue
            if hi is not None:
                e = min(e, hi)
            if e <= s or not step.state.exists:
                prev_op = step.operation
                continue
            # the category of the rule the bill applies (a restart bills as running)
            category = billing_category(rule, ed) or UNKNOWN
            x0 = mdates.date2num(to_datetime(s))
            width = mdates.date2num(to_datetime(e)) - x0
            patch = mpl_patch(category)
            ax.broken_barh([(x0, width)], (y - 0.35, 0.7), facecolors=patch.pop("facecolor"),
                           **patch)
            seen.add(category)
            if span and (e - s) >= _LABEL_MIN_SHARE * span:
                ax.text(x0 + width / 2, y, mpl_text(step.state.power or "?"), ha="center",
                        va="center", fontsize="x-small", color=INK["text"], clip_on=True,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": INK["paper"],
                              "edgecolor": "none", "alpha": 0.8})
            if step.operation is not None and step.operation != prev_op:
                ax.plot([x0], [y + 0.42], marker="v", color=INK["operation"], markersize=4,
                        linestyle="none")
            err = step.state.error_code
            if err and err != prev_err:
                ax.plot([x0], [y], marker="x", color=INK["failure"], markersize=9, mew=2,
                        linestyle="none")
            prev_err, prev_op = err, step.operation

    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([_label(t.vm) for t in reversed(items)])
    ax.set_ylim(-0.6, len(items) - 0.4)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.grid(axis="x", color=INK["grid"], linewidth=0.6)
    ax.set_axisbelow(True)

    handles: list[Artist] = [
        Patch(label=style(c).legend, **mpl_patch(c)) for c in LEGEND_ORDER if c in seen
    ]
    if cost and result.runs:
        twin = ax.twinx()
        xs, ys = _cumulative(result)
        twin.plot([float(mdates.date2num(x)) for x in xs], ys, color=INK["cost"], linewidth=1.4)
        twin.set_ylabel(f"cumulative cost ({result.currency})")
        twin.set_ylim(bottom=0)
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], color=INK["cost"], label="cumulative cost"))
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

