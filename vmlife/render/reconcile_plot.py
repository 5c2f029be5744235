"""Modelled vs charged compute hours, as grouped bars, with matplotlib.

Reading the picture:

* ``by="day"``: one pair of bars per UTC day, summed over the VMs (or one VM with ``vm=``);
  ``by="vm"``: one pair per VM, summed over the days;
* the left bar of a pair is what vmlife modelled from the history, the right (hatched) bar
  what the export charged;
* a pair whose difference is more than a minute is labelled with it (charged - modelled).

Follows matplotlib conventions: pass ``ax=`` to draw into your own Axes, and the Axes is
returned; without it a figure is made with ``pyplot.subplots``. No backend is chosen here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..billing.reconcile import TOLERANCE_HOURS, Reconciliation
from ..errors import InputError
from .escape import mpl_text
from .palette import INK

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["SERIES", "plot_reconciliation"]

#: Colour (from :data:`vmlife.render.palette.INK`), hatch and legend wording of the two
#: series; the hatch is the second cue that survives greyscale.
SERIES: dict[str, dict[str, Any]] = {
    "modelled": {"colour": INK["modelled"], "hatch": "", "label": "modelled by vmlife"},
    "charged": {"colour": INK["charged"], "hatch": "//", "label": "charged (export)"},
}


def _totals(rec: Reconciliation, by: str, vm: str | None) -> list[tuple[str, float, float]]:
    """``(label, modelled, charged)`` per day or per VM, in order."""
    sums: dict[str, list[float]] = {}
    for r in rec.rows:
        if vm is not None and vm.lower() not in (r["vm"].lower(), r["resource_id"].lower()):
            continue
        key = r["date"] if by == "day" else r["vm"]
        s = sums.setdefault(key, [0.0, 0.0])
        s[0] += r["modelled_hours"]
        s[1] += r["charged_hours"]
    return [(k, m, c) for k, (m, c) in sorted(sums.items())]


def plot_reconciliation(
    rec: Reconciliation,
    *,
    by: str = "day",
    vm: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw modelled vs charged compute hours.

    Args:
        rec: a :class:`~vmlife.billing.reconcile.Reconciliation`.
        by: ``"day"`` (default) or ``"vm"``.
        vm: only this VM (name or resource id).
        ax: the Axes to draw into.

    Raises:
        InputError: ``by`` is neither ``day`` nor ``vm``, or ``vm`` has no rows.
    """
    if by not in ("day", "vm"):
        raise InputError(f"by must be 'day' or 'vm', not {by!r}", field="by")
    groups = _totals(rec, by, vm)
    if vm is not None and not groups:
        raise InputError(f"no rows for VM {vm!r}; VMs: "
                         + ", ".join(sorted({r['vm'] for r in rec.rows})), field="vm")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(5.0, 0.9 * len(groups) + 2.5), 3.6),
                             layout="constrained")
    width = 0.38
    xs = list(range(len(groups)))
    for i, name in enumerate(("modelled", "charged")):
        style = SERIES[name]
        ax.bar([x + (i - 0.5) * width for x in xs], [g[1 + i] for g in groups], width,
               color=style["colour"], hatch=style["hatch"], edgecolor=INK["border"],
               linewidth=0.6, label=style["label"])
    top = max([max(m, c) for _, m, c in groups] + [1.0])
    for x, (_, m, c) in zip(xs, groups, strict=True):
        diff = c - m
        if abs(diff) > TOLERANCE_HOURS:
            ax.annotate(f"{diff:+.2f} h", (x, max(m, c) + top * 0.03), ha="center",
                        fontsize=8, color=INK["changed"])
    ax.set_xticks(xs, [mpl_text(g[0]) for g in groups],
                  rotation=30 if len(groups) > 6 else 0, ha="right" if len(groups) > 6 else
                  "center")
    ax.set_ylim(0, top * 1.15)
    ax.set_ylabel("compute hours")
    ax.set_xlabel("UTC day" if by == "day" else "VM")
    modelled = sum(g[1] for g in groups)
    charged = sum(g[2] for g in groups)
    who = f" ({mpl_text(vm)})" if vm else ""
    ax.set_title(f"Modelled vs charged{who}, edition {mpl_text(rec.edition)}:\n"
                 f"{modelled:.2f} h vs {charged:.2f} h", fontsize=10, loc="left")
    # above the bars, right of the title, so no difference label is hidden
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, fontsize=8,
              frameon=False)
    ax.grid(axis="y", color=INK["grid"])
    ax.set_axisbelow(True)
    return ax
