"""Read VM states from the JSON Azure gives for one VM or many.

Shapes recognised (detected from the keys, nested lists allowed):

* the REST ``Virtual Machines - Instance View`` body (``az vm get-instance-view`` prints the VM
  with it under ``instanceView``): top-level ``statuses``;
* a VM GET with ``$expand=instanceView``: ``properties.instanceView.statuses``;
* a List All page with ``statusOnly=true``: ``{"value": [VM, ...]}``;
* ``az vm list -d`` / ``az vm show -d`` rows: ``powerState`` is the display text ("VM
  deallocated") and ``provisioningState`` the provisioning state ("Succeeded").

Only the VM's own top-level ``statuses`` decide its state: the ``ProvisioningState/succeeded``
codes on the VM agent, disks and extensions, and prefixes such as
``PatchModeConfigurationState/...`` inside ``patchStatus``, are never read.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..lifecycle import Lifecycle, lifecycle
from ..model import VMState
from ..status import StatusReading, parse_display, read_statuses

__all__ = ["read_instance_views", "read_instance_views_file"]


def read_instance_views_file(
    path: str | Path, *, lc: Lifecycle | None = None
) -> list[StatusReading]:
    """Read a JSON file (``"-"`` for standard input) of any shape above.

    Raises:
        InputError: the file cannot be read, is not JSON, or holds no VM state.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", source=name) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", source=name
        ) from exc
    return read_instance_views(data, source=name, lc=lc)


def read_instance_views(
    data: Any, *, source: str = "<data>", lc: Lifecycle | None = None
) -> list[StatusReading]:
    """One :class:`~vmlife.status.StatusReading` per VM found in parsed JSON.

    Raises:
        InputError: nothing in ``data`` looks like a VM (names the record that does not).
    """
    lc = lc or lifecycle()
    out = [_read_vm(obj, path, source, lc) for obj, path in _vms(data, "$", source)]
    if not out:
        raise InputError(
            "no VM found: expected an instance view (statuses), a VM with "
            "properties.instanceView, a List All page (value), or az vm list -d rows "
            "(powerState)",
            source=source,
        )
    return out


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
        st = parse_display(power_text, lc)
        if st is None:
            reading.unknown_codes.append(power_text)
        else:
            state = state.replace(power=st.id, error_code=state.error_code)
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
