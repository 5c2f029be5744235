"""Straight from Azure: Activity Logs, inventory and retail prices through the Azure SDK.

Needs the ``azure`` extra (``pip install "vmlife[azure]"``: azure-identity, azure-mgmt-monitor,
azure-mgmt-compute, azure-mgmt-resourcegraph). ``import vmlife`` never imports this package,
and this package imports the SDK only when a function is called::

    from vmlife import azure

    log = azure.activity_log(SUB, start="2024-03-01", end="2024-03-08")   # Activity Log events
    vms = azure.inventory(SUB)                                             # every VM
    prices = azure.retail_prices(["eastus"], ["Standard_D2s_v5"])         # no credential
    azure.pull(SUB, days=30, out="pulled")     # all three into a folder 'vmlife report' reads

Credentials: ``DefaultAzureCredential()`` (environment variables, managed identity, ``az
login``, ...) unless ``credential=`` gives one. Throttling (429 with Retry-After), transient
5xx answers and network errors are retried by the SDK's pipeline with backoff; each retry is
counted and reported (``report=`` gets a line as it happens). What could not be done raises an
:class:`~vmlife.errors.AzureError` naming the call and the fix; a refusal (401/403) raises an
:class:`~vmlife.errors.AzureAccessError` naming the role to grant and where.
"""

from __future__ import annotations

from ._connection import PUBLIC_CLOUD, Connection, Pulled, Retry
from .activity import activity_log
from .inventory import inventory
from .prices import RetailPrices, retail_prices
from .pull import PullResult, pull

__all__ = [
    "PUBLIC_CLOUD",
    "Connection",
    "PullResult",
    "Pulled",
    "RetailPrices",
    "Retry",
    "activity_log",
    "inventory",
    "pull",
    "retail_prices",
]
