"""Billing: Azure's rule revisions as editions, prices, the meter, exports and what-if."""

from .editions import COMPONENTS, BillingRules, Edition, Rule, diff_editions

__all__ = ["COMPONENTS", "BillingRules", "Edition", "Rule", "diff_editions"]
