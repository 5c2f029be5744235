"""Read VM states from the JSON Azure gives for one VM or many.

Shapes recognised (detected from the keys, nested lists allowed):

* the REST ``Virtual Machines - Instance View`` body (``az vm get-instance-view`` prints the VM
  with it under ``instanceView``): top-level ``statuses``;
* a VM GET with ``$expand=instanceView``: ``properties.instanceView.statuses``;
* a List All page with ``statusOnly=true``: ``{"value": [VM, ...]}``;
* ``az vm list -d`` / ``az vm show -d`` rows: ``powerState`` is the display text ("VM
  deallocated") and ``provisioningState`` the provisioning state ("Succeeded"); the portal's
  texts ("Stopped (deallocated)", "Hibernated (deallocated)": spec 003, "Power states") are read
  too;
* a bare ``statuses`` list, as ``az vm get-instance-view --query instanceView.statuses``
  prints it (one VM, unnamed);
* the instance view of one VM of a scale set (``virtualMachineScaleSets/virtualMachines``
  ``/instanceView``: top-level ``statuses``, like a VM's);
* Python SDK objects (``compute_client.virtual_machines.instance_view(rg, name)``, a VM from
  ``get(..., expand="instanceView")``) and their ``as_dict()`` dumps, with snake_case keys
  (``instance_view``, ``display_status``). Objects are duck-typed through their ``as_dict()``
  method: the Azure SDK is never imported.

A scale set's aggregate instance view (``virtualMachineScaleSets/instanceView``: a
``virtualMachine.statusesSummary`` of code counts, no power state of any one VM) is refused with
a message that says what it is and where to get the VMs' own views.

Only the VM's own top-level ``statuses`` decide its state: the ``ProvisioningState/succeeded``
codes on the VM agent, disks and extensions, and prefixes such as
``PatchModeConfigurationState/...`` inside ``patchStatus``, are never read.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ..errors import InputError
from ..lifecycle import Lifecycle, lifecycle
from ..model import VMState
from ..status import StatusReading, parse_display, read_statuses
from .source import read_json

__all__ = ["read_instance_views", "read_instance_views_file"]


def read_instance_views_file(
    path: str | Path | IO[str] | IO[bytes] | bytes, *, lc: Lifecycle | None = None,
    name: str | None = None,
) -> list[StatusReading]:
    """Read a JSON file (``"-"`` for standard input, a stream or bytes) of any shape above.

    The encoding and size bounds are :mod:`vmlife.io.source`'s.

    Raises:
        InputError: the file cannot be read or decoded, is not JSON, or holds no VM state.
    """
    doc = read_json(path, name=name)
    return read_instance_views(doc.value, source=doc.name, lc=lc)


def read_instance_views(
    data: Any, *, source: str = "<data>", lc: Lifecycle | None = None
) -> list[StatusReading]:
    """One :class:`~vmlife.status.StatusReading` per VM found in parsed JSON.

    Raises:
        InputError: nothing in ``data`` looks like a VM (names the record that does not).
    """
    lc = lc or lifecycle()
    data = _plain(data)
    if _is_statuses(data):
        return [_fill_from_row(read_statuses(data, vm=None, lc=lc), {}, {}, "$", source, lc)]
    out = [_read_vm(obj, path, source, lc) for obj, path in _vms(data, "$", source)]
    if not out:
        raise InputError(
            "no VM found: expected an instance view (statuses), a VM with "
            "properties.instanceView, a List All page (value), or az vm list -d rows "
            "(powerState)",
            source=source,
        )
    return out


_SNAKE = {
    "instance_view": "instanceView",
    "display_status": "displayStatus",
    "power_state": "powerState",
    "provisioning_state": "provisioningState",
}


def _plain(data: Any) -> Any:
    """Parsed JSON from an SDK object (its ``as_dict()``) with snake_case keys in camelCase.

    Only the keys this reader looks at are renamed; the rest are kept as they are.
    """
    as_dict = getattr(data, "as_dict", None)
    if callable(as_dict) and not isinstance(data, Mapping | list):
        data = as_dict()
    if isinstance(data, list):
        return [_plain(x) for x in data]
    if isinstance(data, Mapping):
        return {(_SNAKE.get(k, k) if isinstance(k, str) else k): _plain(v)
                for k, v in data.items()}
    return data


def _is_statuses(data: Any) -> bool:
    """A bare ``statuses`` list: objects with a text ``code`` (``PowerState/running``...)."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(
            isinstance(x, Mapping) and isinstance(x.get("code"), str) and "/" in x["code"]
            for x in data
        )
    )


def _is_scale_set_view(obj: Mapping[str, Any]) -> bool:
    vm = obj.get("virtualMachine")
    return isinstance(vm, Mapping) and "statusesSummary" in vm


def _is_vm(obj: Mapping[str, Any]) -> bool:
    props = obj.get("properties")
    return (
        "statuses" in obj
        or "instanceView" in obj
        or "powerState" in obj
        or (
            isinstance(props, Mapping) and ("instanceView" in props or "provisioningState" in props)
        )
    )


def _vms(data: Any, path: str, source: str) -> Iterator[tuple[Mapping[str, Any], str]]:
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield from _vms(item, f"{path}[{i}]", source)
    elif isinstance(data, Mapping):
        if _is_scale_set_view(data):
            raise InputError(
                "this is a scale set's aggregate instance view (virtualMachineScaleSets/"
                "instanceView: counts of status codes over all its VMs, no VM's own power "
                "state); give the instance view of each VM instead: az vmss get-instance-view "
                "--instance-id '*' (virtualMachineScaleSets/virtualMachines/instanceView)",
                source=source,
                record=path,
                field="virtualMachine.statusesSummary",
            )
        if _is_vm(data):
            yield data, path
        elif isinstance(data.get("value"), list):
            yield from _vms(data["value"], f"{path}.value", source)
        else:
            raise InputError(
                "not an instance view, VM, List All page or az vm row (keys: "
                + ", ".join(sorted(map(str, data))[:8])
                + ")",
                source=source,
                record=path,
            )
    else:
        raise InputError(
            f"expected an object or a list, got {type(data).__name__}", source=source, record=path
        )


def _vm_name(obj: Mapping[str, Any]) -> str | None:
    for key in ("name", "id"):
        val = obj.get(key)
        if isinstance(val, str) and val:
            return val
    return None


def _read_vm(obj: Mapping[str, Any], path: str, source: str, lc: Lifecycle) -> StatusReading:
    name = _vm_name(obj)
    props = obj.get("properties") if isinstance(obj.get("properties"), Mapping) else {}
    assert isinstance(props, Mapping)
    view: Any = obj
    where = "statuses"
    if "statuses" not in obj:
        if "instanceView" in obj:
            view, where = obj["instanceView"], "instanceView.statuses"
        elif "instanceView" in props:
            view, where = props["instanceView"], "properties.instanceView.statuses"
        else:
            view = None
    if view is not None:
        if not isinstance(view, Mapping):
            raise InputError(
                "expected an object", source=source, record=path, field=where.rsplit(".", 1)[0]
            )
        statuses = view.get("statuses", [])
        if not isinstance(statuses, list):
            raise InputError("expected a list", source=source, record=path, field=where)
        reading = read_statuses(statuses, vm=name, lc=lc)
    else:
        reading = StatusReading(name, VMState())
    return _fill_from_row(reading, obj, props, path, source, lc)


def _fill_from_row(
    reading: StatusReading,
    obj: Mapping[str, Any],
    props: Mapping[str, Any],
    path: str,
    source: str,
    lc: Lifecycle,
) -> StatusReading:
    """Use ``az vm list -d`` style fields for axes the statuses did not give."""
    state = reading.state
    power_text = obj.get("powerState")
    if state.power is None and power_text is not None:
        if not isinstance(power_text, str):
            raise InputError(
                "expected text such as 'VM running'", source=source, record=path, field="powerState"
            )
        st, extra = _portal_display(power_text, lc)
        if st is None:
            reading.unknown_codes.append(power_text)
        else:
            state = state.replace({"power": st.id, **extra}, error_code=state.error_code)
    prov = obj.get("provisioningState", props.get("provisioningState"))
    if state.provisioning is None and prov is not None:
        if not isinstance(prov, str):
            raise InputError(
                "expected text such as 'Succeeded'",
                source=source,
                record=path,
                field="provisioningState",
            )
        key = prov.strip().lower()
        match = next((s for s in lc.states_on("provisioning") if s.id == key), None)
        if match is None:
            reading.unknown_codes.append(f"provisioningState: {prov}")
        else:
            state = state.replace(provisioning=match.id)
    reading.state = state
    return reading


def _portal_display(text: str, lc: Lifecycle) -> tuple[Any, dict[str, str | None]]:
    """The power state of a display text, and other axes it implies.

    Reads the instance view's ``displayStatus`` ("VM deallocated") and the portal's status texts
    of spec 003 ("Power states": "Stopped (Deallocated)", "Hibernated (Deallocated)"). A
    hibernated VM also gets the ``hibernation`` axis's ``hibernated`` state when a plugin
    registers that axis (vmlife-hibernation does).
    """
    st = parse_display(text, lc)
    if st is not None:
        return st, {}
    words = " ".join(text.split()).lower()
    head, _, rest = words.partition(" (")
    if rest.endswith(")"):
        inner = rest[:-1].strip()
        st = parse_display(f"VM {inner}", lc)
        if st is not None:
            extra: dict[str, str | None] = {}
            if head == "hibernated" and "hibernation" in lc.axes:
                found = [s for s in lc.states_on("hibernation") if s.id == "hibernated"]
                if found:
                    extra["hibernation"] = found[0].id
            return st, extra
    st = parse_display(f"VM {words}", lc)
    return st, {}
