"""The BillingTimeline widget: edition, prices, granularity and dates driving the plot."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterable, Sequence
from typing import Any

import ipywidgets as w

from ..billing.meter import Bill, bill
from ..billing.prices import SAMPLE_PRICES, PriceTable
from ..engine import VM
from ..lifecycle import lifecycle
from ..render.html import bill_table_html
from ..timeline import Timeline
from ..timeutil import TimeLike, to_datetime, to_epoch

__all__ = ["BillingTimeline"]

FROM_VM = "(from each VM's attributes)"


def _timelines(source: Any) -> list[Timeline]:
    if isinstance(source, Timeline):
        return [source]
    if isinstance(source, VM):
        return [source.timeline]
    out = []
    for item in source:
        out.extend(_timelines(item))
    return out


class BillingTimeline(w.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Explore a bill: pick the edition, prices, granularity and dates; see plot and totals.

    Args:
        source: a :class:`~vmlife.Timeline`, a :class:`~vmlife.VM`, or a list of them (a
            simulated VM, a what-if schedule's timelines, or timelines read from an Activity
            Log).
        edition: initial edition id (default: the newest).
        prices: a price table (default: the labelled sample).
        granularity: ``minute`` (default), ``second`` or ``hour``.
        start, end: the period; default from the first step to the last change.
    """

    def __init__(
        self,
        source: Timeline | VM | Iterable[Timeline | VM],
        *,
        edition: str | None = None,
        prices: PriceTable | None = None,
        granularity: str = "minute",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> None:
        self.timelines = _timelines(source)
        if not self.timelines:
            raise ValueError("BillingTimeline needs at least one timeline")
        self.prices = prices or SAMPLE_PRICES
        lc = lifecycle()
        eds = sorted(lc.editions.values(), key=lambda e: e.order)
        self.edition_picker = w.Dropdown(
            options=[(f"{e.id} ({e.date})", e.id) for e in eds],
            value=lc.edition(edition).id,
            description="Edition",
        )
        self.granularity_picker = w.ToggleButtons(
            options=["second", "minute", "hour"], value=granularity, description="Per"
        )
        rows = self.prices.rows.values()
        price_options = [FROM_VM, *sorted(
            f"{p.sku} / {p.os} / {p.priority} / {p.region or '(any)'}" for p in rows)]
        self.price_picker = w.Dropdown(options=price_options, value=FROM_VM,
                                       description="Prices")
        lo = to_epoch(start) if start is not None else min(
            t.start for t in self.timelines if t.start is not None)
        hi = to_epoch(end) if end is not None else max(
            t.last_change for t in self.timelines if t.last_change is not None)
        days = max(1, int((hi - lo + 86399) // 86400))
        stops = [lo + 86400 * d for d in range(days)] + [hi]
        self.period = w.SelectionRangeSlider(
            options=[(to_datetime(t).strftime("%Y-%m-%d %H:%M"), t) for t in stops],
            index=(0, len(stops) - 1),
            description="Period",
            layout=w.Layout(width="95%"),
        )
        self.plot = w.Image(format="png", layout=w.Layout(max_width="100%"))
        self.totals = w.HTML()
        for control in (self.edition_picker, self.granularity_picker, self.price_picker,
                        self.period):
            control.observe(self._changed, names="value")
        super().__init__([
            w.HBox([self.edition_picker, self.price_picker]),
            self.granularity_picker,
            self.period,
            self.plot,
            self.totals,
        ])
        self.refresh()

    # ------------------------------------------------------------------ state
    def _pricing(self) -> dict[str, Any]:
        choice = self.price_picker.value
        if choice == FROM_VM:
            return {"sku": None, "os": None, "priority": None, "region": None}
        sku, os_, priority, region = (part.strip() for part in choice.split("/"))
        return {"sku": sku, "os": os_, "priority": priority,
                "region": None if region == "(any)" else region}

    @property
    def bill(self) -> Bill:
        """The bill for the current choices."""
        lo, hi = self.period.value
        return bill(self.timelines, edition=self.edition_picker.value, prices=self.prices,
                    granularity=self.granularity_picker.value, start=lo, end=hi,
                    **self._pricing())

    def figure(self) -> Any:
        """A matplotlib Figure of the current plot (no pyplot: safe anywhere)."""
        from matplotlib.figure import Figure

        from ..render.billing_plot import plot_timeline

        lo, hi = self.period.value
        fig = Figure(figsize=(10, 1.4 + 0.5 * len(self.timelines)), layout="constrained")
        plot_timeline(self.timelines, edition=self.edition_picker.value, prices=self.prices,
                      granularity=self.granularity_picker.value, start=lo, end=hi,
                      ax=fig.add_subplot(), **self._pricing())
        return fig

    def refresh(self) -> None:
        """Redraw the plot and the totals."""
        self.totals.value = bill_table_html(self.bill)
        self.plot.value = self._png()

    def _changed(self, _change: Any) -> None:
        self.refresh()

    # ------------------------------------------------------------------ static views
    def _png(self) -> bytes:
        buf = io.BytesIO()
        self.figure().savefig(buf, format="png", dpi=90)
        return buf.getvalue()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["image/png"] = base64.b64encode(bytes(self.plot.value)).decode("ascii")
        bundle["text/html"] = self.totals.value  # kept current by refresh()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        names: Sequence[str] = [t.vm for t in self.timelines]
        return (f"BillingTimeline({len(names)} VMs, edition={self.edition_picker.value}, "
                f"per {self.granularity_picker.value})")
