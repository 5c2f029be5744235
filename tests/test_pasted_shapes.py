"""Real shapes users paste: bare statuses, scale sets, SDK objects, portal texts."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

import vmlife
from vmlife.cli import main
from vmlife.errors import InputError
from vmlife.io.instance_view import read_instance_views, read_instance_views_file

DATA = Path(__file__).parent / "data"


def test_a_bare_statuses_list_is_one_vm(tmp_path: Path) -> None:
    # az vm get-instance-view --query instanceView.statuses
    view = json.loads((DATA / "rest_instance_view.json").read_text())
    path = tmp_path / "statuses.json"
    path.write_text(json.dumps(view["statuses"]))
    [reading] = read_instance_views_file(path)
    assert (reading.vm, reading.state.power, reading.state.provisioning) == (
        None, "running", "succeeded")
    out = io.StringIO()
    assert main(["status", str(path), "--json"], out=out) == 0
    assert json.loads(out.getvalue())[0]["power"] == "running"


def test_a_scale_set_aggregate_view_is_refused_saying_what_it_is() -> None:
    data = json.loads((DATA / "vmss_instance_view.json").read_text())
    with pytest.raises(InputError, match="scale set's aggregate instance view") as err:
        read_instance_views(data, source="vmss.json")
    assert err.value.field == "virtualMachine.statusesSummary"
    assert "--instance-id" in str(err.value)


def test_a_scale_set_vm_view_reads_as_a_vm() -> None:
    [reading] = read_instance_views_file(DATA / "vmss_vm_instance_view.json")
    assert (reading.state.power, reading.state.provisioning) == ("running", "succeeded")
    # the VM agent's ProvisioningState/Unavailable is not the VM's own status
    assert reading.unknown_codes == []


class FakeModel:
    """Duck-types an azure-mgmt-compute model: attributes plus as_dict() with snake_case."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def as_dict(self) -> dict[str, Any]:
        return self._data


SDK_VIEW = {
    "computer_name": "web-1",
    "statuses": [
        {"code": "ProvisioningState/succeeded", "level": "Info",
         "display_status": "Provisioning succeeded"},
        {"code": "PowerState/deallocated", "level": "Info", "display_status": "VM deallocated"},
    ],
}


def test_sdk_objects_and_as_dict_dumps() -> None:
    # compute_client.virtual_machines.instance_view(rg, name)
    reading = vmlife.read_statuses(FakeModel(SDK_VIEW))
    assert reading.state.power == "deallocated"
    # a list of InstanceViewStatus objects
    reading = vmlife.read_statuses([FakeModel(s) for s in SDK_VIEW["statuses"]])
    assert reading.state.power == "deallocated"
    # a VM from get(..., expand="instanceView"), as_dict() dumped to JSON
    vm = {"name": "web-1", "instance_view": SDK_VIEW}
    assert vmlife.read_statuses(vm).state.power == "deallocated"
    [reading] = read_instance_views([vm])
    assert (reading.vm, reading.state.power) == ("web-1", "deallocated")
    [reading] = read_instance_views(FakeModel(vm))
    assert reading.state.power == "deallocated"


def test_the_sdk_is_not_imported() -> None:
    """Reading an SDK object imports no Azure SDK module (in a fresh interpreter: the tests
    of vmlife.azure import the SDK into this one)."""
    import subprocess
    import sys

    code = (
        "import sys, json, vmlife\n"
        "class M:\n"
        "    def __init__(self, d): self.d = d\n"
        "    def as_dict(self): return self.d\n"
        f"print(vmlife.read_statuses(M(json.loads({json.dumps(SDK_VIEW)!r}))).state.power)\n"
        "print(any(m == 'azure' or m.startswith('azure.') for m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["deallocated", "False"]


@pytest.mark.parametrize(
    ("text", "power"),
    [
        ("Hibernated (deallocated)", "deallocated"),
        ("Hibernated (Deallocated)", "deallocated"),
        ("Stopped (deallocated)", "deallocated"),
        ("Running", "running"),
        ("VM deallocated", "deallocated"),
    ],
)
def test_portal_texts(text: str, power: str) -> None:
    [reading] = read_instance_views([{"name": "a", "powerState": text}])
    assert reading.state.power == power and reading.unknown_codes == []


def test_hibernated_portal_text_sets_the_hibernation_axis_when_the_plugin_is_loaded() -> None:
    plugin = pytest.importorskip("vmlife_hibernation")
    [plain] = read_instance_views([{"name": "a", "powerState": "Hibernated (deallocated)"}])
    assert plain.state.get("hibernation") is None  # no such axis without the plugin
    with vmlife.registered(plugin):
        [reading] = read_instance_views([{"name": "a", "powerState": "Hibernated (deallocated)"}])
    assert reading.state.get("hibernation") == "hibernated"
    assert reading.state.power == "deallocated"
