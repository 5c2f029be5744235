"""``pull``: a subscription's inventory, Activity Log and prices into a folder vmlife reads.

The folder (see :mod:`vmlife.io.folder`)::

    DIR/inventory.json      {"value": [VM, ...]}: ARM List items (see vmlife.azure.inventory)
    DIR/activity_log.json   {"value": [event, ...]}: every Activity Log page's events, in one list
    DIR/prices/*.json       Retail Prices API pages, one file per region and VM size or disk tier
    DIR/pull.json           what was pulled, from where, when, and what it cost in requests

``vmlife bill DIR`` and ``vmlife report DIR`` read it as they are.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..timeutil import TimeLike, iso, to_epoch
from ._connection import PUBLIC_CLOUD, Connection, Pulled, Retry, sdk

__all__ = ["FORMAT", "PullResult", "pull"]

#: ``format`` of ``pull.json``.
FORMAT = "vmlife.pull"


@dataclass
class PullResult:
    """What :func:`pull` wrote and what it cost.

    Attributes:
        folder: the folder written.
        files: the files written, relative to ``folder``.
        vms: VMs in the inventory.
        events: Activity Log events kept.
        prices: price items kept.
        requests: HTTP requests sent, per call.
        retries: every retried request.
        notes: what a person should know (retention, fallbacks, cache use).
        manifest: the content of ``pull.json``.
    """

    folder: Path
    files: list[str]
    vms: int
    events: int
    prices: int
    requests: dict[str, int]
    retries: list[Retry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def _sizes_and_disks(vms: list[dict[str, Any]]) -> tuple[dict[str, set[str]],
                                                        dict[str, set[str]]]:
    """Per region, the VM sizes and the managed disk tiers of the inventory's VMs (a VM the
    inventory reader cannot use is left out here; its problem shows when the folder is read)."""
    from ..billing.prices import disk_tier
    from ..io.inventory import read_inventory

    sizes: dict[str, set[str]] = {}
    disks: dict[str, set[str]] = {}
    for vm in read_inventory({"value": vms}).vms:
        sizes.setdefault(vm.region, set()).add(vm.size)
        for disk in vm.disks:
            tier = disk_tier(disk.type, disk.size_gb)
            if tier is not None:
                disks.setdefault(vm.region, set()).add(tier)
    return sizes, disks


def pull(
    subscription: str,
    days: float = 30,
    out: str | Path = "vmlife-pull",
    *,
    resource_group: str | None = None,
    end: TimeLike | None = None,
    currency: str = "USD",
    credential: Any = None,
    connection: Connection | None = None,
    price_cache: str | Path | None = None,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> PullResult:
    """Pull a subscription's VMs, their Activity Log of the last ``days`` and their prices.

    Args:
        subscription: the subscription id.
        days: how many days of Activity Log, back from ``end`` (Azure keeps 90).
        out: the folder to write (created; the four kinds of file are replaced, nothing
            else in it is touched).
        resource_group: only this resource group's Activity Log.
        end: the end of the period (default now).
        currency: the currency of the prices.
        credential: an azure-identity credential; default ``DefaultAzureCredential()``.
        connection: endpoints, TLS and retries (default: Azure's public cloud).
        price_cache: the Retail Prices cache folder (see :func:`vmlife.azure.retail_prices`).
        progress: progress bars on standard error (terminal and tqdm only).
        report: called with a line of text for each retry and note, as they happen.

    Raises:
        InputError: ``days`` not positive, or a period Azure no longer keeps.
        AzureAccessError, AzureError: as the three calls raise them.
    """
    from ..errors import InputError
    from .activity import activity_log
    from .inventory import inventory
    from .prices import retail_prices

    if not days > 0:
        raise InputError(f"days must be positive, got {days!r}", field="days")
    conn = connection or PUBLIC_CLOUD
    sdk("azure.core")
    from ._sdk import default_credential

    cred = default_credential(credential)
    started = time.time()
    t_end = started if end is None else to_epoch(end)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    vms = inventory(subscription, credential=cred, connection=conn, progress=progress,
                    report=report)
    events = activity_log(subscription, t_end - days * 86400, t_end, resource_group,
                          credential=cred, connection=conn, progress=progress, report=report)
    by_region, disks_by_region = _sizes_and_disks(vms)
    regions = sorted(by_region)
    sizes = sorted({s for group in by_region.values() for s in group})
    price_sets = [retail_prices(region, sorted(by_region[region]) or None, currency,
                                disks=sorted(disks_by_region.get(region, ())),
                                cache_dir=price_cache, connection=conn, progress=progress,
                                report=report) for region in regions]

    _write_json(folder / "inventory.json", {"value": list(vms)})
    _write_json(folder / "activity_log.json", {"value": list(events)})
    price_files = []
    for prices in price_sets:
        for page, cached in zip(prices.pages, prices.files, strict=True):
            name = f"prices/{cached.name}"
            _write_json(folder / name, page)
            price_files.append(name)
    calls: list[Pulled] = [vms, events]
    requests = {p.call: p.requests for p in calls}
    requests["Retail Prices"] = sum(p.requests for p in price_sets)
    retries = [r for p in calls for r in p.retries] + [
        r for p in price_sets for r in p.retries]
    notes = [f"{p.call}: {n}" for p in calls for n in p.notes] + [
        f"Retail Prices: {n}" for p in price_sets for n in p.notes]
    price_items = sum(len(p.items) for p in price_sets)
    files = ["inventory.json", "activity_log.json", *price_files]
    manifest = {
        "format": FORMAT,
        "version": 1,
        "subscription": subscription,
        "resource_group": resource_group,
        "start": events.meta["start"],
        "end": events.meta["end"],
        "days": days,
        "pulled_at": iso(float(int(started))),
        "connection": conn.as_dict(),
        "inventory": {"file": "inventory.json", "vms": len(vms), "method": vms.meta["method"]},
        "activity_log": {"file": "activity_log.json", "events": len(events),
                         "filter": events.meta["filter"],
                         "api_version": events.meta["api_version"]},
        "prices": {"files": price_files, "currency": currency, "regions": regions,
                   "sizes": sizes, "items": price_items,
                   "fetched": min((page["fetched"] for p in price_sets for page in p.pages),
                                  default=None)},
        "requests": requests,
        "retries": [r.as_dict() for r in retries],
        "notes": notes,
    }
    _write_json(folder / "pull.json", manifest)
    files.append("pull.json")
    return PullResult(folder, files, len(vms), len(events), price_items, requests,
                      retries, notes, manifest)
