"""Billing: Azure's rule revisions as editions, prices, the meter, exports, what-if and
reconciliation with Cost Management exports."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from .editions import COMPONENTS, BillingRules, Edition, Rule, diff_editions

if TYPE_CHECKING:  # pragma: no cover
    from .reconcile import reconcile

__all__ = ["COMPONENTS", "BillingRules", "Edition", "Rule", "diff_editions", "reconcile"]


class _Billing(ModuleType):
    """This package, with ``reconcile`` imported on first use.

    The lifecycle imports ``vmlife.billing`` for the editions, so ``import vmlife`` would pay
    for the reconciliation module (and argparse, csv, json) if it were imported here. The name
    is both a submodule and the function it defines; as before, ``vmlife.billing.reconcile`` is
    the function, also after ``import vmlife.billing.reconcile`` (which binds the submodule here:
    the setter below ignores that).
    """

    @property
    def reconcile(self) -> Callable[..., Any]:
        from .reconcile import reconcile

        return reconcile

    @reconcile.setter
    def reconcile(self, value: Any) -> None:
        pass


sys.modules[__name__].__class__ = _Billing


def __dir__() -> list[str]:
    return sorted({*globals(), "reconcile"} - {"Any", "Callable", "ModuleType", "TYPE_CHECKING",
                                               "sys", "_Billing"})
