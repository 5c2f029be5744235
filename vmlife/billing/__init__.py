"""Billing: Azure's rule revisions as editions, prices, the meter, exports, what-if and
reconciliation with Cost Management exports."""

from .editions import COMPONENTS, BillingRules, Edition, Rule, diff_editions
from .reconcile import reconcile

__all__ = ["COMPONENTS", "BillingRules", "Edition", "Rule", "diff_editions", "reconcile"]
