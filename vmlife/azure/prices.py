"""Pay-as-you-go VM prices from the public Azure Retail Prices API, cached on disk.

The API (``GET https://prices.azure.com/api/retail/prices``; Azure documentation "Azure Retail
Prices overview", learn.microsoft.com/rest/api/cost-management/retail-prices/
azure-retail-prices) needs no credential. vmlife asks with ``api-version=2023-01-01-preview``
(where filter values are case-sensitive), ``currencyCode='USD'`` (or another currency) and::

    $filter=serviceName eq 'Virtual Machines' and priceType eq 'Consumption'
            and armRegionName eq 'eastus' [and armSkuName eq 'Standard_D2s_v5']

one query per region, or per region and size when sizes are given. Managed disk prices,
when asked for by tier (``disks=["P10 LRS"]``), are one query per region and tier::

    $filter=serviceName eq 'Storage' and priceType eq 'Consumption' and armRegionName eq
            'eastus' and productName eq 'Premium SSD Managed Disks' and skuName eq 'P10 LRS'

(``E`` tiers are "Standard SSD Managed Disks", ``S`` tiers "Standard HDD Managed Disks").
An answer is a page
``{"BillingCurrency", "CustomerEntityId", "CustomerEntityType", "Items": [...],
"NextPageLink", "Count"}``; vmlife follows ``NextPageLink`` to the last page, one request each
(the documentation's section "API response pagination").

**Cache.** Each query's pages are kept as one file in the cache folder
(``$XDG_CACHE_HOME/vmlife/prices``, else ``~/.cache/vmlife/prices``), named by currency,
region and sizes, holding the API's page fields with every item in ``Items``, the ``$filter``
sent and ``fetched``, the time it was fetched. A file younger than ``max_age`` is used instead
of asking again; ``refresh=True`` always asks. These files are what ``vmlife pull`` copies to
``DIR/prices/`` and what :func:`vmlife.billing.prices.load_prices` reads.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..timeutil import iso, to_epoch
from ._connection import PUBLIC_CLOUD, Connection, Ledger, sdk

__all__ = ["API_VERSION", "PATH", "RetailPrices", "default_cache_dir", "retail_prices"]

#: The Retail Prices API path and the version vmlife asks for.
PATH = "/api/retail/prices"
API_VERSION = "2023-01-01-preview"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/vmlife/prices``, else ``~/.cache/vmlife/prices``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "vmlife" / "prices"


class RetailPrices:
    """Retail price pages for some regions, one per query, as cached on disk.

    Attributes:
        pages: one dict per query in the Retail Prices API's page shape (every item in
            ``Items``) with ``fetched``, ``filter`` and ``region`` added.
        files: the cache file of each query, in the same order.
        currency: the currency asked for.
        requests: HTTP requests sent (0 when everything came from the cache).
        retries: the retried requests.
        notes: what came from the cache, and from when.
    """

    def __init__(self, pages: list[dict[str, Any]], files: list[Path], currency: str,
                 ledger: Ledger) -> None:
        self.pages = pages
        self.files = files
        self.currency = currency
        self.requests = ledger.requests
        self.retries = list(ledger.retries)
        self.notes = list(ledger.notes)

    @property
    def items(self) -> list[dict[str, Any]]:
        """Every item of every page."""
        return [item for page in self.pages for item in page["Items"]]

    def table(self) -> Any:
        """The items as a :class:`~vmlife.billing.prices.PriceTable` (hourly Linux and Windows
        meters; the licence is the Windows meter minus the Linux one)."""
        from ..billing.prices import prices_from_retail_items

        fetched = sorted(p["fetched"] for p in self.pages)
        table = prices_from_retail_items(self.items, "Azure Retail Prices API")
        table.date = fetched[0] if fetched else None
        return table

    def __repr__(self) -> str:
        return (f"<RetailPrices {len(self.items)} items for {len(self.pages)} queries in "
                f"{self.currency}, {self.requests} requests>")


#: Managed disk tier letter -> the Retail Prices API's productName.
DISK_PRODUCTS = {"P": "Premium SSD Managed Disks", "E": "Standard SSD Managed Disks",
                 "S": "Standard HDD Managed Disks"}


def _filter(region: str, size: str | None, disk: str | None = None) -> str:
    if disk is not None:
        product = DISK_PRODUCTS.get(disk[:1].upper(), DISK_PRODUCTS["P"])
        return ("serviceName eq 'Storage' and priceType eq 'Consumption' and "
                f"armRegionName eq '{region}' and productName eq '{product}' and "
                f"skuName eq '{disk}'")
    text = ("serviceName eq 'Virtual Machines' and priceType eq 'Consumption' and "
            f"armRegionName eq '{region}'")
    return f"{text} and armSkuName eq '{size}'" if size else text


def _cache_name(currency: str, region: str, size: str | None, disk: str | None = None) -> str:
    what = _SAFE.sub("_", disk or size or "all")
    digest = hashlib.sha256(f"{currency}|{region}|{size}|{disk}".encode()).hexdigest()[:8]
    kind = "disk-" if disk else ""
    return f"{_SAFE.sub('_', currency)}-{_SAFE.sub('_', region)}-{kind}{what}-{digest}.json"


def _cached(path: Path, max_age: float, now: float) -> dict[str, Any] | None:
    """A usable cache file's content, or None (missing, unreadable, too old)."""
    from ..errors import InputError
    from ..io.source import read_json

    if not path.is_file():
        return None
    try:
        data = read_json(path).value
        fetched = to_epoch(data["fetched"])
    except (InputError, KeyError, TypeError, ValueError):
        return None
    if not isinstance(data.get("Items"), list) or now - fetched > max_age:
        return None
    return data if isinstance(data, dict) else None


def retail_prices(
    regions: str | Iterable[str],
    sizes: Sequence[str] | None = None,
    currency: str = "USD",
    *,
    disks: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    max_age: timedelta = timedelta(days=1),
    refresh: bool = False,
    connection: Connection | None = None,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> RetailPrices:
    """Pay-as-you-go VM prices for regions (and sizes), from the Retail Prices API or the cache.

    Args:
        regions: ARM region names (``eastus``, ``westeurope``), as VMs' ``location`` says.
        sizes: only these VM sizes (``Standard_D2s_v5``); default every size in the region
            (thousands of items, many pages).
        currency: a currency code the API supports (USD, EUR, GBP, JPY, ...). Prices in other
            currencies than USD are, says Azure, "for your reference".
        disks: managed disk tiers to price too (``"P10 LRS"``, ``"E4 LRS"``,
            :func:`vmlife.billing.prices.disk_tier` names them), monthly prices.
        cache_dir: where to cache; default :func:`default_cache_dir`.
        max_age: a cached query younger than this is used without asking.
        refresh: ask even when the cache is fresh.
        connection: the ``prices`` endpoint, TLS and retries.
        progress: show a progress bar on standard error (terminal and tqdm only).
        report: called with a line of text for each retry and note.

    Raises:
        AzureError: the API failed for good (after retries) or could not be reached.
    """
    conn = connection or PUBLIC_CLOUD
    ledger = Ledger("Retail Prices", report)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    regs = [regions] if isinstance(regions, str) else sorted(set(regions))
    queries: list[tuple[str, str | None, str | None]] = [
        (r, s, None) for r in regs for s in (sorted(set(sizes)) if sizes else [None])]
    queries += [(r, None, d) for r in regs for d in sorted(set(disks or ()))]
    now = time.time()
    pages: list[dict[str, Any]] = []
    files: list[Path] = []
    fetch = None
    for region, size, disk in queries:
        path = folder / _cache_name(currency, region, size, disk)
        data = None if refresh else _cached(path, max_age.total_seconds(), now)
        what = size or disk
        if data is not None:
            ledger.notes.append(f"{region}{' ' + what if what else ''}: from the cache, "
                                f"fetched {data['fetched']} ({path})")
        else:
            if fetch is None:
                fetch = _Fetcher(conn, ledger, currency, progress)
            data = fetch.query(region, size, disk)
            folder.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(path)
        pages.append(data)
        files.append(path)
    if fetch is not None:
        fetch.close()
    return RetailPrices(pages, files, currency, ledger)


class _Fetcher:
    """One azure-core pipeline to the Retail Prices API, used for every query of a call."""

    def __init__(self, conn: Connection, ledger: Ledger, currency: str, progress: bool) -> None:
        sdk("azure.core")
        from azure.core import PipelineClient
        from azure.core.pipeline.policies import (
            ContentDecodePolicy,
            CustomHookPolicy,
            HeadersPolicy,
            UserAgentPolicy,
        )
        from azure.core.pipeline.transport import RequestsTransport

        from ._sdk import USER_AGENT, retry_policy

        def count(_response: Any) -> None:
            ledger.requests += 1

        self.conn = conn
        self.ledger = ledger
        self.currency = currency
        self.progress = progress
        self.client: Any = PipelineClient(
            base_url=conn.prices,
            policies=[
                HeadersPolicy({"Accept": "application/json"}),
                UserAgentPolicy(user_agent=USER_AGENT),
                ContentDecodePolicy(),
                retry_policy(conn, ledger),
                CustomHookPolicy(raw_response_hook=count),
            ],
            transport=RequestsTransport(connection_verify=conn.verify,
                                        connection_timeout=conn.timeout,
                                        read_timeout=conn.timeout),
        )

    def close(self) -> None:
        self.client.close()

    def query(self, region: str, size: str | None, disk: str | None = None) -> dict[str, Any]:
        from azure.core.exceptions import HttpResponseError
        from azure.core.paging import ItemPaged
        from azure.core.rest import HttpRequest, HttpResponse

        from ..io.history import Progress
        from ._sdk import Call, pages

        flt = _filter(region, size, disk)
        url = f"{self.conn.prices.rstrip('/')}{PATH}"
        call = Call("Retail Prices", f"GET {url}")
        head: dict[str, Any] = {}

        def get_next(link: str | None = None) -> HttpResponse:
            if link:
                request = HttpRequest("GET", link)
            else:
                request = HttpRequest("GET", url, params={
                    "api-version": API_VERSION,
                    "currencyCode": f"'{self.currency}'",
                    "$filter": flt,
                })
            response: HttpResponse = self.client.send_request(request)
            if response.status_code != 200:
                raise HttpResponseError(response=response)
            return response

        def extract(response: HttpResponse) -> tuple[str | None, Iterable[dict[str, Any]]]:
            data = response.json()
            if not head:
                head.update({k: data.get(k) for k in ("BillingCurrency", "CustomerEntityId",
                                                       "CustomerEntityType")})
            items = data.get("Items") or []
            return data.get("NextPageLink") or None, iter(items)

        items: list[dict[str, Any]] = []
        def paged() -> ItemPaged[dict[str, Any]]:
            return ItemPaged(get_next, extract)

        label = f"Prices {region}" + (f" {size or disk}" if size or disk else "")
        with Progress(None, label, unit="price", enabled=self.progress) as bar:
            for page in pages(paged, call, self.ledger):
                items.extend(page)
                bar.update(len(page))
        return {
            **head,
            "Items": items,
            "NextPageLink": None,
            "Count": len(items),
            "region": region,
            "filter": flt,
            "fetched": iso(float(int(time.time()))),
        }
