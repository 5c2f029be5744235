"""The modelled-vs-charged plot of a reconciliation."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from vmlife.billing.reconcile import reconciliation
from vmlife.errors import InputError
from vmlife.render.reconcile_plot import SERIES, plot_reconciliation

DATA = Path(__file__).parent / "data" / "reconcile"
REC = reconciliation(str(DATA / "activity_log.json"), str(DATA / "costs_ea.csv"))


def _bars(ax: object) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for container in ax.containers:  # type: ignore[attr-defined]
        out[container.get_label()] = [round(p.get_height(), 6) for p in container.patches]
    return out


def test_bars_per_vm_are_the_rows_hours_and_differences_are_labelled() -> None:
    ax = Figure().add_subplot()
    assert plot_reconciliation(REC, by="vm", ax=ax) is ax
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "db-1", "spot-1", "win-ahb", "win-payg"]
    assert _bars(ax) == {SERIES["modelled"]["label"]: [0.0, 6.0, 8.0, 10.0],
                         SERIES["charged"]["label"]: [24.0, 6.0, 9.0, 10.0]}
    assert sorted(t.get_text() for t in ax.texts) == ["+1.00 h", "+24.00 h"]
    hatches = [c.patches[0].get_hatch() for c in ax.containers]
    assert hatches == ["", "//"]  # charged is hatched: readable in greyscale


def test_bars_per_day_sum_the_vms_or_show_one() -> None:
    ax = Figure().add_subplot()
    plot_reconciliation(REC, ax=ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2024-03-04"]
    assert list(_bars(ax).values()) == [[24.0], [49.0]]
    ax = Figure().add_subplot()
    plot_reconciliation(REC, vm="win-ahb", ax=ax)
    assert list(_bars(ax).values()) == [[8.0], [9.0]]
    assert "(win-ahb)" in ax.get_title("left") and "8.00 h vs 9.00 h" in ax.get_title("left")


def test_bad_arguments_say_what_is_allowed() -> None:
    with pytest.raises(InputError, match="'day' or 'vm'"):
        plot_reconciliation(REC, by="week", ax=Figure().add_subplot())
    with pytest.raises(InputError, match="VMs: db-1, spot-1, win-ahb, win-payg"):
        plot_reconciliation(REC, vm="nope", ax=Figure().add_subplot())
