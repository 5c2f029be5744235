"""The Activity Log of a subscription's VMs, through azure-mgmt-monitor.

One REST operation: "Activity Logs - List" (``GET /subscriptions/{id}/providers/
Microsoft.Insights/eventtypes/management/values``, api-version 2015-04-01; Azure REST API
specs, ``specification/monitor/.../2015-04-01``). Its ``$filter`` must give the time range
(``eventTimestamp ge '...' and eventTimestamp le '...'``) and may add **one** of
``resourceGroupName eq``, ``resourceUri eq``, ``resourceProvider eq`` or ``correlationId eq``
("No other syntax is allowed", says the operation's documentation). vmlife asks:

* for one VM: ``resourceUri eq '<the VM's id>'``;
* for a resource group: ``resourceGroupName eq '<group>'``;
* otherwise: ``resourceProvider eq 'Microsoft.Compute'``;

and keeps the events whose ``resourceId`` is a virtual machine (not a disk, an extension or a
scale set). Azure decides how many events a page holds and names the next page in ``nextLink``;
every page is read, one request each. ``$select`` asks only for the fields the
Activity Log reader uses.

**Retention.** "Activity log events are retained in Azure for 90 days and then deleted" (Azure
Monitor documentation, "Azure Monitor activity log", section "Retention period"). Asked for
older days, vmlife pulls from 90 days ago and says so in a note; a period that ends before
then is refused with an :class:`~vmlife.errors.InputError` explaining how to keep a longer
history (a diagnostic setting sending the log to a storage account or a Log Analytics
workspace, whose exports vmlife reads).

**Access.** Reading the log needs ``Microsoft.Insights/eventtypes/values/read`` on the
subscription: the built-in roles Monitoring Reader and Reader both have it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..errors import InputError
from ..timeutil import TimeLike, iso, to_epoch
from ._connection import PUBLIC_CLOUD, Connection, Ledger, Pulled, sdk

__all__ = ["API_VERSION", "RETENTION_DAYS", "SELECT", "activity_log", "build_filter"]

#: The Activity Log REST API version azure-mgmt-monitor sends.
API_VERSION = "2015-04-01"
#: Days Azure keeps Activity Log events.
RETENTION_DAYS = 90
#: The fields asked for with ``$select``: what :mod:`vmlife.io.activity_log` reads, plus what
#: a person reading the file wants to see (caller, level, category).
SELECT = ",".join((
    "authorization", "caller", "category", "correlationId", "eventDataId", "eventName",
    "eventTimestamp", "id", "level", "operationId", "operationName", "properties",
    "resourceGroupName", "resourceId", "resourceProviderName", "resourceType", "status",
    "subStatus", "submissionTimestamp", "subscriptionId", "tenantId",
))
_VM_SEGMENT = "/providers/microsoft.compute/virtualmachines/"


def vm_resource_id(subscription: str, resource_group: str | None, vm: str) -> str:
    """A VM's resource id from its name and group, or ``vm`` itself when it is an id."""
    if vm.startswith("/"):
        return vm
    if not resource_group:
        raise InputError("a VM given by name needs its resource group", field="resource_group")
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.Compute/virtualMachines/{vm}")


def build_filter(
    subscription: str,
    start: float,
    end: float,
    resource_group: str | None = None,
    vm: str | None = None,
) -> str:
    """The ``$filter`` vmlife sends for a period and a scope (see the module docstring)."""
    text = f"eventTimestamp ge '{iso(start)}' and eventTimestamp le '{iso(end)}'"
    if vm:
        return f"{text} and resourceUri eq '{vm_resource_id(subscription, resource_group, vm)}'"
    if resource_group:
        return f"{text} and resourceGroupName eq '{resource_group}'"
    return f"{text} and resourceProvider eq 'Microsoft.Compute'"


def is_vm_event(event: dict[str, Any]) -> bool:
    """Whether an event is about a virtual machine itself (not its disks or extensions)."""
    rid = event.get("resourceId")
    if not isinstance(rid, str):
        return False
    low = rid.lower().rstrip("/")
    at = low.find(_VM_SEGMENT)
    return at >= 0 and "/" not in low[at + len(_VM_SEGMENT):]


def activity_log(
    subscription: str,
    start: TimeLike,
    end: TimeLike | None = None,
    resource_group: str | None = None,
    vm: str | None = None,
    *,
    credential: Any = None,
    connection: Connection | None = None,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
    now: TimeLike | None = None,
) -> Pulled:
    """Activity Log events of a subscription's VMs between ``start`` and ``end``.

    Args:
        subscription: the subscription id.
        start, end: the period (ISO 8601 text, ``datetime`` or epoch seconds); ``end``
            defaults to now.
        resource_group: only this resource group's VMs.
        vm: only this VM: a name (with ``resource_group``) or a resource id.
        credential: an azure-identity credential; default ``DefaultAzureCredential()``.
        connection: endpoints, TLS and retries (default: Azure's public cloud).
        progress: show a progress bar on standard error (when it is a terminal and tqdm is
            installed).
        report: called with a line of text for each retry and note, as they happen.
        now: the current time, for the retention limit (tests).

    Returns:
        The events in Azure's REST shape, newest first as Azure sends them; ``.notes`` says
        when the period was cut to the 90 days Azure keeps, ``.meta`` has the ``$filter``.

    Raises:
        InputError: a period that ends before the retention window, or ``start`` after ``end``.
        AzureAccessError: no credential, or the identity lacks Monitoring Reader / Reader.
        AzureError: Azure failed for good (after retries) or could not be reached.
    """
    monitor = sdk("azure.mgmt.monitor")
    from ..io.history import Progress
    from ._sdk import Call, client_kwargs, default_credential, pages, rest_dict

    conn = connection or PUBLIC_CLOUD
    ledger = Ledger("Activity Log", report)
    t_now = time.time() if now is None else to_epoch(now)
    lo = to_epoch(start)
    hi = t_now if end is None else to_epoch(end)
    if lo > hi:
        raise InputError(f"start {iso(lo)} is after end {iso(hi)}", field="start")
    oldest = t_now - RETENTION_DAYS * 86400
    if hi < oldest:
        raise InputError(
            f"the Activity Log keeps {RETENTION_DAYS} days: nothing before {iso(oldest)} can be "
            f"pulled, and the period ends {iso(hi)}. To keep a longer history, add a diagnostic "
            "setting that sends the Activity Log to a storage account or a Log Analytics "
            "workspace, and give vmlife that export",
            field="end",
        )
    if lo < oldest:
        ledger.note(
            f"the Activity Log keeps {RETENTION_DAYS} days: asked from {iso(lo)}, pulled from "
            f"{iso(oldest)}; what happened before is not in the log"
        )
        lo = oldest
    flt = build_filter(subscription, lo, hi, resource_group, vm)
    scope = f"/subscriptions/{subscription}"
    call = Call(
        "Activity Log",
        f"GET {conn.resource_manager.rstrip('/')}{scope}/providers/Microsoft.Insights/"
        "eventtypes/management/values",
        action="Microsoft.Insights/eventtypes/values/read",
        role="Monitoring Reader",
        scope=scope,
    )
    events: list[dict[str, Any]] = []
    other = 0
    cred = default_credential(credential)
    client_type = monitor.MonitorManagementClient
    with client_type(cred, subscription, **client_kwargs(conn, ledger)) as client, \
            Progress(None, "Activity Log", unit="event", enabled=progress) as bar:
        for page in pages(lambda: client.activity_logs.list(filter=flt, select=SELECT),
                          call, ledger):
            for model in page:
                event = rest_dict(model)
                if is_vm_event(event):
                    events.append(event)
                else:
                    other += 1
            bar.update(len(page))
    if other:
        ledger.notes.append(f"{other} events about other Microsoft.Compute resources (disks, "
                            "extensions, scale sets) were left out")
    return ledger.pulled(events, filter=flt, start=iso(lo), end=iso(hi),
                         api_version=API_VERSION)
