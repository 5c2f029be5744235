"""Every VM of some subscriptions, with what billing needs to know about it.

**Resource Graph first.** One query (``POST /providers/Microsoft.ResourceGraph/resources``,
azure-mgmt-resourcegraph) answers for all the subscriptions at once, up to 1,000 rows a page
(the ``$top`` maximum in the Resource Graph REST API specification); further pages are asked
with the ``$skipToken`` the answer gives (the SDK has no pager for this operation, so vmlife
loops, ordering by ``id`` as the REST examples ``ResourcesFirstPageQuery.json`` /
``ResourcesNextPageQuery.json`` ask for stable pages). A VM's row holds its ARM
``properties`` plus ``properties.extended.instanceView.powerState``.

**Compute as the fallback.** When Resource Graph cannot be asked (the package is missing, or
it answers with an error), each subscription's VMs come from Compute "Virtual Machines - List
All" with ``statusOnly=true`` (the power states), and once more without it when that answer
lacks the VMs' sizes and disks; the two are joined by resource id. Pages follow ``nextLink``.

**The result** is a list of VMs in the shape of an ARM List page item (``id``, ``name``,
``type``, ``location``, ``tags``, ``zones``, ``properties`` with ``hardwareProfile``,
``storageProfile``, ``licenseType``, ``priority``, ``evictionPolicy``, ...), each with
``properties.instanceView.statuses`` holding its power state. For Resource Graph rows vmlife
adds that ``instanceView`` from ``extended.instanceView.powerState`` (a conversion of vmlife's,
so every VM looks the same whichever way it was read) and writes ``type`` as ARM spells it.

**Access.** The built-in Reader role on each subscription. Resource Graph returns only the
resources the identity may read, so a missing role shows as missing VMs, not as an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ._connection import PUBLIC_CLOUD, Connection, Ledger, Pulled, sdk

__all__ = ["GRAPH_QUERY", "inventory"]

#: The Resource Graph query: every VM, its ARM properties, ordered for stable paging.
GRAPH_QUERY = (
    "Resources\n"
    "| where type =~ 'microsoft.compute/virtualmachines'\n"
    "| project id, name, type, location, resourceGroup, subscriptionId, tags, zones, sku, "
    "plan, identity, properties\n"
    "| order by id asc"
)
_PAGE = 1000
_TYPE = "Microsoft.Compute/virtualMachines"


def inventory(
    subscriptions: str | Sequence[str],
    *,
    credential: Any = None,
    connection: Connection | None = None,
    method: str = "auto",
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> Pulled:
    """Every VM of the subscriptions with size, OS, licence type, location, priority,
    eviction policy, disks and power state.

    Args:
        subscriptions: one subscription id or several.
        credential: an azure-identity credential; default ``DefaultAzureCredential()``.
        connection: endpoints, TLS and retries (default: Azure's public cloud).
        method: ``"auto"`` (Resource Graph, falling back to Compute), ``"graph"`` or
            ``"compute"``.
        progress: show a progress bar on standard error (terminal and tqdm only).
        report: called with a line of text for each retry and note.

    Returns:
        The VMs as ARM List items (see the module docstring); ``.meta["method"]`` says which
        API answered, ``.notes`` why a fallback happened.

    Raises:
        UnknownNameError: an unknown ``method``.
        AzureAccessError: no credential, or the identity lacks Reader.
        AzureError: Azure failed for good (after retries) or could not be reached.
    """
    from ..errors import AzureAccessError, AzureError, UnknownNameError

    subs = [subscriptions] if isinstance(subscriptions, str) else list(subscriptions)
    if method not in ("auto", "graph", "compute"):
        raise UnknownNameError("inventory method", method, ("auto", "graph", "compute"))
    conn = connection or PUBLIC_CLOUD
    ledger = Ledger("Inventory", report)
    sdk("azure.core")
    from ._sdk import default_credential

    cred = default_credential(credential)
    if method in ("auto", "graph"):
        try:
            vms = _graph(subs, cred, conn, ledger, progress)
            return ledger.pulled(vms, method="resource-graph", subscriptions=subs)
        except ImportError as exc:
            if method == "graph":
                raise
            ledger.note(f"Resource Graph not asked ({exc}); listed VMs with Compute instead")
        except AzureAccessError as exc:
            if method == "graph" or exc.status is None:  # no token: Compute would fail too
                raise
            ledger.note(f"Resource Graph refused ({exc.status} {exc.code or ''}); listed VMs "
                        "with Compute instead".replace(" )", ")"))
        except AzureError as exc:
            if method == "graph" or exc.status is None:
                raise
            ledger.note(f"Resource Graph failed ({exc.status} {exc.code or ''}); listed VMs "
                        "with Compute instead".replace(" )", ")"))
    vms = []
    for sub in subs:
        vms.extend(_compute(sub, cred, conn, ledger, progress))
    return ledger.pulled(vms, method="compute", subscriptions=subs)


def _graph(subs: list[str], cred: Any, conn: Connection, ledger: Ledger,
           progress: bool) -> list[dict[str, Any]]:
    graph = sdk("azure.mgmt.resourcegraph")
    models = sdk("azure.mgmt.resourcegraph.models")
    from ..io.history import Progress
    from ._sdk import Call, client_kwargs, once

    call = Call(
        "Resource Graph",
        f"POST {conn.resource_manager.rstrip('/')}/providers/Microsoft.ResourceGraph/resources",
        action="Microsoft.ResourceGraph/resources/read",
        role="Reader",
        scope=", ".join(f"/subscriptions/{s}" for s in subs),
    )
    out: list[dict[str, Any]] = []
    skip: str | None = None
    truncated = False
    with graph.ResourceGraphClient(cred, **client_kwargs(conn, ledger)) as client, \
            Progress(None, "Inventory", unit="VM", enabled=progress) as bar:
        while True:
            request = models.QueryRequest(
                subscriptions=subs,
                query=GRAPH_QUERY,
                options=models.QueryRequestOptions(top=None if skip else _PAGE, skip_token=skip,
                                            result_format="objectArray"),
            )
            answer = once(lambda req=request: client.resources(req), call, ledger)  # type: ignore[misc]
            truncated = truncated or str(answer.result_truncated).lower() == "true"
            rows = answer.data if isinstance(answer.data, list) else []
            out.extend(_from_graph(row) for row in rows if isinstance(row, dict))
            bar.update(len(rows))
            skip = answer.skip_token
            if not skip:
                break
    if truncated:
        ledger.note("Resource Graph said its answer was truncated: some VMs may be missing")
    return out


def _from_graph(row: dict[str, Any]) -> dict[str, Any]:
    """A Resource Graph row as an ARM List item (see the module docstring)."""
    vm = {k: row[k] for k in ("id", "name", "location", "tags", "zones", "sku", "plan",
                              "identity") if row.get(k) is not None}
    vm["type"] = _TYPE
    props = dict(row.get("properties") or {})
    power = ((props.get("extended") or {}).get("instanceView") or {}).get("powerState")
    if isinstance(power, dict) and "instanceView" not in props:
        props["instanceView"] = {"statuses": [power]}
    vm["properties"] = props
    return vm


def _compute(sub: str, cred: Any, conn: Connection, ledger: Ledger,
             progress: bool) -> list[dict[str, Any]]:
    compute = sdk("azure.mgmt.compute")
    from ..io.history import Progress
    from ._sdk import Call, client_kwargs, pages, rest_dict

    call = Call(
        "Compute List All",
        f"GET {conn.resource_manager.rstrip('/')}/subscriptions/{sub}/providers/"
        "Microsoft.Compute/virtualMachines",
        action="Microsoft.Compute/virtualMachines/read",
        role="Reader",
        scope=f"/subscriptions/{sub}",
    )
    with compute.ComputeManagementClient(cred, sub, **client_kwargs(conn, ledger)) as client, \
            Progress(None, "Inventory", unit="VM", enabled=progress) as bar:
        status: list[dict[str, Any]] = []
        for page in pages(lambda: client.virtual_machines.list_all(status_only="true"),
                          call, ledger):
            status.extend(rest_dict(m) for m in page)
            bar.update(len(page))
        if all(_has_model(vm) for vm in status):
            return status
        full: list[dict[str, Any]] = []
        for page in pages(lambda: client.virtual_machines.list_all(), call, ledger):
            full.extend(rest_dict(m) for m in page)
    return _join(full, status)


def _has_model(vm: dict[str, Any]) -> bool:
    return isinstance((vm.get("properties") or {}).get("hardwareProfile"), dict)


def _join(full: Iterable[dict[str, Any]], status: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The full VMs, each with the instance view of the same id from the statusOnly answer."""
    views = {}
    for vm in status:
        view = (vm.get("properties") or {}).get("instanceView")
        if isinstance(vm.get("id"), str) and view is not None:
            views[vm["id"].lower()] = view
    out = []
    for vm in full:
        item = dict(vm)
        props = dict(item.get("properties") or {})
        view = views.get(str(item.get("id", "")).lower())
        if view is not None and "instanceView" not in props:
            props["instanceView"] = view
        item["properties"] = props
        out.append(item)
    return out
