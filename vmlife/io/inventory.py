"""What each VM *is*: size, OS, licence, region, priority, disks, read from an inventory.

The Activity Log says when a VM changed state, never what it is. An inventory says what it
is, and vmlife joins the two by resource id, case-insensitively (cost exports and the Activity
Log export upper-case resource groups).

Accepted files (one reader, the shape is detected per record):

* ``az vm list`` and ``az vm list -d`` output: a JSON array of VMs with the ARM properties
  flattened to the top (``hardwareProfile``, ``storageProfile``, ``licenseType``, ``priority``,
  ...), as the Azure CLI prints them; ``az vm show`` prints one such object;
* ARM List pages (REST "Virtual Machines - List" / "List All" / "List By Location":
  ``{"value": [...], "nextLink": ...}``, each VM with its fields under ``properties``); several
  pages may be concatenated, or given as a JSON array of pages, or as JSON Lines;
* ``az graph query`` / Resource Graph results: ``{"data": [...]}`` (or a bare array of rows),
  each row with ``id``, ``type``, ``location``, ``tags`` and ``properties``.

Rows whose ``type`` is not ``Microsoft.Compute/virtualMachines`` (any case) are ignored and
counted. Fields read per VM (names from the Compute REST API reference, api-version
2024-03-01, and its published examples in github.com/Azure/azure-rest-api-specs,
``specification/compute/.../examples/virtualMachineExamples``):

=====================  ==================================================================
``id``                 the resource id (required)
``name``               else the last segment of the id
``location``           the region, e.g. ``westeurope`` (required)
``hardwareProfile``    ``.vmSize`` (required)
``storageProfile``     ``.osDisk.osType`` ``Linux``/``Windows`` (required; when missing,
                       ``osProfile.windowsConfiguration`` / ``linuxConfiguration`` decide);
                       ``.osDisk`` and ``.dataDisks[]``: ``name``, ``diskSizeGB``,
                       ``managedDisk.storageAccountType`` (``Premium_LRS``,
                       ``StandardSSD_LRS``, ``Standard_LRS``, ...; none for an unmanaged
                       VHD disk)
``licenseType``        ``Windows_Server`` or ``Windows_Client`` is Azure Hybrid Benefit
                       (the Windows licence is not charged); ``RHEL_BYOS`` and others are
                       kept as given
``priority``           ``Regular`` (default), ``Spot``, ``Low`` (the older low-priority)
``evictionPolicy``     ``Deallocate`` or ``Delete`` (spot VMs)
``additionalCapabilities.hibernationEnabled``
``tags``               a string-to-string mapping
=====================  ==================================================================

A record without a required field, or with a mistyped one, is a *problem* (an
:class:`~vmlife.errors.InputError` in :attr:`Inventory.problems`, naming the file, the record
and the field) and is left out, unless ``strict=True``, which raises it. Two records of one
resource id: the first is kept and the second is a problem.

Example:
    >>> from vmlife.io.inventory import read_inventory
    >>> inv = read_inventory([{
    ...     "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/"
    ...           "virtualMachines/web-1",
    ...     "location": "westeurope", "licenseType": "Windows_Server",
    ...     "hardwareProfile": {"vmSize": "Standard_D4s_v5"},
    ...     "storageProfile": {"osDisk": {"osType": "Windows"}}}])
    >>> vm = inv.get("/SUBSCRIPTIONS/S/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/"
    ...              "VIRTUALMACHINES/WEB-1")
    >>> vm.name, vm.size, vm.os, vm.ahb, vm.priority
    ('web-1', 'Standard_D4s_v5', 'Windows', True, 'Regular')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from ..timeline import Timeline

__all__ = [
    "AHB_LICENSE_TYPES",
    "INVENTORY_HELP",
    "DiskInfo",
    "Inventory",
    "VMInfo",
    "add_inventory_argument",
    "apply_inventory",
    "inventory_from_args",
    "read_inventory",
    "resource_key",
]

#: ``licenseType`` values that are Azure Hybrid Benefit for Windows (no licence charge).
AHB_LICENSE_TYPES = ("windows_server", "windows_client")
#: Azure's priorities, lower-cased, to their spelling.
PRIORITIES = {"regular": "Regular", "spot": "Spot", "low": "Low"}
#: Priority as vmlife's price tables and plugins key it.
PRICE_PRIORITY = {"Regular": "regular", "Spot": "spot", "Low": "low_priority"}
VM_TYPE = "microsoft.compute/virtualmachines"

#: What :func:`read_inventory` takes: a path, a stream, bytes or parsed JSON.
InventorySource = (
    str | os.PathLike[str] | IO[str] | IO[bytes] | bytes | Mapping[str, Any] | list[Any]
)


def resource_key(resource_id: str) -> str:
    """The case-insensitive key of a resource id: lower case, one leading slash, none trailing.

    Example:
        >>> resource_key("SUBSCRIPTIONS/S/resourceGroups/RG/")
        '/subscriptions/s/resourcegroups/rg'
    """
    return "/" + resource_id.strip().strip("/").lower()


@dataclass(frozen=True, slots=True)
class DiskInfo:
    """One disk of a VM.

    Attributes:
        name: the disk's name, when given.
        role: ``"os"`` or ``"data"``.
        type: the managed disk's ``storageAccountType`` (``Premium_LRS``, ``StandardSSD_LRS``,
            ``Standard_LRS``, ``UltraSSD_LRS``, ``PremiumV2_LRS``, ...); None for an unmanaged
            (VHD) disk or when not given.
        size_gb: ``diskSizeGB``, when given (a create request may leave it to the image).
    """

    name: str | None
    role: str
    type: str | None
    size_gb: float | None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "role": self.role, "type": self.type, "size_gb": self.size_gb}


@dataclass(frozen=True, slots=True)
class VMInfo:
    """What an inventory says one VM is.

    Attributes:
        resource_id: as written in the inventory.
        name: the VM's name.
        size: ``hardwareProfile.vmSize``, e.g. ``Standard_D4s_v5``.
        os: ``"Linux"`` or ``"Windows"``.
        license_type: ``licenseType`` as given, or None.
        ahb: True when ``licenseType`` is ``Windows_Server`` or ``Windows_Client`` (Azure
            Hybrid Benefit: priced at the Linux meter, no licence charge).
        region: ``location``, lower case without blanks (``westeurope``).
        priority: ``"Regular"``, ``"Spot"`` or ``"Low"``.
        eviction_policy: ``"Deallocate"``, ``"Delete"`` or None.
        disks: the OS disk first, then the data disks.
        hibernation_enabled: ``additionalCapabilities.hibernationEnabled``.
        tags: the resource's tags.
    """

    resource_id: str
    name: str
    size: str
    os: str
    license_type: str | None
    ahb: bool
    region: str
    priority: str = "Regular"
    eviction_policy: str | None = None
    disks: tuple[DiskInfo, ...] = ()
    hibernation_enabled: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def attributes(self) -> dict[str, Any]:
        """The VM attributes the engine, the plugins and the meter read (all JSON-ready).

        ``os`` is lower case and ``priority`` is spelled as price tables key it (``regular``,
        ``spot``, ``low_priority``), which is also what the spot and hibernation plugins read.
        A VM with Azure Hybrid Benefit is priced as Linux: its ``os`` attribute is ``linux``
        and ``os_type`` keeps ``Windows``.
        """
        attrs: dict[str, Any] = {
            "resource_id": self.resource_id,
            "size": self.size,
            "os": "linux" if self.ahb else self.os.lower(),
            "os_type": self.os,
            "region": self.region,
            "priority": PRICE_PRIORITY.get(self.priority, self.priority.lower()),
            "ahb": self.ahb,
            "hibernation_enabled": self.hibernation_enabled,
            "disks": [d.as_dict() for d in self.disks],
            "tags": dict(self.tags),
        }
        if self.license_type is not None:
            attrs["license_type"] = self.license_type
        if self.eviction_policy is not None:
            attrs["eviction_policy"] = self.eviction_policy
        return attrs


class Inventory(Mapping[str, VMInfo]):
    """VMs by resource id, compared case-insensitively.

    ``inv.get(resource_id)``, ``resource_id in inv``, ``inv[resource_id]`` and iteration (over
    resource ids as written) work as for a dict. :meth:`find` also matches a VM by name.

    Attributes:
        source: where it was read from.
        problems: records that could not be used (see the module docstring).
        ignored: rows about other resource types.
    """

    def __init__(
        self,
        vms: Iterable[VMInfo] = (),
        *,
        source: str = "<data>",
        problems: Iterable[InputError] = (),
        ignored: int = 0,
    ) -> None:
        self._vms: dict[str, VMInfo] = {}
        self.source = source
        self.problems: list[InputError] = list(problems)
        self.ignored = ignored
        for vm in vms:
            self._vms.setdefault(resource_key(vm.resource_id), vm)

    def __getitem__(self, resource_id: str) -> VMInfo:
        if not isinstance(resource_id, str):
            raise KeyError(resource_id)
        return self._vms[resource_key(resource_id)]

    def __contains__(self, resource_id: object) -> bool:
        return isinstance(resource_id, str) and resource_key(resource_id) in self._vms

    def __iter__(self) -> Iterator[str]:
        return (vm.resource_id for vm in self._vms.values())

    def __len__(self) -> int:
        return len(self._vms)

    @property
    def vms(self) -> tuple[VMInfo, ...]:
        """Every VM, in the inventory's order."""
        return tuple(self._vms.values())

    def find(self, vm: str, resource_id: str | None = None) -> VMInfo | None:
        """The VM with this resource id (when one is given, only that); else the one VM whose
        resource id or name (or ``group/name``) is ``vm``, case-insensitively; None when there
        is none or the name is ambiguous. A VM known by its id is never matched by name: a VM
        of the same name in another group or subscription is another VM."""
        if resource_id and "/" in resource_id.strip("/"):
            return self.get(resource_id)
        if "/" in vm.strip("/") and vm in self:
            return self[vm]
        wanted = vm.strip().lower()
        hits = [
            v for v in self._vms.values()
            if v.name.lower() == wanted or _group_name(v.resource_id) == wanted
        ]
        return hits[0] if len(hits) == 1 else None

    def __repr__(self) -> str:
        return (f"<Inventory {len(self)} VMs from {self.source!r}, {len(self.problems)} "
                f"problems, {self.ignored} other resources>")


def apply_inventory(timelines: Iterable[Timeline], inventory: Inventory) -> list[str]:
    """Set each timeline's attributes from the inventory (matched by its ``resource_id``
    attribute, else by name, see :meth:`Inventory.find`); the inventory's values win.

    Returns:
        The names of the VMs the inventory does not list.
    """
    missing = []
    for tl in timelines:
        rid = tl.attributes.get("resource_id")
        info = inventory.find(tl.vm, rid if isinstance(rid, str) else None)
        if info is None:
            missing.append(tl.vm)
        else:
            tl.attributes.update(info.attributes())
    return missing


#: The ``--inventory`` option's help, shared by every command that takes it.
INVENTORY_HELP = (
    "what each VM is: az vm list [-d] / az vm show output, ARM List pages or az graph query "
    "output (JSON). Size, OS, licence type (Azure Hybrid Benefit), region, priority (Spot), "
    "disks and tags are joined to the VMs by resource id, case-insensitively; VMs it does not "
    "list are priced as a Linux Standard_D2s_v5 and listed"
)


def add_inventory_argument(parser: Any) -> None:
    """Add ``--inventory FILE`` to an argparse parser (``bill``, ``timeline``, ``report``,
    ``reconcile``); read it back with :func:`inventory_from_args`."""
    parser.add_argument("--inventory", metavar="FILE", help=INVENTORY_HELP)


def inventory_from_args(args: Any, out: Any = None) -> Inventory | None:
    """The inventory ``--inventory`` names, or None; its problems are printed to ``out``
    (standard error when None) as ``Inventory problem: ...`` lines.

    Raises:
        InputError: the file cannot be read or holds no VM list (the command exits 2).
    """
    import sys

    path = getattr(args, "inventory", None)
    if not path:
        return None
    inv = read_inventory(path)
    stream = out if out is not None else sys.stderr
    for problem in inv.problems:
        from ..cli import say

        say(f"Inventory problem: {problem}", stream)
    return inv


def _group_name(rid: str) -> str:
    parts = rid.strip().strip("/").split("/")
    return f"{parts[3]}/{parts[-1]}".lower() if len(parts) >= 4 else parts[-1].lower()


# ---------------------------------------------------------------------- reading
def read_inventory(source: InventorySource, *, strict: bool = False,
                   name: str | None = None) -> Inventory:
    """Read an inventory: ``az vm list [-d]``, ``az vm show``, ARM List pages or
    ``az graph query`` output (see the module docstring). Nothing given is modified.

    Args:
        source: a path (``"-"`` for standard input), an open file, bytes, or parsed JSON.
        strict: raise at the first problem instead of collecting it.
        name: the source's name in messages (default the path).

    Raises:
        InputError: the file cannot be read or is not JSON, holds no VM list, or (with
            ``strict``) a record is unusable: naming the file, the record and the field.
    """
    from .source import loads_many, name_of, read_text

    if isinstance(source, Mapping | list):
        src = name or "<data>"
        docs: list[Any] = [source]
    else:
        if isinstance(source, Path):
            source = str(source)
        text = read_text(source, name=name)
        src = text.name or name_of(source)
        if not text.text.strip():
            raise InputError("empty: expected an inventory (az vm list, ARM List pages or "
                             "az graph query output)", source=src)
        docs = loads_many(text.text, name=src)
    vms: list[VMInfo] = []
    problems: list[InputError] = []
    seen: dict[str, str] = {}
    ignored = 0
    for where, rec in _records(docs, src):
        try:
            vm = _vm(rec, src, where)
        except InputError as exc:
            if strict:
                raise
            problems.append(exc)
            continue
        if vm is None:
            ignored += 1
            continue
        key = resource_key(vm.resource_id)
        if key in seen:
            twice = InputError(f"resource id listed twice (first at {seen[key]}); the first "
                               "is kept", source=src, record=where, field="id")
            if strict:
                raise twice
            problems.append(twice)
            continue
        seen[key] = where
        vms.append(vm)
    return Inventory(vms, source=src, problems=problems, ignored=ignored)


_CONTAINERS = ("value", "data")


def _records(docs: list[Any], src: str) -> Iterator[tuple[str, Any]]:
    """``(where, record)`` of every VM row in the documents: pages and arrays flattened."""
    multi = len(docs) > 1
    for d, doc in enumerate(docs, start=1):
        prefix = f"document {d}, " if multi else ""
        if isinstance(doc, list):
            items: list[tuple[str, Any]] = []
            for i, item in enumerate(doc, start=1):
                inner = _container(item) if isinstance(item, Mapping) else None
                if inner is not None:  # an array of pages
                    key, rows = inner
                    items.extend((f"{prefix}page {i}, {key} item {j}", r)
                                 for j, r in enumerate(rows, start=1))
                else:
                    items.append((f"{prefix}item {i}", item))
            yield from items
            continue
        if isinstance(doc, Mapping):
            inner = _container(doc)
            if inner is not None:
                key, rows = inner
                for j, row in enumerate(rows, start=1):
                    yield f"{prefix}{key} item {j}", row
                continue
            if "id" in doc or "properties" in doc or "hardwareProfile" in doc:
                yield f"{prefix}the object", doc  # az vm show
                continue
        raise InputError(
            "expected az vm list / az vm show output, ARM List pages ({'value': [...]}) or "
            "az graph query output ({'data': [...]})",
            source=src, record=f"document {d}" if multi else None,
        )


def _container(doc: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    for key in _CONTAINERS:
        rows = doc.get(key)
        if isinstance(rows, list):
            return key, rows
    return None


def _vm(rec: Any, src: str, where: str) -> VMInfo | None:
    """One record as a VMInfo; None for another resource type."""

    def bad(fld: str, reason: str) -> InputError:
        return InputError(reason, source=src, record=where, field=fld)

    if not isinstance(rec, Mapping):
        raise InputError(f"expected a VM object, got {_type(rec)}", source=src, record=where)
    rtype = rec.get("type")
    if rtype is not None:
        if not isinstance(rtype, str):
            raise bad("type", f"expected text, got {_type(rtype)}")
        if rtype.strip().lower() != VM_TYPE:
            return None
    props = rec.get("properties")
    if props is None:
        props = rec  # az vm list / show: flattened
    elif not isinstance(props, Mapping):
        raise bad("properties", f"expected an object, got {_type(props)}")

    def get(key: str) -> Any:
        value = props.get(key)
        return rec.get(key) if value is None and props is not rec else value

    rid = _text(rec.get("id"), "id", bad)
    if rid is None or "/" not in rid.strip("/"):
        raise bad("id", "missing, or not a resource id" if rid is None else
                  f"not a resource id: {rid[:80]!r}")
    name = _text(rec.get("name"), "name", bad) or rid.strip().rstrip("/").rsplit("/", 1)[-1]
    region = _text(rec.get("location"), "location", bad)
    if region is None:
        raise bad("location", "missing")
    hw = _obj(get("hardwareProfile"), "hardwareProfile", bad)
    size = _text(hw.get("vmSize"), "hardwareProfile.vmSize", bad)
    if size is None:
        raise bad("hardwareProfile.vmSize", "missing")
    storage = _obj(get("storageProfile"), "storageProfile", bad)
    os_disk = _obj(storage.get("osDisk"), "storageProfile.osDisk", bad)
    os_type = _text(os_disk.get("osType"), "storageProfile.osDisk.osType", bad)
    if os_type is None:
        prof = _obj(get("osProfile"), "osProfile", bad)
        if prof.get("windowsConfiguration") is not None:
            os_type = "Windows"
        elif prof.get("linuxConfiguration") is not None:
            os_type = "Linux"
        else:
            raise bad("storageProfile.osDisk.osType", "missing (and osProfile says neither "
                      "windowsConfiguration nor linuxConfiguration)")
    os_name = {"linux": "Linux", "windows": "Windows"}.get(os_type.lower())
    if os_name is None:
        raise bad("storageProfile.osDisk.osType", f"expected Linux or Windows, got {os_type!r}")
    lic = _text(get("licenseType"), "licenseType", bad)
    prio_text = _text(get("priority"), "priority", bad) or "Regular"
    priority = PRIORITIES.get(prio_text.lower())
    if priority is None:
        raise bad("priority", f"expected Regular, Spot or Low, got {prio_text!r}")
    policy = _text(get("evictionPolicy"), "evictionPolicy", bad)
    caps = _obj(get("additionalCapabilities"), "additionalCapabilities", bad)
    hib = caps.get("hibernationEnabled", False)
    if hib is None:
        hib = False
    if not isinstance(hib, bool):
        raise bad("additionalCapabilities.hibernationEnabled", f"expected true or false, got "
                  f"{_type(hib)}")
    disks = [_disk(os_disk, "os", "storageProfile.osDisk", bad)]
    data_disks = storage.get("dataDisks") or []
    if not isinstance(data_disks, list):
        raise bad("storageProfile.dataDisks", f"expected a list, got {_type(data_disks)}")
    for i, d in enumerate(data_disks):
        disks.append(_disk(d, "data", f"storageProfile.dataDisks[{i}]", bad))
    tags = rec.get("tags") or {}
    if not isinstance(tags, Mapping):
        raise bad("tags", f"expected an object, got {_type(tags)}")
    return VMInfo(
        resource_id=rid.strip(),
        name=name,
        size=size,
        os=os_name,
        license_type=lic,
        ahb=lic is not None and lic.lower() in AHB_LICENSE_TYPES,
        region=region.replace(" ", "").lower(),
        priority=priority,
        eviction_policy=policy,
        disks=tuple(disks),
        hibernation_enabled=hib,
        tags={str(k): str(v) for k, v in tags.items()},
    )


def _disk(d: Any, role: str, where: str, bad: Any) -> DiskInfo:
    disk = _obj(d, where, bad)
    managed = _obj(disk.get("managedDisk"), f"{where}.managedDisk", bad)
    dtype = _text(managed.get("storageAccountType"), f"{where}.managedDisk.storageAccountType",
                  bad)
    size = disk.get("diskSizeGB", disk.get("diskSizeGb"))
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, int | float) or not size >= 0 \
                or size > 1 << 20:
            raise bad(f"{where}.diskSizeGB", f"expected a size in GiB, got {str(size)[:40]!r}")
        size = float(size)
    return DiskInfo(_text(disk.get("name"), f"{where}.name", bad), role, dtype, size)


def _obj(value: Any, fld: str, bad: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise bad(fld, f"expected an object, got {_type(value)}")
    return value


def _text(value: Any, fld: str, bad: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad(fld, f"expected text, got {_type(value)}")
    value = value.strip()
    return value or None


def _type(value: Any) -> str:
    return "null" if value is None else type(value).__name__
