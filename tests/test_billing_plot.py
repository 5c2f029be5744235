"""The matplotlib billing timeline: lanes, billed hatching, markers, cost line."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import vmlife
from vmlife.billing.meter import bill
from vmlife.render.billing_plot import plot_timeline

END = "2024-01-03T00:00:00Z"


def sample() -> list[vmlife.Timeline]:
    a = vmlife.VM("a", start="2024-01-01T00:00:00Z", state="running")
    a.deallocate(at="2024-01-01T18:00:00Z")
    a.start(at="2024-01-02T08:00:00Z", fail="AllocationFailed")
    b = vmlife.VM("/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/b",
                  start="2024-01-01T00:00:00Z", state="stopped")
    return [a.timeline, b.timeline]


def test_plot_draws_one_lane_per_vm_into_the_given_axes() -> None:
    ax = Figure().add_subplot()
    out = plot_timeline(sample(), ax=ax, end=END, edition="2018-08")
    assert out is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    assert "edition 2018-08" in ax.get_title()


def test_unbilled_bands_are_hatched_and_billed_are_solid() -> None:
    ax = Figure().add_subplot()
    plot_timeline(sample(), ax=ax, end=END, edition="2018-08", cost=False)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    hatched = [c for c in bands if c.get_hatch()]
    # a: running (billed), deallocating, deallocated, then failed start leaves it deallocated
    # b: stopped, which 2018-08 does not bill
    assert len(bands) - len(hatched) == 1
    assert len(hatched) == len(bands) - 1 >= 3


def test_failure_marker_and_cost_line_end_at_the_total() -> None:
    tls = sample()
    ax = Figure().add_subplot()
    plot_timeline(tls, ax=ax, end=END)
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(crosses) == 1
    twin = next(a for a in ax.figure.axes if a is not ax)
    total = bill(tls, end=END).total_cost
    assert twin.lines[0].get_ydata()[-1] == pytest.approx(total)


def test_plot_without_ax_makes_a_figure() -> None:
    import matplotlib.pyplot as plt

    ax = plot_timeline(sample()[0], end=END)
    assert ax.figure is not None
    plt.close(ax.figure)
